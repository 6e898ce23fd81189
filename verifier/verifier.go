package verifier

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/store"
)

// Store is what verification reads.
type Store interface {
	Certificate(ctx context.Context, id string) (*cert.Certificate, error)
	CertificateByNumber(ctx context.Context, issuer, number string) (*cert.Certificate, error)
	Issuer(ctx context.Context, id string) (*cert.Issuer, error)
	Issuers(ctx context.Context) ([]*cert.Issuer, error)
	ListCertificates(ctx context.Context, q store.Query) ([]*cert.Certificate, string, error)
}

// verdictReader is what a Store may offer besides: a certificate read for
// a verdict, without its credential, with the issuer object the
// credential signed (cert.SignedIssuer of it; ok false when it has none).
// A verdict shows that object and nothing else of the credential.
type verdictReader interface {
	CertificateForVerdict(ctx context.Context, id string) (c *cert.Certificate, signed cert.CredentialIssuer, ok bool, err error)
}

// Keys checks signatures against the issuers' pinned key rings.
type Keys interface {
	// Verify checks a compact JWS strictly and returns its payload.
	Verify(ctx context.Context, issuer, token string) (payload []byte, kid string, err error)
	// KeyState tells whether a key of an issuer is active, retired or revoked.
	KeyState(ctx context.Context, issuer, kid string) (cert.KeyState, error)
}

// Config wires a Service.
type Config struct {
	Store     Store
	Keys      Keys
	Schemes   cert.Schemes
	PublicURL string
	Now       func() time.Time
	// StatusLists, when set, is checked for every presented token.
	StatusLists StatusLists
	// VerdictCache is how many verdicts of ids are kept (verdictcache.go);
	// 0 keeps none. Nothing is kept unless Store and Keys count their
	// changes.
	VerdictCache int
}

// Service verifies certificates.
type Service struct {
	st        Store
	keys      Keys
	schemes   cert.Schemes
	publicURL string
	now       func() time.Time
	lists     StatusLists
	issuers   issuerCache
	claims    claimsCache
	verdicts  *verdictCache
}

// New returns a Service.
func New(cfg Config) *Service {
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	return &Service{st: cfg.Store, keys: cfg.Keys, schemes: cfg.Schemes, publicURL: cfg.PublicURL, now: now, lists: cfg.StatusLists,
		verdicts: newVerdictCache(cfg.VerdictCache, cfg.Store, cfg.Keys)}
}

// Reasons shown to people.
const (
	reasonNotFound = "No certificate with this id is registered here. If it is printed on a certificate, the document may be forged or mistyped: contact the issuer named on the paper."
	reasonUnknown  = "The status cannot be confirmed right now. Try again in a few minutes; do not rely on this certificate until it verifies."
)

// ByID verifies the certificate registered under id.
func (v *Service) ByID(ctx context.Context, id string) cert.Verdict {
	now := v.now()
	nid, ok := cert.NormalizeID(strings.TrimSpace(id))
	if !ok {
		return notFound(now)
	}
	var cur counts
	if v.verdicts != nil {
		if vd, ok := v.keptByID(ctx, nid, now); ok {
			return vd
		}
		cur = v.verdicts.counts()
	}
	var (
		c      *cert.Certificate
		signed *signedRead
		err    error
	)
	if vr, ok := v.st.(verdictReader); ok {
		signed = new(signedRead)
		c, signed.is, signed.ok, err = vr.CertificateForVerdict(ctx, nid)
	} else {
		c, err = v.st.Certificate(ctx, nid)
	}
	if errors.Is(err, cert.ErrNotFound) {
		return notFound(now)
	}
	if err != nil {
		return unknown(now, fmt.Errorf("load certificate: %w", err))
	}
	if v.verdicts == nil {
		return v.judge(ctx, c, now, nil, signed)
	}
	issuerUntil := v.issuerUntil(c.Issuer)
	vd := v.judge(ctx, c, now, nil, signed)
	if e := v.kept(c, vd, cur, now, issuerUntil); e != nil {
		// Answered again, it is the same but for CheckedAt: its JSON is
		// written once. (A token's kept verdict is not: the status lists
		// are applied to each answer.)
		e.vd.JSON = new(cert.VerdictJSON)
		v.verdicts.put(nid, e)
	}
	return vd
}

// signedRead is the issuer object of a stored credential, read: what
// cert.SignedIssuer answers of it.
type signedRead struct {
	is cert.CredentialIssuer
	ok bool
}

// ByNumber verifies the certificate of an issuer with the printed number;
// with issuer "" every issuer is searched and an ambiguous number is
// reported as such.
func (v *Service) ByNumber(ctx context.Context, issuer, number string) cert.Verdict {
	now := v.now()
	if issuer != "" {
		c, err := v.st.CertificateByNumber(ctx, issuer, number)
		if errors.Is(err, cert.ErrNotFound) {
			return notFound(now)
		}
		if err != nil {
			return unknown(now, err)
		}
		return v.judge(ctx, c, now, nil, nil)
	}
	found, err := v.byNumber(ctx, number)
	switch {
	case err != nil:
		return unknown(now, err)
	case len(found) == 0:
		return notFound(now)
	case len(found) > 1:
		vd := unknown(now, nil)
		vd.Reason = "This number is used by several issuers here: verify by the id in the QR code or the verification link instead."
		return vd
	}
	return v.judge(ctx, found[0], now, nil, nil)
}

// maxMatches bounds the issuers listed for one number.
const maxMatches = 100

// byNumber returns the certificates of every issuer with the number, as
// given or in upper case (numbers are printed in upper case and often
// typed in lower case).
func (v *Service) byNumber(ctx context.Context, number string) ([]*cert.Certificate, error) {
	number = strings.TrimSpace(number)
	if cert.CheckNumber(number) != nil {
		return nil, nil
	}
	for _, n := range []string{number, strings.ToUpper(number)} {
		cs, _, err := v.st.ListCertificates(ctx, store.Query{Number: n, Limit: maxMatches})
		if err != nil || len(cs) > 0 {
			return cs, err
		}
		if n == strings.ToUpper(number) {
			break
		}
	}
	return nil, nil
}

// Resolve verifies what the path segment of /v/{x} names: a certificate
// id, exactly as ByID does; otherwise a printed certificate number across
// every issuer. A number that several issuers use gives no verdict but
// the list of its certificates (matches), for the reader to choose.
func (v *Service) Resolve(ctx context.Context, idOrNumber string) (cert.Verdict, []cert.NumberMatch) {
	if _, ok := cert.NormalizeID(strings.TrimSpace(idOrNumber)); ok {
		return v.ByID(ctx, idOrNumber), nil
	}
	now := v.now()
	found, err := v.byNumber(ctx, idOrNumber)
	switch {
	case err != nil:
		return unknown(now, err), nil
	case len(found) == 0:
		return notFound(now), nil
	case len(found) == 1:
		return v.judge(ctx, found[0], now, nil, nil), nil
	}
	matches := make([]cert.NumberMatch, 0, len(found))
	for _, c := range found {
		m := cert.NumberMatch{ID: c.ID, Number: c.Number, Status: cert.StatusAt(c, v.schemes[c.Scheme], now).Status,
			Issuer: cert.VerdictIssuer{ID: c.Issuer, URL: cert.IssuerURL(v.publicURL, c.Issuer)}}
		if is, err := v.issuer(ctx, c.Issuer); err == nil {
			m.Issuer.Name, m.Issuer.NameZh = is.Name, is.NameZh
		}
		matches = append(matches, m)
	}
	slices.SortFunc(matches, func(a, b cert.NumberMatch) int { return strings.Compare(a.Issuer.ID, b.Issuer.ID) })
	return cert.Verdict{}, matches
}

func notFound(now time.Time) cert.Verdict {
	return cert.Verdict{Verdict: cert.VerdictInvalid, Status: cert.StatusNotFound, Reason: reasonNotFound, Checks: []cert.Check{}, CheckedAt: now}
}

// unknown is the fail-closed verdict; err is kept out of the reason (it may
// carry internal detail) and goes to the log as its Cause.
func unknown(now time.Time, err error) cert.Verdict {
	return cert.Verdict{Verdict: cert.VerdictUnknown, Status: "", Reason: reasonUnknown, Checks: []cert.Check{}, CheckedAt: now, Cause: err}
}

// judge builds the verdict of a stored certificate. sig, when not nil, is
// the result of a signature check already made on a presented token;
// signed, when not nil, is the issuer object of c's stored credential,
// already read (c's credential may then be left out).
func (v *Service) judge(ctx context.Context, c *cert.Certificate, now time.Time, sig *cert.Check, signed *signedRead) cert.Verdict {
	is, err := v.issuer(ctx, c.Issuer)
	if err != nil {
		return unknown(now, fmt.Errorf("load issuer %s: %w", c.Issuer, err))
	}
	scheme := v.schemes[c.Scheme]
	loc := c.Location()
	vd := cert.Verdict{
		Certificate: summary(c),
		Issuer:      signedIssuer(c, is, v.publicURL, signed),
		// signature, validity, revocation, suspension, surveillance
		Checks:    make([]cert.Check, 0, 5),
		CheckedAt: now,
	}
	vd.Certificate.Successor = v.link(ctx, c.SupersededBy, now)
	vd.Certificate.Predecessor = v.link(ctx, c.Supersedes, now)
	var undetermined error

	// Signature: the stored credential was verified when it was signed and
	// never changes; what can change is the state of its key.
	if sig == nil {
		state, err := v.keys.KeyState(ctx, c.Issuer, c.Kid)
		switch {
		case err == nil && state != cert.KeyRevoked:
			sig = &cert.Check{Name: cert.CheckSignature, OK: true, Detail: "signed by " + issuerName(is) + " with key " + c.Kid}
		case err == nil:
			sig = &cert.Check{Name: cert.CheckSignature, OK: false, Detail: fmt.Sprintf("the key %s that signed this certificate has been revoked by %s", c.Kid, issuerName(is))}
		case errors.Is(err, cert.ErrNotFound):
			sig = &cert.Check{Name: cert.CheckSignature, OK: false, Detail: fmt.Sprintf("the key %s is not a key of %s", c.Kid, issuerName(is))}
		default:
			undetermined = fmt.Errorf("key state of %s of %s: %w", c.Kid, c.Issuer, err)
			sig = &cert.Check{Name: cert.CheckSignature, OK: false, Detail: "the issuer's keys cannot be read right now"}
		}
	}
	vd.Checks = append(vd.Checks, *sig)

	st := cert.StatusAt(c, scheme, now)
	vd.Status = st.Status
	vd.History = st.Changes
	surv := st.Surveillance
	vd.Surveillance = &surv

	from, until := c.ValidFrom.In(loc), c.ValidUntilInclusive()
	period := from.Format(cert.DateLayout) + " to " + until.Format(cert.DateLayout)
	switch {
	case now.Before(c.ValidFrom):
		vd.Checks = append(vd.Checks, cert.Check{Name: cert.CheckValidity, OK: false, Detail: "not valid before " + from.Format(cert.DateLayout)})
	case !now.Before(c.ValidUntil):
		vd.Checks = append(vd.Checks, cert.Check{Name: cert.CheckValidity, OK: false, Detail: "expired: valid " + period})
	default:
		vd.Checks = append(vd.Checks, cert.Check{Name: cert.CheckValidity, OK: true, Detail: "valid " + period})
	}

	// As in the status lists (DESIGN.md section 7): a revision revokes the
	// certificate it replaces, a renewal only succeeds it.
	revoked := st.Status == cert.StatusWithdrawn || st.Status == cert.StatusCancelled ||
		(st.Status == cert.StatusSuperseded && successorEvent(c).Type == cert.EventRevised)
	rev := cert.Check{Name: cert.CheckRevocation, OK: !revoked, Detail: "not revoked"}
	switch {
	case revoked:
		rev.Detail = fmt.Sprintf("%s on %s: %s", st.Status, st.Since.In(loc).Format(cert.DateLayout), reasonText(st.Reason))
	case st.Status == cert.StatusSuperseded:
		rev.Detail = fmt.Sprintf("not revoked; renewed: certificate %s replaces it from %s", c.SupersededBy, st.Since.In(loc).Format(cert.DateLayout))
	}
	vd.Checks = append(vd.Checks, rev)
	susp := cert.Check{Name: cert.CheckSuspension, OK: st.Status != cert.StatusSuspended, Detail: "not suspended"}
	if !susp.OK {
		susp.Detail = fmt.Sprintf("suspended since %s: %s", st.Since.In(loc).Format(cert.DateLayout), reasonText(st.Reason))
	}
	vd.Checks = append(vd.Checks, susp)
	vd.Checks = append(vd.Checks, survCheck(surv))

	allOK := true
	for _, ch := range vd.Checks {
		allOK = allOK && ch.OK
	}
	switch {
	case undetermined != nil:
		vd.Verdict, vd.Reason, vd.Cause = cert.VerdictUnknown, reasonUnknown, undetermined
	case allOK && st.Status == cert.StatusActive:
		vd.Verdict = cert.VerdictValid
		vd.Reason = "Genuine and valid today: issued by " + issuerName(is) + " to " + c.Organization.Name + ", valid until " + until.Format(cert.DateLayout) + "."
		if e := successorEvent(c); e.Type == cert.EventRenewed {
			vd.Reason += " It has been renewed: certificate " + e.Related + " replaces it from " + e.At.In(loc).Format(cert.DateLayout) + "."
		}
	default:
		vd.Verdict = cert.VerdictInvalid
		vd.Reason = invalidReason(c, is, st, sig, now)
	}
	return vd
}

// successorEvent is the event that links c to the certificate that
// supersedes it (renewed or revised), or the zero Event.
func successorEvent(c *cert.Certificate) cert.Event {
	for i := len(c.Events) - 1; i >= 0; i-- {
		if e := c.Events[i]; (e.Type == cert.EventRenewed || e.Type == cert.EventRevised) && e.Related == c.SupersededBy {
			return e
		}
	}
	return cert.Event{}
}

func survCheck(s cert.Surveillance) cert.Check {
	ch := cert.Check{Name: cert.CheckSurveillance, OK: s.State != cert.SurveillanceOverdue}
	switch s.State {
	case cert.SurveillanceOverdue:
		ch.Detail = "the surveillance audit due by " + s.WindowEnd + " was not passed"
	case cert.SurveillanceDue:
		ch.Detail = "surveillance audit due by " + s.WindowEnd
	case cert.SurveillanceDone:
		ch.Detail = "surveillance audit of the window ending " + s.WindowEnd + " passed"
	case cert.SurveillanceNotDue:
		ch.Detail = "next surveillance audit due between " + s.WindowStart + " and " + s.WindowEnd
	default:
		ch.Detail = "no surveillance audit pending"
	}
	return ch
}

func invalidReason(c *cert.Certificate, is *cert.Issuer, st cert.Standing, sig *cert.Check, now time.Time) string {
	loc := c.Location()
	since := st.Since.In(loc).Format(cert.DateLayout)
	name := issuerName(is)
	if !sig.OK {
		return "The signature of this certificate cannot be trusted (" + sig.Detail + "). Do not rely on it; contact " + name + "."
	}
	switch st.Status {
	case cert.StatusSuspended:
		return fmt.Sprintf("Suspended since %s (%s). It is not valid while suspended; ask %s or the certificate holder when it will be reinstated.", since, reasonText(st.Reason), name)
	case cert.StatusWithdrawn:
		return fmt.Sprintf("Withdrawn by %s on %s: %s. This certificate is no longer valid.", name, since, reasonText(st.Reason))
	case cert.StatusCancelled:
		return fmt.Sprintf("Cancelled by %s on %s: %s. This certificate is no longer valid.", name, since, reasonText(st.Reason))
	case cert.StatusExpired:
		return fmt.Sprintf("Expired on %s. Ask the holder for its current certificate.", c.ValidUntilInclusive().Format(cert.DateLayout))
	case cert.StatusSuperseded:
		if c.SupersededBy != "" {
			return fmt.Sprintf("Replaced on %s by a newer certificate (id %s). Verify the current one instead.", since, c.SupersededBy)
		}
		return fmt.Sprintf("Replaced on %s by a newer certificate. Ask the holder for the current one.", since)
	}
	if now.Before(c.ValidFrom) {
		return fmt.Sprintf("Not valid yet: valid from %s.", c.ValidFrom.In(loc).Format(cert.DateLayout))
	}
	return "This certificate is not valid."
}

func reasonText(r string) string {
	switch r {
	case cert.ReasonSurveillanceOverdue:
		return "the annual surveillance audit was not passed in time"
	case cert.ReasonSurveillanceFailed:
		return "the surveillance audit failed"
	case cert.ReasonSuspensionLimit:
		return "the suspension lasted longer than the scheme allows"
	case cert.ReasonExpired:
		return "the validity period ended"
	case "":
		return "no reason recorded"
	}
	return r
}

func issuerName(is *cert.Issuer) string {
	if is.NameZh != "" {
		return is.NameZh + " (" + is.Name + ")"
	}
	return is.Name
}

func summary(c *cert.Certificate) *cert.VerdictCertificate {
	loc := c.Location()
	return &cert.VerdictCertificate{
		ID: c.ID, Number: c.Number, Scheme: c.Scheme, Standard: c.Standard, Category: c.Category,
		Level: c.Level, Scope: c.Scope, ScopeEn: c.ScopeEn, AssessmentBody: c.AssessmentBody,
		Organization: c.Organization.Public(),
		ValidFrom:    c.ValidFrom.In(loc).Format(cert.DateLayout),
		ValidUntil:   c.ValidUntilInclusive().Format(cert.DateLayout),
		OriginalDate: c.OriginalDate, Kid: c.Kid, SupersededBy: c.SupersededBy,
		Sites: c.Sites,
	}
}

// signedIssuer names the issuer of c: its name now, and what the
// credential signed at issuance says of it (name, accreditation), with
// the current name again when the issuer was renamed since.
func signedIssuer(c *cert.Certificate, is *cert.Issuer, publicURL string, read *signedRead) *cert.VerdictIssuer {
	out := &cert.VerdictIssuer{ID: is.ID, Name: is.Name, NameZh: is.NameZh, URL: cert.IssuerURL(publicURL, is.ID)}
	if read == nil {
		read = new(signedRead)
		read.is, read.ok = cert.SignedIssuer(c.Credential)
	}
	if !read.ok {
		return out
	}
	signed := read.is
	out.SignedName, out.Accreditation = signed.Name, signed.Accreditation
	if current := is.DisplayName(); signed.Name != "" && current != signed.Name {
		out.CurrentName = current
	}
	return out
}

// link names a related certificate with its status now; nil when id is
// empty or the certificate cannot be read (the verdict stands without it).
func (v *Service) link(ctx context.Context, id string, now time.Time) *cert.CertificateLink {
	if id == "" {
		return nil
	}
	c, err := v.st.Certificate(ctx, id)
	if err != nil {
		return nil
	}
	return &cert.CertificateLink{ID: c.ID, Number: c.Number, Status: cert.StatusAt(c, v.schemes[c.Scheme], now).Status}
}
