package cert

import (
	"crypto/rand"
	"encoding/base32"
	"strings"
)

// crockford is Crockford's base32 alphabet (no I, L, O, U).
var crockford = base32.NewEncoding("0123456789ABCDEFGHJKMNPQRSTVWXYZ").WithPadding(base32.NoPadding)

// IDLength is the length of a certificate id: 128 bits in Crockford base32.
const IDLength = 26

// NewID returns a fresh 128-bit random id, 26 upper-case Crockford base32
// characters.
func NewID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return crockford.EncodeToString(b[:])
}

// NormalizeID upper-cases an id and reports whether it has the shape of one.
// Lower-case ids are accepted so that hand-typed URLs work.
func NormalizeID(s string) (string, bool) {
	if len(s) != IDLength {
		return "", false
	}
	s = strings.ToUpper(s)
	if _, err := crockford.DecodeString(s); err != nil {
		return "", false
	}
	return s, true
}
