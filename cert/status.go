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

// Change is one change of derived status.
type Change struct {
	At     time.Time `json:"at"`
	Status Status    `json:"status"`
	Reason string    `json:"reason,omitempty"`
	// Derived is true when the change follows from time and the scheme's
	// rules rather than from a recorded action.
	Derived bool `json:"derived"`
}

// Standing is the derived state of a certificate at a moment.
type Standing struct {
	Status Status
	// Since is when the current status began; Reason why.
	Since  time.Time
	Reason string
	// Until ends a suspension automatically, when set.
	Until        *time.Time
	Surveillance Surveillance
	// Changes lists every status change up to the moment, oldest first.
	Changes []Change
}

type suspensionKind int

const (
	suspManual suspensionKind = iota + 1
	suspFailed
	suspOverdue
)

// StatusAt derives the status of c at now from its events and the rules of
// its scheme. It is a pure function: the same inputs give the same answer.
// Events taking effect after now are ignored.
func StatusAt(c *Certificate, s *Scheme, now time.Time) Standing {
	loc := c.Location()
	from := c.ValidFrom.In(loc)
	var wins []span
	if s != nil {
		for _, w := range s.Surveillance {
			wins = append(wins, span{open: from.AddDate(0, w.Open, 0), close: from.AddDate(0, w.Close, 0)})
		}
	}
	events := slices.Clone(c.Events)
	slices.SortStableFunc(events, func(a, b Event) int { return a.At.Compare(b.At) })

	st := Standing{Status: StatusActive, Since: c.ValidFrom}
	var (
		kind      suspensionKind
		pending   []int // windows closed without a pass
		lastAudit *time.Time
		ei, wi    int
	)
	set := func(at time.Time, status Status, reason string, derived bool) {
		st.Status, st.Since, st.Reason = status, at, reason
		st.Changes = append(st.Changes, Change{At: at, Status: status, Reason: reason, Derived: derived})
	}
	suspend := func(at time.Time, k suspensionKind, reason string, until *time.Time, derived bool) {
		kind, st.Until = k, until
		set(at, StatusSuspended, reason, derived)
	}
	maxSusp := 0
	if s != nil {
		maxSusp = s.MaxSuspensionMonths
	}

	const (
		tClose = iota
		tLimit
		tUntil
		tEvent
		tExpire
	)
	for !st.Status.Terminal() {
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
		if st.Status == StatusSuspended && maxSusp > 0 {
			consider(st.Since.In(loc).AddDate(0, maxSusp, 0), tLimit)
		}
		if st.Status == StatusSuspended && st.Until != nil {
			consider(*st.Until, tUntil)
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
				if st.Status == StatusActive {
					suspend(next, suspOverdue, ReasonSurveillanceOverdue, nil, true)
				} else {
					kind, st.Until = suspOverdue, nil
				}
			}
			wi++
		case tLimit:
			set(next, s.AfterSuspension, ReasonSuspensionLimit, true)
		case tUntil:
			if len(pending) == 0 {
				kind, st.Until = 0, nil
				set(next, StatusActive, ReasonSuspensionEnded, true)
			} else {
				kind, st.Until = suspOverdue, nil
			}
		case tExpire:
			set(next, StatusExpired, ReasonExpired, true)
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
				if st.Status == StatusSuspended && (kind == suspOverdue || kind == suspFailed) && len(pending) == 0 {
					kind, st.Until = 0, nil
					set(e.At, StatusActive, ReasonSurveillancePassed, false)
				}
			case EventSurveillanceFailed:
				if st.Status == StatusActive {
					suspend(e.At, suspFailed, ReasonSurveillanceFailed, nil, false)
				}
			case EventSuspended:
				if st.Status == StatusActive {
					suspend(e.At, suspManual, e.Reason, e.Until, false)
				}
			case EventReinstated:
				if st.Status == StatusSuspended && len(pending) == 0 {
					kind, st.Until = 0, nil
					set(e.At, StatusActive, e.Reason, false)
				}
			case EventWithdrawn:
				set(e.At, StatusWithdrawn, e.Reason, false)
			case EventCancelled:
				set(e.At, StatusCancelled, e.Reason, false)
			case EventRenewed, EventRevised:
				set(e.At, StatusSuperseded, e.Reason, false)
			}
		}
	}

	st.Surveillance = surveillanceAt(wins, pending, st.Status, now, loc)
	if lastAudit != nil {
		d := lastAudit.In(loc).Format(DateLayout)
		st.Surveillance.LastAudit = &d
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
