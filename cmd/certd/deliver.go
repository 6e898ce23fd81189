package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"time"

	"github.com/certd/certd/mail"
	"github.com/certd/certd/notify"
	"github.com/certd/certd/store"
)

// DefaultDeliveryInterval is how often an idle instance looks for due
// webhook deliveries; a round that finds work is followed at once by the
// next.
const DefaultDeliveryInterval = 2 * time.Second

// deliveries is the webhook worker of one instance.
type deliveries struct {
	stop context.CancelFunc
	done chan struct{}
}

// startDeliveries runs the webhook worker until Close. Every instance
// runs one; the store's leases keep them off each other's deliveries, and
// deliveries due while certd was down are taken on the first round.
func (m *Main) startDeliveries(st store.Store, mailer *mail.Sender) {
	host, _ := os.Hostname()
	var nonce [6]byte
	_, _ = rand.Read(nonce[:])
	w := &notify.Worker{
		Store: st,
		Client: notify.NewClient(notify.ClientOptions{
			AllowHTTP: m.Config.AllowHTTPWebhooks, AllowPrivate: m.Config.AllowPrivateWebhooks,
		}),
		Owner: fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(nonce[:])),
		Now:   m.Now,
		Log:   m.Logger,
	}
	if mailer != nil {
		w.Mailer = mailer
	}
	ctx, stop := context.WithCancel(context.Background())
	m.deliveries = deliveries{stop: stop, done: make(chan struct{})}
	go func() {
		defer close(m.deliveries.done)
		w.Run(ctx, DefaultDeliveryInterval)
	}()
}

// stopDeliveries ends the worker; an attempt in flight is abandoned and
// its lease lets another round take it again.
func (m *Main) stopDeliveries() {
	if m.deliveries.stop == nil {
		return
	}
	m.deliveries.stop()
	<-m.deliveries.done
	m.deliveries.stop = nil
}
