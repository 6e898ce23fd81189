package mongo

import "time"

// BSON dates hold milliseconds. A time is stored as a date (the instant
// floored to the millisecond, what queries, indexes and people see) plus the
// nanoseconds below the millisecond in a sibling "…Ns" field, omitted when 0,
// so that every time comes back with its instant to the nanosecond.

// splitTime returns t floored to the millisecond and the nanoseconds it lost.
func splitTime(t time.Time) (time.Time, int32) {
	ns := int32(t.Nanosecond() % int(time.Millisecond))
	return t.Add(-time.Duration(ns)), ns
}

// joinTime reverses splitTime and puts the result in loc (UTC when nil). The
// zero time stays the zero time.
func joinTime(t time.Time, ns int32, loc *time.Location) time.Time {
	if t.IsZero() && ns == 0 {
		return time.Time{}
	}
	if loc == nil {
		loc = time.UTC
	}
	return t.Add(time.Duration(ns)).In(loc)
}

// splitTimePtr is splitTime for optional times.
func splitTimePtr(t *time.Time) (*time.Time, int32) {
	if t == nil {
		return nil, 0
	}
	d, ns := splitTime(*t)
	return &d, ns
}

// joinTimePtr is joinTime for optional times.
func joinTimePtr(t *time.Time, ns int32, loc *time.Location) *time.Time {
	if t == nil {
		return nil
	}
	j := joinTime(*t, ns, loc)
	return &j
}
