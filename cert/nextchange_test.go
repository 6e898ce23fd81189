package cert_test

import (
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/certd/certd/cert"
)

// TestNextChange holds NextChange to StatusAt: for random certificates
// with random events and random instants, StatusAt answers the same at
// now, just before the next change, and at instants in between; and at
// the next change itself something may differ, but never before it.
func TestNextChange(t *testing.T) {
	schemes, err := cert.NewSchemes(cert.BuiltinSchemes())
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(7, 15))
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	types := []cert.EventType{cert.EventSurveillancePassed, cert.EventSurveillanceFailed, cert.EventSuspended,
		cert.EventReinstated, cert.EventWithdrawn, cert.EventCancelled, cert.EventRenewed, cert.EventRevised, cert.EventStatusChanged}
	ids := schemes.IDs()
	for n := range 3000 {
		scheme := schemes[ids[rng.IntN(len(ids))]]
		from := time.Date(2025, time.Month(1+rng.IntN(12)), 1+rng.IntN(28), 0, 0, 0, 0, shanghai)
		c := &cert.Certificate{ID: "c", Scheme: scheme.ID, TimeZone: "Asia/Shanghai", ValidFrom: from, ValidUntil: from.AddDate(3, 0, 0)}
		span := c.ValidUntil.Sub(from) + 400*24*time.Hour
		instant := func() time.Time {
			t := from.Add(-30*24*time.Hour + time.Duration(rng.Int64N(int64(span))))
			if rng.IntN(2) == 0 {
				// Most of what happens happens at midnight.
				t = time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, shanghai)
			}
			return t
		}
		for i := range rng.IntN(6) {
			e := cert.Event{Seq: i + 2, Type: types[rng.IntN(len(types))], At: instant()}
			if e.Type == cert.EventSuspended && rng.IntN(2) == 0 {
				u := e.At.Add(time.Duration(1+rng.IntN(400)) * 24 * time.Hour / 3)
				e.Until = &u
			}
			if e.Type == cert.EventStatusChanged {
				e.Status = cert.StatusSuspended
			}
			c.Events = append(c.Events, e)
		}
		for range 8 {
			now := instant()
			want := cert.StatusAt(c, scheme, now)
			next, ok := cert.NextChange(c, scheme, now)
			if !ok {
				next = now.Add(5 * 365 * 24 * time.Hour)
			} else if !next.After(now) {
				t.Fatalf("certificate %d at %s: next change %s is not after now", n, now, next)
			}
			for _, at := range []time.Time{next.Add(-time.Nanosecond), now.Add(time.Duration(rng.Int64N(int64(next.Sub(now)))))} {
				if got := cert.StatusAt(c, scheme, at); !reflect.DeepEqual(got, want) {
					t.Fatalf("certificate %d (%s, events %+v): status at %s differs from the one at %s although the next change is %s:\n%+v\n%+v",
						n, scheme.ID, c.Events, at, now, next, got, want)
				}
				if within := !at.Before(c.ValidFrom) && at.Before(c.ValidUntil); within != (!now.Before(c.ValidFrom) && now.Before(c.ValidUntil)) {
					t.Fatalf("certificate %d: validity at %s differs from the one at %s although the next change is %s", n, at, now, next)
				}
			}
		}
	}
}
