package api_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/certd/certd/api"
	"github.com/certd/certd/cert"
	"github.com/certd/certd/issuer"
	"github.com/certd/certd/keys"
	"github.com/certd/certd/profile"
	"github.com/certd/certd/store/bolt"
	"github.com/certd/certd/verifier"
)

// The lifecycle end to end through the router: the real wiring of
// cmd/certd (bolt in a temp dir, the keys service, issuer, verifier) with a
// fake clock the test moves.

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

var shanghai = func() *time.Location {
	l, err := cert.LoadLocation("Asia/Shanghai")
	if err != nil {
		panic(err)
	}
	return l
}()

// bj parses a Beijing date, or date and time.
func bj(t testing.TB, s string) time.Time {
	t.Helper()
	layout := cert.DateLayout
	if len(s) > len(layout) {
		layout = "2006-01-02 15:04:05"
	}
	v, err := time.ParseInLocation(layout, s, shanghai)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

type testAPI struct {
	t     testing.TB
	srv   *api.Server
	svc   *issuer.Service
	clock *clock
	token string
	store *bolt.Store
	keys  *keys.Service
}

const publicURL = "https://verify.example.cn"

func newTestAPI(t testing.TB, start string) *testAPI {
	t.Helper()
	return newTestAPIWith(t, start, nil)
}

// newTestAPIWith is newTestAPI with a hook that may change the issuing
// service's and the server's configuration before they are built.
func newTestAPIWith(t testing.TB, start string, configure func(*issuer.Config, *api.Config)) *testAPI {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "certd.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	raw := bytes.Repeat([]byte{7}, 32)
	kek, err := keys.ParseKEK([]byte(base64.StdEncoding.EncodeToString(raw)))
	if err != nil {
		t.Fatal(err)
	}
	schemes, err := cert.NewSchemes(cert.BuiltinSchemes())
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: bj(t, start).Add(10 * time.Hour)}
	ks := keys.NewService(st, kek, clk.Now)
	icfg := issuer.Config{Store: st, Signer: ks, Rings: ks, Schemes: schemes, PublicURL: publicURL, Now: clk.Now}
	acfg := api.Config{
		Keys: ks, Store: st, PublicURL: publicURL,
		PublicRate: 1e6, PublicBurst: 1e6, Now: clk.Now,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	if configure != nil {
		configure(&icfg, &acfg)
	}
	svc := issuer.New(icfg)
	ver := verifier.New(verifier.Config{Store: st, Keys: ks, Schemes: schemes, PublicURL: publicURL, Now: clk.Now, VerdictCache: 1000})
	ctx := context.Background()
	admin := cert.Principal{Role: cert.RoleAdmin, KeyID: "test"}
	if _, err := svc.CreateIssuer(ctx, admin, issuer.IssuerRequest{ID: "cb", Name: "Test CB", NameZh: "测试认证中心", NumberPrefix: "ITSS"}); err != nil {
		t.Fatal(err)
	}
	_, token, err := svc.CreateAPIKey(ctx, admin, issuer.APIKeyRequest{Issuer: "cb", Role: cert.RoleIssuer, Name: "cb operator"})
	if err != nil {
		t.Fatal(err)
	}
	acfg.Issuing, acfg.Verifying = svc, ver
	acfg.Profiles = profile.New(profile.Config{Store: st, Schemes: schemes, Now: clk.Now})
	srv := api.New(acfg)
	return &testAPI{t: t, srv: srv, svc: svc, clock: clk, token: token, store: st, keys: ks}
}

type response struct {
	code   int
	header http.Header
	body   []byte
}

func (r response) decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// do sends a request through the router; headers are name, value pairs.
func (a *testAPI) do(method, path string, body any, headers ...string) response {
	a.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			a.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req := httptest.NewRequest(method, path, rd)
	req.RemoteAddr = "192.0.2.10:40000"
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if strings.HasPrefix(path, "/api/v1/certificates") {
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	a.srv.ServeHTTP(rec, req)
	return response{code: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
}

type resource struct {
	ID           string            `json:"id"`
	Number       string            `json:"number"`
	Revision     int               `json:"revision"`
	Level        int               `json:"level"`
	Status       cert.Status       `json:"status"`
	StatusReason string            `json:"statusReason"`
	Surveillance cert.Surveillance `json:"surveillance"`
	ValidFrom    string            `json:"validFrom"`
	ValidUntil   string            `json:"validUntil"`
	OriginalDate string            `json:"originalDate"`
	Supersedes   string            `json:"supersedes"`
	SupersededBy string            `json:"supersededBy"`
	Version      int64             `json:"version"`
	Credential   string            `json:"credential"`
}

func (a *testAPI) issue(scheme string) resource {
	a.t.Helper()
	body := map[string]any{
		"scheme": scheme, "standard": "GB/T 28827.1-2022", "scope": "信息系统运行维护服务", "validFrom": "2026-11-27",
		"organization": map[string]any{"name": "北京示例科技有限公司", "uscc": "91110108MA0123456G", "address": "北京市海淀区"},
	}
	if scheme == "itss" {
		body["category"], body["level"] = "运行维护", 3
	}
	r := a.do(http.MethodPost, "/api/v1/certificates", body)
	if r.code != http.StatusCreated {
		a.t.Fatalf("issue: HTTP %d %s", r.code, r.body)
	}
	var c resource
	r.decode(a.t, &c)
	return c
}

// act posts an action and checks the HTTP status.
func (a *testAPI) act(id, action string, body map[string]any, want int, headers ...string) response {
	a.t.Helper()
	r := a.do(http.MethodPost, "/api/v1/certificates/"+id+"/"+action, body, headers...)
	if r.code != want {
		a.t.Fatalf("%s: HTTP %d, want %d: %s", action, r.code, want, r.body)
	}
	return r
}

func (a *testAPI) audit(id, date string) {
	a.t.Helper()
	a.clock.Set(bj(a.t, date).Add(15 * time.Hour))
	a.act(id, "surveillance", map[string]any{"reason": "annual audit", "date": date, "result": "passed", "auditRef": "R-" + date}, http.StatusOK)
}

func (a *testAPI) verify(id string) cert.Verdict {
	a.t.Helper()
	r := a.do(http.MethodGet, "/api/v1/verify/"+id, nil)
	if r.code != http.StatusOK {
		a.t.Fatalf("verify %s: HTTP %d %s", id, r.code, r.body)
	}
	var v cert.Verdict
	r.decode(a.t, &v)
	return v
}

func check(v cert.Verdict, name string) cert.Check {
	for _, c := range v.Checks {
		if c.Name == name {
			return c
		}
	}
	return cert.Check{Name: name, Detail: "missing"}
}

// wantVerdict checks a verdict at the current clock.
func (a *testAPI) wantVerdict(id, verdict string, status cert.Status, surv cert.SurveillanceState, reasonHas string) cert.Verdict {
	a.t.Helper()
	v := a.verify(id)
	when := a.clock.Now().In(shanghai).Format("2006-01-02 15:04:05")
	if v.Verdict != verdict || v.Status != status {
		a.t.Errorf("at %s: verdict %s/%s, want %s/%s (%s)", when, v.Verdict, v.Status, verdict, status, v.Reason)
	}
	if v.Surveillance == nil || v.Surveillance.State != surv {
		a.t.Errorf("at %s: surveillance %+v, want state %s", when, v.Surveillance, surv)
	}
	if !strings.Contains(v.Reason, reasonHas) {
		a.t.Errorf("at %s: reason %q, want it to say %q", when, v.Reason, reasonHas)
	}
	return v
}

func wantProblem(t testing.TB, r response, status int, slug, detailHas string) {
	t.Helper()
	if r.code != status || !strings.HasPrefix(r.header.Get("Content-Type"), "application/problem+json") {
		t.Fatalf("HTTP %d %s (%s), want %d problem+json", r.code, r.header.Get("Content-Type"), r.body, status)
	}
	var p api.Problem
	r.decode(t, &p)
	if p.Type != "urn:certd:problem:"+slug || !strings.Contains(p.Detail, detailHas) || p.RequestID == "" {
		t.Errorf("problem = %+v, want type %s and a detail that says %q", p, slug, detailHas)
	}
}

func TestAPISurveillanceITSS(t *testing.T) {
	a := newTestAPI(t, "2026-11-27")
	c := a.issue("itss")
	a.wantVerdict(c.ID, cert.VerdictValid, cert.StatusActive, cert.SurveillanceNotDue, "Genuine and valid")

	// The first window (2027-08-27 to 2027-11-26) closes at midnight
	// Beijing time without an audit.
	a.clock.Set(bj(t, "2027-11-27").Add(-time.Second))
	v := a.wantVerdict(c.ID, cert.VerdictValid, cert.StatusActive, cert.SurveillanceDue, "valid")
	if v.Surveillance.WindowEnd != "2027-11-26" {
		t.Errorf("windowEnd = %s, want 2027-11-26", v.Surveillance.WindowEnd)
	}
	a.clock.Set(bj(t, "2027-11-27"))
	v = a.wantVerdict(c.ID, cert.VerdictInvalid, cert.StatusSuspended, cert.SurveillanceOverdue, "surveillance audit was not passed in time")
	if ch := check(v, cert.CheckSuspension); ch.OK || !strings.Contains(ch.Detail, "suspended since 2027-11-27") {
		t.Errorf("suspension check = %+v", ch)
	}
	if ch := check(v, cert.CheckSurveillance); ch.OK || !strings.Contains(ch.Detail, "2027-11-26") {
		t.Errorf("surveillance check = %+v", ch)
	}
	// The CB cannot reinstate instead of auditing.
	wantProblem(t, a.do(http.MethodPost, "/api/v1/certificates/"+c.ID+"/reinstate", map[string]any{"reason": "please"}),
		http.StatusConflict, "transition-not-allowed", "record a passed surveillance audit")

	a.audit(c.ID, "2027-12-20")
	a.wantVerdict(c.ID, cert.VerdictValid, cert.StatusActive, cert.SurveillanceNotDue, "Genuine and valid")

	// The second window is missed too; three months later the certificate
	// is cancelled.
	a.clock.Set(bj(t, "2028-11-27 08:00:00"))
	a.wantVerdict(c.ID, cert.VerdictInvalid, cert.StatusSuspended, cert.SurveillanceOverdue, "Suspended since 2028-11-27")
	a.clock.Set(bj(t, "2029-02-27"))
	a.wantVerdict(c.ID, cert.VerdictInvalid, cert.StatusCancelled, cert.SurveillanceNone, "Cancelled by")

	// The audit trail records the time-derived changes once the sweep ran,
	// with the system actor.
	if _, err := a.svc.SweepDerived(context.Background(), "cb"); err != nil {
		t.Fatal(err)
	}
	r := a.do(http.MethodGet, "/api/v1/certificates/"+c.ID+"/events", nil)
	var ev struct {
		Status  cert.Status   `json:"status"`
		Events  []cert.Event  `json:"events"`
		History []cert.Change `json:"history"`
	}
	r.decode(t, &ev)
	var derived []string
	for _, e := range ev.Events {
		if e.Type == cert.EventStatusChanged && e.Actor == cert.SystemActor {
			derived = append(derived, e.At.In(shanghai).Format(cert.DateLayout)+" "+string(e.Status)+" "+e.Reason)
		}
	}
	want := "2027-11-27 suspended surveillance_overdue|2028-11-27 suspended surveillance_overdue|2029-02-27 cancelled suspension_limit"
	if got := strings.Join(derived, "|"); got != want || ev.Status != cert.StatusCancelled || len(ev.History) != 4 {
		t.Errorf("events: status %s, %d history entries, derived records %q; want cancelled, 4, %q", ev.Status, len(ev.History), got, want)
	}
	// An audit dated on or after the cancellation is refused (one dated
	// before it is a past audit recorded late, and counts).
	wantProblem(t, a.do(http.MethodPost, "/api/v1/certificates/"+c.ID+"/surveillance", map[string]any{"date": "2029-02-27", "result": "passed"}),
		http.StatusConflict, "transition-not-allowed", "cancelled")
}

func TestAPISurveillanceISO17021(t *testing.T) {
	a := newTestAPI(t, "2026-11-27")
	c := a.issue("iso17021")
	a.wantVerdict(c.ID, cert.VerdictValid, cert.StatusActive, cert.SurveillanceDue, "Genuine and valid")
	a.clock.Set(bj(t, "2027-11-27"))
	a.wantVerdict(c.ID, cert.VerdictInvalid, cert.StatusSuspended, cert.SurveillanceOverdue, "not passed in time")
	a.clock.Set(bj(t, "2028-05-27").Add(-time.Second))
	a.wantVerdict(c.ID, cert.VerdictInvalid, cert.StatusSuspended, cert.SurveillanceOverdue, "Suspended")
	a.clock.Set(bj(t, "2028-05-27"))
	a.wantVerdict(c.ID, cert.VerdictInvalid, cert.StatusWithdrawn, cert.SurveillanceNone, "Withdrawn by")
	// Reinstating a withdrawn certificate is impossible, and says why.
	wantProblem(t, a.do(http.MethodPost, "/api/v1/certificates/"+c.ID+"/reinstate", map[string]any{"reason": "audit done"}),
		http.StatusConflict, "transition-not-allowed", "withdrawn")
	wantProblem(t, a.do(http.MethodPost, "/api/v1/certificates/"+c.ID+"/renew", map[string]any{"reason": "recertified"}),
		http.StatusConflict, "transition-not-allowed", "withdrawn")
}

func TestAPIRenew(t *testing.T) {
	a := newTestAPI(t, "2026-11-27")
	old := a.issue("itss")
	a.audit(old.ID, "2027-09-15")
	a.audit(old.ID, "2028-09-20")

	a.clock.Set(bj(t, "2029-05-01"))
	wantProblem(t, a.do(http.MethodPost, "/api/v1/certificates/"+old.ID+"/renew", map[string]any{"reason": "recertified"}),
		http.StatusConflict, "transition-not-allowed", "can be renewed from 2029-05-27")
	a.clock.Set(bj(t, "2029-06-01 10:00:00"))
	r := a.do(http.MethodPost, "/api/v1/certificates/"+old.ID+"/renew", map[string]any{})
	wantProblem(t, r, http.StatusUnprocessableEntity, "invalid-input", "reason")

	body := map[string]any{"reason": "recertification audit passed", "decisionDate": "2029-05-30"}
	r = a.act(old.ID, "renew", body, http.StatusCreated)
	var next resource
	r.decode(t, &next)
	if loc := r.header.Get("Location"); loc != publicURL+"/api/v1/certificates/"+next.ID {
		t.Errorf("Location = %q, want the new certificate", loc)
	}
	if next.ID == old.ID || next.Supersedes != old.ID || next.OriginalDate != "2026-11-27" || next.Number == old.Number ||
		next.ValidFrom != "2029-11-27T00:00:00+08:00" || next.ValidUntil != "2032-11-27T00:00:00+08:00" || next.Credential == old.Credential {
		t.Errorf("renewal = %+v", next)
	}
	// A retried request gets the same answer; another request a 409.
	again := a.act(old.ID, "renew", body, http.StatusCreated)
	var replay resource
	again.decode(t, &replay)
	if replay.ID != next.ID {
		t.Errorf("retry created %s, want the first answer %s", replay.ID, next.ID)
	}
	wantProblem(t, a.do(http.MethodPost, "/api/v1/certificates/"+old.ID+"/renew", map[string]any{"reason": "again"}),
		http.StatusConflict, "transition-not-allowed", next.ID)

	// Until the new certificate starts, the old one is the valid one.
	a.wantVerdict(old.ID, cert.VerdictValid, cert.StatusActive, cert.SurveillanceNone, "It has been renewed: certificate "+next.ID+" replaces it from 2029-11-27.")
	a.wantVerdict(next.ID, cert.VerdictInvalid, cert.StatusActive, cert.SurveillanceNotDue, "Not valid yet: valid from 2029-11-27")
	a.clock.Set(bj(t, "2029-11-27").Add(-time.Second))
	a.wantVerdict(old.ID, cert.VerdictValid, cert.StatusActive, cert.SurveillanceNone, "valid until 2029-11-26")
	a.clock.Set(bj(t, "2029-11-27"))
	v := a.wantVerdict(old.ID, cert.VerdictInvalid, cert.StatusSuperseded, cert.SurveillanceNone, "newer certificate (id "+next.ID+")")
	if v.Certificate == nil || v.Certificate.SupersededBy != next.ID {
		t.Errorf("verdict certificate = %+v, want supersededBy %s", v.Certificate, next.ID)
	}
	// A renewal replaces the certificate without revoking it.
	if ch := check(v, cert.CheckRevocation); !ch.OK || !strings.Contains(ch.Detail, "renewed") {
		t.Errorf("revocation check of a renewed certificate = %+v, want ok (renewed)", ch)
	}
	a.wantVerdict(next.ID, cert.VerdictValid, cert.StatusActive, cert.SurveillanceNotDue, "Genuine and valid")
}

func TestAPIRevise(t *testing.T) {
	a := newTestAPI(t, "2026-11-27")
	old := a.issue("itss")
	a.audit(old.ID, "2027-09-15")
	a.clock.Set(bj(t, "2028-03-10 14:30:00"))
	wantProblem(t, a.do(http.MethodPost, "/api/v1/certificates/"+old.ID+"/revise", map[string]any{"reason": "x", "organization": map[string]any{"uscc": "91110000802100433B"}}),
		http.StatusUnprocessableEntity, "invalid-input", "organization.uscc")

	r := a.act(old.ID, "revise", map[string]any{"reason": "re-assessment: downgraded to level 4", "level": 4}, http.StatusCreated)
	var next resource
	r.decode(t, &next)
	if next.Number != old.Number+"-R1" || next.Revision != 1 || next.Level != 4 || next.ValidFrom != old.ValidFrom || next.ValidUntil != old.ValidUntil || next.Supersedes != old.ID {
		t.Errorf("revision = %+v", next)
	}
	if r.header.Get("Location") != publicURL+"/api/v1/certificates/"+next.ID {
		t.Errorf("Location = %q", r.header.Get("Location"))
	}
	// The old one is superseded at once, and revoked.
	ov := a.wantVerdict(old.ID, cert.VerdictInvalid, cert.StatusSuperseded, cert.SurveillanceNone, "newer certificate (id "+next.ID+")")
	if ch := check(ov, cert.CheckRevocation); ch.OK {
		t.Errorf("revocation check of a revised certificate = %+v, want not ok", ch)
	}
	v := a.wantVerdict(next.ID, cert.VerdictValid, cert.StatusActive, cert.SurveillanceNotDue, "Genuine and valid")
	if v.Certificate.Level != 4 || v.Certificate.Number != old.Number+"-R1" || v.Surveillance.LastAudit == nil {
		t.Errorf("verdict certificate = %+v, surveillance %+v", v.Certificate, v.Surveillance)
	}
	var got resource
	a.do(http.MethodGet, "/api/v1/certificates/"+old.ID, nil).decode(t, &got)
	if got.Status != cert.StatusSuperseded || got.SupersededBy != next.ID {
		t.Errorf("old = %s superseded by %q, want superseded by %s", got.Status, got.SupersededBy, next.ID)
	}
}

func TestAPIIfMatch(t *testing.T) {
	a := newTestAPI(t, "2026-11-27")
	c := a.issue("itss")
	r := a.act(c.ID, "suspend", map[string]any{"reason": "client request", "until": "2027-03-01"}, http.StatusOK, "If-Match", `"1"`)
	if r.header.Get("ETag") != `"2"` {
		t.Errorf("ETag = %q, want \"2\"", r.header.Get("ETag"))
	}
	wantProblem(t, a.do(http.MethodPost, "/api/v1/certificates/"+c.ID+"/reinstate", map[string]any{"reason": "done"}, "If-Match", `"1"`),
		http.StatusPreconditionFailed, "precondition-failed", "version 2, not 1")
	a.clock.Set(bj(t, "2028-06-01"))
	wantProblem(t, a.do(http.MethodPost, "/api/v1/certificates/"+c.ID+"/renew", map[string]any{"reason": "x"}, "If-Match", `"1"`),
		http.StatusPreconditionFailed, "precondition-failed", "version")
	// Idempotency keys of renewals are reserved.
	r = a.do(http.MethodPost, "/api/v1/certificates", map[string]any{"scheme": "itss"}, "Idempotency-Key", issuer.SuccessorKeyPrefix+c.ID)
	wantProblem(t, r, http.StatusBadRequest, "malformed-request", "reserved")
}

// Concurrent actions through the API never lose an event: the trail holds
// the issue and every action that succeeded.
func TestAPIConcurrentActions(t *testing.T) {
	a := newTestAPI(t, "2026-11-27")
	c := a.issue("iso17021")
	var (
		wg sync.WaitGroup
		mu sync.Mutex
		ok int
	)
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			action, body := "surveillance", map[string]any{"reason": "audit", "date": "2026-11-27", "result": "passed"}
			switch i % 4 {
			case 1:
				action, body = "suspend", map[string]any{"reason": fmt.Sprintf("check %d", i), "reasonCode": "0113"}
			case 3:
				action, body = "reinstate", map[string]any{"reason": fmt.Sprintf("checked %d", i)}
			}
			r := a.do(http.MethodPost, "/api/v1/certificates/"+c.ID+"/"+action, body)
			mu.Lock()
			defer mu.Unlock()
			switch r.code {
			case http.StatusOK:
				ok++
			case http.StatusConflict: // suspend while suspended, reinstate while active
			default:
				t.Errorf("%s: HTTP %d %s", action, r.code, r.body)
			}
		}()
	}
	wg.Wait()
	var ev struct {
		Events []cert.Event `json:"events"`
	}
	r := a.do(http.MethodGet, "/api/v1/certificates/"+c.ID+"/events", nil)
	r.decode(t, &ev)
	if len(ev.Events) != 1+ok || r.header.Get("ETag") != fmt.Sprintf(`"%d"`, 1+ok) {
		t.Errorf("%d events, ETag %s; want %d (issued + %d successful actions)", len(ev.Events), r.header.Get("ETag"), 1+ok, ok)
	}
	if ok < 10 {
		t.Errorf("%d actions succeeded, want at least the 10 surveillance records", ok)
	}
}
