package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/certd/certd/mail"
	"github.com/certd/certd/notify"
	"github.com/certd/certd/store"
)

// DefaultDeliveryInterval is how often an idle instance looks for due
// deliveries; a round that finds work is followed at once by the next, and
// the dispatcher wakes the worker when it enqueued something.
const DefaultDeliveryInterval = 2 * time.Second

// DefaultDispatchInterval is how often an idle instance looks at the
// outbox for changes made by other instances; changes made through this
// instance wake its dispatcher at once.
const DefaultDispatchInterval = 250 * time.Millisecond

// notifications are the outbox dispatcher and the delivery worker of one
// instance (DESIGN section 12).
type notifications struct {
	dispatcher *notify.Dispatcher
	worker     *notify.Worker
	stop       context.CancelFunc
	done       sync.WaitGroup
}

// leaseOwner names this instance in the store's leases.
func leaseOwner() string {
	host, _ := os.Hostname()
	var nonce [6]byte
	_, _ = rand.Read(nonce[:])
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(nonce[:]))
}

// newNotifications builds the dispatcher and the worker; their sinks are
// set by startNotifications once the API exists.
func (m *Main) newNotifications(st store.Store, secrets notify.SecretBox) {
	owner := leaseOwner()
	w := &notify.Worker{
		Store: st, Secrets: secrets,
		Alerts: &notify.StaffAlerts{Store: st, Now: m.Now},
		Client: notify.NewClient(notify.ClientOptions{
			AllowHTTP: m.Config.AllowHTTPWebhooks, AllowPrivate: m.Config.AllowPrivateWebhooks,
		}),
		Owner: owner,
		Now:   m.Now,
		Log:   m.Logger,
	}
	d := &notify.Dispatcher{Store: st, Owner: owner, Now: m.Now, Log: m.Logger, Dispatched: w.Wake}
	m.notifications = &notifications{dispatcher: d, worker: w}
}

// wakeDispatcher is called after every certificate write of this
// instance.
func (m *Main) wakeDispatcher() {
	if m.notifications != nil {
		m.notifications.dispatcher.Wake()
	}
}

// setMailer gives the worker the sender of e-mail deliveries (none
// without --smtp-url: the outbox then records them as not sent).
func (m *Main) setMailer(mailer *mail.Sender) {
	if mailer != nil { // a nil *mail.Sender is not a nil notify.Mailer
		m.notifications.worker.Mailer = mailer
	}
}

// startNotifications runs the dispatcher and the worker until Close. Every
// instance runs both; the store's leases keep them off each other's work,
// and whatever was due while certd was down is taken on the first round.
func (m *Main) startNotifications(sinks []notify.Sink) {
	n := m.notifications
	n.dispatcher.Sinks = sinks
	ctx, stop := context.WithCancel(context.Background())
	n.stop = stop
	n.done.Add(2)
	go func() {
		defer n.done.Done()
		n.dispatcher.Run(ctx, DefaultDispatchInterval)
	}()
	go func() {
		defer n.done.Done()
		// Admins not yet told of a webhook certd disabled (an instance
		// stopped in between) are told now; nothing is told twice.
		if _, err := n.worker.Alerts.Resume(ctx); err != nil && ctx.Err() == nil {
			m.Logger.Warn("tell the admins of disabled webhooks", "error", err.Error())
		}
		n.worker.Run(ctx, DefaultDeliveryInterval)
	}()
}

// stopNotifications ends both; work in flight is abandoned and its lease
// lets another round take it again.
func (m *Main) stopNotifications() {
	n := m.notifications
	if n == nil || n.stop == nil {
		return
	}
	n.stop()
	n.done.Wait()
	n.stop = nil
}
