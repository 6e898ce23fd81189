package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/notify"
)

// TestWatchThroughMain runs the watchlists on the real wiring: the form of
// the verification page enqueues a confirmation mail that the worker,
// without --smtp-url, records as not sent (never dropped); a watcher key
// watches an organization and registers its own endpoint, which receives
// the certificate's suspension, signed, once the watch sink has the event.
func TestWatchThroughMain(t *testing.T) {
	recv := &signedReceiver{}
	srv := httptest.NewServer(recv)
	t.Cleanup(srv.Close)
	clk := &webhookClock{t: time.Date(2026, 12, 3, 2, 0, 0, 0, time.UTC)}
	allow := func(m *Main) { m.Config.AllowHTTPWebhooks, m.Config.AllowPrivateWebhooks = true, true }
	ts := startServer(t, "", withClock(clk.Now), allow)
	c := ts.issue(t, DefaultIssuer)
	id := c["id"].(string)

	r := ts.do("POST", "/v/"+id+"/watch", "", "email="+url.QueryEscape("buyer@example.cn"), "Content-Type", "application/x-www-form-urlencoded")
	if r.Status != http.StatusOK || strings.Contains(string(r.Body), "buyer@example.cn") {
		t.Fatalf("subscribe: %d %s", r.Status, r.Body)
	}
	ws, err := ts.m.store.WatchesOfCertificate(t.Context(), id)
	if err != nil || len(ws) != 1 || ws[0].Status != cert.WatchPending {
		t.Fatalf("watches %v, %v", ws, err)
	}

	r = ts.do("POST", "/api/v1/apikeys", ts.Admin, map[string]any{"role": "watcher", "name": "procurement"})
	var key struct{ Token string }
	if err := json.Unmarshal(r.Body, &key); r.Status != http.StatusCreated || err != nil {
		t.Fatalf("watcher key: %d %s", r.Status, r.Body)
	}
	if r := ts.do("POST", "/api/v1/watches", key.Token, map[string]any{"uscc": testUSCC}); r.Status != http.StatusCreated {
		t.Fatalf("watch: %d %s", r.Status, r.Body)
	}
	r = ts.do("POST", "/api/v1/webhooks", key.Token, map[string]any{"url": srv.URL + "/watch", "events": []string{cert.WebhookCertificateSuspended}})
	var hook struct{ ID, Secret string }
	if err := json.Unmarshal(r.Body, &hook); r.Status != http.StatusCreated || err != nil {
		t.Fatalf("watcher webhook: %d %s", r.Status, r.Body)
	}
	recv.mu.Lock()
	recv.secret = hook.Secret
	recv.mu.Unlock()

	clk.Add(time.Minute)
	if r := ts.do("POST", "/api/v1/certificates/"+id+"/suspend", ts.Admin, map[string]any{"reason": "client request"}); r.Status != http.StatusOK {
		t.Fatalf("suspend: %d %s", r.Status, r.Body)
	}
	crt, err := ts.m.store.Certificate(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	e := crt.Events[len(crt.Events)-1]
	ev := notify.Event{ID: notify.CertificateEventID(id, e.Seq), Type: cert.WebhookCertificateSuspended, Certificate: crt, Event: &e, At: e.At, RecordedAt: e.RecordedAt}
	if err := ts.m.WatchSink.Enqueue(t.Context(), ev, clk.Now()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the first attempt", func() bool { ids, _ := recv.seen(); return len(ids) == 1 })
	clk.Add(time.Minute) // the receiver answered 500 once: the retry is due
	waitFor(t, "the retry", func() bool { ids, _ := recv.seen(); return len(ids) == 2 })
	ids, bad := recv.seen()
	if bad != 0 || ids[0] != ids[1] || ids[0] != notify.DeliveryID(ev.ID, hook.ID) {
		t.Errorf("webhook-ids %v (bad signatures %d), want %s twice", ids, bad, notify.DeliveryID(ev.ID, hook.ID))
	}

	// The confirmation mail: without --smtp-url recorded as not sent.
	mail := notify.DeliveryID("watch-confirm/"+ws[0].ConfirmHash, "watch:"+ws[0].ID)
	waitFor(t, "the confirmation mail's attempt", func() bool {
		d, err := ts.m.store.Delivery(t.Context(), mail)
		return err == nil && d.Status == cert.DeliveryFailed && d.LastError == notify.ErrMailNotConfigured && d.To == "buyer@example.cn"
	})
}
