package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/certd/certd/cert"
)

// Offline verification follows the strict recipe of DESIGN.md section 5,
// as certd's own verifier does, against keys the user pins with --jwks:
// nothing the token names (jku, x5u, an embedded jwk) is ever fetched or
// trusted.

// maxTokenSize is the largest presented credential (DESIGN.md section 5).
const maxTokenSize = 16 << 10

// clockSkew is the tolerance on exp, iat and the validity dates.
const clockSkew = 2 * time.Minute

// JWS algorithms certd signs with; the algorithm of a verification is the
// pinned key's, never the token's.
const (
	algEdDSA = "EdDSA"
	algES256 = "ES256"
)

// typVC is the required typ of a credential and of a status list.
const typVC = "vc+jwt"

// b64 is strict base64url without padding.
var b64 = base64.RawURLEncoding.Strict()

// rejectedError is a token that fails a check of its own: the verdict is
// "invalid". Any other error (a key set that cannot be read) is "unknown".
type rejectedError struct{ reason string }

func (e *rejectedError) Error() string { return e.reason }

func reject(format string, args ...any) error {
	return &rejectedError{reason: fmt.Sprintf(format, args...)}
}

// pinnedKey is a public key of the trusted JWK Set.
type pinnedKey struct {
	kid string
	alg string
	ed  ed25519.PublicKey
	ec  *ecdsa.PublicKey
}

// keySet is the trusted JWK Set of an offline verification.
type keySet struct {
	source string
	keys   map[string]*pinnedKey
	// skipped names keys the set holds that certctl cannot use, by kid.
	skipped map[string]string
	// issuerURL binds the keys to one issuer when the set was fetched from
	// {public-url}/issuers/{id}/jwks.json; empty for a file or the
	// deployment-wide /.well-known/jwks.json.
	issuerURL string
}

// issuerJWKSPath matches the per-issuer JWKS URL of certd.
var issuerJWKSPath = regexp.MustCompile(`^(.*/issuers/[a-z0-9][a-z0-9-]{0,63})/jwks\.json$`)

// loadJWKS reads the trusted keys from a file or an http(s) URL.
func (a *app) loadJWKS(ctx context.Context, src string) (*keySet, error) {
	var b []byte
	issuerURL := ""
	if strings.HasPrefix(src, "https://") || strings.HasPrefix(src, "http://") {
		body, err := fetch(ctx, a.g.Timeout, src, "application/jwk-set+json, application/json", 1<<20)
		if err != nil {
			return nil, fmt.Errorf("--jwks: %w", err)
		}
		b = body
		if m := issuerJWKSPath.FindStringSubmatch(src); m != nil {
			issuerURL = m[1]
		}
	} else {
		body, err := os.ReadFile(src)
		if err != nil {
			return nil, fmt.Errorf("--jwks: %w", fileError(err))
		}
		b = body
	}
	ks, err := parseJWKS(b)
	if err != nil {
		return nil, fmt.Errorf("--jwks %s: %w", src, err)
	}
	ks.source, ks.issuerURL = src, issuerURL
	return ks, nil
}

// fetch GETs url and returns its body, at most limit bytes, for a 200.
func fetch(ctx context.Context, timeout time.Duration, url, accept string, limit int64) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", accept)
	req.Header.Set("User-Agent", "certctl/"+version())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s answered HTTP %d %s", url, resp.StatusCode, http.StatusText(resp.StatusCode))
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", url, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("GET %s: answer larger than %d bytes", url, limit)
	}
	return b, nil
}

// jwk is one member of a JWK Set, as much as certctl reads of it.
type jwk struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y"`
	Kid string `json:"kid"`
	Alg string `json:"alg"`
	Use string `json:"use"`
}

// parseJWKS reads a JWK Set. A set that holds private or symmetric key
// material is refused whole: it is not a published key set.
func parseJWKS(b []byte) (*keySet, error) {
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(b, &set); err != nil || set.Keys == nil {
		return nil, errors.New(`not a JWK Set ({"keys": [...]})`)
	}
	ks := &keySet{keys: map[string]*pinnedKey{}, skipped: map[string]string{}}
	for i, raw := range set.Keys {
		var members map[string]json.RawMessage
		if err := json.Unmarshal(raw, &members); err != nil {
			return nil, fmt.Errorf("keys[%d] is not a JSON object", i)
		}
		for _, private := range []string{"d", "p", "q", "dp", "dq", "qi", "k"} {
			if _, ok := members[private]; ok {
				return nil, fmt.Errorf("keys[%d] holds private or symmetric key material (%q): use the published JWKS", i, private)
			}
		}
		var k jwk
		if err := json.Unmarshal(raw, &k); err != nil {
			return nil, fmt.Errorf("keys[%d]: %v", i, err)
		}
		if k.Kid == "" {
			continue
		}
		pk, err := k.public()
		if err != nil {
			ks.skipped[k.Kid] = err.Error()
			continue
		}
		ks.keys[k.Kid] = pk
	}
	if len(ks.keys) == 0 {
		return nil, errors.New("holds no Ed25519 or P-256 signing key with a kid")
	}
	return ks, nil
}

// public checks a JWK and returns its key: an Ed25519 (EdDSA) or P-256
// (ES256) signing key whose kid is its RFC 7638 thumbprint.
func (k jwk) public() (*pinnedKey, error) {
	if k.Use != "" && k.Use != "sig" {
		return nil, fmt.Errorf("use is %q, not sig", k.Use)
	}
	x, err := b64.DecodeString(k.X)
	if err != nil {
		return nil, errors.New("x is not base64url")
	}
	var thumb string
	pk := &pinnedKey{kid: k.Kid}
	switch {
	case k.Kty == "OKP" && k.Crv == "Ed25519":
		if len(x) != ed25519.PublicKeySize {
			return nil, errors.New("an Ed25519 key has 32 bytes")
		}
		pk.alg, pk.ed = algEdDSA, ed25519.PublicKey(x)
		thumb = fmt.Sprintf(`{"crv":"Ed25519","kty":"OKP","x":"%s"}`, k.X)
	case k.Kty == "EC" && k.Crv == "P-256":
		y, err := b64.DecodeString(k.Y)
		if err != nil || len(x) != 32 || len(y) != 32 {
			return nil, errors.New("a P-256 key has 32-byte x and y")
		}
		ec, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
		if err != nil {
			return nil, errors.New("not a point of P-256")
		}
		pk.alg, pk.ec = algES256, ec
		thumb = fmt.Sprintf(`{"crv":"P-256","kty":"EC","x":"%s","y":"%s"}`, k.X, k.Y)
	default:
		return nil, fmt.Errorf("key type %s %s is not one certd signs with (Ed25519, P-256)", k.Kty, k.Crv)
	}
	if k.Alg != "" && k.Alg != pk.alg {
		return nil, fmt.Errorf("alg %q does not fit a %s key", k.Alg, k.Crv)
	}
	sum := sha256.Sum256([]byte(thumb))
	if b64.EncodeToString(sum[:]) != k.Kid {
		return nil, errors.New("kid is not the key's RFC 7638 thumbprint")
	}
	return pk, nil
}

// verify checks a JWS signature with the key's own algorithm.
func (k *pinnedKey) verify(input, sig []byte) bool {
	switch k.alg {
	case algEdDSA:
		return len(sig) == ed25519.SignatureSize && ed25519.Verify(k.ed, input, sig)
	case algES256:
		if len(sig) != 64 {
			return false
		}
		h := sha256.Sum256(input)
		return ecdsa.Verify(k.ec, h[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:]))
	}
	return false
}

// verifyJWS checks a compact JWS against the pinned keys by the strict
// rules: compact form, one signature, a protected header of only alg, kid,
// typ ("vc+jwt") and cty ("vc"), no crit/jku/x5u/jwk/x5c, the key chosen
// by kid among the pinned keys and its algorithm required of the token. It
// returns the payload and the key. Rejections are *rejectedError.
func verifyJWS(token string, ks *keySet, maxSize int) ([]byte, *pinnedKey, error) {
	if len(token) > maxSize {
		return nil, nil, reject("the token is larger than %d bytes", maxSize)
	}
	if strings.HasPrefix(token, "{") {
		return nil, nil, reject("must be a compact JWS, not the JSON serialization")
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, nil, reject("must be a compact JWS of 3 parts with exactly one signature, got %d parts", len(parts))
	}
	for _, p := range parts {
		if p == "" || strings.ContainsAny(p, "=+/ \t\r\n") {
			return nil, nil, reject("must be a compact JWS: three non-empty base64url parts without padding")
		}
	}
	rawHeader, err := b64.DecodeString(parts[0])
	if err != nil {
		return nil, nil, reject("the header is not valid base64url")
	}
	members, err := uniqueMembers(rawHeader)
	if err != nil {
		return nil, nil, reject("header: %v", err)
	}
	h := map[string]string{}
	for _, name := range sortedKeys(members) {
		switch name {
		case "crit":
			return nil, nil, reject("header crit is not accepted")
		case "jku", "x5u":
			return nil, nil, reject("header %s is not accepted: keys are pinned, never fetched", name)
		case "jwk", "x5c":
			return nil, nil, reject("header %s is not accepted: keys are pinned, never embedded", name)
		case "alg", "kid", "typ", "cty":
			var s string
			if err := json.Unmarshal(members[name], &s); err != nil {
				return nil, nil, reject("header %s must be a string", name)
			}
			h[name] = s
		default:
			return nil, nil, reject("header member %q is not accepted", truncate(name, 20))
		}
	}
	alg, hasAlg := h["alg"]
	switch {
	case !hasAlg:
		return nil, nil, reject("header alg is required")
	case strings.EqualFold(alg, "none"):
		return nil, nil, reject("alg none is never accepted: the credential is unsigned")
	case strings.HasPrefix(strings.ToUpper(alg), "HS"):
		return nil, nil, reject("alg %s is never accepted: a symmetric algorithm proves nothing about the issuer", alg)
	case h["typ"] != typVC:
		return nil, nil, reject("header typ must be %s", typVC)
	}
	if cty, ok := h["cty"]; ok && cty != "vc" {
		return nil, nil, reject("header cty must be vc when present")
	}
	kid := h["kid"]
	if kid == "" {
		return nil, nil, reject("header kid is required")
	}
	key, ok := ks.keys[kid]
	if !ok {
		if why, skipped := ks.skipped[kid]; skipped {
			return nil, nil, reject("the key %s of the JWKS cannot be used: %s", kid, why)
		}
		return nil, nil, reject("the key %s that signed it is not in the trusted JWKS (%s): not signed by this issuer, or by a revoked key", kid, ks.source)
	}
	if alg != key.alg {
		return nil, nil, reject("header alg must be %s for key %s, got %s", key.alg, kid, alg)
	}
	sig, err := b64.DecodeString(parts[2])
	if err != nil {
		return nil, nil, reject("the signature is not valid base64url")
	}
	if !key.verify([]byte(parts[0]+"."+parts[1]), sig) {
		return nil, nil, reject("the signature does not verify: the content was altered or it was not signed with key %s", kid)
	}
	payload, err := b64.DecodeString(parts[1])
	if err != nil {
		return nil, nil, reject("the payload is not valid base64url")
	}
	return payload, key, nil
}

// uniqueMembers decodes a JSON object and refuses duplicate member names,
// which different parsers would read differently.
func uniqueMembers(b []byte) (map[string]json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, errors.New("not a JSON object")
	}
	out := map[string]json.RawMessage{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, errors.New("not a JSON object")
		}
		name, _ := t.(string)
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("member %q appears twice", truncate(name, 20))
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, errors.New("not a JSON object")
		}
		out[name] = v
	}
	if _, err := dec.Token(); err != nil {
		return nil, errors.New("not a JSON object")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the JSON object")
	}
	return out, nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// issuerURLShape is the identifier of a certd issuer: {public-url}/issuers/{id}.
var issuerURLShape = regexp.MustCompile(`^(https?://[^/?#]+(?:/[^?#]*)?)/issuers/([a-z0-9][a-z0-9-]{0,63})$`)

// credentialClaims checks the claims of a verified credential payload:
// no vc or vp claim; exp, iat, iss and jti present; iss equal to
// issuer.id (and to the issuer the key set is bound to); jti equal to id,
// a verification URL of the same service; iat not in the future; exp
// equal to validUntil. Validity dates are the caller's to judge.
func credentialClaims(payload []byte, ks *keySet, now time.Time) (*cert.Credential, error) {
	members, err := uniqueMembers(payload)
	if err != nil {
		return nil, reject("payload: %v", err)
	}
	for _, f := range []string{"vc", "vp"} {
		if _, ok := members[f]; ok {
			return nil, reject("the payload must not carry a %q claim", f)
		}
	}
	for _, f := range []string{"exp", "iat", "iss", "jti"} {
		if _, ok := members[f]; !ok {
			return nil, reject("the payload lacks the required %q claim", f)
		}
	}
	var c cert.Credential
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil, reject("the payload does not have the shape of a certificate credential: %v", err)
	}
	m := issuerURLShape.FindStringSubmatch(c.Iss)
	switch {
	case c.Iss != c.Issuer.ID:
		return nil, reject("iss (%s) must equal issuer.id (%s)", truncate(c.Iss, 100), truncate(c.Issuer.ID, 100))
	case m == nil:
		return nil, reject("iss %q is not the identifier of a certd issuer ({public-url}/issuers/{id})", truncate(c.Iss, 100))
	case ks.issuerURL != "" && c.Iss != ks.issuerURL:
		return nil, reject("the credential names issuer %s, but the trusted keys are those of %s", c.Iss, ks.issuerURL)
	case c.Jti != c.ID:
		return nil, reject("jti must equal id")
	case !strings.HasPrefix(c.ID, m[1]+"/v/"):
		return nil, reject("id %q is not a verification URL of the issuer's service %s", truncate(c.ID, 100), m[1])
	case !slices.Contains(c.Type, "VerifiableCredential") || !slices.Contains(c.Type, cert.CredentialType):
		return nil, reject("type must include VerifiableCredential and %s", cert.CredentialType)
	case len(c.Context) == 0 || c.Context[0] != "https://www.w3.org/ns/credentials/v2":
		return nil, reject("@context must start with https://www.w3.org/ns/credentials/v2")
	case time.Unix(c.Iat, 0).After(now.Add(clockSkew)):
		return nil, reject("iat lies in the future")
	}
	if _, ok := cert.NormalizeID(strings.TrimPrefix(c.ID, m[1]+"/v/")); !ok {
		return nil, reject("id %q does not end with a certificate id", truncate(c.ID, 100))
	}
	until, err := time.Parse(time.RFC3339, c.ValidUntil)
	if err != nil {
		return nil, reject("validUntil is not an RFC 3339 date-time")
	}
	if _, err := time.Parse(time.RFC3339, c.ValidFrom); err != nil {
		return nil, reject("validFrom is not an RFC 3339 date-time")
	}
	if until.Unix() != c.Exp {
		return nil, reject("exp must equal validUntil")
	}
	return &c, nil
}
