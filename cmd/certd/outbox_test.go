package main

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/certd/certd/cert"
)

// hookReceiver is a webhook receiver on 127.0.0.1 for the outbox tests.
// It checks every delivery's signature with the Standard Webhooks
// algorithm written here (not notify's), and records each request.
type hookReceiver struct {
	mu     sync.Mutex
	secret string
	// answer gives the status for the n-th request of a webhook-id
	// (1-based); nil answers 204.
	answer func(id string, n int) int
	got    []hookRequest
	bad    int
	srv    *http.Server
}

// hookRequest is one request the receiver got.
type hookRequest struct {
	ID, Type, Certificate string
	Seq                   int
	Answer                int
}

func (r *hookReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	id, ts := req.Header.Get("webhook-id"), req.Header.Get("webhook-timestamp")
	key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(r.secret, "whsec_"))
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + ts + "." + string(body)))
	if want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)); !strings.Contains(" "+req.Header.Get("webhook-signature")+" ", " "+want+" ") {
		r.bad++
	}
	var msg struct {
		Type string
		Data struct {
			Certificate struct{ ID string }
			Event       *struct{ Seq int }
		}
	}
	if err := json.Unmarshal(body, &msg); err != nil {
		r.bad++
	}
	n := 1
	for _, g := range r.got {
		if g.ID == id {
			n++
		}
	}
	status := http.StatusNoContent
	if r.answer != nil {
		status = r.answer(id, n)
	}
	h := hookRequest{ID: id, Type: msg.Type, Certificate: msg.Data.Certificate.ID, Answer: status}
	if msg.Data.Event != nil {
		h.Seq = msg.Data.Event.Seq
	}
	r.got = append(r.got, h)
	w.WriteHeader(status)
}

// listen serves the receiver on addr (a fixed port, so that it can be
// down and come back); stop closes it.
func (r *hookReceiver) listen(t testing.TB, addr string) {
	t.Helper()
	var l net.Listener
	var err error
	for range 50 { // the port was free a moment ago
		if l, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	r.srv = &http.Server{Handler: r}
	go func() { _ = r.srv.Serve(l) }()
	t.Cleanup(r.stop)
}

func (r *hookReceiver) stop() {
	if r.srv != nil {
		_ = r.srv.Close()
	}
}

func (r *hookReceiver) requests() ([]hookRequest, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]hookRequest(nil), r.got...), r.bad
}

func (r *hookReceiver) setSecret(s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.secret = s
}

// delivered returns, per certificate, the event types answered 2xx.
func (r *hookReceiver) delivered() map[string][]string {
	got, _ := r.requests()
	out := map[string][]string{}
	for _, g := range got {
		if g.Answer < 300 {
			out[g.Certificate] = append(out[g.Certificate], g.Type)
		}
	}
	return out
}

// createHook registers a webhook for url and returns its secret.
func createHook(t testing.TB, ts *testServer, url string, events ...string) string {
	t.Helper()
	body := map[string]any{"issuer": DefaultIssuer, "url": url}
	if len(events) > 0 {
		body["events"] = events
	}
	r := ts.do("POST", "/api/v1/webhooks", ts.Admin, body)
	if r.Status != http.StatusCreated {
		t.Fatalf("create webhook: %d %s", r.Status, r.Body)
	}
	var created struct{ Secret string }
	if err := json.Unmarshal(r.Body, &created); err != nil {
		t.Fatal(err)
	}
	return created.Secret
}

func issueOne(t testing.TB, ts *testServer, i int) string {
	t.Helper()
	body := sampleCertificate(DefaultIssuer, testUSCC)
	body["scope"] = fmt.Sprintf("信息系统运行维护服务 %d", i)
	r := ts.do("POST", "/api/v1/certificates", ts.Admin, body)
	if r.Status != http.StatusCreated {
		t.Fatalf("issue %d: %d %s", i, r.Status, r.Body)
	}
	return r.JSON(t)["id"].(string)
}

var allowLoopbackHooks = func(m *Main) { m.Config.AllowHTTPWebhooks, m.Config.AllowPrivateWebhooks = true, true }

// TestWebhookEventsThroughMain: every lifecycle action reaches the
// receiver as its event type, in the order of the certificate's events,
// signed, with the certificate resource and the event as data; a delivery
// answered 500 three times succeeds on the 4th attempt with the same
// webhook-id.
func TestWebhookEventsThroughMain(t *testing.T) {
	clk := &webhookClock{t: time.Now().UTC().Truncate(time.Millisecond)}
	ts := startServer(t, "", withClock(clk.Now), allowLoopbackHooks)
	recv := &hookReceiver{}
	addr := freePort(t)
	recv.listen(t, addr)
	recv.setSecret(createHook(t, ts, "http://"+addr+"/hook"))
	first := ""
	recv.answer = func(id string, n int) int {
		if first == "" {
			first = id
		}
		if id == first && n <= 3 {
			return http.StatusInternalServerError
		}
		return http.StatusNoContent
	}

	id := issueOne(t, ts, 0)
	waitFor(t, "the first attempt", func() bool { got, _ := recv.requests(); return len(got) >= 1 })
	for i, step := range []time.Duration{6 * time.Second, 40 * time.Second, 3 * time.Minute} {
		clk.Add(step) // the next retry falls due
		waitFor(t, fmt.Sprintf("attempt %d", i+2), func() bool { got, _ := recv.requests(); return len(got) >= i+2 })
	}
	for _, a := range []struct{ path, reason string }{{"suspend", "overdue payment"}, {"reinstate", "paid"}, {"withdraw", "fraud"}} {
		if r := ts.do("POST", "/api/v1/certificates/"+id+"/"+a.path, ts.Admin, map[string]any{"reason": a.reason}); r.Status != http.StatusOK {
			t.Fatalf("%s: %d %s", a.path, r.Status, r.Body)
		}
	}
	want := []string{cert.WebhookCertificateIssued, cert.WebhookCertificateSuspended, cert.WebhookCertificateReinstated, cert.WebhookCertificateWithdrawn}
	waitFor(t, "every event", func() bool { return len(recv.delivered()[id]) == len(want) })
	got, bad := recv.requests()
	if bad != 0 {
		t.Errorf("%d requests failed the independent signature check", bad)
	}
	for i := range 4 {
		if got[i].ID != first || got[i].Type != cert.WebhookCertificateIssued {
			t.Errorf("attempt %d: %+v, want the issuance with webhook-id %s", i+1, got[i], first)
		}
	}
	var types []string
	seq := 0
	for _, g := range got[3:] {
		types = append(types, g.Type)
		if g.Certificate != id || g.Seq <= seq {
			t.Errorf("request %+v: want certificate %s, event seq after %d", g, id, seq)
		}
		seq = g.Seq
	}
	if strings.Join(types, " ") != strings.Join(want, " ") {
		t.Errorf("delivered %v, want %v in order", types, want)
	}
}

// issuedIDs issues n certificates through a process and returns their ids.
func issueThrough(t testing.TB, url, token string, n int) []string {
	t.Helper()
	client := &http.Client{Timeout: 30 * time.Second}
	var ids []string
	for i := range n {
		body := sampleCertificate(DefaultIssuer, testUSCC)
		body["scope"] = fmt.Sprintf("信息系统运行维护服务 %d", i)
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest("POST", url+"/api/v1/certificates", bytes.NewReader(b))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("issue %d: %v", i, err)
		}
		var out struct{ ID string }
		err = json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated || err != nil {
			t.Fatalf("issue %d: %d %v", i, resp.StatusCode, err)
		}
		ids = append(ids, out.ID)
	}
	return ids
}

func postJSON(t testing.TB, url, token string, body any) (int, []byte) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", url, bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

func kill9(t testing.TB, p *os.Process) {
	t.Helper()
	if err := p.Kill(); err != nil {
		t.Fatal(err)
	}
	_, _ = p.Wait()
}

// hookedProcess is a certd binary on a bbolt data directory that allows
// loopback webhooks, with one webhook of the default issuer registered for
// events at a receiver address that nothing serves yet.
type hookedProcess struct {
	bin, dir, addr, url, token string
	flags                      []string
	recvAddr, secret           string
	cmd                        *exec.Cmd
}

func startHookedProcess(t *testing.T, events ...string) *hookedProcess {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the server binary")
	}
	bin, err := buildCertd()
	if err != nil {
		t.Fatal(err)
	}
	p := &hookedProcess{bin: bin, dir: t.TempDir(), addr: freePort(t), recvAddr: freePort(t),
		flags: []string{"--allow-http-webhooks", "--allow-private-webhooks"}}
	p.restart(t)
	tok, err := os.ReadFile(filepath.Join(p.dir, "admin.token"))
	if err != nil {
		t.Fatal(err)
	}
	p.token, p.url = strings.TrimSpace(string(tok)), "http://"+p.addr
	status, body := postJSON(t, p.url+"/api/v1/webhooks", p.token, map[string]any{"issuer": DefaultIssuer, "url": "http://" + p.recvAddr + "/hook", "events": events})
	if status != http.StatusCreated {
		t.Fatalf("create webhook: %d %s", status, body)
	}
	var hook struct{ Secret string }
	if err := json.Unmarshal(body, &hook); err != nil {
		t.Fatal(err)
	}
	p.secret = hook.Secret
	return p
}

// restart starts the process (again) on the same data directory.
func (p *hookedProcess) restart(t *testing.T) {
	t.Helper()
	p.cmd = startProcess(t, p.bin, p.dir, p.addr, p.flags...)
}

// TestOutboxSurvivesKills: the receiver is down while 100 certificates
// are issued, and certd is killed with SIGKILL twice; after the restart
// every one of the 100 issuance events is delivered, none more than a few
// times.
func TestOutboxSurvivesKills(t *testing.T) {
	p := startHookedProcess(t, cert.WebhookCertificateIssued)
	ids := issueThrough(t, p.url, p.token, 100) // the receiver is down: connections refused
	kill9(t, p.cmd.Process)
	p.restart(t)
	kill9(t, p.cmd.Process)
	p.restart(t)
	recv := &hookReceiver{secret: p.secret}
	recv.listen(t, p.recvAddr)

	deadline := time.Now().Add(3 * time.Minute)
	for time.Now().Before(deadline) && len(recv.delivered()) < len(ids) {
		time.Sleep(200 * time.Millisecond)
	}
	got, bad := recv.requests()
	perID := map[string]int{}
	byCert := map[string]string{}
	for _, g := range got {
		perID[g.ID]++
		if prev, ok := byCert[g.Certificate]; ok && prev != g.ID {
			t.Errorf("certificate %s's issuance came with two webhook-ids", g.Certificate)
		}
		byCert[g.Certificate] = g.ID
	}
	for _, id := range ids {
		if _, ok := byCert[id]; !ok {
			t.Errorf("the issuance of %s was never delivered", id)
		}
	}
	for id, n := range perID {
		if n > 3 {
			t.Errorf("webhook-id %s delivered %d times", id, n)
		}
	}
	if bad != 0 {
		t.Errorf("%d requests failed the signature check", bad)
	}
	t.Logf("%d certificates, %d requests, %d distinct webhook-ids", len(ids), len(got), len(perID))
}

// TestOutboxKillAfterWithdrawal: certd is killed right after it answered a
// withdrawal; after the restart the withdrawal is delivered.
func TestOutboxKillAfterWithdrawal(t *testing.T) {
	p := startHookedProcess(t, cert.WebhookCertificateWithdrawn)
	id := issueThrough(t, p.url, p.token, 1)[0]
	if status, body := postJSON(t, p.url+"/api/v1/certificates/"+id+"/withdraw", p.token, map[string]any{"reason": "fraud"}); status != http.StatusOK {
		t.Fatalf("withdraw: %d %s", status, body)
	}
	kill9(t, p.cmd.Process)

	recv := &hookReceiver{secret: p.secret}
	recv.listen(t, p.recvAddr)
	p.restart(t)
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) && len(recv.delivered()[id]) == 0 {
		time.Sleep(100 * time.Millisecond)
	}
	if got := recv.delivered()[id]; len(got) == 0 || got[0] != cert.WebhookCertificateWithdrawn {
		t.Fatalf("after the restart the receiver got %v, want the withdrawal", got)
	}
	if _, bad := recv.requests(); bad != 0 {
		t.Errorf("%d requests failed the signature check", bad)
	}
}

// TestMongoProcessesDeliverOnce: two certd processes on one MongoDB share
// the outbox and the deliveries: every event of certificates issued and
// suspended through either process reaches the receiver exactly once (the
// receiver always answers 204, so a second request of one webhook-id could
// only come from two instances attempting it at once).
func TestMongoProcessesDeliverOnce(t *testing.T) {
	a, b, _ := twoProcesses(t, "--allow-http-webhooks", "--allow-private-webhooks")
	recv := &hookReceiver{}
	addr := freePort(t)
	recv.listen(t, addr)
	status, body := postJSON(t, a.URL+"/api/v1/webhooks", a.Admin, map[string]any{"issuer": DefaultIssuer, "url": "http://" + addr + "/hook"})
	if status != http.StatusCreated {
		t.Fatalf("create webhook: %d %s", status, body)
	}
	var hook struct{ Secret string }
	_ = json.Unmarshal(body, &hook)
	recv.setSecret(hook.Secret)

	var ids []string
	var wg sync.WaitGroup
	var mu sync.Mutex
	for _, p := range []*certdProcess{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got := issueThrough(t, p.URL, p.Admin, 20)
			mu.Lock()
			ids = append(ids, got...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	for i, id := range ids[:10] {
		p := []*certdProcess{a, b}[i%2]
		if status, body := postJSON(t, p.URL+"/api/v1/certificates/"+id+"/suspend", p.Admin, map[string]any{"reason": "overdue fee"}); status != http.StatusOK {
			t.Fatalf("suspend: %d %s", status, body)
		}
	}
	want := len(ids) + 10
	deadline := time.Now().Add(3 * time.Minute)
	for time.Now().Before(deadline) {
		if got, _ := recv.requests(); len(got) >= want {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(time.Second) // a duplicate would arrive now
	got, bad := recv.requests()
	perID := map[string]int{}
	for _, g := range got {
		perID[g.ID]++
	}
	if len(perID) != want {
		t.Errorf("%d distinct deliveries, want %d", len(perID), want)
	}
	for id, n := range perID {
		if n != 1 {
			t.Errorf("webhook-id %s attempted %d times", id, n)
		}
	}
	if bad != 0 {
		t.Errorf("%d requests failed the signature check", bad)
	}
}

// BenchmarkWithdrawalToDelivery measures the delay from a withdrawal
// request (sent) to its webhook delivery (received) through Main on a
// bbolt store, one withdrawal at a time, and reports p50 and p99.
//
//	go test -run '^$' -bench WithdrawalToDelivery -benchtime 200x ./cmd/certd
func BenchmarkWithdrawalToDelivery(b *testing.B) {
	ts, ids := seedServer(b, b.N)
	got := make(chan string, b.N)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var msg struct {
			Data struct{ Certificate struct{ ID string } }
		}
		_ = json.NewDecoder(r.Body).Decode(&msg)
		w.WriteHeader(http.StatusNoContent)
		got <- msg.Data.Certificate.ID
	}))
	defer srv.Close()
	ts2 := restartWithHooks(b, ts)
	createHook(b, ts2, srv.URL+"/hook", cert.WebhookCertificateWithdrawn)
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for _, id := range ids {
		start := time.Now()
		if r := ts2.do("POST", "/api/v1/certificates/"+id+"/withdraw", ts2.Admin, map[string]any{"reason": "fraud"}); r.Status != http.StatusOK {
			b.Fatalf("withdraw: %d %s", r.Status, r.Body)
		}
		if <-got != id {
			b.Fatal("a delivery for another certificate")
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "max-ms")
}

// restartWithHooks restarts a seeded server on its data directory with
// loopback webhooks allowed.
func restartWithHooks(b *testing.B, ts *testServer) *testServer {
	b.Helper()
	if err := ts.m.Close(); err != nil {
		b.Fatal(err)
	}
	return startServer(b, ts.DataDir, withRateLimit(1e9), allowLoopbackHooks, func(m *Main) {
		m.Logger = newLogger(Config{LogFormat: "json", LogLevel: "info"}, io.Discard)
	})
}
