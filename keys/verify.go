package keys

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/certd/certd/cert"
)

// MaxTokenSize is the largest presented token Verify and PeekIssuer read:
// 16 KiB (DESIGN.md section 5).
const MaxTokenSize = 16 << 10

// kindError is an error kind of this package that matches a parent kind.
type kindError struct {
	msg    string
	parent error
}

func (e *kindError) Error() string { return e.msg }
func (e *kindError) Unwrap() error { return e.parent }

// Token rejection kinds. Every rejection of a presented token matches
// ErrBadToken and cert.ErrInvalid with errors.Is, and its message is a short
// reason a person can read, such as "token: header typ must be vc+jwt".
var (
	// ErrBadToken matches every rejection of a presented token.
	ErrBadToken error = &kindError{"bad token", cert.ErrInvalid}
	// ErrUnknownKey matches a token whose kid is not a key of the issuer's
	// ring (for example a key of another issuer); it also matches
	// ErrBadToken.
	ErrUnknownKey error = &kindError{"unknown key", ErrBadToken}
	// ErrRevokedKey matches a token signed by a revoked key; it also
	// matches ErrBadToken.
	ErrRevokedKey error = &kindError{"revoked key", ErrBadToken}
)

// rejection is one rejected token: a reason and its kind.
type rejection struct {
	reason string
	kind   error
}

func (e *rejection) Error() string { return "token: " + e.reason }
func (e *rejection) Unwrap() error { return e.kind }

func reject(reason string) error { return &rejection{reason: reason, kind: ErrBadToken} }

// compact is a token split into its three parts.
type compact struct {
	header, payload, sig string
	// input is the signing input: header '.' payload.
	input string
}

// splitCompact checks the size (at most maxSize bytes) and the compact
// form: three non-empty parts of the base64url alphabet, separated by two
// dots, no padding, no whitespace.
func splitCompact(token string, maxSize int) (compact, error) {
	if len(token) > maxSize {
		return compact{}, reject(fmt.Sprintf("larger than %d bytes", maxSize))
	}
	if len(token) == 0 {
		return compact{}, reject("empty")
	}
	if token[0] == '{' {
		return compact{}, reject("must be a compact JWS, not the JSON serialization")
	}
	dots := 0
	for i := 0; i < len(token); i++ {
		switch tokenChars[token[i]] {
		case charB64:
		case charDot:
			dots++
		case charPad:
			return compact{}, reject("must be base64url without padding: '=' is not allowed")
		default:
			return compact{}, reject("must be a compact JWS: only base64url characters and two dots")
		}
	}
	if dots != 2 {
		return compact{}, reject(fmt.Sprintf("must be a compact JWS of 3 parts with exactly one signature, got %d parts", dots+1))
	}
	h, rest, _ := strings.Cut(token, ".")
	p, sig, _ := strings.Cut(rest, ".")
	if h == "" || p == "" || sig == "" {
		return compact{}, reject("must be a compact JWS: header, payload and signature must not be empty")
	}
	return compact{header: h, payload: p, sig: sig, input: token[:len(h)+1+len(p)]}, nil
}

// Classes of token bytes, for splitCompact.
const (
	charBad = iota
	charB64
	charDot
	charPad
)

// tokenChars classifies every byte value.
var tokenChars = func() (t [256]uint8) {
	for _, c := range "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_" {
		t[c] = charB64
	}
	t['.'], t['='] = charDot, charPad
	return t
}()

// b64 is strict base64url without padding: non-zero trailing bits, which
// would let one token have several spellings, are refused.
var b64 = base64.RawURLEncoding.Strict()

// header is the protected header as presented: the members certd accepts
// (alg, kid, typ, cty) and the ones it never accepts, declared so that
// their presence is reported by name. Any other member, a member spelt in
// another case and a member present twice are refused by the strict reader.
type header struct {
	Alg  *string         `json:"alg"`
	Kid  *string         `json:"kid"`
	Typ  *string         `json:"typ"`
	Cty  *string         `json:"cty"`
	Crit json.RawMessage `json:"crit"`
	Jku  json.RawMessage `json:"jku"`
	X5u  json.RawMessage `json:"x5u"`
	Jwk  json.RawMessage `json:"jwk"`
	X5c  json.RawMessage `json:"x5c"`
}

var headerType = reflect.TypeFor[header]()

// parseHeader decodes and checks the protected header, except that alg is
// checked against the key later.
func parseHeader(enc string) (*header, error) {
	raw, err := b64.DecodeString(enc)
	if err != nil {
		return nil, reject("header is not valid base64url")
	}
	if err := checkStrict(raw, headerType, false); err != nil {
		return nil, reject("header " + err.Error())
	}
	var h header
	if err := json.Unmarshal(raw, &h); err != nil {
		return nil, reject("header members alg, kid, typ and cty must be strings")
	}
	// A member certd refuses by name is the better reason; then any other.
	if err := h.check(); err != nil {
		return nil, err
	}
	if err := checkStrict(raw, headerType, true); err != nil {
		return nil, reject("header " + err.Error())
	}
	return &h, nil
}

// check applies the header rules, except that alg is checked against the
// key later.
func (h *header) check() error {
	switch {
	case h.Crit != nil:
		return reject("header crit is not accepted")
	case h.Jku != nil:
		return reject("header jku is not accepted: keys are pinned, never fetched")
	case h.X5u != nil:
		return reject("header x5u is not accepted: keys are pinned, never fetched")
	case h.Jwk != nil:
		return reject("header jwk is not accepted: keys are pinned, never embedded")
	case h.X5c != nil:
		return reject("header x5c is not accepted: keys are pinned, never embedded")
	case h.Alg == nil:
		return reject("header alg is required")
	case strings.EqualFold(*h.Alg, "none"):
		return reject("header alg none is never accepted: the credential is unsigned")
	case strings.HasPrefix(strings.ToUpper(*h.Alg), "HS"):
		return reject("header alg " + truncate(*h.Alg, 10) + " is never accepted: a symmetric algorithm proves nothing about the issuer")
	case h.Typ == nil || *h.Typ != typVC:
		return reject("header typ must be " + typVC)
	case h.Cty != nil && *h.Cty != ctyVC:
		return reject("header cty must be " + ctyVC + " when present")
	case h.Kid == nil || *h.Kid == "":
		return reject("header kid is required")
	}
	return nil
}

// checkAlg requires the token's alg to be the key's: a token naming another
// (none, HS256, or the other curve) is refused before its signature is
// looked at.
func (h *header) checkAlg(k *PublicKey) error {
	if *h.Alg != k.alg {
		return reject("header alg must be " + k.alg + " for key " + k.kid + ", got " + truncate(*h.Alg, 10))
	}
	return nil
}

// verifySigned checks the signature of c with k and returns the payload.
func (c compact) verifySigned(k *PublicKey) ([]byte, error) {
	sig, err := b64.DecodeString(c.sig)
	if err != nil {
		return nil, reject("signature is not valid base64url")
	}
	if why := k.verify([]byte(c.input), sig); why != "" {
		return nil, reject(why)
	}
	payload, err := b64.DecodeString(c.payload)
	if err != nil {
		return nil, reject("payload is not valid base64url")
	}
	return payload, nil
}

// KeyFunc returns the pinned key a token names by kid, or the error that
// rejects the token (the kid is not pinned, the key was revoked).
type KeyFunc func(kid string) (*PublicKey, error)

// VerifyToken checks a compact JWS of at most maxSize bytes by the strict
// rules of DESIGN.md section 5, against the key that key returns for the
// token's kid, and returns the payload and the key. The rules: compact
// form, exactly one signature, strict base64url; a protected header of
// only alg, kid, typ ("vc+jwt") and cty ("vc"), each spelt exactly and
// present once, never crit, jku, x5u, jwk or x5c; the algorithm is the
// key's, never the token's; an ES256 signature in its low-S form only.
// The claims are the caller's to check (verifier.ParseClaims).
//
// It is the one verification of certd (Service.Verify) and of certctl's
// offline verification. Its own rejections match ErrBadToken and
// cert.ErrInvalid; errors of key pass through.
func VerifyToken(token string, maxSize int, key KeyFunc) (payload []byte, k *PublicKey, err error) {
	c, err := splitCompact(token, maxSize)
	if err != nil {
		return nil, nil, err
	}
	h, err := parseHeader(c.header)
	if err != nil {
		return nil, nil, err
	}
	if k, err = key(*h.Kid); err != nil {
		return nil, nil, err
	}
	if err := h.checkAlg(k); err != nil {
		return nil, nil, err
	}
	if payload, err = c.verifySigned(k); err != nil {
		return nil, nil, err
	}
	return payload, k, nil
}

// Verify checks a presented compact JWS against the issuer's key ring
// (DESIGN.md section 5) by the rules of VerifyToken and returns its payload
// and kid. The key is selected by kid among the ring's active and retired
// keys and the algorithm is the key's, never the token's. The claims (iss,
// exp, iat) are the caller's to check.
//
// Every rejection of the token matches ErrBadToken and cert.ErrInvalid;
// ErrUnknownKey and ErrRevokedKey single out the key cases (an issuer with no
// ring is an unknown key that also matches cert.ErrNotFound). Store errors,
// cert.ErrUnavailable in particular, pass through wrapped and are not token
// rejections. The ring is cached for about a second and read again at once
// when the kid is not in it.
func (s *Service) Verify(ctx context.Context, issuer, token string) (payload []byte, kid string, err error) {
	// The exact header certd writes for a key of a fresh view passes every
	// header rule: it needs no JSON decoding.
	if c, ok := s.caches.Load(issuer); ok {
		if v := c.(*ringCache).view.Load(); v != nil && s.fresh(v) {
			if enc, _, _ := strings.Cut(token, "."); enc != "" {
				if k, ok := v.byHeader[enc]; ok {
					if err := k.usable(issuer); err != nil {
						return nil, "", err
					}
					c, err := splitCompact(token, MaxTokenSize)
					if err != nil {
						return nil, "", err
					}
					if payload, err = c.verifySigned(k.pub); err != nil {
						return nil, "", err
					}
					return payload, k.pub.kid, nil
				}
			}
		}
	}
	payload, k, err := VerifyToken(token, MaxTokenSize, func(kid string) (*PublicKey, error) {
		return s.tokenKey(ctx, issuer, kid)
	})
	if err != nil {
		return nil, "", err
	}
	return payload, k.kid, nil
}

// tokenKey returns the key kid of the issuer's ring that is to verify a
// token, or the error that rejects the token.
func (s *Service) tokenKey(ctx context.Context, issuer, kid string) (*PublicKey, error) {
	v, err := s.cachedRing(ctx, issuer, kid)
	if err != nil {
		if errors.Is(err, cert.ErrNotFound) {
			rej := &rejection{reason: "issuer " + issuer + " has no keys", kind: ErrUnknownKey}
			return nil, fmt.Errorf("%w (%w)", rej, err)
		}
		return nil, err
	}
	k, ok := v.keys[kid]
	if !ok {
		return nil, &rejection{reason: "kid is not a key of issuer " + issuer, kind: ErrUnknownKey}
	}
	if err := k.usable(issuer); err != nil {
		return nil, err
	}
	return k.pub, nil
}

// usable refuses keys that no longer verify.
func (k viewKey) usable(issuer string) error {
	switch k.state {
	case cert.KeyActive, cert.KeyRetired:
		return nil
	case cert.KeyRevoked:
		return &rejection{reason: "signed by key " + k.pub.kid + " of issuer " + issuer + ", which was revoked", kind: ErrRevokedKey}
	}
	return &rejection{reason: "key " + k.pub.kid + " does not verify", kind: ErrUnknownKey}
}
