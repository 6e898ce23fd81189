package cert

import "time"

// NextChange is the first instant after now at which what StatusAt
// answers for c (status, history, surveillance) or whether c is within its
// validity period can change, when nothing is written to c; ok is false
// when nothing of it ever changes again by time alone. It is conservative:
// the answers may well be the same at that instant, but they are the same
// at every instant in [now, next).
//
// StatusAt compares now only with the instants of c's events (when they
// take effect and when a suspension ends), the opening and closing of its
// surveillance windows, its validity dates, and the end of the suspension
// limit counted from one of these; NextChange takes the earliest of those
// after now.
func NextChange(c *Certificate, s *Scheme, now time.Time) (next time.Time, ok bool) {
	loc := c.Location()
	consider := func(t time.Time) {
		if t.After(now) && (!ok || t.Before(next)) {
			next, ok = t, true
		}
	}
	maxSusp := 0
	if s != nil {
		maxSusp = s.MaxSuspensionMonths
	}
	base := func(t time.Time) {
		consider(t)
		if maxSusp > 0 {
			consider(t.In(loc).AddDate(0, maxSusp, 0))
		}
	}
	base(c.ValidFrom)
	base(c.ValidUntil)
	if s != nil {
		from := c.ValidFrom.In(loc)
		for _, w := range s.Surveillance {
			base(from.AddDate(0, w.Open, 0))
			base(from.AddDate(0, w.Close, 0))
		}
	}
	for i := range c.Events {
		e := &c.Events[i]
		if e.Derived() {
			continue
		}
		base(e.At)
		if e.Until != nil {
			base(*e.Until)
		}
	}
	return next, ok
}
