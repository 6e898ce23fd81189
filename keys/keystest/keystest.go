// Package keystest gives tests a signing key of their own in an issuer's
// real key ring, so that they can present tokens whose signature is
// genuine but whose header or claims certd would never write. It imports
// only cert and keys; only tests import it.
package keystest

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/keys"
)

// Key is a private key of a test whose public key is a retired key of an
// issuer's ring: what it signs verifies as the issuer's.
type Key struct {
	Kid string
	Alg string
	ed  ed25519.PrivateKey
	ec  *ecdsa.PrivateKey
}

// AddRetired makes a key of alg ("EdDSA" or "ES256"), adds its public key
// to the issuer's ring in rings as a retired key (retired keys verify but
// never sign) and returns it.
func AddRetired(ctx context.Context, rings keys.RingStore, issuer, alg string, now time.Time) (*Key, error) {
	k := &Key{Alg: alg}
	var pub any
	switch alg {
	case "EdDSA":
		p, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, err
		}
		k.ed, pub = priv, p
	case "ES256":
		priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, err
		}
		k.ec, pub = priv, &priv.PublicKey
	default:
		return nil, fmt.Errorf("keystest: unsupported alg %q", alg)
	}
	kid, jwk, err := keys.PublicJWK(pub, alg)
	if err != nil {
		return nil, err
	}
	k.Kid = kid
	r, err := rings.KeyRing(ctx, issuer)
	if err != nil {
		return nil, err
	}
	at := now.UTC()
	r.Keys = append(r.Keys, cert.KeyRecord{Kid: kid, Alg: alg, State: cert.KeyRetired, Public: jwk, CreatedAt: at, RetiredAt: &at})
	if err := rings.PutKeyRing(ctx, r); err != nil {
		return nil, err
	}
	return k, nil
}

// Header is the protected header certd writes for the key.
func (k *Key) Header() string {
	return `{"alg":"` + k.Alg + `","kid":"` + k.Kid + `","typ":"vc+jwt","cty":"vc"}`
}

var enc = base64.RawURLEncoding

// Sign returns the compact JWS of header and payload, taken as they are,
// signed with the key (an ES256 signature in its low-S form).
func (k *Key) Sign(header, payload string) string {
	input := enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString([]byte(payload))
	var sig []byte
	if k.ed != nil {
		sig = ed25519.Sign(k.ed, []byte(input))
	} else {
		h := sha256.Sum256([]byte(input))
		r, s, err := ecdsa.Sign(rand.Reader, k.ec, h[:])
		if err != nil {
			panic(err) // crypto/rand does not fail
		}
		if s.Cmp(halfOrder) > 0 {
			s.Sub(order, s)
		}
		sig = make([]byte, 64)
		r.FillBytes(sig[:32])
		s.FillBytes(sig[32:])
	}
	return input + "." + enc.EncodeToString(sig)
}

var (
	order     = elliptic.P256().Params().N
	halfOrder = new(big.Int).Rsh(order, 1)
)

// HighS returns the ES256 token with its signature (r, s) replaced by its
// twin (r, n-s), which verifies with plain ECDSA as well.
func HighS(token string) string {
	i := strings.LastIndexByte(token, '.')
	sig, err := enc.DecodeString(token[i+1:])
	if err != nil || len(sig) != 64 {
		return token
	}
	s := new(big.Int).SetBytes(sig[32:])
	s.Sub(order, s)
	out := make([]byte, 64)
	copy(out, sig[:32])
	s.FillBytes(out[32:])
	return token[:i+1] + enc.EncodeToString(out)
}
