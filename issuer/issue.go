package issuer

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/certd/certd/cert"
)

// MaxBatch is the largest batch IssueBatch accepts.
const MaxBatch = 1000

// Request is what a certification body sends to issue a certificate
// (DESIGN.md section 9).
type Request struct {
	Issuer         string            `json:"issuer,omitempty"`
	Scheme         string            `json:"scheme"`
	Number         string            `json:"number,omitempty"`
	Standard       string            `json:"standard,omitempty"`
	Category       string            `json:"category,omitempty"`
	Level          int               `json:"level,omitempty"`
	Scope          string            `json:"scope,omitempty"`
	ScopeEn        string            `json:"scopeEn,omitempty"`
	Sites          []cert.Site       `json:"sites,omitempty"`
	AssessmentBody string            `json:"assessmentBody,omitempty"`
	DecisionDate   string            `json:"decisionDate,omitempty"`
	ValidFrom      string            `json:"validFrom,omitempty"`
	OriginalDate   string            `json:"originalDate,omitempty"`
	Organization   cert.Organization `json:"organization"`
	// Audit records the audit behind the decision (optional).
	Audit *cert.Audit `json:"audit,omitempty"`
}

// Hash identifies the content of a request for Idempotency-Key checks.
func (r *Request) Hash() string {
	b, _ := json.Marshal(r)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Check applies the rules of an issue request that need no stored data:
// scheme, category, level, number, text lengths, organization (USCC check
// character included) and date formats, with validFrom at most a year
// after now. Field names are the JSON names. The server runs it before
// issuing; certctl runs it on every CSV row before sending anything.
func (r *Request) Check(schemes cert.Schemes, now time.Time) *cert.ValidationError {
	var v cert.ValidationError
	switch scheme := schemes[r.Scheme]; {
	case r.Scheme == "":
		v.Add("scheme", fmt.Sprintf("is required: one of %q", schemes.IDs()))
	case scheme == nil:
		v.Add("scheme", fmt.Sprintf("unknown scheme %q: must be one of %q", r.Scheme, schemes.IDs()))
	default:
		if err := cert.CheckText(r.Category, cert.SingleLine); err != nil {
			v.Add("category", err.Error())
		} else if err := scheme.CheckCategory(r.Category); err != nil {
			v.Add("category", err.Error())
		}
		if err := scheme.CheckLevel(r.Level); err != nil {
			v.Add("level", err.Error())
		}
	}
	if r.Number != "" {
		if err := cert.CheckNumber(r.Number); err != nil {
			v.Add("number", err.Error())
		}
	}
	checkText(&v, "standard", r.Standard, cert.SingleLine, 100, false)
	checkText(&v, "scope", r.Scope, cert.MultiLine, 2000, true)
	checkText(&v, "scopeEn", r.ScopeEn, cert.MultiLine, 4000, false)
	checkText(&v, "assessmentBody", r.AssessmentBody, cert.SingleLine, 200, false)
	checkSites(&v, r.Sites)
	v.Fields = append(v.Fields, r.Organization.Validate().Prefix("organization.").Fields...)
	if r.ValidFrom != "" {
		d, err := parseDay(r.ValidFrom, now.Location())
		if err != nil {
			v.Add("validFrom", "must be a date YYYY-MM-DD (the issue date, in the issuer's time zone)")
		} else if d.After(now.AddDate(1, 0, 0)) {
			v.Add("validFrom", "must not be more than one year ahead")
		}
	}
	for _, f := range []struct{ name, value string }{{"decisionDate", r.DecisionDate}, {"originalDate", r.OriginalDate}} {
		if f.value != "" {
			if _, err := cert.ParseDate(f.value, now.Location()); err != nil {
				v.Add(f.name, "must be a date YYYY-MM-DD")
			}
		}
	}
	checkAudit(&v, r.Audit, now.Location())
	return &v
}

// checkAudit validates an optional audit record, its fields named
// "audit.".
func checkAudit(v *cert.ValidationError, a *cert.Audit, loc *time.Location) {
	if a != nil {
		v.Fields = append(v.Fields, a.Validate(loc).Prefix("audit.").Fields...)
	}
}

// cloneAudit copies an audit record, so that the stored one shares no
// slice with the request.
func cloneAudit(a *cert.Audit) *cert.Audit {
	if a == nil {
		return nil
	}
	c := *a
	c.Team = slices.Clone(a.Team)
	c.DecisionMakers = slices.Clone(a.DecisionMakers)
	c.TechnicalAreas = slices.Clone(a.TechnicalAreas)
	return &c
}

// Result is the outcome of one item of a batch.
type Result struct {
	Certificate *cert.Certificate
	Err         error
}

// prepared is a validated request on its way to being stored.
type prepared struct {
	c      *cert.Certificate
	issuer *cert.Issuer

	// autoNumber is set when the number came from the counter, autoBase
	// when the base number is that number: both may be replaced after a
	// collision, a number the CB chose never.
	autoNumber, autoBase bool
}

// Issue issues one certificate. With an idempotency key, a retry of the same
// request returns the certificate of the first one (replayed is true), and a
// different request under the same key fails with ErrIdempotencyMismatch.
func (s *Service) Issue(ctx context.Context, p cert.Principal, req Request, idemKey string) (c *cert.Certificate, replayed bool, err error) {
	issuerID, err := s.resolveIssuer(p, req.Issuer)
	if err != nil {
		return nil, false, err
	}
	req.Issuer = issuerID
	hash := req.Hash()
	if idemKey != "" {
		if c, err := s.replay(ctx, issuerID, idemKey, hash); err == nil || !errors.Is(err, cert.ErrNotFound) {
			return c, err == nil, err
		}
	}
	pr, err := s.prepare(ctx, p, req, nil)
	if err != nil {
		return nil, false, err
	}
	pr.c.IdempotencyKey, pr.c.RequestHash = idemKey, hash
	if err := s.assign(ctx, []*prepared{pr}); err != nil {
		return nil, false, err
	}
	if err := s.sign(ctx, []*prepared{pr}); err != nil {
		return nil, false, err
	}
	var winner func() (*cert.Certificate, error)
	if idemKey != "" {
		// A concurrent request with the same key may have won the race.
		winner = func() (*cert.Certificate, error) { return s.replayWinner(ctx, issuerID, idemKey, hash) }
	}
	return s.createOne(ctx, pr, winner)
}

// replayWinner is replay after storing under key failed as a duplicate:
// the store shows the winner then (its contract), and a few brief retries
// cover a deployment that shows it a moment later, so that the retry is a
// replay and not a conflict.
func (s *Service) replayWinner(ctx context.Context, issuerID, key, hash string) (*cert.Certificate, error) {
	for attempt := 1; ; attempt++ {
		c, err := s.replay(ctx, issuerID, key, hash)
		if !errors.Is(err, cert.ErrNotFound) || attempt == 4 {
			return c, err
		}
		if err := backoff(ctx, attempt); err != nil {
			return nil, err
		}
	}
}

func (s *Service) replay(ctx context.Context, issuerID, key, hash string) (*cert.Certificate, error) {
	c, err := s.st.CertificateByIdempotencyKey(ctx, issuerID, key)
	if err != nil {
		return nil, err
	}
	if c.RequestHash != hash {
		return nil, fmt.Errorf("Idempotency-Key %q was first used with another request body (certificate %s): use a new key for a new certificate: %w", key, c.ID, cert.ErrIdempotencyMismatch)
	}
	return c, nil
}

// explainDuplicate turns a unique-constraint failure into a message naming
// the field.
func (s *Service) explainDuplicate(ctx context.Context, c *cert.Certificate, err error) error {
	if other, gerr := s.st.CertificateByNumber(ctx, c.Issuer, c.Number); gerr == nil && other.ID != c.ID {
		return numberTaken(c, other)
	}
	return fmt.Errorf("certificate %s: %w", c.ID, err)
}

func numberTaken(c, other *cert.Certificate) error {
	return fmt.Errorf("number: %q is already used by certificate %s of issuer %s: choose another number or omit it to have one assigned: %w", c.Number, other.ID, c.Issuer, cert.ErrAlreadyExists)
}

// IssueBatch issues up to MaxBatch certificates. Each item succeeds or fails
// on its own; results are in the order of reqs. Numbers and status positions
// are reserved in one step per issuer, signatures made with one key-ring
// read, and all certificates stored in one write.
func (s *Service) IssueBatch(ctx context.Context, p cert.Principal, reqs []Request) ([]Result, error) {
	if len(reqs) == 0 || len(reqs) > MaxBatch {
		return nil, cert.Invalid("certificates", fmt.Sprintf("must hold 1 to %d items, got %d", MaxBatch, len(reqs)))
	}
	results := make([]Result, len(reqs))
	issuers := map[string]*cert.Issuer{}
	var ok []*prepared
	var okIdx []int
	for i, req := range reqs {
		issuerID, err := s.resolveIssuer(p, req.Issuer)
		if err == nil {
			req.Issuer = issuerID
			var pr *prepared
			pr, err = s.prepare(ctx, p, req, issuers)
			if err == nil {
				ok = append(ok, pr)
				okIdx = append(okIdx, i)
				continue
			}
		}
		results[i].Err = err
	}
	if len(ok) == 0 {
		return results, nil
	}
	if err := s.assign(ctx, ok); err != nil {
		return nil, err
	}
	if err := s.sign(ctx, ok); err != nil {
		return nil, err
	}
	index := make(map[*prepared]int, len(ok))
	for j, pr := range ok {
		index[pr] = okIdx[j]
	}
	for attempt := 0; len(ok) > 0; attempt++ {
		cs := make([]*cert.Certificate, len(ok))
		for j, pr := range ok {
			cs[j] = pr.c
		}
		errs, err := s.st.CreateCertificates(ctx, cs)
		if err != nil {
			return nil, fmt.Errorf("store certificates: %w", err)
		}
		var again []*prepared
		for j, pr := range ok {
			i := index[pr]
			switch {
			case errs[j] == nil:
				results[i].Certificate = pr.c
			case !errors.Is(errs[j], cert.ErrAlreadyExists) || attempt == maxReassign:
				results[i].Err = s.explainDuplicate(ctx, pr.c, errs[j])
			default:
				if rerr := s.reassign(ctx, pr, errs[j]); rerr != nil {
					results[i].Err = rerr
				} else {
					again = append(again, pr)
				}
			}
		}
		if len(again) > 0 {
			if err := s.sign(ctx, again); err != nil {
				return nil, err
			}
		}
		ok = again
	}
	return results, nil
}

// resolveIssuer decides which issuer a request acts for.
func (s *Service) resolveIssuer(p cert.Principal, named string) (string, error) {
	switch {
	case p.DeploymentAdmin():
		if named == "" {
			return "", cert.Invalid("issuer", "is required with an admin key: name the issuer id, e.g. \"default\"")
		}
		return named, nil
	case !p.CanWrite(p.Issuer):
		return "", fmt.Errorf("a %s key cannot issue certificates: use a key with the issuer role: %w", p.Role, cert.ErrForbidden)
	case named != "" && named != p.Issuer:
		return "", fmt.Errorf("this API key belongs to issuer %q and cannot issue for %q: %w", p.Issuer, named, cert.ErrForbidden)
	}
	return p.Issuer, nil
}

// prepare validates a request and builds the certificate without number,
// status position or credential. cache memoizes issuer lookups in a batch.
func (s *Service) prepare(ctx context.Context, p cert.Principal, req Request, cache map[string]*cert.Issuer) (*prepared, error) {
	is, err := s.issuer(ctx, req.Issuer, cache)
	if err != nil {
		return nil, err
	}
	loc := is.Location()
	now := s.now()
	req.Organization.Email = cert.NormalizeEmail(req.Organization.Email)
	if err := req.Check(s.schemes, now.In(loc)).Err(); err != nil {
		return nil, err
	}
	scheme := s.schemes[req.Scheme]
	day := now
	if req.ValidFrom != "" {
		day, _ = parseDay(req.ValidFrom, loc)
	}
	decision, origin := req.DecisionDate, req.OriginalDate
	from, until := cert.ValidityPeriod(day, loc, scheme.ValidityMonths)
	c := &cert.Certificate{
		ID:             cert.NewID(),
		Number:         req.Number,
		Issuer:         is.ID,
		Scheme:         scheme.ID,
		Standard:       req.Standard,
		Category:       req.Category,
		Level:          req.Level,
		Scope:          req.Scope,
		ScopeEn:        req.ScopeEn,
		Sites:          req.Sites,
		AssessmentBody: req.AssessmentBody,
		Organization:   req.Organization,
		DecisionDate:   decision,
		OriginalDate:   origin,
		Audit:          cloneAudit(req.Audit),
		ValidFrom:      from,
		ValidUntil:     until,
		TimeZone:       is.TimeZone,
		CreatedAt:      now,
	}
	if c.Organization.Country == "" {
		c.Organization.Country = "CN"
	}
	if c.OriginalDate == "" {
		c.OriginalDate = from.Format(cert.DateLayout)
	}
	c.Append(cert.Event{Type: cert.EventIssued, At: now, RecordedAt: now, Actor: p.Actor()})
	if err := s.checkPrintable(c.Texts()); err != nil {
		return nil, err
	}
	return &prepared{c: c, issuer: is}, nil
}

// checkPrintable refuses texts that the certificate PDF cannot print,
// naming each field and character, so that no certificate is accepted
// whose PDF could never be made.
func (s *Service) checkPrintable(texts []cert.FieldText) error {
	if s.printer == nil {
		return nil
	}
	var v cert.ValidationError
	for _, f := range texts {
		missing := s.printer.Missing(f.Text)
		if len(missing) == 0 {
			continue
		}
		var b strings.Builder
		for i, r := range missing {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%U %q", r, r)
		}
		v.Add(f.Field, "cannot be printed on the certificate: no font of this service has "+b.String()+"; leave it out or write it another way")
	}
	return v.Err()
}

func parseDay(s string, loc *time.Location) (time.Time, error) {
	if t, err := cert.ParseDate(s, loc); err == nil {
		return t, nil
	}
	return time.Parse(time.RFC3339, s)
}

// checkSites checks the certified sites of a certificate: at most 50,
// each with a name.
func checkSites(v *cert.ValidationError, sites []cert.Site) {
	if len(sites) > 50 {
		v.Add("sites", "must list at most 50 sites")
	}
	for i, site := range sites {
		f := fmt.Sprintf("sites[%d].", i)
		checkText(v, f+"name", site.Name, cert.SingleLine, 500, true)
		checkText(v, f+"address", site.Address, cert.SingleLine, 500, false)
		checkText(v, f+"scope", site.Scope, cert.MultiLine, 2000, false)
	}
}

// checkText applies cert.CheckText, then the length and presence rules.
func checkText(v *cert.ValidationError, field, value string, kind cert.TextKind, max int, required bool) {
	if err := cert.CheckText(value, kind); err != nil {
		v.Add(field, err.Error())
		return
	}
	switch {
	case required && strings.TrimSpace(value) == "":
		v.Add(field, "is required")
	case utf8.RuneCountInString(value) > max:
		v.Add(field, fmt.Sprintf("must be at most %d characters", max))
	}
}

func (s *Service) issuer(ctx context.Context, id string, cache map[string]*cert.Issuer) (*cert.Issuer, error) {
	if is, ok := cache[id]; ok {
		return is, nil
	}
	is, err := s.st.Issuer(ctx, id)
	if errors.Is(err, cert.ErrNotFound) {
		return nil, cert.Invalid("issuer", fmt.Sprintf("no issuer %q exists here", id))
	}
	if err != nil {
		return nil, fmt.Errorf("load issuer %s: %w", id, err)
	}
	if cache != nil {
		cache[id] = is
	}
	return is, nil
}

// assign gives each certificate its number (when the CB supplied none) and
// its status-list position, reserving sequence ranges in one step per
// counter.
func (s *Service) assign(ctx context.Context, prs []*prepared) error {
	if len(prs) < positionBlock {
		if err := s.assignPositions(ctx, prs); err != nil {
			return err
		}
		return s.assignNumbers(ctx, prs)
	}
	// A batch reserves its positions and its numbers from the store at
	// the same time: on MongoDB two round trips at once (the embedded
	// store reserves in memory). They set different fields of the
	// certificates.
	var perr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		perr = s.assignPositions(ctx, prs)
	}()
	nerr := s.assignNumbers(ctx, prs)
	<-done
	if perr != nil {
		return perr
	}
	return nerr
}

// assignPositions gives each certificate a new status-list position, one
// reservation per issuer.
func (s *Service) assignPositions(ctx context.Context, prs []*prepared) error {
	groups := map[string][]*prepared{}
	var order []string
	for _, pr := range prs {
		id := pr.issuer.ID
		if _, ok := groups[id]; !ok {
			order = append(order, id)
		}
		groups[id] = append(groups[id], pr)
	}
	for _, id := range order {
		g := groups[id]
		first, err := s.reservePositions(ctx, id, int64(len(g)))
		if err != nil {
			return fmt.Errorf("reserve status positions: %w", err)
		}
		for i, pr := range g {
			pr.c.StatusList, pr.c.StatusIndex = statusPosition(pr.issuer.StatusKey, first-1+int64(i))
		}
	}
	return nil
}

// assignNumbers numbers the certificates that have no number, one
// reservation per counter, and makes a certificate's number its base
// number when it has none.
func (s *Service) assignNumbers(ctx context.Context, prs []*prepared) error {
	groups := map[string][]*prepared{}
	var order []string
	// The counter's name depends on the issuer, the pattern and the year
	// and month of the date alone; a batch computes it once.
	type counterOf struct {
		is      *cert.Issuer
		pattern string
		year    int
		month   time.Month
	}
	counters := map[counterOf]string{}
	for _, pr := range prs {
		if pr.c.Number != "" {
			continue
		}
		is := pr.issuer
		pattern := is.NumberPatternFor(s.schemes[pr.c.Scheme])
		// Patterns that render alike share a counter; the group key keeps
		// the pattern too, so each certificate gets its own pattern's form.
		at := pr.c.ValidFrom
		key := counterOf{is, pattern, at.Year(), at.Month()}
		name, ok := counters[key]
		if !ok {
			name = cert.NumberCounter(is, pattern, at) + "\x00" + pattern
			counters[key] = name
		}
		if _, ok := groups[name]; !ok {
			order = append(order, name)
		}
		groups[name] = append(groups[name], pr)
	}
	for _, name := range order {
		g := groups[name]
		counter, pattern, _ := strings.Cut(name, "\x00")
		first, err := s.st.NextSequence(ctx, counter, int64(len(g)))
		if err != nil {
			return fmt.Errorf("reserve certificate numbers: %w", err)
		}
		for i, pr := range g {
			pr.c.Number = cert.FormatNumber(pattern, pr.issuer.NumberPrefix, pr.c.ValidFrom, first+int64(i))
			pr.autoNumber = true
		}
	}
	for _, pr := range prs {
		if pr.c.BaseNumber == "" {
			pr.c.BaseNumber = pr.c.Number
			pr.autoBase = pr.autoNumber
		}
	}
	return nil
}

// maxReassign bounds how many times one certificate gets a new number or
// status position after a collision on a unique index.
const maxReassign = 5

// reassign handles a certificate the store refused as a duplicate (err):
// when a value assigned here collided, it assigns a new one and returns nil
// (the credential must then be signed again); otherwise it returns the
// error to answer. A number from the counter that another certificate holds
// (one a CB chose, or imported) gets the next number; when the number is
// not the cause, the status position is (held by a certificate stored
// with a position the counter did not hand out) and gets a new one. A
// number the CB chose and another certificate holds is the CB's conflict.
func (s *Service) reassign(ctx context.Context, pr *prepared, err error) error {
	c := pr.c
	other, gerr := s.st.CertificateByNumber(ctx, c.Issuer, c.Number)
	switch {
	case gerr == nil && other.ID == c.ID:
		return fmt.Errorf("certificate %s: %w", c.ID, err)
	case gerr == nil && !pr.autoNumber:
		return numberTaken(c, other)
	case gerr == nil:
		c.Number = ""
		if pr.autoBase {
			c.BaseNumber, pr.autoBase = "", false
		}
		return s.assignNumbers(ctx, []*prepared{pr})
	case !errors.Is(gerr, cert.ErrNotFound):
		return fmt.Errorf("look up number %s: %w", c.Number, gerr)
	}
	return s.assignPositions(ctx, []*prepared{pr})
}

// createOne stores pr.c, assigning a new number or status position and
// signing again when an assigned one collides, at most maxReassign times.
// On a duplicate, winner (when not nil) first looks for the certificate a
// concurrent request stored in this one's place: found, it is returned
// with replayed true; cert.ErrNotFound means there is none.
func (s *Service) createOne(ctx context.Context, pr *prepared, winner func() (*cert.Certificate, error)) (c *cert.Certificate, replayed bool, err error) {
	for attempt := 0; ; attempt++ {
		err := s.st.CreateCertificate(ctx, pr.c)
		if err == nil {
			return pr.c, false, nil
		}
		if !errors.Is(err, cert.ErrAlreadyExists) {
			return nil, false, fmt.Errorf("store certificate: %w", err)
		}
		if winner != nil {
			if c, werr := winner(); werr == nil {
				return c, true, nil
			} else if !errors.Is(werr, cert.ErrNotFound) {
				return nil, false, werr
			}
		}
		if attempt == maxReassign {
			return nil, false, s.explainDuplicate(ctx, pr.c, err)
		}
		if err := s.reassign(ctx, pr, err); err != nil {
			return nil, false, err
		}
		if err := s.sign(ctx, []*prepared{pr}); err != nil {
			return nil, false, err
		}
	}
}

// sign builds and signs the credential of each certificate, one key-ring
// read per issuer.
func (s *Service) sign(ctx context.Context, prs []*prepared) error {
	byIssuer := map[string][]*prepared{}
	var order []string
	for _, pr := range prs {
		if _, ok := byIssuer[pr.issuer.ID]; !ok {
			order = append(order, pr.issuer.ID)
		}
		byIssuer[pr.issuer.ID] = append(byIssuer[pr.issuer.ID], pr)
	}
	iat := s.now()
	for _, id := range order {
		group := byIssuer[id]
		payloads := make([][]byte, len(group))
		err := parallel(len(group), func(i int) error {
			b, err := json.Marshal(cert.NewCredential(group[i].c, group[i].issuer, s.publicURL, iat))
			payloads[i] = b
			return err
		})
		if err != nil {
			return fmt.Errorf("encode credential: %w", err)
		}
		tokens, kid, err := s.signer.SignMany(ctx, id, payloads)
		if err != nil {
			return fmt.Errorf("sign credentials of %s: %w", id, err)
		}
		for i, pr := range group {
			pr.c.Credential, pr.c.Kid = tokens[i], kid
		}
	}
	return nil
}

// parallel runs f(0..n-1) on all cores when n is large enough to pay for
// the goroutines (a batch of certificates), in order otherwise.
func parallel(n int, f func(i int) error) error {
	workers := min(runtime.GOMAXPROCS(0), n/32+1)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += workers {
				if err := f(i); err != nil {
					errs[w] = err
					return
				}
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}
