package main

import (
	"context"
	"time"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/remind"
	"github.com/certd/certd/store"
)

// reminders is the reminder sweep of one instance.
type reminders struct {
	stop context.CancelFunc
	done chan struct{}
}

// startReminders sweeps for due reminders (and report deadlines that
// approach) at start and then every --reminder-interval, until Close,
// handing reminders to m.Sinks. Every
// instance sweeps: the sinks' delivery ids (from the reminder's event id)
// store each reminder once.
func (m *Main) startReminders(st store.Store, schemes cert.Schemes) {
	interval := m.Config.ReminderInterval
	if interval <= 0 {
		interval = time.Hour
	}
	sw := &remind.Sweeper{Store: st, Schemes: schemes, Sinks: m.Sinks, Now: m.Now}
	m.Reminders = sw
	ctx, stop := context.WithCancel(context.Background())
	m.reminders = reminders{stop: stop, done: make(chan struct{})}
	go func() {
		defer close(m.reminders.done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			n, err := sw.Sweep(ctx)
			switch {
			case ctx.Err() != nil:
				return
			case err != nil:
				m.Logger.Warn("reminder sweep", "error", err.Error(), "reminders", n)
			case n > 0:
				m.Logger.Info("reminder sweep", "reminders", n)
			}
			// Report deadlines approaching: one staff alert per period,
			// target and admin, however often this runs.
			if m.Deadlines != nil {
				if n, err := m.Deadlines.Alert(ctx); err != nil && ctx.Err() == nil {
					m.Logger.Warn("report deadline alerts", "error", err.Error(), "alerts", n)
				} else if n > 0 {
					m.Logger.Info("report deadline alerts", "alerts", n)
				}
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
}

// stopReminders ends the sweep; a reminder not yet handed on is found
// again by the next sweep (of this or another instance).
func (m *Main) stopReminders() {
	if m.reminders.stop == nil {
		return
	}
	m.reminders.stop()
	<-m.reminders.done
	m.reminders.stop = nil
}
