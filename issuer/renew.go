package issuer

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/certd/certd/cert"
)

// A renewal or a revision creates a new certificate (new id, credential and
// status position) that supersedes the old one. It takes two writes, the
// new certificate and then the link on the old one, and the store has no
// transactions. What keeps it safe:
//
//   - A certificate is superseded at most once, so its successor is stored
//     under the idempotency key successorKey(old id), unique per issuer:
//     two concurrent renewals, or a renewal racing a revision, create one
//     certificate, on any number of instances.
//   - The new certificate is written first. If the process dies before the
//     link, the old certificate stays valid until the link is made; a retry
//     of the request finds the successor by its key and finishes the link,
//     and so does SweepDerived.
//   - The link appends to the old certificate and is retried on a version
//     conflict, so it never loses a concurrent event.

// successorKey is the idempotency key of the certificate that supersedes
// the certificate id.
func successorKey(id string) string { return SuccessorKeyPrefix + id }

// SuccessorKeyPrefix starts the idempotency keys that renewals and
// revisions use; clients may not use it.
const SuccessorKeyPrefix = "successor:"

// successorFunc validates a renewal or revision of old and prepares the new
// certificate, without number (unless fixed), status position or
// credential.
type successorFunc func(ctx context.Context, old *cert.Certificate, scheme *cert.Scheme, st cert.Standing, req ActionRequest, p cert.Principal, now time.Time) (*prepared, error)

// actionHash identifies an action request, so a retry can be told from a
// different request.
func actionHash(action string, req ActionRequest) string {
	b, _ := json.Marshal(struct {
		Action  string        `json:"action"`
		Request ActionRequest `json:"request"`
	}{action, req})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// supersede runs a renewal or revision; see Act.
func (s *Service) supersede(ctx context.Context, p cert.Principal, id, action string, build successorFunc, req ActionRequest, ifMatch int64) (*cert.Certificate, error) {
	old, err := s.Certificate(ctx, p, id)
	if err != nil {
		return nil, err
	}
	if !p.CanWrite(old.Issuer) {
		return nil, fmt.Errorf("a %s key cannot change certificates: %w", p.Role, cert.ErrForbidden)
	}
	hash := actionHash(action, req)
	// A retry finds the certificate its first attempt created, even when
	// the link on the old certificate (and so its version) changed since.
	if next, err := s.successorOf(ctx, old); err == nil {
		return s.replaySuccessor(ctx, old, next, hash)
	} else if !errors.Is(err, cert.ErrNotFound) {
		return nil, err
	}
	if ifMatch != 0 && old.Version != ifMatch {
		return nil, fmt.Errorf("certificate %s is at version %d, not %d: fetch it again and decide on the current state: %w", old.ID, old.Version, ifMatch, cert.ErrPrecondition)
	}
	scheme := s.schemes[old.Scheme]
	if scheme == nil {
		return nil, fmt.Errorf("certificate %s has scheme %q, which this server does not define: add it to the schemes file: %w", old.Number, old.Scheme, cert.ErrTransition)
	}
	now := s.now()
	pr, err := build(ctx, old, scheme, cert.StatusAt(old, scheme, now), req, p, now)
	if err != nil {
		return nil, err
	}
	pr.c.IdempotencyKey, pr.c.RequestHash = successorKey(old.ID), hash
	if err := s.assign(ctx, []*prepared{pr}); err != nil {
		return nil, err
	}
	if err := s.sign(ctx, []*prepared{pr}); err != nil {
		return nil, err
	}
	// Another request may have superseded the certificate first.
	c, replayed, err := s.createOne(ctx, pr, func() (*cert.Certificate, error) {
		next, err := s.successorOf(ctx, old)
		if err != nil {
			return nil, err
		}
		return s.replaySuccessor(ctx, old, next, hash)
	})
	if err != nil || replayed {
		return c, err
	}
	if err := s.link(ctx, old, pr.c); err != nil {
		return nil, err
	}
	return pr.c, nil
}

// successorOf returns the certificate stored as the successor of old, or
// ErrNotFound.
func (s *Service) successorOf(ctx context.Context, old *cert.Certificate) (*cert.Certificate, error) {
	next, err := s.st.CertificateByIdempotencyKey(ctx, old.Issuer, successorKey(old.ID))
	if err != nil {
		if errors.Is(err, cert.ErrNotFound) {
			return nil, err
		}
		return nil, fmt.Errorf("look up the successor of %s: %w", old.ID, err)
	}
	if next.Supersedes != old.ID {
		return nil, fmt.Errorf("certificate %s holds the successor key of %s but supersedes %q", next.ID, old.ID, next.Supersedes)
	}
	return next, nil
}

// replaySuccessor answers a request that finds old already superseded by
// next: it finishes the link if an earlier attempt could not, and returns
// next when the request is the one that created it.
func (s *Service) replaySuccessor(ctx context.Context, old, next *cert.Certificate, hash string) (*cert.Certificate, error) {
	if err := s.link(ctx, old, next); err != nil {
		return nil, err
	}
	if next.RequestHash == hash {
		return next, nil
	}
	kind, at := successorEvent(old, next)
	return nil, fmt.Errorf("certificate %s was already %s: certificate %s (number %s) replaces it from %s; act on that one instead: %w",
		old.Number, kind, next.ID, next.Number, at.In(old.Location()).Format(cert.DateLayout), cert.ErrTransition)
}

// successorEvent is the event that links old to next: `revised` at the
// moment of the revision, or `renewed` when the renewed certificate starts.
// It is computed from next alone, so every instance that makes the link
// makes the same one. A revision keeps the base number with the next
// revision suffix; a renewal has a number of its own.
func successorEvent(old, next *cert.Certificate) (cert.EventType, time.Time) {
	if next.BaseNumber == baseNumber(old) && next.Revision == old.Revision+1 {
		return cert.EventRevised, next.CreatedAt
	}
	return cert.EventRenewed, next.ValidFrom
}

// link records on old that next supersedes it, re-reading old on a version
// conflict: the link must not be lost, and neither may a concurrent event.
func (s *Service) link(ctx context.Context, old, next *cert.Certificate) error {
	for attempt := 1; ; attempt++ {
		switch old.SupersededBy {
		case next.ID:
			return nil
		case "":
		default:
			return fmt.Errorf("certificate %s is superseded by %s, not %s", old.ID, old.SupersededBy, next.ID)
		}
		t, at := successorEvent(old, next)
		e := cert.Event{Type: t, At: at, RecordedAt: s.now(), Actor: cert.SystemActor, Related: next.ID}
		if len(next.Events) > 0 && next.Events[0].Type == cert.EventIssued {
			e.Actor, e.Reason = next.Events[0].Actor, next.Events[0].Reason
		}
		// A revision records its type of change; a renewal withdraws the
		// old certificate with the scheme's code for a replaced one.
		if t == cert.EventRevised {
			if len(next.Events) > 0 {
				e.ReasonCode = next.Events[0].ReasonCode
			}
		} else if sc := s.schemes[old.Scheme]; sc != nil && sc.ReasonCodes != nil {
			e.ReasonCode = sc.ReasonCodes.Superseded
		}
		cp := *old
		cp.Events = slices.Clone(old.Events)
		cp.SupersededBy = next.ID
		cp.Append(e)
		err := s.st.UpdateCertificate(ctx, &cp)
		if err == nil {
			*old = cp
			return nil
		}
		if !errors.Is(err, cert.ErrConflict) || attempt == maxAttempts {
			return fmt.Errorf("record on %s that %s supersedes it: %w", old.ID, next.ID, err)
		}
		if err := backoff(ctx, attempt); err != nil {
			return err
		}
		fresh, err := s.st.Certificate(ctx, old.ID)
		if err != nil {
			return fmt.Errorf("reload certificate %s: %w", old.ID, err)
		}
		*old = *fresh
	}
}

// renewal prepares the certificate that renews old: the same content, a
// new number, validity from the day old expires (or validFrom), and the
// original certification date carried over. A renewal is possible from the
// scheme's renewal window until the old certificate expires.
func (s *Service) renewal(ctx context.Context, old *cert.Certificate, scheme *cert.Scheme, st cert.Standing, req ActionRequest, p cert.Principal, now time.Time) (*prepared, error) {
	if err := requireReason(req); err != nil {
		return nil, err
	}
	var v cert.ValidationError
	for _, f := range []struct {
		name  string
		given bool
	}{{"level", req.Level != nil}, {"category", req.Category != nil}, {"scope", req.Scope != nil}, {"scopeEn", req.ScopeEn != nil}, {"organization", req.Organization != nil}} {
		if f.given {
			v.Add(f.name, "a renewal keeps the content of the certificate: renew it, then revise the new certificate to change this")
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	loc := old.Location()
	last := old.ValidUntilInclusive().Format(cert.DateLayout)
	if st.Status.Terminal() {
		if st.Status == cert.StatusExpired {
			return nil, fmt.Errorf("certificate %s expired on %s (last valid day %s) and can no longer be renewed: issue a new certificate, with originalDate %s to keep the original certification date: %w",
				old.Number, old.ValidUntil.In(loc).Format(cert.DateLayout), last, originalDate(old), cert.ErrTransition)
		}
		return nil, notTerminal(old, st, "renewed")
	}
	if old.SupersededBy != "" {
		return nil, fmt.Errorf("certificate %s was already renewed or revised: certificate %s replaces it: %w", old.Number, old.SupersededBy, cert.ErrTransition)
	}
	if opens := scheme.RenewalOpens(old); now.Before(opens) {
		return nil, fmt.Errorf("certificate %s can be renewed from %s (%d months before it expires; last valid day %s), not earlier: %w",
			old.Number, opens.In(loc).Format(cert.DateLayout), scheme.RenewalWindowMonths, last, cert.ErrTransition)
	}
	today, _ := cert.ValidityPeriod(now, loc, 0)
	day := old.ValidUntil.In(loc)
	if req.ValidFrom != "" {
		d, err := cert.ParseDate(req.ValidFrom, loc)
		switch {
		case err != nil:
			v.Add("validFrom", "must be a date YYYY-MM-DD (the first day of the renewed certificate, in the time zone "+old.TimeZone+")")
		case d.Before(today) || d.After(old.ValidUntil) || !d.After(old.ValidFrom):
			v.Add("validFrom", fmt.Sprintf("must lie between today (%s) and the day the current certificate expires (%s), so that the holder stays certified without a gap",
				today.Format(cert.DateLayout), old.ValidUntil.In(loc).Format(cert.DateLayout)))
		default:
			day = d
		}
	}
	if req.Number != "" {
		if err := cert.CheckNumber(req.Number); err != nil {
			v.Add("number", err.Error())
		}
	}
	checkDate(&v, "decisionDate", req.DecisionDate, loc)
	checkAudit(&v, req.Audit, loc)
	if err := v.Err(); err != nil {
		return nil, err
	}
	is, err := s.issuer(ctx, old.Issuer, nil)
	if err != nil {
		return nil, err
	}
	from, until := cert.ValidityPeriod(day, loc, scheme.ValidityMonths)
	c := successorBase(old, now)
	c.Number, c.BaseNumber, c.Revision = req.Number, "", 0
	c.ValidFrom, c.ValidUntil = from, until
	c.DecisionDate = req.DecisionDate
	c.Audit = cloneAudit(req.Audit)
	c.Append(cert.Event{Type: cert.EventIssued, At: now, RecordedAt: now, Actor: p.Actor(), Reason: req.Reason, Related: old.ID})
	if err := s.checkPrintable(c.Texts()); err != nil {
		return nil, err
	}
	return &prepared{c: c, issuer: is}, nil
}

// revision prepares the next revision of old: the changed content, the
// same validity, the base number with the next revision suffix. The
// surveillance audits passed so far carry over, so the revision owes what
// old owed.
func (s *Service) revision(ctx context.Context, old *cert.Certificate, scheme *cert.Scheme, st cert.Standing, req ActionRequest, p cert.Principal, now time.Time) (*prepared, error) {
	if err := requireReason(req); err != nil {
		return nil, err
	}
	if err := scheme.CheckReasonCode(ActionRevise, req.ReasonCode); err != nil {
		return nil, err
	}
	var v cert.ValidationError
	if req.ValidFrom != "" {
		v.Add("validFrom", "a revision keeps the validity dates of the certificate; to extend them, renew it")
	}
	if req.Number != "" {
		v.Add("number", "a revision's number is the base number with the next revision suffix; it cannot be chosen")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if err := notTerminal(old, st, "revised"); err != nil {
		return nil, err
	}
	if old.SupersededBy != "" {
		return nil, fmt.Errorf("certificate %s was already renewed: certificate %s replaces it; revise that one instead: %w", old.Number, old.SupersededBy, cert.ErrTransition)
	}
	if st.Status == cert.StatusSuspended {
		switch {
		case slices.Contains(st.Causes, cert.CauseSurveillanceOverdue):
			return nil, fmt.Errorf("certificate %s is suspended because its surveillance audit (window ending %s) is overdue; a revision would owe the same audit: record the audit first: %w",
				old.Number, st.Surveillance.WindowEnd, cert.ErrTransition)
		case slices.Contains(st.Causes, cert.CauseAction):
			return nil, fmt.Errorf("certificate %s is suspended (%s); reinstate it before revising it: %w", old.Number, st.Reason, cert.ErrTransition)
		}
		// Suspended for a failed audit only: a revision (a downgrade, a
		// reduced scope) is how a CB resolves it.
	}

	loc := old.Location()
	c := successorBase(old, now)
	changed := false
	if req.Level != nil && *req.Level != old.Level {
		if err := scheme.CheckLevel(*req.Level); err != nil {
			v.Add("level", err.Error())
		}
		c.Level, changed = *req.Level, true
	}
	if req.Category != nil && *req.Category != old.Category {
		if err := cert.CheckText(*req.Category, cert.SingleLine); err != nil {
			v.Add("category", err.Error())
		} else if err := scheme.CheckCategory(*req.Category); err != nil {
			v.Add("category", err.Error())
		}
		c.Category, changed = *req.Category, true
	}
	if req.Scope != nil && *req.Scope != old.Scope {
		checkText(&v, "scope", *req.Scope, cert.MultiLine, 2000, true)
		c.Scope, changed = *req.Scope, true
	}
	if req.Sites != nil && !slices.Equal(req.Sites, old.Sites) {
		checkSites(&v, req.Sites)
		c.Sites, changed = slices.Clone(req.Sites), true
	}
	if req.ScopeEn != nil && *req.ScopeEn != old.ScopeEn {
		checkText(&v, "scopeEn", *req.ScopeEn, cert.MultiLine, 4000, false)
		c.ScopeEn, changed = *req.ScopeEn, true
	}
	if o := req.Organization; o != nil {
		if o.USCC != "" && o.USCC != old.Organization.USCC {
			v.Add("organization.uscc", fmt.Sprintf("cannot change in a revision (it is %s): a different organization needs its own certificate", old.Organization.USCC))
		}
		if o.Country != "" && o.Country != old.Organization.Country {
			v.Add("organization.country", fmt.Sprintf("cannot change in a revision (it is %s): a different organization needs its own certificate", old.Organization.Country))
		}
		for _, f := range []struct {
			dst *string
			src *string
		}{{&c.Organization.Name, o.Name}, {&c.Organization.NameEn, o.NameEn}, {&c.Organization.Address, o.Address}, {&c.Organization.Email, normalizedEmail(o.Email)}} {
			if f.src != nil && *f.src != *f.dst {
				*f.dst, changed = *f.src, true
			}
		}
		v.Fields = append(v.Fields, c.Organization.Validate().Prefix("organization.").Fields...)
	}
	checkDate(&v, "decisionDate", req.DecisionDate, loc)
	checkAudit(&v, req.Audit, loc)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if !changed {
		return nil, cert.Invalid("(body)", "nothing to revise: give at least one of level, category, scope, scopeEn, sites, organization.name, organization.nameEn, organization.address, organization.email with a new value")
	}
	is, err := s.issuer(ctx, old.Issuer, nil)
	if err != nil {
		return nil, err
	}
	c.Revision = old.Revision + 1
	c.BaseNumber = baseNumber(old)
	c.Number = cert.RevisionNumber(c.BaseNumber, c.Revision)
	if req.DecisionDate != "" {
		c.DecisionDate = req.DecisionDate
	}
	c.Audit = cloneAudit(old.Audit)
	if req.Audit != nil {
		c.Audit = cloneAudit(req.Audit)
	}
	c.Append(cert.Event{Type: cert.EventIssued, At: now, RecordedAt: now, Actor: p.Actor(), Reason: req.Reason, ReasonCode: req.ReasonCode, Related: old.ID})
	if err := s.checkPrintable(c.Texts()); err != nil {
		return nil, err
	}
	for _, e := range old.Events {
		if e.Type == cert.EventSurveillancePassed && !e.At.After(now) {
			e.Related = old.ID
			c.Append(e)
		}
	}
	return &prepared{c: c, issuer: is}, nil
}

// successorBase copies what a renewal or revision keeps from old.
func successorBase(old *cert.Certificate, now time.Time) *cert.Certificate {
	return &cert.Certificate{
		ID:             cert.NewID(),
		Number:         old.Number,
		BaseNumber:     old.BaseNumber,
		Revision:       old.Revision,
		Issuer:         old.Issuer,
		Scheme:         old.Scheme,
		Standard:       old.Standard,
		Category:       old.Category,
		Level:          old.Level,
		Scope:          old.Scope,
		ScopeEn:        old.ScopeEn,
		Sites:          slices.Clone(old.Sites),
		AssessmentBody: old.AssessmentBody,
		Organization:   old.Organization,
		DecisionDate:   old.DecisionDate,
		OriginalDate:   originalDate(old),
		ValidFrom:      old.ValidFrom,
		ValidUntil:     old.ValidUntil,
		TimeZone:       old.TimeZone,
		Supersedes:     old.ID,
		CreatedAt:      now,
	}
}

// baseNumber is the number of c without revision suffix (certificates
// stored before BaseNumber existed have only Number).
func baseNumber(c *cert.Certificate) string {
	if c.BaseNumber != "" {
		return c.BaseNumber
	}
	return c.Number
}

// originalDate is the date of the first certification of c's line.
func originalDate(c *cert.Certificate) string {
	if c.OriginalDate != "" {
		return c.OriginalDate
	}
	return c.ValidFrom.In(c.Location()).Format(cert.DateLayout)
}

func checkDate(v *cert.ValidationError, field, value string, loc *time.Location) {
	if value == "" {
		return
	}
	if _, err := cert.ParseDate(value, loc); err != nil {
		v.Add(field, "must be a date YYYY-MM-DD")
	}
}

// normalizedEmail is a revision's organization.email as it is stored.
func normalizedEmail(s *string) *string {
	if s == nil {
		return nil
	}
	n := cert.NormalizeEmail(*s)
	return &n
}
