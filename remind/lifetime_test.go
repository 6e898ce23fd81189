package remind_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/issuer"
	"github.com/certd/certd/notify"
)

// expected is one reminder the lifetime test must see: its occasion, the
// day (in the issuer's time zone) it is sent and the day it is about.
type expected struct {
	cert, occasion, typ, day, due string
	daysBefore                    int
}

// TestLifetime runs four certificates through 40 months with the sweep run
// several times a day (every hour on some days, by two Sweepers at once
// on every day), the real issuer use cases changing them and the real
// derived-status sweep recording what time changes. Every reminder listed
// arrives exactly once, on its day, and none else: none after a renewal,
// a cancellation or a withdrawal, none for a window whose audit was
// recorded, and the lead times the issuer changed midway are respected.
func TestLifetime(t *testing.T) {
	utc := func(s string) time.Time {
		v, err := time.Parse("2006-01-02 15:04", s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	e := newEnv(t, utc("2025-03-10 02:00"))
	ctx := context.Background()
	// cb keeps the default lead times, in Beijing; cb2 is in Berlin (a
	// zone with summer time) and changes its lead times on 2026-06-01.
	cb := e.createIssuer(t, "cb", "Asia/Shanghai", "ITSS")
	cb2 := e.createIssuer(t, "cb2", "Europe/Berlin", "QMS")

	// A (ITSS): audit of window 1 recorded late in the window; window 2
	// missed: suspended on 2027-03-10, cancelled by the scheme 3 months
	// later.
	a := e.issue(t, cb, "itss", "2025-03-10")
	// C (ITSS): audits on time; renewed on 2027-10-01 as C2.
	c := e.issue(t, cb, "itss", "2025-03-10")
	// B (ISO/IEC 17021): window 1 audited on time, window 2 missed:
	// suspended on 2027-03-10, withdrawn 6 months later.
	b := e.issue(t, cb2, "iso17021", "2025-03-10")
	// D (ISO/IEC 17021): audits on time, expires on 2028-03-10.
	d := e.issue(t, cb2, "iso17021", "2025-03-10")
	var c2 string

	passed := func(p cert.Principal, id, day string) func() {
		return func() {
			e.act(t, p, id, issuer.ActionSurveillance, issuer.ActionRequest{Date: day, Result: issuer.ResultPassed, AuditRef: "AR-" + day})
		}
	}
	// Actions run at 06:00 UTC of their day: the afternoon in Beijing,
	// the morning in Berlin, the same calendar day in both.
	actions := map[string]func(){
		"2025-06-01": passed(cb2, d.ID, "2025-06-01"),
		"2025-12-20": passed(cb, c.ID, "2025-12-20"),
		"2026-02-20": passed(cb, a.ID, "2026-02-20"),
		"2026-03-01": passed(cb2, b.ID, "2026-03-01"),
		"2026-05-01": passed(cb2, d.ID, "2026-05-01"),
		"2026-06-01": func() {
			patch := `{"reminders": {"surveillanceOpen": false, "surveillanceCloseDays": [60, 14], "expiryDays": [120]}}`
			if _, err := e.profiles.Patch(ctx, e.admin, "cb2", []byte(patch), -1); err != nil {
				t.Fatalf("patch lead times: %v", err)
			}
		},
		"2026-12-20": passed(cb, c.ID, "2026-12-20"),
		"2027-10-01": func() {
			e.act(t, cb, c.ID, issuer.ActionRenew, issuer.ActionRequest{Reason: "renewal audit passed", ValidFrom: "2027-10-01"})
			old, err := e.st.Certificate(ctx, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			c2 = old.SupersededBy
		},
	}

	want := []expected{
		{"A", "surveillance-open-1", cert.WebhookReminderSurveillance, "2025-12-10", "2026-03-10", 90},
		{"A", "surveillance-close-1-30d", cert.WebhookReminderSurveillance, "2026-02-08", "2026-03-10", 30},
		{"A", "surveillance-open-2", cert.WebhookReminderSurveillance, "2026-12-10", "2027-03-10", 90},
		{"A", "surveillance-close-2-30d", cert.WebhookReminderSurveillance, "2027-02-08", "2027-03-10", 30},
		{"A", "overdue-suspension-2027-06-10", cert.WebhookReminderSurveillance, "2027-03-10", "2027-06-10", 92},
		{"C", "surveillance-open-1", cert.WebhookReminderSurveillance, "2025-12-10", "2026-03-10", 90},
		{"C", "surveillance-open-2", cert.WebhookReminderSurveillance, "2026-12-10", "2027-03-10", 90},
		{"C", "expiry-180d", cert.WebhookReminderExpiry, "2027-09-12", "2028-03-10", 180},
		{"C2", "surveillance-open-1", cert.WebhookReminderSurveillance, "2028-07-01", "2028-10-01", 92},
		{"B", "surveillance-close-1-30d", cert.WebhookReminderSurveillance, "2026-02-08", "2026-03-10", 30},
		{"B", "surveillance-open-2", cert.WebhookReminderSurveillance, "2026-03-10", "2027-03-10", 365},
		{"B", "surveillance-close-2-60d", cert.WebhookReminderSurveillance, "2027-01-09", "2027-03-10", 60},
		{"B", "surveillance-close-2-14d", cert.WebhookReminderSurveillance, "2027-02-24", "2027-03-10", 14},
		{"B", "overdue-suspension-2027-09-10", cert.WebhookReminderSurveillance, "2027-03-10", "2027-09-10", 184},
		{"D", "surveillance-open-2", cert.WebhookReminderSurveillance, "2026-03-10", "2027-03-10", 365},
		{"D", "expiry-120d", cert.WebhookReminderExpiry, "2027-11-11", "2028-03-10", 120},
	}

	// Besides the recorder, the reminders go to each issuer's webhook
	// through notify.WebhookSink into the store: there, the delivery ids
	// derived from the event ids keep one delivery per reminder, whatever
	// the number of sweeps and sweepers.
	hooks := map[string]string{}
	for _, is := range []string{"cb", "cb2"} {
		w := &cert.Webhook{ID: "wh-" + is, Issuer: is, URL: "https://hooks.example.cn/" + is, Active: true, Secret: "whsec_dGVzdA==", CreatedAt: e.clock.Now(), UpdatedAt: e.clock.Now()}
		if err := e.st.CreateWebhook(ctx, w); err != nil {
			t.Fatal(err)
		}
		hooks[is] = w.ID
	}
	webhooks := &notify.WebhookSink{Store: e.st, Data: func(ev notify.Event) any { return ev.Reminder }}
	rec := newRecorder()
	sw1, sw2 := e.sweeper(rec, webhooks), e.sweeper(rec, webhooks)
	sweep := func(both bool) {
		t.Helper()
		if !both {
			if _, err := sw1.Sweep(ctx); err != nil {
				t.Fatalf("sweep at %s: %v", e.clock.Now(), err)
			}
			return
		}
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, sw := range []interface {
			Sweep(context.Context) (int, error)
		}{sw1, sw2} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = sw.Sweep(ctx)
			}()
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatalf("sweep at %s: %v", e.clock.Now(), err)
			}
		}
	}

	end := utc("2028-07-11 00:00")
	n := 0
	for day := utc("2025-03-10 00:00"); day.Before(end); day = day.AddDate(0, 0, 1) {
		// 00:30 UTC is before 09:00 in Beijing and in Berlin: nothing of
		// the day may be sent then. 02:00 UTC is 10:00 in Beijing,
		// 10:00 UTC is 11:00 or 12:00 in Berlin.
		hours := []time.Duration{30 * time.Minute, 2 * time.Hour, 6 * time.Hour, 10 * time.Hour}
		if n%11 == 0 {
			hours = hours[:0]
			for h := range 24 {
				hours = append(hours, time.Duration(h)*time.Hour)
			}
		}
		n++
		for _, h := range hours {
			e.clock.Set(day.Add(h))
			if h == 6*time.Hour {
				if act := actions[day.Format(cert.DateLayout)]; act != nil {
					act()
				}
				if _, err := e.svc.SweepDerived(ctx, ""); err != nil {
					t.Fatalf("derived sweep on %s: %v", day.Format(cert.DateLayout), err)
				}
			}
			sweep(h == 2*time.Hour || h == 10*time.Hour)
		}
	}
	if c2 == "" {
		t.Fatal("C was not renewed")
	}

	ids := map[string]*cert.Certificate{"A": a, "B": b, "C": c, "D": d}
	c2c, err := e.st.Certificate(ctx, c2)
	if err != nil {
		t.Fatal(err)
	}
	ids["C2"] = c2c
	got, attempts := rec.snapshot()
	wantIDs := map[string]expected{}
	for _, w := range want {
		wantIDs[ids[w.cert].ID+"/reminder/"+w.occasion] = w
	}
	for id, w := range wantIDs {
		ev, ok := got[id]
		if !ok {
			t.Errorf("%s %s (%s): not sent", w.cert, w.occasion, w.day)
			continue
		}
		loc := ids[w.cert].Location()
		if day := ev.RecordedAt.In(loc).Format(cert.DateLayout); day != w.day {
			t.Errorf("%s %s: first sent on %s, want %s", w.cert, w.occasion, day, w.day)
		}
		if at := ev.At.In(loc).Format("2006-01-02 15:04"); at != w.day+" 09:00" {
			t.Errorf("%s %s: At = %s, want %s 09:00 in %s", w.cert, w.occasion, at, w.day, loc)
		}
		if ev.Type != w.typ || ev.Certificate == nil || ev.Certificate.ID != ids[w.cert].ID || ev.Event != nil {
			t.Errorf("%s %s: type %q, certificate %v, event %v; want %q, %s, nil", w.cert, w.occasion, ev.Type, ev.Certificate != nil, ev.Event, w.typ, ids[w.cert].ID)
		}
		if ev.Reminder == nil {
			t.Errorf("%s %s: no Reminder", w.cert, w.occasion)
			continue
		}
		if due := ev.Reminder.Due.In(loc).Format("2006-01-02 15:04"); due != w.due+" 00:00" || ev.Reminder.Occasion != w.occasion || ev.Reminder.DaysBefore != w.daysBefore {
			t.Errorf("%s %s: reminder %s due %s, %d days before; want due %s 00:00 in %s, %d days", w.cert, w.occasion, ev.Reminder.Occasion, due, ev.Reminder.DaysBefore, w.due, loc, w.daysBefore)
		}
		// Every sweep of the day after 09:00 hands it on again (the
		// Sweeper keeps no state): the sinks' idempotency makes it one.
		if attempts[id] < 2 {
			t.Errorf("%s %s: handed on %d times, want at least 2 (two sweepers)", w.cert, w.occasion, attempts[id])
		}
	}
	names := map[string]string{}
	for name, c := range ids {
		names[c.ID] = name
	}
	var extra []string
	for id, ev := range got {
		if _, ok := wantIDs[id]; !ok {
			extra = append(extra, fmt.Sprintf("%s %s on %s", names[ev.Certificate.ID], ev.Reminder.Occasion, ev.RecordedAt.In(ev.Certificate.Location()).Format(cert.DateLayout)))
		}
	}
	sort.Strings(extra)
	if len(extra) > 0 {
		t.Errorf("unexpected reminders:\n%s", strings.Join(extra, "\n"))
	}
	perIssuer := map[string]int{}
	for _, w := range want {
		perIssuer[ids[w.cert].Issuer]++
	}
	for is, hook := range hooks {
		ds, err := e.st.Deliveries(ctx, hook, 1000)
		if err != nil {
			t.Fatal(err)
		}
		types := map[string]int{}
		for _, d := range ds {
			types[d.EventType]++
		}
		if len(ds) != perIssuer[is] {
			t.Errorf("webhook of %s: %d deliveries in the store (%v), want %d: one per reminder", is, len(ds), types, perIssuer[is])
		}
	}
	// The scheme did what the reminders announced.
	for _, s := range []struct {
		name string
		c    *cert.Certificate
		want cert.Status
	}{{"A", a, cert.StatusCancelled}, {"B", b, cert.StatusWithdrawn}, {"C", c, cert.StatusSuperseded}, {"D", d, cert.StatusExpired}} {
		cur, err := e.st.Certificate(ctx, s.c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if st := e.svc.StatusOf(cur); st.Status != s.want {
			t.Errorf("%s: status %s at the end, want %s", s.name, st.Status, s.want)
		}
	}
}
