package keys

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
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

// splitCompact checks the size and the compact form: three non-empty parts
// of the base64url alphabet, separated by two dots, no padding, no
// whitespace.
func splitCompact(token string) (compact, error) {
	if len(token) > MaxTokenSize {
		return compact{}, reject(fmt.Sprintf("larger than %d bytes", MaxTokenSize))
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
			return compact{}, reject("base64url padding '=' is not allowed")
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

// header is the protected header as presented. The members certd never
// accepts are declared so that their presence is reported by name; any other
// member is refused by the decoder.
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

// parseHeader decodes and checks the protected header, except alg, which is
// checked against the key.
func parseHeader(enc string) (*header, error) {
	raw, err := b64.DecodeString(enc)
	if err != nil {
		return nil, reject("header is not valid base64url")
	}
	var h header
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&h); err != nil {
		return nil, headerError(raw)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, reject("header has data after the JSON object")
	}
	if err := h.check(); err != nil {
		return nil, err
	}
	return &h, nil
}

// headerError explains why a header failed to decode strictly; it runs only
// on that path, so the common case decodes once.
func headerError(raw []byte) error {
	var h header
	if json.Unmarshal(raw, &h) != nil {
		var m map[string]json.RawMessage
		if json.Unmarshal(raw, &m) == nil {
			// Only the named members have a type to break.
			return reject("header members alg, kid, typ and cty must be strings")
		}
		return reject("header is not a JSON object")
	}
	// A known forbidden member is the better reason.
	if err := h.check(); err != nil {
		return err
	}
	var m map[string]json.RawMessage
	_ = json.Unmarshal(raw, &m)
	for _, name := range slices.Sorted(maps.Keys(m)) {
		switch strings.ToLower(name) {
		case "alg", "kid", "typ", "cty":
			continue
		}
		if len(name) > 20 {
			name = name[:20] + "..."
		}
		return reject(fmt.Sprintf("header member %q is not accepted", name))
	}
	return reject("header is not accepted")
}

// check applies the header rules, except alg, which is checked against the
// key.
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
	case h.Typ == nil || *h.Typ != typVC:
		return reject("header typ must be " + typVC)
	case h.Cty != nil && *h.Cty != ctyVC:
		return reject("header cty must be " + ctyVC + " when present")
	case h.Kid == nil || *h.Kid == "":
		return reject("header kid is required")
	case h.Alg == nil:
		return reject("header alg is required")
	}
	return nil
}

// Verify checks a presented compact JWS against the issuer's key ring
// (DESIGN.md section 5) and returns its payload bytes and kid. The key is
// selected by kid among the ring's active and retired keys and the algorithm
// is the key's, never the token's. The claims (iss, exp, iat) are the
// caller's to check.
//
// Every rejection of the token matches ErrBadToken and cert.ErrInvalid;
// ErrUnknownKey and ErrRevokedKey single out the key cases (an issuer with no
// ring is an unknown key that also matches cert.ErrNotFound). Store errors,
// cert.ErrUnavailable in particular, pass through wrapped and are not token
// rejections. The ring is cached for about a second and read again at once
// when the kid is not in it.
func (s *Service) Verify(ctx context.Context, issuer, token string) (payload []byte, kid string, err error) {
	c, err := splitCompact(token)
	if err != nil {
		return nil, "", err
	}
	k, err := s.tokenKey(ctx, issuer, c.header)
	if err != nil {
		return nil, "", err
	}
	sig, err := b64.DecodeString(c.sig)
	if err != nil {
		return nil, "", reject("signature is not valid base64url")
	}
	if !k.pub.verify([]byte(c.input), sig) {
		return nil, "", reject("signature does not verify")
	}
	payload, err = b64.DecodeString(c.payload)
	if err != nil {
		return nil, "", reject("payload is not valid base64url")
	}
	return payload, k.pub.kid, nil
}

// tokenKey selects the key of the issuer that is to verify a token with the
// encoded protected header enc, applying the header rules.
func (s *Service) tokenKey(ctx context.Context, issuer, enc string) (viewKey, error) {
	// The exact header certd writes for a key of a fresh view passes every
	// header rule: it needs no JSON decoding.
	if c, ok := s.caches.Load(issuer); ok {
		if v := c.(*ringCache).view.Load(); v != nil && s.fresh(v) {
			if k, ok := v.byHeader[enc]; ok {
				return k, k.usable(issuer)
			}
		}
	}
	h, err := parseHeader(enc)
	if err != nil {
		return viewKey{}, err
	}
	kid := *h.Kid
	v, err := s.cachedRing(ctx, issuer, kid)
	if err != nil {
		if errors.Is(err, cert.ErrNotFound) {
			rej := &rejection{reason: "issuer " + issuer + " has no keys", kind: ErrUnknownKey}
			return viewKey{}, fmt.Errorf("%w (%w)", rej, err)
		}
		return viewKey{}, err
	}
	k, ok := v.keys[kid]
	if !ok {
		return viewKey{}, &rejection{reason: "kid is not a key of issuer " + issuer, kind: ErrUnknownKey}
	}
	if err := k.usable(issuer); err != nil {
		return viewKey{}, err
	}
	// The algorithm is the key's: a token naming another (none, HS256, or
	// the other curve) is refused before its signature is looked at.
	if *h.Alg != k.pub.alg {
		return viewKey{}, reject("header alg must be " + k.pub.alg + " for key " + kid)
	}
	return k, nil
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
