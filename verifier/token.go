package verifier

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/keys"
)

// ByToken verifies a presented credential (a compact JWS) strictly: size and
// form; the key ring of the issuer named by iss, the key chosen by kid and
// the algorithm taken from that key; the protected header; the claims
// (ParseClaims); then the registered certificate that jti names, validity
// and status. Keys are pinned: nothing named by the token is ever fetched.
func (v *Service) ByToken(ctx context.Context, token string) cert.Verdict {
	now := v.now()
	token = strings.TrimSpace(token)
	// A token verified before names its issuer in the cache; its
	// signature is checked again all the same (the key may have been
	// revoked since).
	seen := v.claims.get(token)
	var issuerID string
	if seen != nil {
		issuerID = seen.issuer
	} else {
		var err error
		if issuerID, err = v.peekIssuer(token); err != nil {
			return rejected(now, err.Error())
		}
	}
	payload, kid, err := v.keys.Verify(ctx, issuerID, token)
	if err != nil {
		if errors.Is(err, cert.ErrInvalid) || errors.Is(err, cert.ErrNotFound) {
			return rejected(now, err.Error())
		}
		return unknown(now, err)
	}
	// A verified signature fixes the payload: the claims of a token seen
	// before are taken from the cache, and only their times are checked again.
	var claims *Claims
	if seen != nil {
		claims = seen.claims
	} else {
		if claims, err = v.parseClaims(payload, issuerID); err != nil {
			return rejected(now, err.Error())
		}
		seen = &seenToken{issuer: issuerID, claims: claims}
		v.claims.put(token, seen)
	}
	if err := claims.CheckIssued(now); err != nil {
		return rejected(now, err.Error())
	}
	if claims.Expired(now) {
		return rejected(now, "the credential expired on "+time.Unix(claims.Exp, 0).UTC().Format(cert.DateLayout))
	}
	// A verdict kept with the token's claims holds while nothing it was
	// made of changed; the status lists are applied to it again.
	var cur counts
	if v.verdicts != nil {
		cur = v.verdicts.counts()
		if e := seen.kept.Load(); e.holds(cur, now) {
			vd := e.vd
			vd.CheckedAt = now
			vd.Checks = slices.Clone(vd.Checks)
			v.checkStatusLists(ctx, &claims.Credential, &vd)
			return vd
		}
	}
	c, err := v.st.Certificate(ctx, claims.CertificateID)
	if errors.Is(err, cert.ErrNotFound) {
		// Signed by a key of ours but not registered: never valid.
		vd := rejected(now, "the credential is signed by this issuer but no such certificate is registered here")
		return vd
	}
	if err != nil {
		return unknown(now, err)
	}
	if err := bindsTo(claims, c, v.publicURL, token); err != nil {
		return rejected(now, err.Error())
	}
	// Before the issuer is read: the bound of a kept verdict is the age of
	// the issuer it names.
	issuerUntil := v.issuerUntil(issuerID)
	is, err := v.issuer(ctx, issuerID)
	if err != nil {
		return unknown(now, err)
	}
	sig := &cert.Check{Name: cert.CheckSignature, OK: true, Detail: "signature verified with key " + kid + " of " + issuerName(is)}
	// The stored credential's issuer object is the presented one's when
	// the token is the stored credential.
	signed := &signedRead{is: claims.Issuer, ok: true}
	if token != c.Credential {
		// A genuine older credential (e.g. signed before a key rotation)
		// still speaks for the registered certificate; its status decides.
		sig.Detail += "; this credential is an earlier signature of the registered certificate"
		signed = nil
	}
	vd := v.judge(ctx, c, now, sig, signed)
	if e := v.kept(c, vd, cur, now, issuerUntil); e != nil {
		seen.kept.Store(e)
	}
	v.checkStatusLists(ctx, &claims.Credential, &vd)
	return vd
}

// bindsTo checks that a genuine credential speaks for the registered
// certificate c that its jti names: the certificate's own verification URL,
// the same issuer, and, unless it is the stored credential itself, the same
// certificate number and organization. A genuine token whose jti names
// another certificate than the one it describes is never valid.
func bindsTo(cl *Claims, c *cert.Certificate, publicURL, token string) error {
	switch {
	case c.Issuer != cl.IssuerID:
		return errors.New("the credential's issuer does not match the registered certificate")
	case cl.Jti != cert.VerifyURL(publicURL, c.ID):
		return errors.New("the credential's jti does not name the registered certificate")
	case token == c.Credential:
		return nil
	case cl.CredentialSubject.Certificate.Number != c.Number || cl.CredentialSubject.USCC != c.Organization.USCC:
		return fmt.Errorf("the credential's jti names certificate %s, but its content (number %q) is not that certificate's", c.ID, truncate(cl.CredentialSubject.Certificate.Number, 60))
	}
	return nil
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
	iss, err := keys.PeekIssuer(token)
	if err != nil {
		return "", err
	}
	prefix := v.publicURL + "/issuers/"
	id, ok := strings.CutPrefix(iss, prefix)
	if !ok || id == "" || strings.Contains(id, "/") {
		return "", fmt.Errorf("token issuer %q is not an issuer of this service (%s...)", truncate(iss, 100), prefix)
	}
	return id, nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// parseClaims applies ParseClaims and requires the credential to be of
// this service and of the issuer whose key ring verified it.
func (v *Service) parseClaims(payload []byte, issuerID string) (*Claims, error) {
	c, err := ParseClaims(payload)
	if err != nil {
		return nil, err
	}
	if c.Iss != cert.IssuerURL(v.publicURL, issuerID) {
		return nil, errors.New("iss and issuer.id must both name the signing issuer of this service")
	}
	return c, nil
}

// claimsCache keeps the issuer and the parsed claims of tokens whose
// signature verified, keyed by the whole token. It is bounded: when full it
// starts again empty (at most claimsCacheMax tokens of real credentials,
// about 2 KB each).
type claimsCache struct {
	mu sync.Mutex
	m  map[string]*seenToken
}

type seenToken struct {
	issuer string
	claims *Claims
	// kept is the token's verdict before the status lists, while it holds
	// (verdictcache.go).
	kept atomic.Pointer[keptVerdict]
}

const claimsCacheMax = 10000

func (cc *claimsCache) get(token string) *seenToken {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	return cc.m[token]
}

func (cc *claimsCache) put(token string, t *seenToken) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if cc.m == nil || len(cc.m) >= claimsCacheMax {
		cc.m = make(map[string]*seenToken)
	}
	cc.m[token] = t
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
