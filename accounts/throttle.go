package accounts

import (
	"sync"
	"time"
)

// ipThrottle counts failed sign-ins per client address in a window and
// refuses an address past its limit until the window ends. It holds at
// most max addresses: when full it forgets ended windows, then any entry,
// so that a flood of addresses cannot grow it without bound.
type ipThrottle struct {
	mu     sync.Mutex
	limit  int
	window time.Duration
	max    int
	seen   map[string]*ipEntry
}

type ipEntry struct {
	failures int
	start    time.Time
}

func newIPThrottle(limit int, window time.Duration, max int) *ipThrottle {
	return &ipThrottle{limit: limit, window: window, max: max, seen: make(map[string]*ipEntry)}
}

// blocked reports whether ip is past its limit at now.
func (t *ipThrottle) blocked(ip string, now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.seen[ip]
	return e != nil && now.Sub(e.start) < t.window && e.failures >= t.limit
}

// fail records a failed attempt from ip at now.
func (t *ipThrottle) fail(ip string, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.seen[ip]
	if e == nil || now.Sub(e.start) >= t.window {
		if e == nil && len(t.seen) >= t.max {
			t.evict(now)
		}
		e = &ipEntry{start: now}
		t.seen[ip] = e
	}
	e.failures++
}

func (t *ipThrottle) evict(now time.Time) {
	for ip, e := range t.seen {
		if now.Sub(e.start) >= t.window {
			delete(t.seen, ip)
		}
	}
	for ip := range t.seen {
		if len(t.seen) < t.max {
			return
		}
		delete(t.seen, ip)
	}
}
