package issuer_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/issuer"
)

// derivedTrail lists the recorded derived changes of c, one per line.
func derivedTrail(c *cert.Certificate) string {
	var lines []string
	for _, e := range c.Events {
		if e.Type == cert.EventStatusChanged {
			lines = append(lines, fmt.Sprintf("%s %s %s %s", e.At.In(shanghai).Format(cert.DateLayout), e.Status, e.Reason, e.Actor))
		}
	}
	return strings.Join(lines, "\n")
}

func TestRecordDerived(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, "2026-11-27")
	c := e.issue(t, "itss", "2026-11-27")

	e.clock.Set(bj(t, "2027-11-27").Add(-time.Second))
	if n, err := e.svc.RecordDerived(ctx, c.ID); err != nil || n != 0 {
		t.Errorf("before the window closes: RecordDerived = %d, %v; want 0", n, err)
	}
	e.clock.Set(bj(t, "2027-11-27 00:05:00"))
	if n, err := e.svc.RecordDerived(ctx, c.ID); err != nil || n != 1 {
		t.Errorf("window closed: RecordDerived = %d, %v; want 1", n, err)
	}
	if n, err := e.newService().RecordDerived(ctx, c.ID); err != nil || n != 0 {
		t.Errorf("again, on another instance: RecordDerived = %d, %v; want 0", n, err)
	}
	got := e.get(t, c.ID)
	if want := "2027-11-27 suspended surveillance_overdue system"; derivedTrail(got) != want {
		t.Errorf("derived trail:\n%s\nwant:\n%s", derivedTrail(got), want)
	}
	rec := got.Events[len(got.Events)-1]
	if !rec.RecordedAt.Equal(bj(t, "2027-11-27 00:05:00")) {
		t.Errorf("recordedAt = %s, want the moment of recording", rec.RecordedAt)
	}

	e.clock.Set(bj(t, "2028-03-01"))
	if n, err := e.svc.RecordDerived(ctx, c.ID); err != nil || n != 1 {
		t.Errorf("limit reached: RecordDerived = %d, %v; want 1", n, err)
	}
	got = e.get(t, c.ID)
	want := "2027-11-27 suspended surveillance_overdue system\n2028-02-27 cancelled suspension_limit system"
	if derivedTrail(got) != want {
		t.Errorf("derived trail:\n%s\nwant:\n%s", derivedTrail(got), want)
	}
	// The records are not inputs: the status is derived as before.
	if st := e.svc.StatusOf(got); st.Status != cert.StatusCancelled || len(st.Changes) != 2 {
		t.Errorf("status = %s with %d changes, want cancelled with 2", st.Status, len(st.Changes))
	}
}

// Several instances sweeping at once, while actions run, record each
// derived change once and lose no event.
func TestSweepDerivedConcurrently(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, "2026-01-10")
	type issued struct {
		c    *cert.Certificate
		want string
	}
	var certs []issued
	for i := 0; i < 12; i++ {
		switch i % 3 {
		case 0: // missed its first window, cancelled 3 months later
			certs = append(certs, issued{e.issue(t, "itss", "2025-03-01"), "2026-03-01 suspended surveillance_overdue system\n2026-06-01 cancelled suspension_limit system"})
		case 1: // missed its first audit, withdrawn 6 months later
			certs = append(certs, issued{e.issue(t, "iso17021", "2025-02-01"), "2026-02-01 suspended surveillance_overdue system\n2026-08-01 withdrawn suspension_limit system"})
		case 2: // no change yet
			certs = append(certs, issued{e.issue(t, "itss", "2026-01-10"), ""})
		}
	}
	e.clock.Set(bj(t, "2026-09-01"))
	instances := []*issuer.Service{e.svc, e.newService(), e.newService()}
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		recorded int
		actions  int
	)
	for i := 0; i < 6; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, err := instances[i%3].SweepDerived(ctx, "")
			if err != nil {
				t.Errorf("sweep: %v", err)
			}
			mu.Lock()
			recorded += n
			mu.Unlock()
		}()
	}
	// Meanwhile the CB suspends and reinstates the certificates that have
	// no derived change.
	for _, it := range certs {
		if it.want != "" {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, a := range []string{issuer.ActionSuspend, issuer.ActionReinstate} {
				if _, err := instances[1].Act(ctx, e.cb, it.c.ID, a, issuer.ActionRequest{Reason: "check"}, 0); err != nil {
					t.Errorf("%s: %v", a, err)
					return
				}
				mu.Lock()
				actions++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if recorded != 16 {
		t.Errorf("the sweeps recorded %d events together, want 16 (2 for each of 8 certificates)", recorded)
	}
	if actions != 8 {
		t.Errorf("%d actions succeeded, want 8", actions)
	}
	for _, it := range certs {
		got := e.get(t, it.c.ID)
		if tr := derivedTrail(got); tr != it.want {
			t.Errorf("certificate %s (%s): derived trail\n%s\nwant\n%s", got.Number, got.Scheme, tr, it.want)
		}
		if it.want == "" && (countType(got, cert.EventSuspended) != 1 || countType(got, cert.EventReinstated) != 1) {
			t.Errorf("certificate %s lost an action: %+v", got.Number, got.Events)
		}
	}
	// A later sweep finds nothing to add.
	if n, err := e.svc.SweepDerived(ctx, "cb"); err != nil || n != 0 {
		t.Errorf("second sweep = %d, %v; want 0", n, err)
	}
}
