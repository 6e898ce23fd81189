package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/certd/certd/keys"
	"github.com/certd/certd/verifier"
)

// Offline verification follows the strict recipe of DESIGN.md section 5,
// as certd's own verifier does, against keys the user pins with --jwks:
// nothing the token names (jku, x5u, an embedded jwk) is ever fetched or
// trusted.

// maxTokenSize is the largest presented credential (DESIGN.md section 5).
const maxTokenSize = keys.MaxTokenSize

// clockSkew is the tolerance on exp, iat, nbf and the validity dates.
const clockSkew = verifier.ClockSkew

// rejectedError is a token that fails a check of its own: the verdict is
// "invalid". Any other error (a key set that cannot be read) is "unknown".
type rejectedError struct{ reason string }

func (e *rejectedError) Error() string { return e.reason }

func reject(format string, args ...any) error {
	return &rejectedError{reason: fmt.Sprintf(format, args...)}
}

// keySet is the trusted JWK Set of an offline verification.
type keySet struct {
	source string
	keys   map[string]*keys.PublicKey
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

// parseJWKS reads a JWK Set. A set that holds private or symmetric key
// material is refused whole: it is not a published key set. Each key is
// read by keys.ParsePublicJWK, as certd reads its own.
func parseJWKS(b []byte) (*keySet, error) {
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := keys.UnmarshalStrict(b, &set); err != nil || set.Keys == nil {
		return nil, errors.New(`not a JWK Set ({"keys": [...]})`)
	}
	ks := &keySet{keys: map[string]*keys.PublicKey{}, skipped: map[string]string{}}
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
		var k struct {
			Kid string `json:"kid"`
		}
		if err := keys.UnmarshalStrict(raw, &k); err != nil {
			return nil, fmt.Errorf("keys[%d]: %v", i, err)
		}
		if k.Kid == "" {
			continue
		}
		pk, err := keys.ParsePublicJWK(raw)
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

// key returns the pinned key kid, or the rejection of a token that names
// another.
func (ks *keySet) key(kid string) (*keys.PublicKey, error) {
	if k, ok := ks.keys[kid]; ok {
		return k, nil
	}
	if why, skipped := ks.skipped[kid]; skipped {
		return nil, reject("the key %s of the JWKS cannot be used: %s", truncate(kid, 60), why)
	}
	return nil, reject("the key %s that signed it is not in the trusted JWKS (%s): not signed by this issuer, or by a revoked key", truncate(kid, 60), ks.source)
}

// verifyJWS checks a compact JWS against the pinned keys with certd's own
// strict verification, keys.VerifyToken. Rejections are *rejectedError.
func verifyJWS(token string, ks *keySet, maxSize int) ([]byte, *keys.PublicKey, error) {
	payload, k, err := keys.VerifyToken(token, maxSize, ks.key)
	if err != nil {
		return nil, nil, &rejectedError{reason: err.Error()}
	}
	return payload, k, nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// credentialClaims checks the claims of a verified credential payload with
// certd's own claim rules (verifier.ParseClaims), binds the credential to
// the issuer the key set was fetched for, and refuses a credential not yet
// in force (iat, nbf). Validity dates are the caller's to judge.
func credentialClaims(payload []byte, ks *keySet, now time.Time) (*verifier.Claims, error) {
	c, err := verifier.ParseClaims(payload)
	if err != nil {
		return nil, &rejectedError{reason: err.Error()}
	}
	if ks.issuerURL != "" && c.Iss != ks.issuerURL {
		return nil, reject("the credential names issuer %s, but the trusted keys are those of %s", truncate(c.Iss, 100), ks.issuerURL)
	}
	if err := c.CheckIssued(now); err != nil {
		return nil, &rejectedError{reason: err.Error()}
	}
	return c, nil
}
