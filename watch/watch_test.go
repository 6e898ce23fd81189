package watch_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/notify"
	"github.com/certd/certd/store"
	"github.com/certd/certd/store/bolt"
	"github.com/certd/certd/store/storetest"
	"github.com/certd/certd/watch"
)

const publicURL = "https://verify.example.cn"

type clock struct{ t time.Time }

func (c *clock) Now() time.Time { return c.t }

func openStore(t *testing.T) *bolt.Store {
	t.Helper()
	s, err := bolt.Open(filepath.Join(t.TempDir(), "certd.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

type fixture struct {
	t     *testing.T
	st    *bolt.Store
	clock *clock
	svc   *watch.Service
	sink  *watch.Sink
}

func newFixture(t *testing.T) *fixture {
	st := openStore(t)
	clk := &clock{t: time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)}
	return &fixture{
		t: t, st: st, clock: clk,
		svc:  &watch.Service{Store: st, PublicURL: publicURL, Now: clk.Now},
		sink: &watch.Sink{Store: st, PublicURL: publicURL},
	}
}

func (f *fixture) certificate() *cert.Certificate {
	f.t.Helper()
	c := storetest.NewCertificate(f.t, "cb")
	if err := f.st.CreateCertificate(f.t.Context(), c); err != nil {
		f.t.Fatal(err)
	}
	return c
}

// pending lists every pending delivery in the outbox (leasing them).
func (f *fixture) drain() []*cert.Delivery {
	f.t.Helper()
	now := f.clock.Now().Add(time.Minute)
	ds, err := f.st.LeaseDeliveries(f.t.Context(), "test", now, now.Add(time.Minute), 1000)
	if err != nil {
		f.t.Fatal(err)
	}
	for _, d := range ds {
		d.Status = cert.DeliveryDelivered
		if err := f.st.FinishAttempt(f.t.Context(), d, "test"); err != nil {
			f.t.Fatal(err)
		}
	}
	return ds
}

func job(t testing.TB, d *cert.Delivery) notify.MailJob {
	t.Helper()
	var j notify.MailJob
	if err := json.Unmarshal(d.Payload, &j); err != nil {
		t.Fatal(err)
	}
	return j
}

func tokenOf(t testing.TB, link string) string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get("token")
}

// event records a status change on c and returns its notify.Event.
func (f *fixture) event(c *cert.Certificate, typ cert.EventType, status cert.Status) notify.Event {
	f.t.Helper()
	now := f.clock.Now()
	e := cert.Event{Seq: len(c.Events) + 1, Type: typ, At: now, RecordedAt: now, Actor: "test", Status: status}
	c.Events = append(c.Events, e)
	wt, ok := notify.EventType(&e)
	if !ok {
		wt = ""
	}
	return notify.Event{ID: notify.CertificateEventID(c.ID, e.Seq), Type: wt, Certificate: c, Event: &e, At: now, RecordedAt: now}
}

// The whole e-mail flow: subscribe → one confirmation mail and nothing
// else → confirm → a suspension gives exactly one notification (also when
// enqueued twice) → one-click unsubscribe → the next change gives none.
func TestSubscribeConfirmNotifyUnsubscribe(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	c := f.certificate()

	out, err := f.svc.Subscribe(ctx, c.ID, "  Reader@Example.COM ", "192.0.2.10")
	if err != nil || out != watch.Sent {
		t.Fatalf("Subscribe = %v, %v", out, err)
	}
	ds := f.drain()
	if len(ds) != 1 {
		t.Fatalf("deliveries after subscribe = %d, want 1", len(ds))
	}
	d := ds[0]
	j := job(t, d)
	if !d.IsEmail() || d.To != "reader@example.com" || j.Kind != notify.MailWatchConfirm || j.Certificate != c.ID ||
		!strings.HasPrefix(j.ConfirmURL, publicURL+"/watch/confirm?token=") {
		t.Fatalf("confirmation delivery %+v job %+v", d, j)
	}
	confirmToken := tokenOf(t, j.ConfirmURL)

	// Unconfirmed: a suspension sends nothing.
	f.clock.t = f.clock.t.Add(time.Hour)
	if err := f.sink.Enqueue(ctx, f.event(c, cert.EventSuspended, ""), f.clock.Now()); err != nil {
		t.Fatal(err)
	}
	if ds := f.drain(); len(ds) != 0 {
		t.Fatalf("an unconfirmed address got %d deliveries", len(ds))
	}

	// A link scanner's wrong token confirms nothing. (The last character
	// of a 32-byte token takes one of 16 values: change it to another.)
	wrong := confirmToken[:42] + "A"
	if wrong == confirmToken {
		wrong = confirmToken[:42] + "E"
	}
	if err := f.svc.Confirm(ctx, wrong); !errors.Is(err, watch.ErrTokenInvalid) {
		t.Errorf("Confirm(wrong token) = %v, want ErrTokenInvalid", err)
	}
	if err := f.svc.Confirm(ctx, confirmToken); err != nil {
		t.Fatalf("Confirm = %v", err)
	}
	if err := f.svc.Confirm(ctx, confirmToken); !errors.Is(err, watch.ErrTokenInvalid) {
		t.Errorf("second Confirm = %v, want ErrTokenInvalid (used)", err)
	}

	f.clock.t = f.clock.t.Add(time.Hour)
	ev2 := f.event(c, cert.EventSuspended, "")
	for range 2 { // enqueued twice: after a crash, by two instances
		if err := f.sink.Enqueue(ctx, ev2, f.clock.Now()); err != nil {
			t.Fatal(err)
		}
	}
	ds = f.drain()
	if len(ds) != 1 {
		t.Fatalf("deliveries after the suspension = %d, want 1", len(ds))
	}
	j = job(t, ds[0])
	if ds[0].To != "reader@example.com" || j.Kind != notify.MailWatchEvent || j.Type != cert.WebhookCertificateSuspended ||
		j.Certificate != c.ID || !strings.HasPrefix(j.UnsubscribeURL, publicURL+"/watch/unsubscribe?token=") {
		t.Fatalf("notification %+v job %+v", ds[0], j)
	}
	if ds[0].ID != notify.DeliveryID(ev2.ID, "watch:"+mustOne(t, f.st, c.ID).ID) {
		t.Errorf("delivery id %s is not DeliveryID(event, watch:<subscription>)", ds[0].ID)
	}

	if err := f.svc.Unsubscribe(ctx, tokenOf(t, j.UnsubscribeURL)); err != nil {
		t.Fatal(err)
	}
	if ws, _ := f.st.WatchesOfCertificate(ctx, c.ID); len(ws) != 0 {
		t.Fatalf("after unsubscribe %d watches remain", len(ws))
	}
	if err := f.svc.Unsubscribe(ctx, tokenOf(t, j.UnsubscribeURL)); err != nil {
		t.Errorf("unsubscribe again = %v, want nil (the same answer)", err)
	}
	f.clock.t = f.clock.t.Add(time.Hour)
	if err := f.sink.Enqueue(ctx, f.event(c, cert.EventWithdrawn, ""), f.clock.Now()); err != nil {
		t.Fatal(err)
	}
	if ds := f.drain(); len(ds) != 0 {
		t.Fatalf("after unsubscribe %d deliveries", len(ds))
	}
}

func mustOne(t testing.TB, st store.Watches, certID string) *cert.Watch {
	t.Helper()
	ws, err := st.WatchesOfCertificate(context.Background(), certID)
	if err != nil || len(ws) != 1 {
		t.Fatalf("watches of %s: %d, %v", certID, len(ws), err)
	}
	return ws[0]
}

func TestSinkTypes(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	c := f.certificate()
	confirmed(t, f, c.ID, "a@example.com")
	f.clock.t = f.clock.t.Add(time.Hour)
	for _, typ := range []cert.EventType{cert.EventIssued, cert.EventSurveillancePassed, cert.EventSurveillanceFailed} {
		if err := f.sink.Enqueue(ctx, f.event(c, typ, ""), f.clock.Now()); err != nil {
			t.Fatal(err)
		}
	}
	reminder := notify.Event{ID: notify.ReminderEventID(c.ID, "expiry-90d"), Type: cert.WebhookReminderExpiry, Certificate: c,
		Reminder: &notify.Reminder{Occasion: "expiry-90d"}, At: f.clock.Now(), RecordedAt: f.clock.Now()}
	if err := f.sink.Enqueue(ctx, reminder, f.clock.Now()); err != nil {
		t.Fatal(err)
	}
	if ds := f.drain(); len(ds) != 0 {
		t.Fatalf("issuance, surveillance and reminders gave %d deliveries", len(ds))
	}
	for _, e := range []struct {
		typ    cert.EventType
		status cert.Status
	}{{cert.EventStatusChanged, cert.StatusExpired}, {cert.EventCancelled, ""}} {
		if err := f.sink.Enqueue(ctx, f.event(c, e.typ, e.status), f.clock.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if ds := f.drain(); len(ds) != 2 {
		t.Fatalf("expiry and cancellation gave %d deliveries, want 2", len(ds))
	}
}

// confirmed subscribes an address and confirms it.
func confirmed(t *testing.T, f *fixture, certID, email string) {
	t.Helper()
	if _, err := f.svc.Subscribe(t.Context(), certID, email, "198.51.100.7"); err != nil {
		t.Fatal(err)
	}
	ds := f.drain()
	if len(ds) != 1 {
		t.Fatalf("confirmation deliveries = %d", len(ds))
	}
	if err := f.svc.Confirm(t.Context(), tokenOf(t, job(t, ds[0]).ConfirmURL)); err != nil {
		t.Fatal(err)
	}
}

// A subscription confirmed after a change was recorded does not get it.
func TestSinkOnlyAfterConfirmation(t *testing.T) {
	f := newFixture(t)
	c := f.certificate()
	ev := f.event(c, cert.EventSuspended, "")
	f.clock.t = f.clock.t.Add(time.Minute)
	confirmed(t, f, c.ID, "a@example.com")
	if err := f.sink.Enqueue(t.Context(), ev, f.clock.Now()); err != nil {
		t.Fatal(err)
	}
	if ds := f.drain(); len(ds) != 0 {
		t.Fatalf("an event recorded before the confirmation was sent (%d)", len(ds))
	}
}

// A watch on a certificate carries to its successor after a renewal (and
// a second one): the successor's suspension reaches the watcher.
func TestRenewalCarriesTheWatch(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	old := f.certificate()
	confirmed(t, f, old.ID, "a@example.com")
	f.clock.t = f.clock.t.Add(time.Hour)
	next := f.certificate()
	next.Supersedes = old.ID
	third := f.certificate()
	third.Supersedes = next.ID
	for _, c := range []*cert.Certificate{next, third} {
		if err := f.st.UpdateCertificate(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.sink.Enqueue(ctx, f.event(old, cert.EventRenewed, ""), f.clock.Now()); err != nil {
		t.Fatal(err)
	}
	if err := f.sink.Enqueue(ctx, f.event(third, cert.EventSuspended, ""), f.clock.Now()); err != nil {
		t.Fatal(err)
	}
	ds := f.drain()
	if len(ds) != 2 {
		t.Fatalf("deliveries = %d, want 2 (renewed, then the successor's suspension)", len(ds))
	}
	types := map[string]string{}
	for _, d := range ds {
		j := job(t, d)
		types[j.Type] = j.Certificate
	}
	if types[cert.WebhookCertificateRenewed] != old.ID || types[cert.WebhookCertificateSuspended] != third.ID {
		t.Errorf("notifications %v", types)
	}
}

func TestSubscribeLimits(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	var certs []*cert.Certificate
	for range 5 {
		certs = append(certs, f.certificate())
	}
	// At most 3 pending confirmations per address (from several clients).
	for i, c := range certs {
		out, err := f.svc.Subscribe(ctx, c.ID, "a@example.com", fmt.Sprintf("203.0.113.%d", i))
		want := watch.Sent
		if i >= watch.MaxPendingPerAddress {
			want = watch.LimitedAddress
		}
		if err != nil || out != want {
			t.Errorf("subscription %d = %v, %v; want %v", i, out, err, want)
		}
	}
	if ds := f.drain(); len(ds) != watch.MaxPendingPerAddress {
		t.Fatalf("confirmations = %d, want %d", len(ds), watch.MaxPendingPerAddress)
	}
	// The same request again within the hour sends nothing more.
	if out, _ := f.svc.Subscribe(ctx, certs[0].ID, "a@example.com", "203.0.113.9"); out != watch.Unchanged {
		t.Errorf("repeat = %v, want unchanged", out)
	}
	// After 48 hours the pending ones expired: the address may subscribe
	// again, and the expired confirmation link no longer works.
	f.clock.t = f.clock.t.Add(watch.PendingFor + time.Minute)
	if out, _ := f.svc.Subscribe(ctx, certs[4].ID, "a@example.com", "203.0.113.1"); out != watch.Sent {
		t.Errorf("after expiry = %v, want sent", out)
	}
	f.drain()

	// At most 10 per client network per hour, whatever the addresses.
	f.clock.t = f.clock.t.Add(2 * time.Hour)
	sent := 0
	for i := range watch.MaxPerClientHour + 3 {
		out, err := f.svc.Subscribe(ctx, certs[0].ID, fmt.Sprintf("r%d@example.com", i), "192.0.2.55")
		if err != nil {
			t.Fatal(err)
		}
		if out == watch.Sent {
			sent++
		} else if out != watch.LimitedClient {
			t.Errorf("subscription %d = %v", i, out)
		}
	}
	if sent != watch.MaxPerClientHour || len(f.drain()) != watch.MaxPerClientHour {
		t.Errorf("sent %d from one client in an hour, want %d", sent, watch.MaxPerClientHour)
	}
	f.clock.t = f.clock.t.Add(time.Hour + time.Minute)
	if out, _ := f.svc.Subscribe(ctx, certs[0].ID, "later@example.com", "192.0.2.55"); out != watch.Sent {
		t.Errorf("an hour later = %v, want sent", out)
	}
}

func TestConfirmExpired(t *testing.T) {
	f := newFixture(t)
	c := f.certificate()
	if _, err := f.svc.Subscribe(t.Context(), c.ID, "a@example.com", "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	token := tokenOf(t, job(t, f.drain()[0]).ConfirmURL)
	f.clock.t = f.clock.t.Add(watch.PendingFor)
	if err := f.svc.Confirm(t.Context(), token); !errors.Is(err, watch.ErrTokenInvalid) {
		t.Errorf("Confirm after 48 h = %v, want ErrTokenInvalid", err)
	}
	// The sweep deletes it, address and all.
	if n, err := f.svc.Purge(t.Context()); err != nil || n != 1 {
		t.Errorf("Purge = %d, %v; want 1", n, err)
	}
	if ws, _ := f.st.WatchesOfEmail(t.Context(), "a@example.com"); len(ws) != 0 {
		t.Errorf("the expired subscription's address is still stored")
	}
}

func TestNormalizeEmail(t *testing.T) {
	ok := map[string]string{
		" Name@Example.COM ":      "name@example.com", // one mailbox, one count
		"Zhang.San@例子.example":    "zhang.san@例子.example",
		"a.b+tag@sub.example.cn":  "a.b+tag@sub.example.cn",
		"user@XN--FIQS8S.example": "user@xn--fiqs8s.example",
	}
	for in, want := range ok {
		if got, err := watch.NormalizeEmail(in); err != nil || got != want {
			t.Errorf("NormalizeEmail(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "plain", "@example.com", "a@", "a@localhost", "a@b..c", "a@-b.c", "Name <a@b.cn>",
		"a@b.cn, c@d.cn", "a b@c.cn", "a@b.cn\r\nBcc: x@y.cn", strings.Repeat("a", 65) + "@b.cn", "a@" + strings.Repeat("b", 250) + ".cn", "a@b.cn.",
		// Address literals and IPs: the relay must not be sent to a host.
		"a@[127.0.0.1]", "a@[10.0.0.5]", "a@127.0.0.1", "a@[IPv6:::1]", "a@10.0.0.5"} {
		_, err := watch.NormalizeEmail(bad)
		if !errors.Is(err, cert.ErrInvalid) || !strings.Contains(err.Error(), "email") {
			t.Errorf("NormalizeEmail(%q) = %v, want an invalid email", bad, err)
		}
		if strings.Contains(bad, "b.cn") && strings.Contains(err.Error(), bad) {
			t.Errorf("the error repeats the address: %v", err)
		}
	}
}

func FuzzNormalizeEmail(f *testing.F) {
	for _, s := range []string{"a@b.cn", " A@B.CN ", "a@b", "x<y>@z.cn", "\"q\"@b.cn"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		got, err := watch.NormalizeEmail(raw)
		if err != nil {
			return
		}
		if again, err := watch.NormalizeEmail(got); err != nil || again != got {
			t.Errorf("not idempotent: %q → %q → %q (%v)", raw, got, again, err)
		}
		if strings.ContainsAny(got, " \r\n<>,\"") || len(got) > watch.MaxEmail {
			t.Errorf("accepted %q", got)
		}
	})
}

// Concurrent requests of one address for one certificate (two browser
// tabs, two instances) store one subscription and send one confirmation:
// the store's unique id decides, not a lock here.
func TestSubscribeConcurrent(t *testing.T) {
	f := newFixture(t)
	c := f.certificate()
	const n = 8
	outs := make(chan watch.Outcome, n)
	errs := make(chan error, n)
	for i := range n {
		go func() {
			// Each request has its own service value, as instances would.
			svc := &watch.Service{Store: f.st, PublicURL: publicURL, Now: f.clock.Now}
			out, err := svc.Subscribe(context.Background(), c.ID, "same@example.cn", fmt.Sprintf("192.0.2.%d", i))
			outs <- out
			errs <- err
		}()
	}
	sent := 0
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
		if <-outs == watch.Sent {
			sent++
		}
	}
	if ds := f.drain(); sent != 1 || len(ds) != 1 {
		t.Errorf("sent %d, %d confirmations; want 1", sent, len(ds))
	}
}

// A burst of concurrent subscriptions from one client passes the client's
// limit no more than its count allows.
func TestSubscribeClientLimitUnderConcurrency(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	c := f.certificate()
	const n = 60
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		sent  int
		start = make(chan struct{})
	)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			out, err := f.svc.Subscribe(ctx, c.ID, fmt.Sprintf("a%d@example.org", i), "198.51.100.9")
			if err != nil {
				t.Error(err)
				return
			}
			if out == watch.Sent {
				mu.Lock()
				sent++
				mu.Unlock()
			}
		}()
	}
	close(start)
	wg.Wait()
	if sent > watch.MaxPerClientHour {
		t.Errorf("one client caused %d confirmation mails in one burst; the limit is %d an hour", sent, watch.MaxPerClientHour)
	}
}

// The per-address limit counts every spelling of one mailbox as one.
func TestSubscribeAddressLimitIgnoresCase(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	sent := 0
	for i, addr := range []string{"victim@example.org", "Victim@example.org", "vIctim@example.org", "viCtim@example.org"} {
		for j := range 4 {
			c := f.certificate()
			out, err := f.svc.Subscribe(ctx, c.ID, addr, fmt.Sprintf("203.0.113.%d", i*4+j))
			if err != nil {
				t.Fatal(err)
			}
			if out == watch.Sent {
				sent++
			}
		}
	}
	if sent > watch.MaxPendingPerAddress {
		t.Errorf("one mailbox got %d confirmation mails at once; the limit is %d", sent, watch.MaxPendingPerAddress)
	}
}

// A watch by USCC does not see certificates kept out of public search
// (their own confidential flag, or their organization's at the issuer);
// a watch by id still does.
func TestUSCCWatchSkipsConfidential(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	f.sink.Organizations = f.st
	now := f.clock.Now()
	if err := f.st.CreateAPIKey(ctx, &cert.APIKey{ID: "k1", Hash: "h1", Role: cert.RoleWatcher, CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	hook := &cert.Webhook{ID: "wh-k1", Watcher: "k1", URL: "https://watcher.example/h", Active: true, Secret: "whsec_dGVzdA==", CreatedAt: now, UpdatedAt: now}
	if err := f.st.CreateWebhook(ctx, hook); err != nil {
		t.Fatal(err)
	}
	own, org, open := f.certificate(), f.certificate(), f.certificate()
	own.Confidential = true
	if err := f.st.UpdateCertificate(ctx, own); err != nil {
		t.Fatal(err)
	}
	if err := f.st.SetOrganizationConfidential(ctx, org.Issuer, org.Organization.USCC, true); err != nil {
		t.Fatal(err)
	}
	for i, c := range []*cert.Certificate{own, org, open} {
		w := &cert.Watch{ID: fmt.Sprintf("w%d", i), Watcher: "k1", USCC: c.Organization.USCC, Status: cert.WatchConfirmed, CreatedAt: now, ConfirmedAt: &now}
		if err := f.st.CreateWatch(ctx, w); err != nil {
			t.Fatal(err)
		}
	}
	f.clock.t = f.clock.t.Add(time.Hour)
	for _, c := range []*cert.Certificate{own, org, open} {
		if err := f.sink.Enqueue(ctx, f.event(c, cert.EventSuspended, ""), f.clock.Now()); err != nil {
			t.Fatal(err)
		}
	}
	ds := f.drain()
	if len(ds) != 1 || ds[0].Certificate != open.ID && !strings.Contains(string(ds[0].Payload), open.ID) {
		t.Fatalf("%d deliveries to the USCC watcher, want one, for the public certificate", len(ds))
	}
	for _, c := range []*cert.Certificate{own, org} {
		if strings.Contains(string(ds[0].Payload), c.ID) {
			t.Errorf("the USCC watcher was told of confidential certificate %s", c.ID)
		}
	}
}
