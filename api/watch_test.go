package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/certd/certd/api"
	"github.com/certd/certd/cert"
	"github.com/certd/certd/issuer"
	"github.com/certd/certd/notify"
	"github.com/certd/certd/watch"
)

// watchAPI is the test API with watchlists and webhooks on the bolt
// store, the sink the dispatcher would call, and a log that the tests
// search for addresses.
type watchAPI struct {
	*testAPI
	sink  *watch.Sink
	svc   *watch.Service
	log   *bytes.Buffer
	admin string
}

const reader = "Reader.One@Example.CN"

func newWatchAPI(t *testing.T, start string) *watchAPI {
	t.Helper()
	w := &watchAPI{log: &bytes.Buffer{}}
	a := newTestAPIWith(t, start, func(icfg *issuer.Config, acfg *api.Config) {
		st := icfg.Store.(interface {
			watch.Store
			notify.WebhookStore
		})
		w.svc = &watch.Service{Store: st, PublicURL: publicURL, Now: acfg.Now, MaxPerWatcher: 3}
		w.sink = &watch.Sink{Store: st, PublicURL: publicURL}
		acfg.Watches = w.svc
		acfg.Webhooks = &notify.Webhooks{Store: st, Secrets: testSecretBox(t), Now: acfg.Now}
		acfg.Logger = slog.New(slog.NewTextHandler(w.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	w.testAPI = a
	_, admin, err := a.svc.CreateAPIKey(context.Background(), cert.Principal{Role: cert.RoleAdmin, KeyID: "root"},
		issuer.APIKeyRequest{Role: cert.RoleAdmin, Name: "ops"})
	if err != nil {
		t.Fatal(err)
	}
	w.admin = admin
	return w
}

// form posts a url-encoded form through the router; headers are name,
// value pairs.
func (a *testAPI) form(path string, body string, headers ...string) response {
	a.t.Helper()
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	req.RemoteAddr = "192.0.2.10:40000"
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	a.srv.ServeHTTP(rec, req)
	return response{code: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
}

// outbox leases and finishes every due delivery and returns them.
func (w *watchAPI) outbox() []*cert.Delivery {
	w.t.Helper()
	now := w.clock.Now().Add(time.Minute)
	ds, err := w.store.LeaseDeliveries(context.Background(), "test", now, now.Add(time.Minute), 1000)
	if err != nil {
		w.t.Fatal(err)
	}
	for _, d := range ds {
		d.Status = cert.DeliveryDelivered
		if err := w.store.FinishAttempt(context.Background(), d, "test"); err != nil {
			w.t.Fatal(err)
		}
	}
	return ds
}

// dispatch hands the certificate's newest event to the sink, as the
// outbox dispatcher does.
func (w *watchAPI) dispatch(id string) notify.Event {
	w.t.Helper()
	c, err := w.store.Certificate(context.Background(), id)
	if err != nil {
		w.t.Fatal(err)
	}
	e := c.Events[len(c.Events)-1]
	typ, _ := notify.EventType(&e)
	ev := notify.Event{ID: notify.CertificateEventID(c.ID, e.Seq), Type: typ, Certificate: c, Event: &e, At: e.At, RecordedAt: e.RecordedAt}
	if err := w.sink.Enqueue(context.Background(), ev, w.clock.Now()); err != nil {
		w.t.Fatal(err)
	}
	return ev
}

func mailJob(t testing.TB, d *cert.Delivery) notify.MailJob {
	t.Helper()
	var j notify.MailJob
	if err := json.Unmarshal(d.Payload, &j); err != nil {
		t.Fatal(err)
	}
	return j
}

func linkToken(t testing.TB, link string) string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get("token")
}

// TestWatchFlow: the form of the verification page → one confirmation
// mail with a link, nothing else before confirmation → the link's page
// (a GET confirms nothing) → its button confirms → a suspension gives one
// watch-event mail → the one-click unsubscribe POST of a mail client →
// the next change gives none. The address appears in no answer and no
// log line.
func TestWatchFlow(t *testing.T) {
	w := newWatchAPI(t, "2026-11-27")
	c := w.issue("itss")

	page := w.do("GET", "/v/"+c.ID+"?lang=en", nil, "Accept", "text/html")
	if page.code != http.StatusOK || !strings.Contains(string(page.body), `action="/v/`+c.ID+`/watch?lang=en"`) ||
		!strings.Contains(string(page.body), `name="email"`) {
		t.Fatalf("verification page has no watch form: %d\n%s", page.code, page.body)
	}
	zh := w.do("GET", "/v/"+c.ID+"?lang=zh-CN", nil, "Accept", "text/html")
	if !strings.Contains(string(zh.body), "证书状态变化时通知我") {
		t.Error("the Chinese page has no watch form")
	}

	r := w.form("/v/"+c.ID+"/watch?lang=en", "email="+url.QueryEscape(" "+reader+" "), "Origin", publicURL, "Sec-Fetch-Site", "same-origin")
	if r.code != http.StatusOK || !strings.Contains(string(r.body), "confirmation link is on its way") {
		t.Fatalf("subscribe: %d %s", r.code, r.body)
	}
	ds := w.outbox()
	if len(ds) != 1 {
		t.Fatalf("deliveries after subscribing = %d, want 1", len(ds))
	}
	j := mailJob(t, ds[0])
	if !ds[0].IsEmail() || ds[0].To != "reader.one@example.cn" || j.Kind != notify.MailWatchConfirm || j.Certificate != c.ID ||
		!strings.HasPrefix(j.ConfirmURL, publicURL+"/watch/confirm?token=") {
		t.Fatalf("confirmation %+v %+v", ds[0], j)
	}

	// Nothing reaches an unconfirmed address.
	w.act(c.ID, "suspend", map[string]any{"reason": "client request"}, http.StatusOK)
	w.dispatch(c.ID)
	if ds := w.outbox(); len(ds) != 0 {
		t.Fatalf("an unconfirmed address got %d deliveries", len(ds))
	}
	w.act(c.ID, "reinstate", map[string]any{"reason": "resolved"}, http.StatusOK)

	// The link's GET shows a button and confirms nothing.
	confirmPath := strings.TrimPrefix(j.ConfirmURL, publicURL)
	r = w.do("GET", confirmPath+"&lang=en", nil, "Accept", "text/html")
	token := linkToken(t, j.ConfirmURL)
	if r.code != http.StatusOK || !strings.Contains(string(r.body), `value="`+token+`"`) || !strings.Contains(string(r.body), `method="post"`) {
		t.Fatalf("confirm page: %d %s", r.code, r.body)
	}
	w.clock.Set(w.clock.Now().Add(time.Minute))
	w.act(c.ID, "suspend", map[string]any{"reason": "client request"}, http.StatusOK)
	w.dispatch(c.ID)
	if ds := w.outbox(); len(ds) != 0 {
		t.Fatalf("a GET of the confirmation link confirmed: %d deliveries", len(ds))
	}
	w.act(c.ID, "reinstate", map[string]any{"reason": "resolved"}, http.StatusOK)

	if r := w.form("/watch/confirm", "token="+token, "Sec-Fetch-Site", "cross-site"); r.code != http.StatusForbidden {
		t.Errorf("cross-site confirmation: %d, want 403", r.code)
	}
	r = w.form("/watch/confirm?lang=en", "token="+token, "Sec-Fetch-Site", "same-origin")
	if r.code != http.StatusOK || !strings.Contains(string(r.body), "Subscription confirmed") {
		t.Fatalf("confirm: %d %s", r.code, r.body)
	}
	if r := w.form("/watch/confirm?lang=en", "token="+token); r.code != http.StatusNotFound {
		t.Errorf("a used confirmation link: %d, want 404", r.code)
	}

	w.clock.Set(w.clock.Now().Add(time.Minute))
	w.act(c.ID, "suspend", map[string]any{"reason": "client request"}, http.StatusOK)
	ev := w.dispatch(c.ID)
	ds = w.outbox()
	if len(ds) != 1 {
		t.Fatalf("deliveries after the suspension = %d, want 1", len(ds))
	}
	j = mailJob(t, ds[0])
	if j.Kind != notify.MailWatchEvent || j.Type != cert.WebhookCertificateSuspended || ds[0].To != "reader.one@example.cn" ||
		!strings.HasPrefix(j.UnsubscribeURL, publicURL+"/watch/unsubscribe?token=") {
		t.Fatalf("notification %+v %+v", ds[0], j)
	}
	// The same event again (a crash, another instance) stores nothing.
	if err := w.sink.Enqueue(context.Background(), ev, w.clock.Now()); err != nil {
		t.Fatal(err)
	}
	if ds := w.outbox(); len(ds) != 0 {
		t.Fatalf("the event enqueued twice gave %d more deliveries", len(ds))
	}

	// The unsubscribe link's GET shows a button; a mail client's
	// one-click POST (RFC 8058) works from anywhere.
	unsub := strings.TrimPrefix(j.UnsubscribeURL, publicURL)
	if r := w.do("GET", unsub+"&lang=en", nil, "Accept", "text/html"); r.code != http.StatusOK || !strings.Contains(string(r.body), `method="post"`) {
		t.Fatalf("unsubscribe page: %d %s", r.code, r.body)
	}
	r = w.form(unsub, "List-Unsubscribe=One-Click", "Origin", "https://mail.example.net", "Sec-Fetch-Site", "cross-site")
	if r.code != http.StatusOK {
		t.Fatalf("one-click unsubscribe: %d %s", r.code, r.body)
	}
	if again := w.form(unsub, "List-Unsubscribe=One-Click"); again.code != http.StatusOK || !bytes.Equal(again.body, r.body) {
		t.Errorf("unsubscribing an unknown token answers differently: %d", again.code)
	}
	w.act(c.ID, "reinstate", map[string]any{"reason": "resolved"}, http.StatusOK)
	w.dispatch(c.ID)
	w.act(c.ID, "withdraw", map[string]any{"reason": "fraud"}, http.StatusOK)
	w.dispatch(c.ID)
	if ds := w.outbox(); len(ds) != 0 {
		t.Fatalf("after unsubscribing %d deliveries", len(ds))
	}

	// The address never appears in an answer or a log line, nor do the
	// tokens in the log.
	w.noAddress("Reader.One@example.cn", "reader.one@example.cn", reader)
	for _, tok := range []string{token, linkToken(t, j.UnsubscribeURL)} {
		if strings.Contains(w.log.String(), tok) {
			t.Error("the log shows a token")
		}
	}
}

// noAddress reads every GET route of the API with an admin key and the
// log, and fails if an address appears.
func (w *watchAPI) noAddress(addrs ...string) {
	w.t.Helper()
	ctx := context.Background()
	certs, _, err := w.store.ListCertificates(ctx, issuer.Query{})
	if err != nil {
		w.t.Fatal(err)
	}
	paths := []string{"/api/v1/certificates", "/api/v1/webhooks", "/api/v1/apikeys", "/api/v1/issuers", "/api/v1/issuers/cb", "/api/v1/issuers/cb/events", "/metrics"}
	for _, c := range certs {
		paths = append(paths, "/api/v1/certificates/"+c.ID, "/api/v1/certificates/"+c.ID+"/events", "/api/v1/verify/"+c.ID, "/v/"+c.ID)
	}
	for _, p := range paths {
		r := w.do("GET", p, nil, "Authorization", "Bearer "+w.admin)
		for _, a := range addrs {
			if bytes.Contains(bytes.ToLower(r.body), []byte(strings.ToLower(a))) {
				w.t.Errorf("GET %s shows a watcher's address", p)
			}
		}
	}
	for _, a := range addrs {
		if strings.Contains(strings.ToLower(w.log.String()), strings.ToLower(a)) {
			w.t.Errorf("the log shows a watcher's address")
		}
	}
}

// TestWatchSameAnswer: a new, a pending, a confirmed address and one
// refused by a limit get the same page: the page is no oracle.
func TestWatchSameAnswer(t *testing.T) {
	w := newWatchAPI(t, "2026-11-27")
	c := w.issue("itss")
	post := func(email string) response {
		return w.form("/v/"+c.ID+"/watch?lang=en", "email="+url.QueryEscape(email))
	}
	first := post("new@example.cn")
	if first.code != http.StatusOK {
		t.Fatalf("subscribe: %d %s", first.code, first.body)
	}
	j := mailJob(t, w.outbox()[0])
	pending := post("new@example.cn")
	w.form("/watch/confirm", "token="+linkToken(t, j.ConfirmURL))
	confirmed := post("new@example.cn")
	for name, r := range map[string]response{"pending": pending, "confirmed": confirmed} {
		if r.code != first.code || !bytes.Equal(r.body, first.body) {
			t.Errorf("%s address: %d, a different answer than a new one", name, r.code)
		}
	}
	if ds := w.outbox(); len(ds) != 0 {
		t.Errorf("a pending or confirmed address got %d more mails", len(ds))
	}
	// Beyond 10 per client network and hour: the same answer, nothing
	// enqueued, counted.
	for i := range watch.MaxPerClientHour + 2 {
		r := post("other" + string(rune('a'+i)) + "@example.cn")
		if r.code != first.code || !bytes.Equal(r.body, first.body) {
			t.Errorf("subscription %d answers differently", i)
		}
	}
	if n := len(w.outbox()); n != watch.MaxPerClientHour-1 {
		t.Errorf("mails enqueued = %d, want %d (the first counted too)", n, watch.MaxPerClientHour-1)
	}
	m := w.do("GET", "/metrics", nil)
	if !regexp.MustCompile(`certd_watch_subscriptions_total\{outcome="limited_client"\} 3`).Match(m.body) {
		t.Errorf("metrics do not count the refused subscriptions:\n%s", grepLines(m.body, "certd_watch"))
	}
	// The public metrics tell nothing of an address: no outcome but
	// accepted and the client's own limit.
	for _, l := range strings.Split(grepLines(m.body, "certd_watch_subscriptions_total{"), "\n") {
		if l != "" && !strings.Contains(l, `outcome="accepted"`) && !strings.Contains(l, `outcome="limited_client"`) {
			t.Errorf("metrics reveal an address's state: %s", l)
		}
	}
}

func grepLines(b []byte, s string) string {
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, s) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func TestWatchFormRefusals(t *testing.T) {
	w := newWatchAPI(t, "2026-11-27")
	c := w.issue("itss")
	path := "/v/" + c.ID + "/watch"
	for name, h := range map[string][]string{
		"cross-site":   {"Sec-Fetch-Site", "cross-site"},
		"other origin": {"Origin", "https://evil.example"},
	} {
		if r := w.form(path, "email=a%40example.cn", h...); r.code != http.StatusForbidden {
			t.Errorf("%s: %d, want 403", name, r.code)
		}
	}
	r := w.form(path, "email=not-an-address")
	wantProblem(t, r, http.StatusUnprocessableEntity, "invalid-input", "email")
	if r := w.form(path+"?lang=en", "email=a%40b", "Accept", "text/html"); r.code != http.StatusUnprocessableEntity || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
		t.Errorf("garbage from a browser: %d %s, want a 422 page", r.code, r.header.Get("Content-Type"))
	}
	if r := w.form(path, "email="+strings.Repeat("a", 5000)+"%40example.cn"); r.code != http.StatusRequestEntityTooLarge {
		t.Errorf("a 5 KB form: %d, want 413", r.code)
	}
	if r := w.form("/v/00000000000000000000000000/watch", "email=a%40example.cn"); r.code != http.StatusNotFound {
		t.Errorf("an unknown certificate: %d, want 404", r.code)
	}
	if ds := w.outbox(); len(ds) != 0 {
		t.Errorf("refused requests enqueued %d mails", len(ds))
	}
}

// TestWatchRenewalCarries: a watch on a certificate reaches the
// suspension of its successor after a renewal.
func TestWatchRenewalCarries(t *testing.T) {
	w := newWatchAPI(t, "2026-11-27")
	old := w.issue("itss")
	w.form("/v/"+old.ID+"/watch", "email=buyer%40example.cn")
	w.form("/watch/confirm", "token="+linkToken(t, mailJob(t, w.outbox()[0]).ConfirmURL))
	w.audit(old.ID, "2027-09-15")
	w.audit(old.ID, "2028-09-20")
	w.clock.Set(bj(t, "2029-06-01 10:00:00"))
	var next resource
	w.act(old.ID, "renew", map[string]any{"reason": "recertified", "decisionDate": "2029-05-30"}, http.StatusCreated).decode(t, &next)
	w.dispatch(old.ID)
	w.act(next.ID, "suspend", map[string]any{"reason": "client request"}, http.StatusOK)
	w.dispatch(next.ID)
	got := map[string]string{}
	for _, d := range w.outbox() {
		j := mailJob(t, d)
		got[j.Type] = j.Certificate
	}
	if got[cert.WebhookCertificateRenewed] != old.ID || got[cert.WebhookCertificateSuspended] != next.ID || len(got) != 2 {
		t.Errorf("notifications %v, want renewed of %s and suspended of %s", got, old.ID, next.ID)
	}
}

// watcherKey creates a watcher key through the admin route.
func (w *watchAPI) watcherKey(name string) (token, id string) {
	w.t.Helper()
	r := w.do("POST", "/api/v1/apikeys", map[string]any{"role": "watcher", "name": name}, "Authorization", "Bearer "+w.admin)
	if r.code != http.StatusCreated {
		w.t.Fatalf("create watcher key: %d %s", r.code, r.body)
	}
	var k struct{ ID, Token string }
	r.decode(w.t, &k)
	return k.Token, k.ID
}

func TestWatcherAPI(t *testing.T) {
	w := newWatchAPI(t, "2026-11-27")
	c := w.issue("itss")
	other := w.issue("iso17021")
	alice, aliceID := w.watcherKey("alice")
	bob, _ := w.watcherKey("bob")
	as := func(tok string) []string { return []string{"Authorization", "Bearer " + tok} }

	if r := w.do("POST", "/api/v1/apikeys", map[string]any{"role": "watcher", "issuer": "cb"}, as(w.admin)...); r.code != http.StatusUnprocessableEntity {
		t.Errorf("a watcher key bound to an issuer: %d, want 422", r.code)
	}
	if r := w.do("POST", "/api/v1/watches", map[string]any{"certificate": c.ID}, "Authorization", "Bearer "+w.token); r.code != http.StatusForbidden {
		t.Errorf("an issuer key watching: %d, want 403", r.code)
	}

	var byID, byNumber, byUSCC struct{ ID, Certificate, Number, USCC string }
	r := w.do("POST", "/api/v1/watches", map[string]any{"certificate": c.ID}, as(alice)...)
	if r.code != http.StatusCreated {
		t.Fatalf("watch by id: %d %s", r.code, r.body)
	}
	r.decode(t, &byID)
	if r := w.do("POST", "/api/v1/watches", map[string]any{"certificate": c.ID}, as(alice)...); r.code != http.StatusOK {
		t.Errorf("the same watch again: %d, want 200", r.code)
	}
	w.do("POST", "/api/v1/watches", map[string]any{"number": other.Number, "issuer": "cb"}, as(alice)...).decode(t, &byNumber)
	w.do("POST", "/api/v1/watches", map[string]any{"uscc": "91110108MA0123456G"}, as(alice)...).decode(t, &byUSCC)
	if byNumber.Certificate != other.ID || byUSCC.USCC != "91110108MA0123456G" {
		t.Errorf("by number %+v, by uscc %+v", byNumber, byUSCC)
	}
	// The limit (3 in this test, 10,000 by default) names itself.
	r = w.do("POST", "/api/v1/watches", map[string]any{"uscc": "91110000100000000R"}, as(alice)...)
	wantProblem(t, r, http.StatusUnprocessableEntity, "invalid-input", "at most 3 watches")
	for _, bad := range []map[string]any{{}, {"certificate": c.ID, "uscc": "91110108MA0123456G"}, {"number": "X"}, {"certificate": "nope"}, {"uscc": "123"}} {
		if r := w.do("POST", "/api/v1/watches", bad, as(bob)...); r.code != http.StatusUnprocessableEntity {
			t.Errorf("POST %v: %d, want 422", bad, r.code)
		}
	}

	// Pages, and isolation: bob sees none of alice's and cannot delete
	// them.
	var page struct {
		Items      []struct{ ID string } `json:"items"`
		NextCursor string                `json:"nextCursor"`
	}
	w.do("GET", "/api/v1/watches?limit=2", nil, as(alice)...).decode(t, &page)
	if len(page.Items) != 2 || page.NextCursor == "" {
		t.Fatalf("first page %+v", page)
	}
	var rest struct {
		Items      []struct{ ID string } `json:"items"`
		NextCursor string                `json:"nextCursor"`
	}
	w.do("GET", "/api/v1/watches?limit=2&cursor="+page.NextCursor, nil, as(alice)...).decode(t, &rest)
	if len(rest.Items) != 1 || rest.NextCursor != "" {
		t.Fatalf("second page %+v", rest)
	}
	if r := w.do("GET", "/api/v1/watches", nil, as(bob)...); r.code != http.StatusOK || strings.Contains(string(r.body), byID.ID) {
		t.Errorf("bob's list: %d %s", r.code, r.body)
	}
	if r := w.do("DELETE", "/api/v1/watches/"+byID.ID, nil, as(bob)...); r.code != http.StatusNotFound {
		t.Errorf("bob deletes alice's watch: %d, want 404", r.code)
	}

	// Alice's webhook receives the public data of watched changes.
	r = w.do("POST", "/api/v1/webhooks", map[string]any{"url": "https://alice.example/hook"}, as(alice)...)
	if r.code != http.StatusCreated {
		t.Fatalf("watcher webhook: %d %s", r.code, r.body)
	}
	var hook struct{ ID, Watcher, Issuer string }
	r.decode(t, &hook)
	if hook.Issuer != "" || hook.Watcher == "" {
		t.Errorf("watcher webhook %+v", hook)
	}
	if r := w.do("GET", "/api/v1/webhooks/"+hook.ID, nil, as(bob)...); r.code != http.StatusNotFound {
		t.Errorf("bob reads alice's webhook: %d, want 404", r.code)
	}
	if r := w.do("GET", "/api/v1/webhooks", nil, as(alice)...); !strings.Contains(string(r.body), hook.ID) {
		t.Errorf("alice's webhooks: %s", r.body)
	}
	w.act(c.ID, "issue-nothing-this-is-not-an-action", map[string]any{"reason": "x"}, http.StatusNotFound)
	w.clock.Set(w.clock.Now().Add(time.Minute))
	w.act(c.ID, "suspend", map[string]any{"reason": "client request"}, http.StatusOK)
	w.dispatch(c.ID)
	ds := w.outbox()
	if len(ds) != 1 || ds[0].Webhook != hook.ID || ds[0].IsEmail() {
		t.Fatalf("deliveries %+v, want one to alice's webhook (watched by id and by USCC)", ds)
	}
	var msg struct {
		Type string
		Data watch.Public
	}
	if err := json.Unmarshal(ds[0].Payload, &msg); err != nil {
		t.Fatal(err)
	}
	if msg.Type != cert.WebhookCertificateSuspended || msg.Data.Certificate.ID != c.ID || msg.Data.Certificate.Number != c.Number {
		t.Errorf("message %+v", msg)
	}
	if strings.Contains(string(ds[0].Payload), "address") || strings.Contains(string(ds[0].Payload), "email") || strings.Contains(string(ds[0].Payload), "credential") {
		t.Errorf("the delivery carries internal fields: %s", ds[0].Payload)
	}

	if r := w.do("DELETE", "/api/v1/watches/"+byID.ID, nil, as(alice)...); r.code != http.StatusNoContent {
		t.Errorf("delete: %d", r.code)
	}

	// A revoked watcher key receives nothing more (alice still watches
	// the organization).
	if r := w.do("DELETE", "/api/v1/apikeys/"+aliceID, nil, as(w.admin)...); r.code != http.StatusNoContent {
		t.Fatalf("revoke alice: %d %s", r.code, r.body)
	}
	w.act(c.ID, "reinstate", map[string]any{"reason": "resolved"}, http.StatusOK)
	w.clock.Set(w.clock.Now().Add(time.Minute))
	w.act(c.ID, "suspend", map[string]any{"reason": "again"}, http.StatusOK)
	w.dispatch(c.ID)
	if ds := w.outbox(); len(ds) != 0 {
		t.Errorf("a revoked watcher key got %d deliveries", len(ds))
	}
}

// TestWatcherKeyReadsNoIssuerData walks every authenticated route with a
// watcher key: only the watchlist and the watcher's webhooks answer
// 2xx; nothing is issued, changed or read of an issuer.
func TestWatcherKeyReadsNoIssuerData(t *testing.T) {
	w := newWatchAPI(t, "2026-11-27")
	c := w.issue("itss")
	tok, _ := w.watcherKey("verifier")
	allowed := map[string]bool{
		"POST /api/v1/watches": true, "GET /api/v1/watches": true,
		"POST /api/v1/webhooks": true, "GET /api/v1/webhooks": true,
	}
	param := regexp.MustCompile(`:([a-z]+)`)
	values := map[string]string{"id": c.ID, "issuer": "cb", "action": "suspend", "target": "cnca", "period": "2026-11", "delivery": "x"}
	n := 0
	for _, rt := range w.srv.Routes() {
		if !strings.HasPrefix(rt.Path, "/api/v1/") || strings.HasPrefix(rt.Path, "/api/v1/verify") || rt.Path == "/api/v1/search" || rt.Path == "/api/v1/schemes" {
			continue
		}
		path := param.ReplaceAllStringFunc(rt.Path, func(m string) string { return values[m[1:]] })
		key := rt.Method + " " + param.ReplaceAllString(rt.Path, "{$1}")
		body := map[string]any{"reason": "x", "issuer": "cb", "scheme": "itss", "role": "admin", "url": "https://x.example/h", "certificate": c.ID}
		if key == "POST /api/v1/webhooks" {
			body = map[string]any{"url": "https://x.example/h"}
		}
		if key == "POST /api/v1/watches" {
			body = map[string]any{"certificate": c.ID}
		}
		r := w.do(rt.Method, path, body, "Authorization", "Bearer "+tok)
		n++
		ok := r.code >= 200 && r.code < 300
		if ok != allowed[key] {
			t.Errorf("%s with a watcher key: %d %s", key, r.code, r.body)
		}
		if !ok && r.code != http.StatusForbidden && r.code != http.StatusNotFound && r.code != http.StatusUnprocessableEntity && r.code != http.StatusBadRequest && r.code != http.StatusServiceUnavailable {
			t.Errorf("%s with a watcher key: %d, want 403 or 404", key, r.code)
		}
	}
	if n < 25 {
		t.Fatalf("only %d routes tried", n)
	}
	got, err := w.store.Certificate(context.Background(), c.ID)
	if err != nil || len(got.Events) != 1 {
		t.Errorf("the certificate changed: %d events, %v", len(got.Events), err)
	}
	list, _, _ := w.store.ListCertificates(context.Background(), issuer.Query{})
	if len(list) != 1 {
		t.Errorf("certificates = %d, want 1 (a watcher issued one)", len(list))
	}
}
