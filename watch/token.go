package watch

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"strings"
)

// newToken returns a fresh token (32 random bytes, base64url) and the hex
// SHA-256 the store keeps of it.
func newToken() (token, hash string) {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, hashToken(token)
}

// hashToken is how tokens are looked up: a token that is not 43 base64url
// characters hashes to "", which no watch holds.
func hashToken(token string) string {
	if len(token) != 43 {
		return ""
	}
	if _, err := base64.RawURLEncoding.DecodeString(token); err != nil {
		return ""
	}
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// hashID derives a stable id from its parts: the same address and
// certificate (or watcher and target) always give the same watch id, so
// the store's unique id keeps concurrent duplicates out.
func hashID(prefix string, parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return prefix + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(sum[:16]))
}

// clientHash is what a subscription keeps of the client's network: its
// SHA-256, enough to count, never shown.
func clientHash(client string) string {
	sum := sha256.Sum256([]byte("client\x00" + client))
	return hex.EncodeToString(sum[:16])
}
