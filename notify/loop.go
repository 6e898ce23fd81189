package notify

import (
	"log/slog"
	"sync"
	"time"
)

// stamp reads the clock now (time.Now when nil) as notify stores times:
// UTC, whole milliseconds.
func stamp(now func() time.Time) time.Time {
	if now == nil {
		now = time.Now
	}
	return now().UTC().Truncate(time.Millisecond)
}

// orDiscard is l, or a logger that drops everything.
func orDiscard(l *slog.Logger) *slog.Logger {
	if l != nil {
		return l
	}
	return slog.New(slog.DiscardHandler)
}

// waker lets a polling loop be woken before its next tick; the zero value
// is ready. Wakes while the loop is busy collapse into one.
type waker struct {
	once sync.Once
	c    chan struct{}
}

// Wake makes the running loop look for work now rather than at its next
// tick.
func (w *waker) Wake() {
	select {
	case w.ch() <- struct{}{}:
	default:
	}
}

func (w *waker) ch() chan struct{} {
	w.once.Do(func() { w.c = make(chan struct{}, 1) })
	return w.c
}
