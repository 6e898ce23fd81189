package cert

import (
	"slices"
	"time"
)

// Status is the derived status of a certificate at a moment.
type Status string

// Status values. StatusNotFound is used only in verdicts.
const (
	StatusActive     Status = "active"
	StatusSuspended  Status = "suspended"
	StatusWithdrawn  Status = "withdrawn"
	StatusCancelled  Status = "cancelled"
	StatusExpired    Status = "expired"
	StatusSuperseded Status = "superseded"
	StatusNotFound   Status = "not_found"
)

// Terminal reports whether no action can change the status any more.
func (s Status) Terminal() bool {
	return s == StatusWithdrawn || s == StatusCancelled || s == StatusExpired || s == StatusSuperseded
}

// Reasons of derived changes.
const (
	ReasonSurveillanceOverdue = "surveillance_overdue"
	ReasonSurveillanceFailed  = "surveillance_failed"
	ReasonSurveillancePassed  = "surveillance_passed"
	ReasonSuspensionLimit     = "suspension_limit"
	ReasonSuspensionEnded     = "suspension_ended"
	ReasonExpired             = "expired"
)

// SurveillanceState tells where a certificate stands in its surveillance
// programme.
type SurveillanceState string

// Surveillance states.
const (
	SurveillanceNotDue  SurveillanceState = "not_due"
	SurveillanceDue     SurveillanceState = "due"
	SurveillanceDone    SurveillanceState = "done"
	SurveillanceOverdue SurveillanceState = "overdue"
	SurveillanceNone    SurveillanceState = "none"
)

// Surveillance describes the relevant window: the open one, the next one, or
// the one that was missed. Dates are inclusive calendar days.
type Surveillance struct {
	State       SurveillanceState `json:"state"`
	WindowStart string            `json:"windowStart,omitempty"`
	WindowEnd   string            `json:"windowEnd,omitempty"`
	LastAudit   *string           `json:"lastAudit"`
}

// Change is one change of derived status or, while suspended, of the
// reason reported for the suspension.
type Change struct {
	At     time.Time `json:"at"`
	Status Status    `json:"status"`
	Reason string    `json:"reason,omitempty"`
	// Code is the scheme's coded reason of the change, with its labels.
	Code *ReasonCode `json:"code,omitempty"`
	// Derived is true when the change follows from time and the scheme's
	// rules rather than from a recorded action.
	Derived bool `json:"derived"`
}

// Standing is the derived state of a certificate at a moment.
type Standing struct {
	Status Status
	// Since is when the current status (while suspended: its current
	// reason) began; Reason why.
	Since  time.Time
	Reason string
	// Until ends a suspension automatically, when set.
	Until *time.Time
	// Causes lists what holds a suspended certificate, in a fixed order.
	Causes       []SuspensionCause
	Surveillance Surveillance
	// Changes lists every status change up to the moment, oldest first.
	Changes []Change
}

// hold is one cause keeping a certificate suspended.
type hold struct {
	on     bool
	since  time.Time
	reason string
	code   string
	// until ends an action's suspension automatically.
	until *time.Time
}

// Hold indexes, in the order that breaks ties between holds that began at
// the same instant (the later index is reported).
const (
	holdAction = iota
	holdFailed
	holdOverdue
	nHolds
)

var holdCauses = [nHolds]SuspensionCause{CauseAction, CauseSurveillanceFailed, CauseSurveillanceOverdue}

// derivation is the state of StatusAt's walk through time.
type derivation struct {
	st     Standing
	scheme *Scheme
	holds  [nHolds]hold
	// limitFrom is when the suspension limit's clock started; limited
	// tells whether it runs.
	limitFrom time.Time
	limited   bool
}

func (d *derivation) set(at time.Time, status Status, reason, code string, derived bool) {
	d.st.Status, d.st.Since, d.st.Reason = status, at, reason
	d.st.Changes = append(d.st.Changes, Change{At: at, Status: status, Reason: reason, Code: d.scheme.Reason(status, code), Derived: derived})
}

// settle derives the status from the holds after a change of them at at.
// While suspended, a change of the reported cause is a change too. The
// reported cause is the most recent hold; activeReason explains a return
// to active.
func (d *derivation) settle(at time.Time, activeReason string, derived bool) {
	var eff *hold
	limited := false
	for i := range d.holds {
		h := &d.holds[i]
		if !h.on {
			continue
		}
		if eff == nil || !h.since.Before(eff.since) {
			eff = h
		}
		limited = limited || (d.scheme != nil && d.scheme.limits(holdCauses[i]))
	}
	switch {
	case eff == nil && d.st.Status == StatusSuspended:
		d.set(at, StatusActive, activeReason, "", derived)
	case eff != nil && (d.st.Status != StatusSuspended || d.st.Reason != eff.reason):
		d.set(at, StatusSuspended, eff.reason, eff.code, derived)
	}
	d.st.Until = nil
	if a := d.holds[holdAction]; eff == &d.holds[holdAction] && a.until != nil && !d.holds[holdFailed].on && !d.holds[holdOverdue].on {
		d.st.Until = a.until
	}
	if limited && !d.limited {
		d.limitFrom = at
	}
	d.limited = limited
}

// StatusAt derives the status of c at now from its events and the rules of
// its scheme. It is a pure function: the same inputs give the same answer.
// Events taking effect after now are ignored, and so are the records of
// earlier derivations (EventStatusChanged).
//
// A certificate is suspended while at least one cause holds it: a suspend
// action (until a reinstatement or its end date), a failed surveillance
// audit (until a passed audit or a reinstatement), a window that closed
// without a passed audit (until a passed audit; the scheme may instead
// withdraw or cancel at once). The scheme's suspension limit counts the
// time held by the causes it names and then withdraws or cancels.
func StatusAt(c *Certificate, s *Scheme, now time.Time) Standing {
	loc := c.Location()
	from := c.ValidFrom.In(loc)
	var wins []span
	maxSusp := 0
	if s != nil {
		for _, w := range s.Surveillance {
			wins = append(wins, span{open: from.AddDate(0, w.Open, 0), close: from.AddDate(0, w.Close, 0)})
		}
		maxSusp = s.MaxSuspensionMonths
	}
	events := make([]Event, 0, len(c.Events))
	for _, e := range c.Events {
		if !e.Derived() {
			events = append(events, e)
		}
	}
	slices.SortStableFunc(events, func(a, b Event) int { return a.At.Compare(b.At) })

	d := &derivation{scheme: s, st: Standing{Status: StatusActive, Since: c.ValidFrom}}
	var (
		pending   []int // windows closed without a pass
		lastAudit *time.Time
		ei, wi    int
	)

	const (
		tClose = iota
		tLimit
		tUntil
		tEvent
		tExpire
	)
	for !d.st.Status.Terminal() {
		// Find the earliest pending trigger; ties go by kind order above.
		var next time.Time
		which := -1
		consider := func(t time.Time, k int) {
			if t.After(now) {
				return
			}
			if which < 0 || t.Before(next) || (t.Equal(next) && k < which) {
				next, which = t, k
			}
		}
		if wi < len(wins) {
			consider(wins[wi].close, tClose)
		}
		if d.limited && maxSusp > 0 {
			consider(d.limitFrom.In(loc).AddDate(0, maxSusp, 0), tLimit)
		}
		if a := d.holds[holdAction]; a.on && a.until != nil {
			consider(*a.until, tUntil)
		}
		if ei < len(events) {
			consider(events[ei].At, tEvent)
		}
		consider(c.ValidUntil, tExpire)
		if which < 0 {
			break
		}
		switch which {
		case tClose:
			if !wins[wi].passed {
				pending = append(pending, wi)
				if missed := s.missedWindow(); missed != StatusSuspended {
					d.set(next, missed, ReasonSurveillanceOverdue, s.codes().Overdue, true)
				} else if o := &d.holds[holdOverdue]; !o.on {
					*o = hold{on: true, since: next, reason: ReasonSurveillanceOverdue, code: s.codes().Overdue}
					d.settle(next, "", true)
				}
			}
			wi++
		case tLimit:
			d.set(next, s.AfterSuspension, ReasonSuspensionLimit, s.codes().SuspensionLimit, true)
		case tUntil:
			d.holds[holdAction] = hold{}
			d.settle(next, ReasonSuspensionEnded, true)
		case tExpire:
			d.set(next, StatusExpired, ReasonExpired, "", true)
		case tEvent:
			e := events[ei]
			ei++
			switch e.Type {
			case EventSurveillancePassed:
				at := e.At
				lastAudit = &at
				if len(pending) > 0 {
					wins[pending[0]].passed = true
					pending = pending[1:]
				} else {
					for i := wi; i < len(wins); i++ {
						if !at.Before(wins[i].open) && at.Before(wins[i].close) {
							wins[i].passed = true
							break
						}
					}
				}
				d.holds[holdFailed] = hold{}
				if len(pending) == 0 {
					d.holds[holdOverdue] = hold{}
				}
				d.settle(e.At, ReasonSurveillancePassed, false)
			case EventSurveillanceFailed:
				if f := &d.holds[holdFailed]; !f.on {
					code := e.ReasonCode
					if code == "" {
						code = s.codes().SurveillanceFailed
					}
					*f = hold{on: true, since: e.At, reason: ReasonSurveillanceFailed, code: code}
				}
				d.settle(e.At, "", false)
			case EventSuspended:
				if a := &d.holds[holdAction]; !a.on {
					*a = hold{on: true, since: e.At, reason: e.Reason, code: e.ReasonCode, until: e.Until}
				}
				d.settle(e.At, "", false)
			case EventReinstated:
				d.holds[holdAction], d.holds[holdFailed] = hold{}, hold{}
				d.settle(e.At, e.Reason, false)
			case EventWithdrawn:
				d.set(e.At, StatusWithdrawn, e.Reason, e.ReasonCode, false)
			case EventCancelled:
				d.set(e.At, StatusCancelled, e.Reason, e.ReasonCode, false)
			case EventRenewed, EventRevised:
				d.set(e.At, StatusSuperseded, e.Reason, e.ReasonCode, false)
			}
		}
	}

	st := d.st
	if st.Status == StatusSuspended {
		for i, h := range d.holds {
			if h.on {
				st.Causes = append(st.Causes, holdCauses[i])
			}
		}
	} else {
		st.Until = nil
	}
	st.Surveillance = surveillanceAt(wins, pending, st.Status, now, loc)
	if lastAudit != nil {
		day := lastAudit.In(loc).Format(DateLayout)
		st.Surveillance.LastAudit = &day
	}
	return st
}

// span is one surveillance window in time.
type span struct {
	open, close time.Time
	passed      bool
}

func surveillanceAt(wins []span, pending []int, status Status, now time.Time, loc *time.Location) Surveillance {
	describe := func(state SurveillanceState, w span) Surveillance {
		return Surveillance{
			State:       state,
			WindowStart: w.open.In(loc).Format(DateLayout),
			WindowEnd:   w.close.In(loc).AddDate(0, 0, -1).Format(DateLayout),
		}
	}
	if status.Terminal() {
		return Surveillance{State: SurveillanceNone}
	}
	if len(pending) > 0 {
		return describe(SurveillanceOverdue, wins[pending[0]])
	}
	for _, w := range wins {
		if now.Before(w.open) {
			return describe(SurveillanceNotDue, w)
		}
		if now.Before(w.close) {
			if w.passed {
				return describe(SurveillanceDone, w)
			}
			return describe(SurveillanceDue, w)
		}
	}
	return Surveillance{State: SurveillanceNone}
}
