package storetest

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/store"
)

var statusTests = []test{
	{"status/marks-follow-writes", testStatusMarksFollowWrites},
	{"status/due", testStatusDue},
	{"status/failed-update-keeps-mark", testStatusFailedUpdate},
	{"status/reindex", testStatusReindex},
	{"status/sweep-due", testStatusSweepDue},
}

// testMarker is a marker with simple rules the tests can predict: revoked
// once withdrawn; suspended while more suspensions than reinstatements
// are recorded; watched a year after the start of validity unless revoked.
func testMarker(c *cert.Certificate) store.StatusMark {
	var m store.StatusMark
	held := 0
	for _, e := range c.Events {
		switch e.Type {
		case cert.EventWithdrawn:
			m.Revoked = true
		case cert.EventSuspended:
			held++
		case cert.EventReinstated:
			held--
		}
	}
	m.Suspended = held > 0
	if !m.Revoked {
		m.Watch = c.ValidFrom.AddDate(1, 0, 0)
	}
	return m
}

func statusIndex(t testing.TB, s store.Store) store.StatusIndex {
	t.Helper()
	idx, ok := s.(store.StatusIndex)
	if !ok {
		t.Fatalf("%T does not implement store.StatusIndex", s)
	}
	return idx
}

func view(t testing.TB, idx store.StatusIndex, issuer string, at time.Time) *store.StatusView {
	t.Helper()
	v, err := idx.StatusView(t.Context(), issuer, at)
	if err != nil {
		t.Fatalf("StatusView(%s, %s): %v", issuer, at, err)
	}
	return v
}

func assertMarked(t testing.TB, v *store.StatusView, want ...store.StatusEntry) {
	t.Helper()
	if !slices.Equal(v.Marked, want) {
		t.Fatalf("Marked = %+v, want %+v", v.Marked, want)
	}
}

func entry(c *cert.Certificate, revoked, suspended bool) store.StatusEntry {
	return store.StatusEntry{List: c.StatusList, Index: c.StatusIndex, Revoked: revoked, Suspended: suspended}
}

func event(c *cert.Certificate, typ cert.EventType) {
	at := c.ValidFrom.Add(24 * time.Hour)
	c.Append(cert.Event{Type: typ, At: at, RecordedAt: at, Actor: "apikey:test", Reason: "test"})
}

func update(t testing.TB, s store.Store, c *cert.Certificate) {
	t.Helper()
	if err := s.UpdateCertificate(t.Context(), c); err != nil {
		t.Fatalf("UpdateCertificate(%s): %v", c.ID, err)
	}
}

func testStatusMarksFollowWrites(t *testing.T, s store.Store) {
	idx := statusIndex(t, s)
	idx.SetStatusMarker("test/1", testMarker)
	a, b, c := NewCertificate(t, "cb"), NewCertificate(t, "cb"), NewCertificate(t, "cb")
	c.StatusList = a.StatusList + 2
	other := NewCertificate(t, "other")
	event(other, cert.EventWithdrawn)
	create(t, s, a, b, c, other)
	v := view(t, idx, "cb", a.CreatedAt)
	if want := []int{a.StatusList, c.StatusList}; !slices.Equal(v.Lists, want) {
		t.Fatalf("Lists = %v, want %v", v.Lists, want)
	}
	assertMarked(t, v)

	event(a, cert.EventWithdrawn)
	update(t, s, a)
	event(b, cert.EventSuspended)
	update(t, s, b)
	assertMarked(t, view(t, idx, "cb", a.CreatedAt), entry(a, true, false), entry(b, false, true))

	event(b, cert.EventReinstated)
	update(t, s, b)
	d := NewCertificate(t, "cb")
	d.StatusList = c.StatusList
	event(d, cert.EventWithdrawn)
	event(d, cert.EventSuspended)
	createAll(t, s, []*cert.Certificate{d})
	v = view(t, idx, "cb", a.CreatedAt)
	assertMarked(t, v, entry(a, true, false), entry(d, true, true))
	if len(v.Due) != 0 {
		t.Fatalf("Due = %d certificates before any watch instant, want none", len(v.Due))
	}
	if v := view(t, idx, "nobody", a.CreatedAt); len(v.Lists)+len(v.Marked)+len(v.Due) != 0 {
		t.Fatalf("view of an issuer without certificates = %+v, want empty", v)
	}
}

func testStatusDue(t *testing.T, s store.Store) {
	idx := statusIndex(t, s)
	idx.SetStatusMarker("test/1", testMarker)
	a, b := NewCertificate(t, "cb"), NewCertificate(t, "cb")
	b.ValidFrom = b.ValidFrom.AddDate(0, 1, 0)
	create(t, s, a, b)
	ids := func(v *store.StatusView) []string {
		var out []string
		for _, c := range v.Due {
			out = append(out, c.ID)
		}
		slices.Sort(out)
		return out
	}
	watchA, watchB := a.ValidFrom.AddDate(1, 0, 0), b.ValidFrom.AddDate(1, 0, 0)
	sorted := func(xs ...string) []string { slices.Sort(xs); return xs }
	for _, tc := range []struct {
		name string
		at   time.Time
		want []string
	}{
		{"before", watchA.Add(-time.Millisecond), nil},
		{"at-a", watchA, []string{a.ID}},
		{"between", watchB.Add(-time.Millisecond), []string{a.ID}},
		{"after-b", watchB.Add(time.Hour), sorted(a.ID, b.ID)},
	} {
		if got := ids(view(t, idx, "cb", tc.at)); !slices.Equal(got, tc.want) {
			t.Errorf("%s: Due = %v, want %v", tc.name, got, tc.want)
		}
	}
	v := view(t, idx, "cb", watchA)
	if len(v.Due) != 1 || v.Due[0].Number != a.Number || v.Due[0].Version != a.Version || len(v.Due[0].Events) != len(a.Events) {
		t.Fatalf("Due = %+v, want certificate %s as stored", v.Due, a.ID)
	}
	// A write that clears the watch takes the certificate out of Due.
	event(a, cert.EventWithdrawn)
	update(t, s, a)
	if got := ids(view(t, idx, "cb", watchB.Add(time.Hour))); !slices.Equal(got, []string{b.ID}) {
		t.Fatalf("Due after withdrawing %s = %v, want [%s]", a.ID, got, b.ID)
	}
}

func testStatusFailedUpdate(t *testing.T, s store.Store) {
	idx := statusIndex(t, s)
	idx.SetStatusMarker("test/1", testMarker)
	a := NewCertificate(t, "cb")
	create(t, s, a)
	stale := *a
	stale.Events = slices.Clone(a.Events)
	event(a, cert.EventSuspended)
	update(t, s, a)
	event(&stale, cert.EventWithdrawn)
	if err := s.UpdateCertificate(t.Context(), &stale); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("stale UpdateCertificate = %v, want ErrConflict", err)
	}
	assertMarked(t, view(t, idx, "cb", a.CreatedAt), entry(a, false, true))
}

func testStatusReindex(t *testing.T, s store.Store) {
	idx := statusIndex(t, s)
	if err := idx.ReindexStatus(t.Context()); !errors.Is(err, cert.ErrInvalid) {
		t.Fatalf("ReindexStatus without a marker = %v, want ErrInvalid", err)
	}
	var cs []*cert.Certificate
	for i := range 5 {
		c := NewCertificate(t, "cb")
		if i%2 == 0 {
			event(c, cert.EventWithdrawn)
		}
		cs = append(cs, c)
	}
	create(t, s, cs...)
	if tag, err := idx.StatusMarkerTag(t.Context()); err != nil || tag != "" {
		t.Fatalf("StatusMarkerTag before any reindex = %q, %v; want \"\"", tag, err)
	}
	assertMarked(t, view(t, idx, "cb", cs[0].CreatedAt)) // written without a marker
	idx.SetStatusMarker("test/2", testMarker)
	if err := idx.ReindexStatus(t.Context()); err != nil {
		t.Fatalf("ReindexStatus: %v", err)
	}
	if tag, err := idx.StatusMarkerTag(t.Context()); err != nil || tag != "test/2" {
		t.Fatalf("StatusMarkerTag after reindex = %q, %v; want test/2", tag, err)
	}
	want := []store.StatusEntry{entry(cs[0], true, false), entry(cs[2], true, false), entry(cs[4], true, false)}
	slices.SortFunc(want, func(a, b store.StatusEntry) int { return (a.List-b.List)*cert.StatusListSize + a.Index - b.Index })
	assertMarked(t, view(t, idx, "cb", cs[0].CreatedAt), want...)
	// A second reindex with other rules replaces the marks.
	idx.SetStatusMarker("test/3", func(*cert.Certificate) store.StatusMark { return store.StatusMark{} })
	if err := idx.ReindexStatus(t.Context()); err != nil {
		t.Fatalf("ReindexStatus: %v", err)
	}
	v := view(t, idx, "cb", cs[0].ValidFrom.AddDate(2, 0, 0))
	assertMarked(t, v)
	if len(v.Due) != 0 {
		t.Fatalf("Due after a reindex without watches = %d certificates, want none", len(v.Due))
	}
}

// sweepMarker is testMarker with a sweep instant: ten days after the start
// of validity per recorded event, none once withdrawn.
func sweepMarker(c *cert.Certificate) store.StatusMark {
	m := testMarker(c)
	if !m.Revoked {
		m.Sweep = c.ValidFrom.AddDate(0, 0, 10*len(c.Events))
	}
	return m
}

func testStatusSweepDue(t *testing.T, s store.Store) {
	idx := statusIndex(t, s)
	idx.SetStatusMarker("test/sweep", sweepMarker)
	var cs []*cert.Certificate
	for i := range 7 {
		issuer := "cb"
		if i%3 == 2 {
			issuer = "other"
		}
		c := NewCertificate(t, issuer)
		c.ValidFrom = c.ValidFrom.AddDate(0, 0, i)
		cs = append(cs, c)
	}
	create(t, s, cs...)
	// all reads every page of SweepDue at at, limit per page.
	all := func(at time.Time, limit int) []string {
		t.Helper()
		var out []string
		cursor := ""
		for pages := 0; ; pages++ {
			page, next, err := idx.SweepDue(t.Context(), at, cursor, limit)
			if err != nil {
				t.Fatalf("SweepDue(%s, %q): %v", at, cursor, err)
			}
			if len(page) > limit || pages > len(cs) {
				t.Fatalf("SweepDue returned %d certificates on page %d, limit %d", len(page), pages, limit)
			}
			for _, c := range page {
				out = append(out, c.ID)
			}
			if next == "" {
				return out
			}
			cursor = next
		}
	}
	sweepOf := func(c *cert.Certificate) time.Time { return sweepMarker(c).Sweep }
	// due lists the ids whose sweep instant is at or before at, in the
	// order of (instant, id).
	due := func(at time.Time) []string {
		var ds []*cert.Certificate
		for _, c := range cs {
			if w := sweepOf(c); !w.IsZero() && !w.After(at) {
				ds = append(ds, c)
			}
		}
		slices.SortFunc(ds, func(a, b *cert.Certificate) int {
			if d := sweepOf(a).Compare(sweepOf(b)); d != 0 {
				return d
			}
			return strings.Compare(a.ID, b.ID)
		})
		var out []string
		for _, c := range ds {
			out = append(out, c.ID)
		}
		return out
	}
	check := func(when string, at time.Time) {
		t.Helper()
		want := due(at)
		for _, limit := range []int{1, 2, 100} {
			if got := all(at, limit); !slices.Equal(got, want) {
				t.Fatalf("%s: SweepDue at %s, %d a page = %v, want %v", when, at, limit, got, want)
			}
		}
	}
	first := sweepOf(cs[0])
	check("before any", first.Add(-time.Millisecond))
	check("at the first", first)
	check("after three", sweepOf(cs[2]))
	check("after all", sweepOf(cs[6]).Add(time.Hour))

	// A write moves the instant; a withdrawal clears it.
	event(cs[1], cert.EventSuspended)
	update(t, s, cs[1])
	event(cs[3], cert.EventWithdrawn)
	update(t, s, cs[3])
	check("after writes", sweepOf(cs[6]).Add(time.Hour))
	check("later", cs[0].ValidFrom.AddDate(1, 0, 0))

	// DeferSweep at the stored version moves the instant and nothing else;
	// at another version it does nothing.
	later := cs[0].ValidFrom.AddDate(0, 6, 0)
	if err := idx.DeferSweep(t.Context(), cs[0].ID, cs[0].Version+1, later); err != nil {
		t.Fatalf("DeferSweep at a stale version: %v", err)
	}
	check("stale defer", sweepOf(cs[6]).Add(time.Hour))
	if err := idx.DeferSweep(t.Context(), cs[0].ID, cs[0].Version, later); err != nil {
		t.Fatalf("DeferSweep: %v", err)
	}
	if got := all(later.Add(-time.Millisecond), 100); slices.Contains(got, cs[0].ID) {
		t.Fatalf("deferred certificate %s is due before %s: %v", cs[0].ID, later, got)
	}
	if got := all(later, 100); !slices.Contains(got, cs[0].ID) {
		t.Fatalf("deferred certificate %s is not due at %s: %v", cs[0].ID, later, got)
	}
	if err := idx.DeferSweep(t.Context(), cs[4].ID, cs[4].Version, time.Time{}); err != nil {
		t.Fatalf("DeferSweep to never: %v", err)
	}
	if got := all(cs[0].ValidFrom.AddDate(5, 0, 0), 100); slices.Contains(got, cs[4].ID) {
		t.Fatalf("certificate %s deferred to never is due: %v", cs[4].ID, got)
	}
	if err := idx.DeferSweep(t.Context(), cert.NewID(), 1, later); err != nil {
		t.Fatalf("DeferSweep of an unknown certificate: %v", err)
	}
	// The other marks stay: cs[1] is still suspended and watched.
	v := view(t, idx, "cb", cs[1].ValidFrom.AddDate(1, 0, 0))
	if !slices.Contains(v.Marked, entry(cs[1], false, true)) {
		t.Fatalf("Marked after DeferSweep = %+v, want %+v among them", v.Marked, entry(cs[1], false, true))
	}
	if err := idx.DeferSweep(t.Context(), cs[1].ID, cs[1].Version, later); err != nil {
		t.Fatal(err)
	}
	v = view(t, idx, "cb", cs[1].ValidFrom.AddDate(1, 0, 0))
	found := false
	for _, c := range v.Due {
		found = found || c.ID == cs[1].ID
	}
	if !slices.Contains(v.Marked, entry(cs[1], false, true)) || !found {
		t.Fatalf("view after DeferSweep of %s: Marked %+v, due %v; want it marked suspended and due", cs[1].ID, v.Marked, found)
	}
	if _, _, err := idx.SweepDue(t.Context(), later, "not a cursor", 10); !errors.Is(err, cert.ErrInvalid) {
		t.Fatalf("SweepDue with a malformed cursor = %v, want ErrInvalid", err)
	}
}
