package issuer

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/certd/certd/cert"
)

// Actions that Act accepts.
const (
	ActionSurveillance = "surveillance"
	ActionSuspend      = "suspend"
	ActionReinstate    = "reinstate"
	ActionWithdraw     = "withdraw"
	ActionCancel       = "cancel"
	ActionRenew        = "renew"
	ActionRevise       = "revise"
)

// Surveillance results.
const (
	ResultPassed = "passed"
	ResultFailed = "failed"
)

// ActionRequest is the body of a lifecycle action; each action reads the
// fields it needs.
type ActionRequest struct {
	Reason string `json:"reason"`
	// ReasonCode is the scheme's coded reason (suspend, withdraw, cancel,
	// revise); required where the scheme says so.
	ReasonCode string `json:"reasonCode,omitempty"`
	// Date is the audit date (surveillance).
	Date string `json:"date,omitempty"`
	// Result is "passed" or "failed" (surveillance).
	Result string `json:"result,omitempty"`
	// AuditRef identifies the audit report (surveillance).
	AuditRef string `json:"auditRef,omitempty"`
	// Until ends a suspension automatically (suspend, optional).
	Until string `json:"until,omitempty"`
	// ValidFrom starts the renewed certificate (renew, optional: the day
	// the current one expires).
	ValidFrom string `json:"validFrom,omitempty"`
	// Number is the printed number of the renewed certificate (renew,
	// optional: else from the issuer's number pattern).
	Number string `json:"number,omitempty"`
	// DecisionDate is the date of the certification decision (renew,
	// revise; optional).
	DecisionDate string `json:"decisionDate,omitempty"`
	// Level, Category, Scope, ScopeEn and Organization are what a revision
	// changes (revise); an omitted field keeps its value.
	Level        *int                `json:"level,omitempty"`
	Category     *string             `json:"category,omitempty"`
	Scope        *string             `json:"scope,omitempty"`
	ScopeEn      *string             `json:"scopeEn,omitempty"`
	Organization *OrganizationChange `json:"organization,omitempty"`
	// Sites replaces the certified sites (revise; omitted or null keeps
	// them, [] removes them all). A plain string is a site's name.
	Sites []cert.Site `json:"sites,omitempty"`
	// Audit records the audit (surveillance, renew, revise; optional). A
	// revision without it keeps the certificate's record.
	Audit *cert.Audit `json:"audit,omitempty"`
}

// OrganizationChange is the part of the organization a revision may
// change: its names, address and contact e-mail ("" removes it). The USCC
// and country identify the organization; a different one needs its own
// certificate, so they may be sent only with their current values.
type OrganizationChange struct {
	Name    *string `json:"name,omitempty"`
	NameEn  *string `json:"nameEn,omitempty"`
	Address *string `json:"address,omitempty"`
	Email   *string `json:"email,omitempty"`
	USCC    string  `json:"uscc,omitempty"`
	Country string  `json:"country,omitempty"`
}

// maxAttempts bounds the read-modify-write retries of an action that lost a
// race without If-Match.
const maxAttempts = 25

// backoff waits a little before retry number attempt (1-based) of a write
// that lost a race, so that writers contending for one certificate spread
// out instead of colliding again; the wait is random and grows with the
// attempt, up to about 50ms.
func backoff(ctx context.Context, attempt int) error {
	limit := time.Duration(min(attempt, 10)) * 5 * time.Millisecond
	t := time.NewTimer(rand.N(limit) + time.Millisecond)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return fmt.Errorf("retry a contended write: %w: %w", cert.ErrUnavailable, ctx.Err())
	case <-t.C:
		return nil
	}
}

// Certificate returns a certificate the principal may read.
func (s *Service) Certificate(ctx context.Context, p cert.Principal, id string) (*cert.Certificate, error) {
	id, ok := cert.NormalizeID(id)
	if !ok {
		return nil, fmt.Errorf("certificate: %w", cert.ErrNotFound)
	}
	c, err := s.st.Certificate(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("load certificate %s: %w", id, err)
	}
	if !p.CanRead(c.Issuer) {
		// Another tenant's certificate is indistinguishable from none.
		return nil, fmt.Errorf("load certificate %s: %w", id, cert.ErrNotFound)
	}
	return c, nil
}

// Act applies a lifecycle action and returns the certificate the client
// should look at next: the one named by id, changed, or for renew and
// revise the new certificate that supersedes it (its id differs from id).
// ifMatch, when not 0, is the version the client based its request on:
// another version gives ErrPrecondition. Without it, an action that races
// another is re-applied on the new version, so no event is ever lost.
func (s *Service) Act(ctx context.Context, p cert.Principal, id, action string, req ActionRequest, ifMatch int64) (*cert.Certificate, error) {
	a, ok := s.actions()[action]
	if !ok {
		return nil, fmt.Errorf("unknown action %q: the actions are %s: %w", action, strings.Join(actionNames, ", "), cert.ErrNotFound)
	}
	req.Reason = strings.TrimSpace(req.Reason)
	if err := cert.CheckText(req.Reason, cert.MultiLine); err != nil {
		return nil, cert.Invalid("reason", err.Error())
	}
	req.ReasonCode = strings.TrimSpace(req.ReasonCode)
	if req.ReasonCode != "" && !slices.Contains([]string{ActionSuspend, ActionWithdraw, ActionCancel, ActionRevise}, action) {
		return nil, cert.Invalid("reasonCode", "is taken by suspend, withdraw, cancel and revise only: "+action+" records its code by itself, if the scheme has one")
	}
	if a.successor != nil {
		return s.supersede(ctx, p, id, action, a.successor, req, ifMatch)
	}
	apply := a.apply
	for attempt := 1; ; attempt++ {
		c, err := s.Certificate(ctx, p, id)
		if err != nil {
			return nil, err
		}
		if !p.CanWrite(c.Issuer) {
			return nil, fmt.Errorf("a %s key cannot change certificates: %w", p.Role, cert.ErrForbidden)
		}
		if ifMatch != 0 && c.Version != ifMatch {
			return nil, fmt.Errorf("certificate %s is at version %d, not %d: fetch it again and decide on the current state: %w", c.ID, c.Version, ifMatch, cert.ErrPrecondition)
		}
		scheme := s.schemes[c.Scheme]
		now := s.now()
		st := cert.StatusAt(c, scheme, now)
		if err := apply(c, st, req, p); err != nil {
			return nil, err
		}
		err = s.st.UpdateCertificate(ctx, c)
		if err == nil {
			return c, nil
		}
		if !errors.Is(err, cert.ErrConflict) || ifMatch != 0 || attempt == maxAttempts {
			if errors.Is(err, cert.ErrConflict) && ifMatch != 0 {
				return nil, fmt.Errorf("certificate %s changed while the action ran: %w", c.ID, cert.ErrPrecondition)
			}
			return nil, fmt.Errorf("store certificate %s: %w", c.ID, err)
		}
		if err := backoff(ctx, attempt); err != nil {
			return nil, err
		}
	}
}

// applyFunc changes a certificate in place: it checks the action against
// the standing and appends its event.
type applyFunc func(c *cert.Certificate, st cert.Standing, req ActionRequest, p cert.Principal) error

// action is one entry of the action table: it either changes the
// certificate (apply) or creates the certificate that supersedes it
// (successor).
type action struct {
	apply     applyFunc
	successor successorFunc
}

var actionNames = []string{ActionSurveillance, ActionSuspend, ActionReinstate, ActionWithdraw, ActionCancel, ActionRenew, ActionRevise}

func (s *Service) actions() map[string]action {
	return map[string]action{
		ActionWithdraw:     {apply: s.terminate(cert.EventWithdrawn, ActionWithdraw, "withdrawn")},
		ActionCancel:       {apply: s.terminate(cert.EventCancelled, ActionCancel, "cancelled")},
		ActionSuspend:      {apply: s.suspend},
		ActionReinstate:    {apply: s.reinstate},
		ActionSurveillance: {apply: s.surveillance},
		ActionRenew:        {successor: s.renewal},
		ActionRevise:       {successor: s.revision},
	}
}

func requireReason(req ActionRequest) error {
	if req.Reason == "" {
		return cert.Invalid("reason", "is required: say why, in words the certificate holder and its customers will read")
	}
	if len([]rune(req.Reason)) > 1000 {
		return cert.Invalid("reason", "must be at most 1000 characters")
	}
	return nil
}

func notTerminal(c *cert.Certificate, st cert.Standing, verb string) error {
	if st.Status.Terminal() {
		return fmt.Errorf("certificate %s is %s since %s and cannot be %s: %w", c.Number, st.Status, st.Since.In(c.Location()).Format(cert.DateLayout), verb, cert.ErrTransition)
	}
	return nil
}

// checkReasonCode validates the reasonCode of an action on c against c's
// scheme.
func (s *Service) checkReasonCode(c *cert.Certificate, action, code string) error {
	scheme := s.schemes[c.Scheme]
	if scheme == nil {
		if code != "" {
			return cert.Invalid("reasonCode", fmt.Sprintf("scheme %q is not defined on this server, so it has no reason codes: omit the field", c.Scheme))
		}
		return nil
	}
	return scheme.CheckReasonCode(action, code)
}

func (s *Service) terminate(t cert.EventType, action, verb string) applyFunc {
	return func(c *cert.Certificate, st cert.Standing, req ActionRequest, p cert.Principal) error {
		if err := requireReason(req); err != nil {
			return err
		}
		if err := s.checkReasonCode(c, action, req.ReasonCode); err != nil {
			return err
		}
		if err := notTerminal(c, st, verb); err != nil {
			return err
		}
		now := s.now()
		c.Append(cert.Event{Type: t, At: now, RecordedAt: now, Actor: p.Actor(), Reason: req.Reason, ReasonCode: req.ReasonCode})
		return nil
	}
}

func (s *Service) suspend(c *cert.Certificate, st cert.Standing, req ActionRequest, p cert.Principal) error {
	if err := requireReason(req); err != nil {
		return err
	}
	if err := s.checkReasonCode(c, ActionSuspend, req.ReasonCode); err != nil {
		return err
	}
	if err := notTerminal(c, st, "suspended"); err != nil {
		return err
	}
	if st.Status != cert.StatusActive {
		return fmt.Errorf("certificate %s is already %s (%s): %w", c.Number, st.Status, st.Reason, cert.ErrTransition)
	}
	now := s.now()
	e := cert.Event{Type: cert.EventSuspended, At: now, RecordedAt: now, Actor: p.Actor(), Reason: req.Reason, ReasonCode: req.ReasonCode}
	if req.Until != "" {
		until, err := cert.ParseDate(req.Until, c.Location())
		if err != nil || !until.After(now) {
			return cert.Invalid("until", "must be a future date YYYY-MM-DD (the suspension ends at the start of that day)")
		}
		e.Until = &until
	}
	c.Append(e)
	return nil
}

func (s *Service) reinstate(c *cert.Certificate, st cert.Standing, req ActionRequest, p cert.Principal) error {
	if err := requireReason(req); err != nil {
		return err
	}
	if st.Status != cert.StatusSuspended {
		return fmt.Errorf("certificate %s is %s, not suspended, so it cannot be reinstated: %w", c.Number, st.Status, cert.ErrTransition)
	}
	if st.Surveillance.State == cert.SurveillanceOverdue {
		return fmt.Errorf("certificate %s is suspended because its surveillance audit (window ending %s) is overdue: record a passed surveillance audit instead: %w", c.Number, st.Surveillance.WindowEnd, cert.ErrTransition)
	}
	now := s.now()
	c.Append(cert.Event{Type: cert.EventReinstated, At: now, RecordedAt: now, Actor: p.Actor(), Reason: req.Reason})
	return nil
}

func (s *Service) surveillance(c *cert.Certificate, _ cert.Standing, req ActionRequest, p cert.Principal) error {
	var v cert.ValidationError
	now := s.now()
	day, err := cert.ParseDate(req.Date, c.Location())
	switch {
	case req.Date == "":
		v.Add("date", "is required: the date of the surveillance audit, YYYY-MM-DD")
	case err != nil:
		v.Add("date", "must be a date YYYY-MM-DD")
	case day.Before(c.ValidFrom) || day.After(now):
		v.Add("date", fmt.Sprintf("must lie between the start of validity (%s) and today", c.ValidFrom.Format(cert.DateLayout)))
	}
	var t cert.EventType
	switch req.Result {
	case ResultPassed:
		t = cert.EventSurveillancePassed
	case ResultFailed:
		t = cert.EventSurveillanceFailed
	default:
		v.Add("result", `must be "passed" or "failed"`)
	}
	if err := cert.CheckText(req.AuditRef, cert.SingleLine); err != nil {
		v.Add("auditRef", err.Error())
	} else if len(req.AuditRef) > 200 {
		v.Add("auditRef", "must be at most 200 characters")
	}
	checkAudit(&v, req.Audit, c.Location())
	if err := v.Err(); err != nil {
		return err
	}
	// What counts is the status on the audit date: a CB that imports a
	// certificate it issued years ago records its past audits, although
	// without them the certificate would be cancelled today.
	// A certificate that ended on the audit day itself is over too.
	endOfDay := day.AddDate(0, 0, 1).Add(-time.Nanosecond)
	if now.Before(endOfDay) {
		endOfDay = now
	}
	if err := notTerminal(c, cert.StatusAt(c, s.schemes[c.Scheme], endOfDay), "audited on "+req.Date); err != nil {
		return err
	}
	c.Append(cert.Event{Type: t, At: day, RecordedAt: now, Actor: p.Actor(), Reason: req.Reason, AuditRef: req.AuditRef, Audit: cloneAudit(req.Audit)})
	return nil
}
