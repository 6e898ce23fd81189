package issuer

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"time"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/store"
)

// SweepDue counts the certificates the sweep reads from the status index
// (in certs, with the pages in lists).
func (s *countingStore) SweepDue(ctx context.Context, at time.Time, cursor string, limit int) ([]*cert.Certificate, string, error) {
	s.lists.Add(1)
	page, next, err := s.Store.SweepDue(ctx, at, cursor, limit)
	s.certs.Add(int64(len(page)))
	return page, next, err
}

// lossyStore loses the next `lose` certificate updates, as a process that
// stops between the two writes of a renewal.
type lossyStore struct {
	*countingStore
	lose atomic.Int32
}

func (s *lossyStore) UpdateCertificate(ctx context.Context, c *cert.Certificate) error {
	if s.lose.Add(-1) >= 0 {
		return errors.New("injected: process stopped")
	}
	s.lose.Store(0)
	return s.countingStore.UpdateCertificate(ctx, c)
}

// sweeper is a Service that sweeps from e's status index.
func (e *slEnv) sweeper(tb testing.TB, st Store) *Service {
	tb.Helper()
	return New(Config{Store: st, Signer: e.keys, Rings: e.keys, Schemes: slSchemes(tb), PublicURL: "https://verify.example.cn",
		Now: e.clock.Now, OnChange: e.lists.Invalidate, StatusLists: e.lists})
}

// fullSweepWork reads every certificate and counts what a sweep by a full
// read would record now: the derived changes not recorded, and the links
// a successor's predecessor lacks; it also returns the ids of the
// certificates with such work.
func fullSweepWork(t *testing.T, e *slEnv, svc *Service) (int, map[string]bool) {
	t.Helper()
	ctx := context.Background()
	n, ids := 0, map[string]bool{}
	q := store.Query{Limit: 1000}
	for {
		page, next, err := e.st.Store.ListCertificates(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range page {
			if m := len(svc.missingDerived(c)); m > 0 {
				n += m
				ids[c.ID] = true
			}
			if linkToCheck(c) {
				old, err := e.st.Store.Certificate(ctx, c.Supersedes)
				if err != nil {
					t.Fatal(err)
				}
				if old.SupersededBy == "" {
					n++
					ids[c.ID] = true
				}
			}
		}
		if next == "" {
			return n, ids
		}
		q.Cursor = next
	}
}

// The sweep reads from the status index only the certificates whose
// instant has come, not every certificate, and records what they lack.
func TestSweepDerivedReadsOnlyDue(t *testing.T) {
	ctx := context.Background()
	e := newSLEnv(t, time.Date(2027, 1, 10, 9, 0, 0, 0, slShanghai))
	svc := e.sweeper(t, e.st)
	// Forty certificates issued today, and three imported with earlier
	// dates whose first window has closed without an audit.
	for range 40 {
		e.issue(t, "")
	}
	var old []*cert.Certificate
	for _, from := range []string{"2025-11-01", "2025-12-15", "2025-10-20"} {
		old = append(old, e.issue(t, from))
	}
	read := func() (int64, int64) { return e.st.lists.Swap(0), e.st.certs.Swap(0) }
	read()
	want, ids := fullSweepWork(t, e, svc)
	if want == 0 || len(ids) != len(old) {
		t.Fatalf("the full read finds %d changes on %d certificates, want some on the %d imported ones", want, len(ids), len(old))
	}
	n, err := svc.SweepDerived(ctx, "")
	if err != nil || n != want {
		t.Fatalf("SweepDerived = %d, %v; want %d, nil", n, err, want)
	}
	if _, certs := read(); certs != int64(len(old)) {
		t.Errorf("the sweep read %d certificates, want the %d due ones", certs, len(old))
	}
	// Nothing is due now: the next sweep reads nothing.
	if n, err := svc.SweepDerived(ctx, ""); err != nil || n != 0 {
		t.Fatalf("second SweepDerived = %d, %v; want 0, nil", n, err)
	}
	if pages, certs := read(); certs != 0 || pages != 1 {
		t.Errorf("the second sweep read %d certificates in %d pages, want none in one page", certs, pages)
	}
	// Ten months later the first window of the forty closes without an
	// audit: they are due, and the sweep reads them (and the imported
	// ones, whose next change came too) and records their suspension.
	e.clock.Add(300 * 24 * time.Hour)
	want, ids = fullSweepWork(t, e, svc)
	read()
	if n, err := svc.SweepDerived(ctx, ""); err != nil || n != want {
		t.Fatalf("SweepDerived ten months later = %d, %v; want %d, nil", n, err, want)
	}
	if _, certs := read(); certs != int64(len(ids)) {
		t.Errorf("the sweep read %d certificates, want the %d with a change to record", certs, len(ids))
	}
	if n, _ := fullSweepWork(t, e, svc); n != 0 {
		t.Errorf("after the sweep a full read still finds %d changes to record", n)
	}
}

// After any sequence of actions (renewals whose link was lost among them),
// clock moves and sweeps on several instances, a sweep from the index
// records exactly what a sweep that reads every certificate would, and
// leaves nothing for it.
func TestSweepDueMatchesFullSweep(t *testing.T) {
	done := map[string]int{}
	for seed := range uint64(3) {
		t.Run(fmt.Sprint("seed-", seed), func(t *testing.T) { testSweepDueMatchesFull(t, seed, done) })
	}
	for _, a := range []string{ActionSuspend, ActionReinstate, ActionSurveillance, ActionRenew, "lost-link", "sweep", "sweep-work", "to-instant"} {
		if done[a] == 0 {
			t.Errorf("no %s in the sequences (%v): the test does not cover it", a, done)
		}
	}
	t.Logf("steps: %v", done)
}

func testSweepDueMatchesFull(t *testing.T, seed uint64, done map[string]int) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(seed, 7))
	e := newSLEnv(t, time.Date(2027, 1, 10, 9, 0, 0, 0, slShanghai))
	lossy := &lossyStore{countingStore: e.st}
	svcs := []*Service{e.sweeper(t, e.st), e.sweeper(t, e.st)}
	var ids []string
	for i := range 30 {
		from := e.clock.Now().AddDate(0, -r.IntN(40), -r.IntN(28)).In(slShanghai).Format("2006-01-02")
		if i%4 == 0 {
			from = ""
		}
		ids = append(ids, e.issue(t, from).ID)
	}
	// Six imported certificates whose audits passed, which reach their
	// renewal window while the test runs.
	for i := range 6 {
		from := e.clock.Now().AddDate(0, -28-i, 0).In(slShanghai)
		c := e.issue(t, from.Format("2006-01-02"))
		for _, m := range []int{10, 22} {
			req := ActionRequest{Date: from.AddDate(0, m, 0).Format("2006-01-02"), Result: ResultPassed, AuditRef: "A-0"}
			if _, err := svcs[0].Act(ctx, e.cb, c.ID, ActionSurveillance, req, 0); err != nil {
				t.Fatalf("past audit: %v", err)
			}
		}
		ids = append(ids, c.ID)
	}
	for step := range 200 {
		svc := svcs[r.IntN(len(svcs))]
		id := ids[r.IntN(len(ids))]
		today := e.clock.Now().In(slShanghai).Format("2006-01-02")
		var what string
		var err error
		switch k := r.IntN(12); k {
		case 0, 1:
			what = "clock"
			e.clock.Add(time.Duration(r.IntN(40*24))*time.Hour + time.Duration(r.IntN(3600))*time.Second)
		case 2:
			// To the exact sweep instant of the next certificate.
			what = "to-instant"
			now := e.clock.Now()
			var next time.Time
			for _, id := range ids {
				c, gerr := e.st.Store.Certificate(ctx, id)
				if gerr != nil {
					t.Fatal(gerr)
				}
				if at := nextSweep(c, svc.schemes[c.Scheme], now); at.After(now) && (next.IsZero() || at.Before(next)) {
					next = at
				}
			}
			if next.IsZero() {
				err = errors.New("no instant ahead")
			} else {
				e.clock.Add(next.Sub(now))
			}
		case 3, 4:
			what = "sweep"
			want, _ := fullSweepWork(t, e, svc)
			var n int
			n, err = svc.SweepDerived(ctx, "")
			if n != want {
				_, left := fullSweepWork(t, e, svc)
				for id := range left {
					c, _ := e.st.Store.Certificate(ctx, id)
					t.Logf("left %s: supersedes %q key %q created %s; events %d; missing %d; next %s now %s", id, c.Supersedes, c.IdempotencyKey, c.CreatedAt, len(c.Events), len(svc.missingDerived(c)), nextSweep(c, svc.schemes[c.Scheme], e.clock.Now()), e.clock.Now())
					for _, ev := range c.Events {
						t.Logf("  %s %s %s", ev.Type, ev.At, ev.Reason)
					}
				}
				t.Fatalf("step %d: the sweep from the index recorded %d changes (%v), a full read finds %d", step, n, err, want)
			}
			if left, _ := fullSweepWork(t, e, svc); left != 0 {
				t.Fatalf("step %d: after the sweep from the index a full read still finds %d changes to record", step, left)
			}
			if want > 0 {
				done["sweep-work"]++
			}
		case 5:
			what, err = ActionSuspend, e.randomSuspend(svc, r, id)
		case 6:
			what = ActionReinstate
			_, err = svc.Act(ctx, e.cb, e.suspendedOr(svc, r, ids, id), what, ActionRequest{Reason: "r"}, 0)
		case 7, 8:
			what, err = ActionSurveillance, e.randomAudit(svc, r, id, today)
		case 9:
			what = ActionRenew
			id = renewable(t, e, svc, ids, r, id)
			var c *cert.Certificate
			if c, err = svc.Act(ctx, e.cb, id, what, ActionRequest{Reason: "r", ValidFrom: today}, 0); err == nil {
				ids = append(ids, c.ID)
			}
		case 10:
			// A renewal whose second write (the link on the old
			// certificate) is lost.
			what = "lost-link"
			id = renewable(t, e, svc, ids, r, id)
			lossy.lose.Store(1)
			_, err = e.sweeper(t, lossy).Act(ctx, e.cb, id, ActionRenew, ActionRequest{Reason: "r", ValidFrom: today}, 0)
			lossy.lose.Store(0)
			if err != nil {
				if next, ferr := e.st.Store.CertificateByIdempotencyKey(ctx, "cb", successorKey(id)); ferr == nil {
					ids = append(ids, next.ID)
					err = nil
				}
			}
		case 11:
			what = ActionWithdraw
			_, err = svc.Act(ctx, e.cb, id, what, ActionRequest{Reason: "r"}, 0)
		}
		if err == nil {
			done[what]++
		}
	}
}

// renewable picks an active certificate inside its renewal window (six
// months before expiry), or def when there is none.
func renewable(t *testing.T, e *slEnv, svc *Service, ids []string, r *rand.Rand, def string) string {
	t.Helper()
	now := e.clock.Now()
	for _, j := range r.Perm(len(ids)) {
		c, err := e.st.Store.Certificate(context.Background(), ids[j])
		if err != nil {
			t.Fatal(err)
		}
		if c.SupersededBy == "" && svc.StatusOf(c).Status == cert.StatusActive && !now.Before(c.ValidUntil.AddDate(0, -6, 0)) {
			return c.ID
		}
	}
	return def
}

// randomSuspend suspends id through svc, half the time until a day within
// the next 90.
func (e *slEnv) randomSuspend(svc *Service, r *rand.Rand, id string) error {
	req := ActionRequest{Reason: "r"}
	if r.IntN(2) == 0 {
		req.Until = e.clock.Now().AddDate(0, 0, 1+r.IntN(90)).In(slShanghai).Format("2006-01-02")
	}
	_, err := svc.Act(context.Background(), e.cb, id, ActionSuspend, req, 0)
	return err
}

// suspendedOr picks a certificate of ids suspended by svc's reckoning, or
// def when there is none.
func (e *slEnv) suspendedOr(svc *Service, r *rand.Rand, ids []string, def string) string {
	for _, j := range r.Perm(len(ids)) {
		c, err := e.st.Store.Certificate(context.Background(), ids[j])
		if err == nil && svc.StatusOf(c).Status == cert.StatusSuspended {
			return c.ID
		}
	}
	return def
}

// randomAudit records a surveillance audit of id dated today, failed one
// time in three.
func (e *slEnv) randomAudit(svc *Service, r *rand.Rand, id, today string) error {
	res := ResultPassed
	if r.IntN(3) == 0 {
		res = ResultFailed
	}
	_, err := svc.Act(context.Background(), e.cb, id, ActionSurveillance, ActionRequest{Date: today, Result: res, AuditRef: "A-1"}, 0)
	return err
}
