package verifier

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/certd/certd/cert"
)

// MaxTokenSize is the largest presented token accepted (DESIGN.md section 5).
const MaxTokenSize = 16 << 10

// clockSkew is the tolerance on exp and iat.
const clockSkew = 2 * time.Minute

// ByToken verifies a presented credential (a compact JWS) strictly: size and
// form; the key ring of the issuer named by iss, the key chosen by kid and
// the algorithm taken from that key; the protected header; the required
// claims; then validity and status. Keys are pinned: nothing named by the
// token is ever fetched.
func (v *Service) ByToken(ctx context.Context, token string) cert.Verdict {
	now := v.now()
	token = strings.TrimSpace(token)
	issuerID, err := v.peekIssuer(token)
	if err != nil {
		return rejected(now, err.Error())
	}
	payload, kid, err := v.keys.Verify(ctx, issuerID, token)
	if err != nil {
		if errors.Is(err, cert.ErrInvalid) || errors.Is(err, cert.ErrNotFound) {
			return rejected(now, err.Error())
		}
		return unknown(now, err)
	}
	claims, err := v.checkClaims(payload, issuerID, now)
	if err != nil {
		return rejected(now, err.Error())
	}
	id := strings.TrimPrefix(claims.Jti, v.publicURL+"/v/")
	c, err := v.st.Certificate(ctx, id)
	if errors.Is(err, cert.ErrNotFound) {
		// Signed by a key of ours but not registered: never valid.
		vd := rejected(now, "the credential is signed by this issuer but no such certificate is registered here")
		return vd
	}
	if err != nil {
		return unknown(now, err)
	}
	if c.Issuer != issuerID {
		return rejected(now, "the credential's issuer does not match the registered certificate")
	}
	is, err := v.issuer(ctx, issuerID)
	if err != nil {
		return unknown(now, err)
	}
	sig := &cert.Check{Name: cert.CheckSignature, OK: true, Detail: fmt.Sprintf("signature verified with key %s of %s", kid, issuerName(is))}
	if kid != c.Kid || !sameCredential(c, claims) {
		// A genuine older credential (e.g. of a revision) still speaks for
		// the registered certificate; its status decides.
		sig.Detail += "; this credential is an earlier signature of the registered certificate"
	}
	vd := v.judge(ctx, c, now, sig)
	v.checkStatusLists(ctx, claims, &vd)
	return vd
}

func sameCredential(c *cert.Certificate, cl *cert.Credential) bool {
	return cl.CredentialSubject.Certificate.Number == c.Number && cl.CredentialSubject.USCC == c.Organization.USCC
}

// rejected is the verdict for a token that fails a check of its own.
func rejected(now time.Time, detail string) cert.Verdict {
	return cert.Verdict{
		Verdict:   cert.VerdictInvalid,
		Status:    cert.StatusNotFound,
		Reason:    "This credential is not genuine or is malformed (" + detail + "). Do not rely on it.",
		Checks:    []cert.Check{{Name: cert.CheckSignature, OK: false, Detail: detail}},
		CheckedAt: now,
	}
}

// peekIssuer reads iss from the unverified payload, only to choose the key
// ring; the signature check that follows decides.
func (v *Service) peekIssuer(token string) (string, error) {
	if len(token) > MaxTokenSize {
		return "", fmt.Errorf("token is larger than %d bytes", MaxTokenSize)
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return "", errors.New("token is not a compact JWS (header.payload.signature)")
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", errors.New("token payload is not base64url")
	}
	var p struct {
		Iss string `json:"iss"`
	}
	if err := json.Unmarshal(raw, &p); err != nil {
		return "", errors.New("token payload is not a JSON object")
	}
	prefix := v.publicURL + "/issuers/"
	id, ok := strings.CutPrefix(p.Iss, prefix)
	if !ok || id == "" || strings.Contains(id, "/") {
		return "", fmt.Errorf("token issuer %q is not an issuer of this service (%s...)", truncate(p.Iss, 100), prefix)
	}
	return id, nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// checkClaims enforces the claim rules of section 5 on a verified payload.
func (v *Service) checkClaims(payload []byte, issuerID string, now time.Time) (*cert.Credential, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(payload, &raw); err != nil {
		return nil, errors.New("payload is not a JSON object")
	}
	for _, forbidden := range []string{"vc", "vp"} {
		if _, ok := raw[forbidden]; ok {
			return nil, fmt.Errorf("payload must not carry a %q claim", forbidden)
		}
	}
	for _, required := range []string{"exp", "iat", "iss", "jti"} {
		if _, ok := raw[required]; !ok {
			return nil, fmt.Errorf("payload lacks the required %q claim", required)
		}
	}
	var c cert.Credential
	dec := json.NewDecoder(bytes.NewReader(payload))
	if err := dec.Decode(&c); err != nil {
		return nil, errors.New("payload does not have the shape of a certificate credential")
	}
	issuerURL := cert.IssuerURL(v.publicURL, issuerID)
	switch {
	case c.Iss != issuerURL || c.Issuer.ID != issuerURL:
		return nil, errors.New("iss and issuer.id must both name the signing issuer")
	case c.Jti != c.ID || !strings.HasPrefix(c.Jti, v.publicURL+"/v/"):
		return nil, errors.New("jti must equal id, a verification URL of this service")
	case time.Unix(c.Iat, 0).After(now.Add(clockSkew)):
		return nil, errors.New("iat lies in the future")
	case !time.Unix(c.Exp, 0).After(now.Add(-clockSkew)):
		return nil, fmt.Errorf("the credential expired on %s", time.Unix(c.Exp, 0).UTC().Format(cert.DateLayout))
	}
	if !containsString(c.Type, cert.CredentialType) {
		return nil, fmt.Errorf("type must include %s", cert.CredentialType)
	}
	return &c, nil
}

func containsString(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// MaxBatch is the largest verification batch.
const MaxBatch = 100

// Batch verifies up to MaxBatch items, each an id, a verification URL, a
// certificate number or a token, in order.
func (v *Service) Batch(ctx context.Context, items []string) ([]cert.Verdict, error) {
	if len(items) == 0 || len(items) > MaxBatch {
		return nil, cert.Invalid("items", fmt.Sprintf("must hold 1 to %d entries, got %d", MaxBatch, len(items)))
	}
	out := make([]cert.Verdict, len(items))
	for i, it := range items {
		out[i] = v.Any(ctx, it)
	}
	return out, nil
}

// Any verifies one item given as an id, a verification URL, a token or a
// certificate number.
func (v *Service) Any(ctx context.Context, item string) cert.Verdict {
	item = strings.TrimSpace(item)
	if strings.Count(item, ".") == 2 && len(item) > 100 {
		return v.ByToken(ctx, item)
	}
	if i := strings.LastIndex(item, "/v/"); i >= 0 {
		return v.ByID(ctx, strings.TrimSuffix(item[i+3:], "/"))
	}
	if i := strings.LastIndex(item, "/V/"); i >= 0 {
		return v.ByID(ctx, strings.TrimSuffix(item[i+3:], "/"))
	}
	if _, ok := cert.NormalizeID(item); ok {
		return v.ByID(ctx, item)
	}
	return v.ByNumber(ctx, "", item)
}
