package remind_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/notify"
)

// TestCatchUp: a reminder missed by a downtime of up to CatchUp is sent
// at the first sweep after it; one missed by a longer downtime is not
// sent late.
func TestCatchUp(t *testing.T) {
	start := time.Date(2025, 3, 10, 2, 0, 0, 0, time.UTC)
	e := newEnv(t, start)
	cb := e.createIssuer(t, "cb", "Asia/Shanghai", "ITSS")
	c := e.issue(t, cb, "itss", "2025-03-10")
	rec := newRecorder()
	sw := e.sweeper(rec)
	down := func(day time.Time) bool {
		d := day.Format(cert.DateLayout)
		// 10 days down around surveillance-open-1 (2025-12-10), 2 days
		// around surveillance-close-1-30d (2026-02-08).
		return (d >= "2025-12-05" && d < "2025-12-20") || (d >= "2026-02-07" && d < "2026-02-10")
	}
	for day := start; day.Before(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)); day = day.AddDate(0, 0, 1) {
		if down(day) {
			continue
		}
		e.clock.Set(day)
		if _, err := sw.Sweep(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	got, _ := rec.snapshot()
	if ev, ok := got[notify.ReminderEventID(c.ID, "surveillance-open-1")]; ok {
		t.Errorf("surveillance-open-1 sent on %s, 10 days late; want not sent (catch-up is 7 days)", ev.RecordedAt.In(c.Location()).Format(cert.DateLayout))
	}
	ev, ok := got[notify.ReminderEventID(c.ID, "surveillance-close-1-30d")]
	if !ok {
		t.Fatalf("surveillance-close-1-30d not sent after a downtime of 3 days; got %d reminders", len(got))
	}
	if day := ev.RecordedAt.In(c.Location()).Format(cert.DateLayout); day != "2026-02-10" {
		t.Errorf("surveillance-close-1-30d sent on %s, want 2026-02-10 (the first sweep after the downtime)", day)
	}
	if at := ev.At.In(c.Location()).Format("2006-01-02 15:04"); at != "2026-02-08 09:00" {
		t.Errorf("At = %s, want the occasion's instant 2026-02-08 09:00", at)
	}
	if len(got) != 1 {
		t.Errorf("got %d reminders, want 1: %v", len(got), got)
	}
}

// TestSinkFailure: a sink that fails is not the end of the reminder: the
// sweep reports the error, the other sinks still receive the event, and
// the next sweep hands it on again.
func TestSinkFailure(t *testing.T) {
	start := time.Date(2025, 3, 10, 2, 0, 0, 0, time.UTC)
	e := newEnv(t, start)
	cb := e.createIssuer(t, "cb", "Asia/Shanghai", "ITSS")
	c := e.issue(t, cb, "itss", "2025-03-10")
	rec, other := newRecorder(), newRecorder()
	fails := 1
	flaky := notify.SinkFunc(func(ctx context.Context, ev notify.Event, now time.Time) error {
		if fails > 0 {
			fails--
			return errors.New("store unavailable")
		}
		return rec.Enqueue(ctx, ev, now)
	})
	sw := e.sweeper(flaky, other)
	e.clock.Set(time.Date(2025, 12, 10, 2, 0, 0, 0, time.UTC))
	id := notify.ReminderEventID(c.ID, "surveillance-open-1")
	n, err := sw.Sweep(context.Background())
	if err == nil || n != 0 {
		t.Fatalf("sweep with a failing sink: n=%d err=%v, want 0 and an error", n, err)
	}
	if _, a := other.snapshot(); a[id] != 1 {
		t.Errorf("the other sink got the event %d times, want 1", a[id])
	}
	e.clock.Set(time.Date(2025, 12, 10, 3, 0, 0, 0, time.UTC))
	if n, err := sw.Sweep(context.Background()); err != nil || n != 1 {
		t.Fatalf("second sweep: n=%d err=%v, want 1 reminder", n, err)
	}
	if got, _ := rec.snapshot(); got[id].ID != id {
		t.Errorf("the failing sink did not get %s on the next sweep", id)
	}
}
