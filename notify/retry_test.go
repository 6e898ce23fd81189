package notify

import (
	"errors"
	"testing"
	"time"
)

func TestClassify(t *testing.T) {
	cases := []struct {
		name string
		resp *Response
		err  error
		want Outcome
	}{
		{"ok/200", &Response{Status: 200}, nil, Delivered},
		{"ok/204", &Response{Status: 204}, nil, Delivered},
		{"ok/299", &Response{Status: 299}, nil, Delivered},
		{"gone/410", &Response{Status: 410}, nil, Gone},
		{"retry/301", &Response{Status: 301}, nil, Retry},
		{"retry/400", &Response{Status: 400}, nil, Retry},
		{"retry/404", &Response{Status: 404}, nil, Retry},
		{"retry/429", &Response{Status: 429}, nil, Retry},
		{"retry/500", &Response{Status: 500}, nil, Retry},
		{"retry/error", nil, errors.New("connection refused"), Retry},
		{"retry/refused", nil, ErrRefused, Retry},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := Classify(tc.resp, tc.err); got != tc.want {
				t.Errorf("Classify = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestNextAttempt(t *testing.T) {
	created := time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		name     string
		sinceNew time.Duration // now - created
		attempts int
		r        float64
		want     time.Duration // next - now; 0 when giving up
	}{
		{"first/5s", 0, 1, 0, 5 * time.Second},
		{"second/30s", 5 * time.Second, 2, 0, 30 * time.Second},
		{"third/2m", time.Minute, 3, 0, 2 * time.Minute},
		{"fourth/10m", 3 * time.Minute, 4, 0, 10 * time.Minute},
		{"fifth/30m", 13 * time.Minute, 5, 0, 30 * time.Minute},
		{"sixth/2h", 43 * time.Minute, 6, 0, 2 * time.Hour},
		{"seventh/6h", 3 * time.Hour, 7, 0, 6 * time.Hour},
		{"twelfth/6h", 30 * time.Hour, 12, 0, 6 * time.Hour},
		{"jitter/max-tenth", 0, 1, 0.999999, 5*time.Second + 499999500*time.Nanosecond},
		{"jitter/6h-tenth", 3 * time.Hour, 7, 0.5, 6*time.Hour + 18*time.Minute},
		{"jitter/clamped", 0, 1, 7, 5*time.Second + 500*time.Millisecond},
		{"last/exactly-3-days", 66 * time.Hour, 15, 0, 6 * time.Hour},
		{"give-up/after-3-days", 67 * time.Hour, 15, 0, 0},
		{"give-up/jitter-past-3-days", 66 * time.Hour, 15, 0.5, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			now := created.Add(tc.sinceNew)
			next, ok := NextAttempt(created, now, tc.attempts, tc.r)
			if tc.want == 0 {
				if ok {
					t.Errorf("NextAttempt = %v, want give up", next.Sub(now))
				}
				return
			}
			if !ok || next.Sub(now) != tc.want {
				t.Errorf("NextAttempt = %v (ok %v), want %v", next.Sub(now), ok, tc.want)
			}
		})
	}
}

// TestScheduleLastsThreeDays follows the schedule without jitter from the
// first failure to giving up.
func TestScheduleLastsThreeDays(t *testing.T) {
	created := time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)
	now, n := created, 1
	for {
		next, ok := NextAttempt(created, now, n, 0)
		if !ok {
			break
		}
		now, n = next, n+1
		if n > 100 {
			t.Fatal("the schedule never gives up")
		}
	}
	if age := now.Sub(created); age > MaxAge || age < MaxAge-steadyInterval {
		t.Errorf("last attempt %v after creation, want within the last 6 h of 72 h", age)
	}
	if n != 18 {
		t.Errorf("attempts = %d, want 18", n)
	}
}
