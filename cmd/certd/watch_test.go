package main

import (
	"context"
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

// TestWatchFormInBrowser subscribes through the verification page's form
// in headless Chromium on a 320 px phone (the page has no script; the
// test only types and presses), then confirms through the mail's link and
// its button: each page is in Chinese, fits the width, and the
// subscription is confirmed in the store.
func TestWatchFormInBrowser(t *testing.T) {
	chromium := requireTool(t, "chromium")
	ts := startServer(t, "", withClock(fixedClock))
	id := ts.issue(t, DefaultIssuer)["id"].(string)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	b := startBrowser(ctx, t, chromium, 320, 640, true)

	// read returns the facts of the page shown; submit runs js (which
	// submits a form) and reads the page it leads to.
	type facts struct {
		Path, Text              string
		InnerWidth, ScrollWidth float64
		Scripts                 int
	}
	read := func() facts {
		var raw string
		if err := b.eval(ctx, `JSON.stringify({path: location.pathname, text: document.body.innerText, innerWidth: innerWidth, scrollWidth: document.documentElement.scrollWidth, scripts: document.scripts.length})`, &raw); err != nil {
			var dbg string
			_ = b.eval(ctx, `String(location.href) + " " + document.readyState + " " + (document.body ? "body" : "nobody")`, &dbg)
			t.Fatalf("read the page: %v (%s)", err, dbg)
		}
		var f facts
		if err := json.Unmarshal([]byte(raw), &f); err != nil {
			t.Fatal(err)
		}
		return f
	}
	submit := func(js, wantPath string) facts {
		t.Helper()
		var before, ok string
		if err := b.eval(ctx, `location.href`, &before); err != nil {
			t.Fatal(err)
		}
		if err := b.eval(ctx, js, &ok); err != nil || ok != "ok" {
			t.Fatalf("submit: %q %v", ok, err)
		}
		for ctx.Err() == nil {
			var state []string
			if err := b.eval(ctx, `[location.href, location.pathname, document.readyState]`, &state); err == nil &&
				len(state) == 3 && state[0] != before && state[1] == wantPath && state[2] == "complete" {
				return read()
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Fatalf("no page %s", wantPath)
		return facts{}
	}
	fits := func(what string, f facts) {
		t.Helper()
		if f.ScrollWidth > f.InnerWidth || f.Scripts != 0 {
			t.Errorf("%s: %.0f px wide in %.0f px, %d scripts", what, f.ScrollWidth, f.InnerWidth, f.Scripts)
		}
	}

	if err := b.open(ctx, ts.URL+"/v/"+id+"?lang=zh-CN"); err != nil {
		t.Fatal(err)
	}
	f := submit(`(() => { document.getElementById('watch-email').value = 'buyer@example.cn';
		document.querySelector('form[action*="/watch"]').requestSubmit(); return 'ok'; })()`, "/v/"+id+"/watch")
	if !strings.Contains(f.Text, "请查收邮件") || strings.Contains(f.Text, "buyer@example.cn") {
		t.Errorf("answer page:\n%s", f.Text)
	}
	fits("answer page", f)

	ws, err := ts.m.store.WatchesOfCertificate(t.Context(), id)
	if err != nil || len(ws) != 1 {
		t.Fatalf("watches %v, %v", ws, err)
	}
	d, err := ts.m.store.Delivery(t.Context(), notify.DeliveryID("watch-confirm/"+ws[0].ConfirmHash, "watch:"+ws[0].ID))
	if err != nil {
		t.Fatal(err)
	}
	var job notify.MailJob
	if err := json.Unmarshal(d.Payload, &job); err != nil {
		t.Fatal(err)
	}
	if err := b.open(ctx, job.ConfirmURL+"&lang=zh-CN"); err != nil {
		t.Fatal(err)
	}
	fits("confirmation page", read())
	f = submit(`(() => { document.querySelector('form[method=post]').requestSubmit(); return 'ok'; })()`, "/watch/confirm")
	if !strings.Contains(f.Text, "订阅已确认") {
		t.Errorf("confirmed page:\n%s", f.Text)
	}
	fits("confirmed page", f)
	if ws, _ := ts.m.store.WatchesOfCertificate(t.Context(), id); len(ws) != 1 || ws[0].Status != cert.WatchConfirmed {
		t.Errorf("after the button: %+v", ws)
	}
}
