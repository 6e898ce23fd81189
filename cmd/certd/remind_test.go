package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/notify"
)

// The server sweeps for reminders by itself and hands them to the sinks
// of Main (which get the certificate events of the outbox too).
func TestServerSendsReminders(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 6, 1, 2, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	got := map[string]notify.Event{}
	sink := notify.SinkFunc(func(_ context.Context, ev notify.Event, _ time.Time) error {
		mu.Lock()
		defer mu.Unlock()
		if ev.Reminder != nil { // the sinks also get the certificate's events
			got[ev.ID] = ev
		}
		return nil
	})
	ts := startServer(t, "", withClock(clock), func(m *Main) {
		m.Config.ReminderInterval = 20 * time.Millisecond
		m.Sinks = []notify.Sink{sink}
	})
	req := sampleCertificate("default", testUSCC)
	req["validFrom"] = "2026-06-01"
	r := ts.do("POST", "/api/v1/certificates", ts.Admin, req)
	if r.Status != http.StatusCreated {
		t.Fatalf("issue: %d %s", r.Status, r.Body)
	}
	id := r.JSON(t)["id"].(string)
	// The first surveillance window opens 9 months later, on 2027-03-01;
	// 02:00 UTC is 10:00 in Beijing, after the reminders' hour.
	mu.Lock()
	now = time.Date(2027, 3, 1, 2, 0, 0, 0, time.UTC)
	mu.Unlock()
	want := notify.ReminderEventID(id, "surveillance-open-1")
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		ev, ok := got[want]
		n := len(got)
		mu.Unlock()
		if ok {
			if ev.Type != cert.WebhookReminderSurveillance || ev.Reminder == nil || ev.Reminder.Due.UTC().Format(time.RFC3339) != "2027-05-31T16:00:00Z" || n != 1 {
				t.Errorf("reminder %+v (%d in all), want surveillance-open-1 due 2027-06-01 00:00 Beijing and nothing else", ev, n)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no reminder %s handed to the sinks; got %d others", want, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestReminderIntervalFlag(t *testing.T) {
	for _, tc := range []struct {
		name, value string
		want        time.Duration
		fail        bool
	}{
		{"ok/default", "", time.Hour, false},
		{"ok/minutes", "15m", 15 * time.Minute, false},
		{"fail/zero", "0s", 0, true},
		{"fail/over-a-day", "25h", 0, true},
		{"fail/word", "hourly", 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"--data-dir", t.TempDir()}
			if tc.value != "" {
				args = append(args, "--reminder-interval", tc.value)
			}
			cfg, err := ParseConfig(args, func(string) string { return "" }, io.Discard)
			if tc.fail {
				if err == nil || !strings.Contains(err.Error(), "--reminder-interval") {
					t.Errorf("--reminder-interval %s: err %v, want one naming the flag", tc.value, err)
				}
				return
			}
			if err != nil || cfg.ReminderInterval != tc.want {
				t.Errorf("--reminder-interval %q: %v, %v; want %v", tc.value, cfg.ReminderInterval, err, tc.want)
			}
		})
	}
}
