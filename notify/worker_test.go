package notify

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/cert/certtest"
	"github.com/certd/certd/store"
	"github.com/certd/certd/store/bolt"
)

// clock is the fake clock the tests move by hand.
type clock = certtest.Clock

func openStore(t *testing.T) store.Store {
	t.Helper()
	s, err := bolt.Open(filepath.Join(t.TempDir(), "certd.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// hookReceiver is a webhook receiver on 127.0.0.1 that checks every
// delivery's signature with the test's own verifier and answers what
// answer says for the n-th request (1-based).
type hookReceiver struct {
	t      *testing.T
	secret string
	answer func(n int) int
	// byID, when set, answers instead of answer, by webhook-id.
	byID   func(id string) int
	mu     sync.Mutex
	ids    []string
	bodies []string
	bad    int
}

func (h *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	if err := verify(h.secret, r.Header, body); err != nil {
		h.bad++
	}
	h.ids = append(h.ids, r.Header.Get(HeaderID))
	h.bodies = append(h.bodies, string(body))
	n := len(h.ids)
	h.mu.Unlock()
	if h.byID != nil {
		w.WriteHeader(h.byID(r.Header.Get(HeaderID)))
		return
	}
	w.WriteHeader(h.answer(n))
}

func (h *hookReceiver) seen() ([]string, int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.ids...), h.bad
}

type fixture struct {
	store  store.Webhooks
	clock  *clock
	hook   *cert.Webhook
	recv   *hookReceiver
	worker *Worker
}

func newFixture(t *testing.T, allowPrivate bool, answer func(n int) int) *fixture {
	t.Helper()
	s := openStore(t)
	secret, err := NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	recv := &hookReceiver{t: t, secret: secret, answer: answer}
	srv := httptest.NewServer(recv)
	t.Cleanup(srv.Close)
	clk := certtest.NewClock(time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC))
	hook := &cert.Webhook{ID: "wh1", Issuer: "cesa-itss", URL: srv.URL + "/certd", Active: true, Secret: secret,
		CreatedAt: clk.Now(), UpdatedAt: clk.Now()}
	if err := s.CreateWebhook(t.Context(), hook); err != nil {
		t.Fatal(err)
	}
	w := &Worker{
		Store: s, Owner: "instance-1", Now: clk.Now, Jitter: func() float64 { return 0 },
		Client: NewClient(ClientOptions{AllowHTTP: true, AllowPrivate: allowPrivate}),
	}
	return &fixture{store: s, clock: clk, hook: hook, recv: recv, worker: w}
}

func (f *fixture) enqueue(t *testing.T, eventID string) *cert.Delivery {
	t.Helper()
	d, err := NewDelivery(f.hook, eventID, Message{Type: cert.WebhookCertificateWithdrawn, Timestamp: f.clock.Now(),
		Data: map[string]string{"id": eventID, "number": "证书-" + eventID}}, f.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := f.store.EnqueueDelivery(t.Context(), d); err != nil {
		t.Fatal(err)
	}
	return d
}

func (f *fixture) delivery(t *testing.T, id string) *cert.Delivery {
	t.Helper()
	d, err := f.store.Delivery(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func (f *fixture) run(t *testing.T) int {
	t.Helper()
	n, err := f.worker.RunOnce(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestWorkerRetriesWithTheSameID: the receiver fails three times; the
// fourth attempt, on the schedule, succeeds; every attempt carries the
// same webhook-id and a signature the independent verifier accepts.
func TestWorkerRetriesWithTheSameID(t *testing.T) {
	f := newFixture(t, true, func(n int) int {
		if n <= 3 {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	})
	d := f.enqueue(t, "evt-1")
	wantDelays := []time.Duration{5 * time.Second, 30 * time.Second, 2 * time.Minute}
	for i, delay := range wantDelays {
		if n := f.run(t); n != 1 {
			t.Fatalf("round %d attempted %d, want 1", i+1, n)
		}
		got := f.delivery(t, d.ID)
		if got.Status != cert.DeliveryPending || got.Attempts != i+1 || got.LastStatusCode != 500 {
			t.Fatalf("after attempt %d: status %s, attempts %d, code %d", i+1, got.Status, got.Attempts, got.LastStatusCode)
		}
		if next := got.NextAttemptAt.Sub(f.clock.Now()); next != delay {
			t.Errorf("after attempt %d: next in %v, want %v", i+1, next, delay)
		}
		if n := f.run(t); n != 0 {
			t.Errorf("attempted %d before the next attempt was due", n)
		}
		f.clock.Set(got.NextAttemptAt)
	}
	if n := f.run(t); n != 1 {
		t.Fatalf("fourth round attempted %d", n)
	}
	got := f.delivery(t, d.ID)
	if got.Status != cert.DeliveryDelivered || got.Attempts != 4 || got.LastStatusCode != 200 || got.LeaseOwner != "" {
		t.Errorf("after success: %+v", got)
	}
	ids, bad := f.recv.seen()
	if bad != 0 {
		t.Errorf("%d deliveries failed the signature check", bad)
	}
	if len(ids) != 4 {
		t.Fatalf("receiver saw %d requests, want 4", len(ids))
	}
	for _, id := range ids {
		if id != d.ID {
			t.Errorf("webhook-id %q, want %q on every attempt", id, d.ID)
		}
	}
	var m struct {
		Type      string            `json:"type"`
		Timestamp time.Time         `json:"timestamp"`
		Data      map[string]string `json:"data"`
	}
	if err := json.Unmarshal([]byte(f.recv.bodies[0]), &m); err != nil || m.Type != cert.WebhookCertificateWithdrawn || m.Data["number"] != "证书-evt-1" || m.Timestamp.IsZero() {
		t.Errorf("body %s: %+v, %v", f.recv.bodies[0], m, err)
	}
	if n := f.run(t); n != 0 {
		t.Errorf("a delivered delivery was attempted again")
	}
}

func TestWorkerGoneDisablesWebhook(t *testing.T) {
	f := newFixture(t, true, func(int) int { return http.StatusGone })
	d := f.enqueue(t, "evt-1")
	f.run(t)
	got := f.delivery(t, d.ID)
	if got.Status != cert.DeliveryFailed || got.LastStatusCode != 410 {
		t.Errorf("delivery after 410: status %s, code %d", got.Status, got.LastStatusCode)
	}
	hook, _ := f.store.Webhook(t.Context(), "wh1")
	if hook.Active || hook.DisabledReason != "gone" {
		t.Errorf("webhook after 410: active %v, reason %q", hook.Active, hook.DisabledReason)
	}
	// Later deliveries to the disabled webhook fail without a request.
	d2 := f.enqueue(t, "evt-2")
	f.run(t)
	if got := f.delivery(t, d2.ID); got.Status != cert.DeliveryFailed || got.Attempts != 0 {
		t.Errorf("delivery to a disabled webhook: status %s, attempts %d", got.Status, got.Attempts)
	}
	if ids, _ := f.recv.seen(); len(ids) != 1 {
		t.Errorf("receiver saw %d requests, want 1", len(ids))
	}
}

// TestWorkerGivesUpAfterThreeDays follows a receiver that always fails
// through the whole schedule.
func TestWorkerGivesUpAfterThreeDays(t *testing.T) {
	f := newFixture(t, true, func(int) int { return http.StatusServiceUnavailable })
	d := f.enqueue(t, "evt-1")
	for range 40 {
		if f.run(t) == 0 {
			break
		}
		got := f.delivery(t, d.ID)
		if got.Status != cert.DeliveryPending {
			break
		}
		f.clock.Set(got.NextAttemptAt)
	}
	got := f.delivery(t, d.ID)
	if got.Status != cert.DeliveryFailed || got.Attempts != 18 || got.LastStatusCode != 503 {
		t.Errorf("after the schedule: status %s, attempts %d, code %d", got.Status, got.Attempts, got.LastStatusCode)
	}
	if age := got.LastAttemptAt.Sub(got.CreatedAt); age > MaxAge {
		t.Errorf("last attempt %v after creation, past %v", age, MaxAge)
	}
	hook, _ := f.store.Webhook(t.Context(), "wh1")
	if hook.Active || hook.DisabledReason != "failing" {
		t.Errorf("webhook after 3 days of failures: active %v, reason %q", hook.Active, hook.DisabledReason)
	}
}

// TestWorkerRefusesLoopbackReceiver: without AllowPrivate the worker
// never reaches a receiver on 127.0.0.1; the attempt is logged and
// retried like any failure.
func TestWorkerRefusesLoopbackReceiver(t *testing.T) {
	f := newFixture(t, false, func(int) int { return http.StatusOK })
	d := f.enqueue(t, "evt-1")
	f.run(t)
	got := f.delivery(t, d.ID)
	if got.Status != cert.DeliveryPending || got.Attempts != 1 || !strings.Contains(got.LastError, "refused") {
		t.Errorf("after a refused attempt: status %s, attempts %d, error %q", got.Status, got.Attempts, got.LastError)
	}
	if strings.Contains(got.LastError, "127.0.0.1:") && strings.Contains(got.LastError, "/certd") {
		t.Errorf("the log keeps the URL: %q", got.LastError)
	}
	if ids, _ := f.recv.seen(); len(ids) != 0 {
		t.Errorf("receiver saw %d requests, want 0", len(ids))
	}
}

// TestWorkersShareTheStore: two workers on one store deliver each of 30
// events exactly once.
func TestWorkersShareTheStore(t *testing.T) {
	f := newFixture(t, true, func(int) int { return http.StatusNoContent })
	const n = 30
	for i := range n {
		f.enqueue(t, fmt.Sprintf("evt-%d", i))
	}
	second := &Worker{Store: f.worker.Store, Client: f.worker.Client, Now: f.worker.Now, Jitter: f.worker.Jitter, Owner: "instance-2", Batch: 3}
	f.worker.Batch = 3
	var wg sync.WaitGroup
	for _, w := range []*Worker{f.worker, second} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				k, err := w.RunOnce(t.Context())
				if err != nil {
					t.Error(err)
					return
				}
				if k == 0 {
					return
				}
			}
		}()
	}
	wg.Wait()
	ids, bad := f.recv.seen()
	if bad != 0 {
		t.Errorf("%d bad signatures", bad)
	}
	count := map[string]int{}
	for _, id := range ids {
		count[id]++
	}
	if len(count) != n {
		t.Errorf("%d distinct deliveries received, want %d", len(count), n)
	}
	for id, c := range count {
		if c != 1 {
			t.Errorf("%s received %d times", id, c)
		}
	}
}

func TestDeliveryIDStable(t *testing.T) {
	a, b := DeliveryID("evt-1", "wh1"), DeliveryID("evt-1", "wh1")
	if a != b || !strings.HasPrefix(a, "msg_") {
		t.Errorf("DeliveryID = %q, %q", a, b)
	}
	if DeliveryID("evt-1", "wh2") == a || DeliveryID("evt-2", "wh1") == a {
		t.Error("different events or webhooks share an id")
	}
	if strings.ContainsAny(a, " ,.") {
		t.Errorf("DeliveryID %q has a separator the signature forbids", a)
	}
}

// TestRedeliveryGetsItsOwnThreeDays: a delivery that gave up after 3
// days (disabling the endpoint) is redelivered once the endpoint is
// enabled again; a failure of that attempt retries it on the schedule
// instead of giving up and disabling the endpoint at once.
func TestRedeliveryGetsItsOwnThreeDays(t *testing.T) {
	f := newFixture(t, true, func(int) int { return http.StatusServiceUnavailable })
	d := f.enqueue(t, "evt-1")
	for range 40 {
		if f.run(t) == 0 {
			break
		}
		got := f.delivery(t, d.ID)
		if got.Status != cert.DeliveryPending {
			break
		}
		f.clock.Set(got.NextAttemptAt)
	}
	if got := f.delivery(t, d.ID); got.Status != cert.DeliveryFailed {
		t.Fatalf("after 3 days: %s", got.Status)
	}
	st := f.store.(WebhookStore)
	uc := &Webhooks{Store: st, Now: f.clock.Now}
	admin := cert.Principal{Role: cert.RoleAdmin, KeyID: "root"}
	on := true
	f.clock.Set(f.clock.Now().Add(24 * time.Hour))
	if _, err := uc.Update(t.Context(), admin, "wh1", WebhookPatch{Active: &on}); err != nil {
		t.Fatal(err)
	}
	if err := uc.Redeliver(t.Context(), admin, "wh1", d.ID); err != nil {
		t.Fatal(err)
	}
	if n := f.run(t); n != 1 {
		t.Fatalf("the redelivery was not attempted (%d)", n)
	}
	got := f.delivery(t, d.ID)
	if got.Status != cert.DeliveryPending || got.NextAttemptAt.Sub(f.clock.Now()) != 6*time.Hour {
		t.Errorf("after a failed redelivery: status %s, next in %v; want pending, in 6h", got.Status, got.NextAttemptAt.Sub(f.clock.Now()))
	}
	if hook, _ := f.store.Webhook(t.Context(), "wh1"); !hook.Active {
		t.Errorf("one failed redelivery disabled the endpoint (%s)", hook.DisabledReason)
	}
}

// TestWorkerStopsBeforeItsLeaseEnds: deliveries of one group go one after
// the other; one whose lease could end during its attempt is left for a
// later round instead of being attempted while another instance may take
// it.
func TestWorkerStopsBeforeItsLeaseEnds(t *testing.T) {
	f := newFixture(t, true, func(int) int { return http.StatusNoContent })
	var ids []string
	for _, e := range []string{"evt-a", "evt-b", "evt-c"} {
		ids = append(ids, f.enqueue(t, e).ID)
	}
	// Every look at the clock finds it 20 s later: slow attempts.
	f.worker.Now = func() time.Time {
		now := f.clock.Now()
		f.clock.Set(now.Add(20 * time.Second))
		return now
	}
	if _, err := f.worker.RunOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	got, _ := f.recv.seen()
	if len(got) == 0 || len(got) == len(ids) {
		t.Fatalf("%d of %d attempted within one 2-minute lease of 20-second looks at the clock; want some, not all", len(got), len(ids))
	}
	for _, id := range ids {
		if slices.Contains(got, id) {
			continue
		}
		if d := f.delivery(t, id); d.Attempts != 0 || d.Status != cert.DeliveryPending {
			t.Errorf("delivery %s: %d attempts, %s; want untouched", id, d.Attempts, d.Status)
		}
	}
}
