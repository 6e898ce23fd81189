package issuer_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/issuer"
)

// The actions drive a certificate through the boundaries StatusAt derives.
func TestActionsThroughTheYears(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, "2026-11-27")
	c := e.issue(t, "itss", "2026-11-27")

	e.clock.Set(bj(t, "2027-11-27").Add(-time.Second))
	if st := e.status(t, c.ID); st.Status != cert.StatusActive || st.Surveillance.State != cert.SurveillanceDue {
		t.Errorf("last second of the window: %s/%s, want active/due", st.Status, st.Surveillance.State)
	}
	e.clock.Set(bj(t, "2027-11-27"))
	st := e.status(t, c.ID)
	if st.Status != cert.StatusSuspended || st.Reason != cert.ReasonSurveillanceOverdue {
		t.Errorf("window closed: %s (%s), want suspended (surveillance_overdue)", st.Status, st.Reason)
	}
	// Reinstating does not replace the missing audit.
	_, err := e.svc.Act(ctx, e.cb, c.ID, issuer.ActionReinstate, issuer.ActionRequest{Reason: "please"}, 0)
	wantKind(t, err, cert.ErrTransition, "record a passed surveillance audit")
	// A date outside validity or in the future is refused.
	_, err = e.svc.Act(ctx, e.cb, c.ID, issuer.ActionSurveillance, issuer.ActionRequest{Date: "2027-12-02", Result: issuer.ResultPassed}, 0)
	wantField(t, err, "date")

	e.clock.Set(bj(t, "2027-12-20 16:00:00"))
	e.act(t, c.ID, issuer.ActionSurveillance, issuer.ActionRequest{Reason: "late audit", Date: "2027-12-20", Result: issuer.ResultPassed})
	if st := e.status(t, c.ID); st.Status != cert.StatusActive {
		t.Errorf("after the late audit: %s, want active", st.Status)
	}

	e.clock.Set(bj(t, "2028-01-10"))
	e.act(t, c.ID, issuer.ActionWithdraw, issuer.ActionRequest{Reason: "misuse of the mark"})
	for _, a := range []string{issuer.ActionReinstate, issuer.ActionSuspend, issuer.ActionCancel, issuer.ActionWithdraw} {
		_, err := e.svc.Act(ctx, e.cb, c.ID, a, issuer.ActionRequest{Reason: "x"}, 0)
		wantKind(t, err, cert.ErrTransition, "withdrawn")
	}
	_, err = e.svc.Act(ctx, e.cb, c.ID, "promote", issuer.ActionRequest{Reason: "x"}, 0)
	wantKind(t, err, cert.ErrNotFound, "renew")
}

func TestActIfMatch(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, "2026-11-27")
	c := e.issue(t, "itss", "2026-11-27")
	got, err := e.svc.Act(ctx, e.cb, c.ID, issuer.ActionSuspend, issuer.ActionRequest{Reason: "client request"}, c.Version)
	if err != nil || got.Version != c.Version+1 {
		t.Fatalf("suspend with the current version: %v, version %d", err, got.Version)
	}
	_, err = e.svc.Act(ctx, e.cb, c.ID, issuer.ActionReinstate, issuer.ActionRequest{Reason: "resolved"}, c.Version)
	wantKind(t, err, cert.ErrPrecondition, "is at version 2, not 1")
}

// Concurrent actions on one certificate, on two instances, never lose an
// event: each success is in the trail exactly once.
func TestConcurrentActionsLoseNoEvent(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, "2026-11-27")
	c := e.issue(t, "iso17021", "2026-11-27")
	instances := []*issuer.Service{e.svc, e.newService()}
	var (
		wg sync.WaitGroup
		mu sync.Mutex
		ok = map[cert.EventType]int{}
	)
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			action, typ := issuer.ActionSurveillance, cert.EventSurveillancePassed
			req := issuer.ActionRequest{Reason: "audit", Date: "2026-11-27", Result: issuer.ResultPassed}
			switch i % 4 {
			case 1:
				action, typ, req = issuer.ActionSuspend, cert.EventSuspended, issuer.ActionRequest{Reason: "check", ReasonCode: "0113"}
			case 3:
				action, typ, req = issuer.ActionReinstate, cert.EventReinstated, issuer.ActionRequest{Reason: "checked"}
			}
			_, err := instances[i%2].Act(ctx, e.cb, c.ID, action, req, 0)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ok[typ]++
			case errors.Is(err, cert.ErrTransition):
			default:
				t.Errorf("%s: %v", action, err)
			}
		}()
	}
	wg.Wait()
	got := e.get(t, c.ID)
	total := 1
	for typ, n := range ok {
		total += n
		if m := countType(got, typ); m != n {
			t.Errorf("%d %s events stored, %d actions succeeded", m, typ, n)
		}
	}
	if len(got.Events) != total || got.Version != int64(total) {
		t.Errorf("%d events, version %d; want %d (issued + successful actions)", len(got.Events), got.Version, total)
	}
	for i, ev := range got.Events {
		if ev.Seq != i+1 {
			t.Errorf("event %d has seq %d", i, ev.Seq)
		}
	}
	if ok[cert.EventSurveillancePassed] != 10 {
		t.Errorf("%d surveillance actions succeeded, want all 10", ok[cert.EventSurveillancePassed])
	}
}
