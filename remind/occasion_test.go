package remind_test

import (
	"context"
	"testing"
	"time"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/issuer"
	"github.com/certd/certd/remind"
)

// TestOccasionsSuspendedByAction: a certificate the CB suspended gets no
// surveillance reminder while suspended, gets them again once reinstated,
// and keeps its expiry reminders while suspended.
func TestOccasionsSuspendedByAction(t *testing.T) {
	e := newEnv(t, time.Date(2025, 3, 10, 2, 0, 0, 0, time.UTC))
	cb := e.createIssuer(t, "cb", "Asia/Shanghai", "ITSS")
	c := e.issue(t, cb, "itss", "2025-03-10")
	scheme := mustSchemes()["itss"]
	at := func(day string) []string {
		t.Helper()
		d, err := time.Parse(cert.DateLayout, day)
		if err != nil {
			t.Fatal(err)
		}
		now := d.Add(2 * time.Hour) // 10:00 in Beijing
		cur, err := e.st.Certificate(context.Background(), c.ID)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, o := range remind.Occasions(cur, scheme, cert.DefaultReminders(), now.Add(-24*time.Hour), now) {
			names = append(names, o.Name)
		}
		return names
	}
	act := func(day, action string) {
		t.Helper()
		d, _ := time.Parse(cert.DateLayout, day)
		e.clock.Set(d.Add(6 * time.Hour))
		e.act(t, cb, c.ID, action, issuer.ActionRequest{Reason: "complaint under investigation"})
	}
	act("2025-12-01", issuer.ActionSuspend)
	if got := at("2025-12-10"); len(got) != 0 {
		t.Errorf("suspended on the day window 1 opens: %v, want no reminder", got)
	}
	act("2025-12-15", issuer.ActionReinstate)
	if got := at("2026-02-08"); len(got) != 1 || got[0] != "surveillance-close-1-30d" {
		t.Errorf("reinstated, 30 days before window 1 closes: %v, want [surveillance-close-1-30d]", got)
	}
	e.clock.Set(time.Date(2026, 2, 9, 6, 0, 0, 0, time.UTC))
	e.act(t, cb, c.ID, issuer.ActionSurveillance, issuer.ActionRequest{Date: "2026-02-09", Result: issuer.ResultPassed})
	e.clock.Set(time.Date(2026, 12, 20, 6, 0, 0, 0, time.UTC))
	e.act(t, cb, c.ID, issuer.ActionSurveillance, issuer.ActionRequest{Date: "2026-12-20", Result: issuer.ResultPassed})
	act("2027-09-01", issuer.ActionSuspend)
	if got := at("2027-09-12"); len(got) != 1 || got[0] != "expiry-180d" {
		t.Errorf("suspended 180 days before expiry: %v, want [expiry-180d]", got)
	}
}
