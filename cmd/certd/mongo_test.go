package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/issuer"
	"github.com/certd/certd/store/mongo/mongotest"
)

// certd on MongoDB (issue 3): several instances on one database, as behind
// a load balancer. The tests here run two Mains in one process, on the test
// server of mongotest (FerretDB behind a proxy that makes each command
// atomic, or the MongoDB of CERTD_TEST_MONGO_URI); store/mongo holds no
// lock, so they share nothing but the database. The proof that several
// instances are correct are the tests of two certd processes
// (mongoprocess_test.go); these cover the behaviours between instances
// that those do not (actions, revisions, sweeps, rotation, outages).

// sharedPublicURL is the public URL of every instance of a deployment, so
// that credentials issued by one verify on the others.
const sharedPublicURL = "https://verify.example.cn"

// mongoDB is one database shared by certd instances, and the KEK file that
// all of them read (never stored in the database).
type mongoDB struct {
	uri, name, kek string
}

// newMongoDB returns a fresh database (dropped when t ends) and a new KEK.
func newMongoDB(t testing.TB) mongoDB {
	t.Helper()
	uri, name := mongotest.Database(t)
	return mongoDB{uri: uri, name: name, kek: writeKEK(t)}
}

// onServer returns a fresh database on a dedicated FerretDB, which the test
// may stop and restart, and a new KEK.
func onServer(t testing.TB, srv *mongotest.Server) mongoDB {
	t.Helper()
	name := mongotest.DatabaseName(t)
	uri, err := mongotest.WithDatabase(srv.URI(), name)
	if err != nil {
		t.Fatal(err)
	}
	return mongoDB{uri: uri, name: name, kek: writeKEK(t)}
}

// writeKEK writes a new key-encryption key as `openssl rand -base64 32`
// prints it, mode 0600.
func writeKEK(t testing.TB) string {
	t.Helper()
	k := make([]byte, 32)
	_, _ = rand.Read(k)
	path := filepath.Join(t.TempDir(), "kek")
	if err := os.WriteFile(path, []byte(base64.StdEncoding.EncodeToString(k)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// withMongo runs the instance on db. Store calls get the generous timeout
// of mongotest (FerretDB under the race detector on a loaded machine is
// slow); tests of the timeout set their own after this option.
func withMongo(db mongoDB) serverOption {
	return func(m *Main) {
		m.Config.MongoURI, m.Config.MongoDatabase, m.Config.KEKFile = db.uri, db.name, db.kek
		m.Config.StoreTimeout = mongotest.Timeout
	}
}

func withStoreTimeout(d time.Duration) serverOption {
	return func(m *Main) { m.Config.StoreTimeout = d }
}

// newInstance prepares a Main like startServer does, without running it;
// dataDir "" means a fresh temp dir. Close is registered with t.
func newInstance(t testing.TB, dataDir string, opts ...serverOption) *testServer {
	t.Helper()
	if dataDir == "" {
		dataDir = t.TempDir()
	}
	ts := &testServer{t: t, DataDir: dataDir, Stdout: &syncBuffer{}, Logs: &syncBuffer{}}
	m := NewMain(testConfig(dataDir))
	m.Stdout = ts.Stdout
	m.Logger = newLogger(m.Config, ts.Logs)
	for _, o := range opts {
		o(m)
	}
	ts.m = m
	t.Cleanup(func() { _ = m.Close() })
	return ts
}

// run runs the instance; it may be called from any goroutine.
func (ts *testServer) run() error {
	if err := ts.m.Run(context.Background()); err != nil {
		return err
	}
	ts.URL = "http://" + ts.m.Addr()
	return nil
}

// startInstance runs one certd instance. Its admin key is the one the
// first start wrote to its data directory, or else (another instance
// bootstrapped the database) a new admin key made through m.Issuer.
func startInstance(t testing.TB, dataDir string, opts ...serverOption) *testServer {
	t.Helper()
	ts := newInstance(t, dataDir, opts...)
	if err := ts.run(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	ts.Admin = ts.adminKey(t)
	return ts
}

func (ts *testServer) adminKey(t testing.TB) string {
	t.Helper()
	if b, err := os.ReadFile(filepath.Join(ts.DataDir, "admin.token")); err == nil {
		return strings.TrimSpace(string(b))
	}
	_, token, err := ts.m.Issuer.CreateAPIKey(context.Background(),
		cert.Principal{Role: cert.RoleAdmin, KeyID: "test", Name: "test"},
		issuer.APIKeyRequest{Role: cert.RoleAdmin, Name: "test admin"})
	if err != nil {
		t.Fatalf("create an admin key: %v", err)
	}
	return token
}

// send is ts.do for any goroutine: failures are returned, not reported
// through t. A nil client means http.DefaultClient.
func (ts *testServer) send(c *http.Client, method, path, token string, body any, headers ...string) (response, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		enc, err := json.Marshal(b)
		if err != nil {
			return response{}, err
		}
		rd = bytes.NewReader(enc)
	}
	req, err := http.NewRequest(method, ts.URL+path, rd)
	if err != nil {
		return response{}, err
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		return response{}, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return response{}, fmt.Errorf("%s %s: read answer: %w", method, path, err)
	}
	return response{Status: resp.StatusCode, Header: resp.Header, Body: b}, nil
}

// verdict verifies id by GET /api/v1/verify/{id}; tok, when not "", is
// verified instead as a presented token (POST /api/v1/verify).
func (ts *testServer) verdict(t testing.TB, id, tok string) (int, map[string]any) {
	t.Helper()
	var r response
	if tok != "" {
		r = ts.do("POST", "/api/v1/verify", "", tok, "Content-Type", "application/vc+jwt")
	} else {
		r = ts.do("GET", "/api/v1/verify/"+id, "", nil)
	}
	return r.Status, r.JSON(t)
}

// twoInstances starts two certd instances on one new database, both with
// the public URL sharedPublicURL, the first one bootstrapping it.
func twoInstances(t testing.TB, opts ...serverOption) (a, b *testServer) {
	t.Helper()
	db := newMongoDB(t)
	opts = append([]serverOption{withMongo(db), withPublicURL(sharedPublicURL)}, opts...)
	a = startInstance(t, "", opts...)
	b = startInstance(t, "", opts...)
	return a, b
}

// issued is what a test keeps of an issued certificate.
type issued struct {
	ID, Number, Credential string
}

// A withdrawal through instance 1 is seen by instance 2 at its next
// verification, by id and by presented token: both read the certificate
// from the store every time. Instance 2's published status list follows
// within --status-ttl (on the fake clock).
func TestMongoWithdrawalSeenByOtherInstance(t *testing.T) {
	const ttl = time.Minute
	clk := &listClock{t: time.Date(2026, 6, 1, 10, 0, 0, 0, beijing)}
	a, b := twoInstances(t, withClock(clk.Now), withStatusTTL(ttl))
	c := a.issue(t, "default")
	id, tok := c["id"].(string), c["credential"].(string)
	list, index := a.position(t, c)
	for _, ts := range []*testServer{a, b} {
		for _, tk := range []string{"", tok} {
			if code, v := ts.verdict(t, id, tk); code != http.StatusOK || v["verdict"] != "valid" {
				t.Fatalf("before the withdrawal (token %v): %d %v %v", tk != "", code, v["verdict"], v["reason"])
			}
		}
		// Both instances now hold a snapshot of the lists.
		if l, _ := ts.fetchList(t, "default", "revocation", list); l.bit(index) {
			t.Fatalf("revocation bit set before the withdrawal")
		}
	}

	a.act(t, id, "withdraw", map[string]any{"reason": "certificate obtained by fraud"}, http.StatusOK)

	if code, v := b.verdict(t, id, ""); code != http.StatusOK || v["verdict"] != "invalid" || v["status"] != "withdrawn" {
		t.Errorf("instance 2, by id, right after the withdrawal: %d %v/%v, want invalid/withdrawn", code, v["verdict"], v["status"])
	}
	code, v := b.verdict(t, id, tok)
	if code != http.StatusOK || v["verdict"] != "invalid" || v["status"] != "withdrawn" || checks(v)["revocation"] {
		t.Errorf("instance 2, presented token, right after the withdrawal: %d %v/%v checks %v, want invalid/withdrawn with the revocation check failing",
			code, v["verdict"], v["status"], v["checks"])
	}
	if l, _ := a.fetchList(t, "default", "revocation", list); !l.bit(index) {
		t.Errorf("instance 1's revocation list does not show its own withdrawal at once")
	}
	// Instance 2 learns of the change from the store only: its list may lag
	// by up to the ttl, and no longer.
	l, r := b.fetchList(t, "default", "revocation", list)
	if cc := r.Header.Get("Cache-Control"); cc != "public, max-age=60" {
		t.Errorf("status list Cache-Control = %q, want public, max-age=60 (the ttl)", cc)
	}
	t.Logf("instance 2's revocation bit right after the withdrawal: %v (allowed to lag by the ttl)", l.bit(index))
	clk.Set(clk.Now().Add(ttl))
	if l, _ := b.fetchList(t, "default", "revocation", list); !l.bit(index) {
		t.Errorf("instance 2's revocation list does not show the withdrawal after the ttl (%s)", ttl)
	}
	if code, v := b.verdict(t, id, tok); code != http.StatusOK || v["verdict"] != "invalid" || !strings.Contains(checkDetail(v, "revocation"), "set in the revocation list") {
		t.Errorf("instance 2, presented token after the ttl: %v, revocation %q; want the list bit in the detail", v["verdict"], checkDetail(v, "revocation"))
	}
}

// A reinstatement through instance 1 is seen by instance 2 at once when it
// verifies by id. A presented token is also checked against instance 2's
// published suspension list, which may still carry the bit for up to
// --status-ttl; within that bound the token is reported invalid (never
// valid against the list), after it valid.
func TestMongoReinstatementSeenByOtherInstance(t *testing.T) {
	const ttl = time.Minute
	clk := &listClock{t: time.Date(2026, 6, 1, 10, 0, 0, 0, beijing)}
	a, b := twoInstances(t, withClock(clk.Now), withStatusTTL(ttl))
	c := a.issue(t, "default")
	id, tok := c["id"].(string), c["credential"].(string)
	list, index := a.position(t, c)

	a.act(t, id, "suspend", map[string]any{"reason": "holder request"}, http.StatusOK)
	if code, v := b.verdict(t, id, tok); code != http.StatusOK || v["verdict"] != "invalid" || v["status"] != "suspended" {
		t.Fatalf("instance 2, token of the suspended certificate: %d %v/%v", code, v["verdict"], v["status"])
	}
	clk.Set(clk.Now().Add(ttl))
	if l, _ := b.fetchList(t, "default", "suspension", list); !l.bit(index) {
		t.Fatalf("instance 2's suspension list lacks the suspension after the ttl")
	}

	clk.Set(clk.Now().Add(time.Second))
	a.act(t, id, "reinstate", map[string]any{"reason": "resolved"}, http.StatusOK)
	if code, v := b.verdict(t, id, ""); code != http.StatusOK || v["verdict"] != "valid" {
		t.Errorf("instance 2, by id, right after the reinstatement: %d %v, want valid", code, v["verdict"])
	}
	code, v := b.verdict(t, id, tok)
	if code != http.StatusOK || (v["verdict"] != "valid" && v["verdict"] != "invalid") {
		t.Errorf("instance 2, token right after the reinstatement: %d %v, want a verdict", code, v["verdict"])
	}
	t.Logf("instance 2, token right after the reinstatement: %v, suspension check %q (allowed to lag by the ttl)", v["verdict"], checkDetail(v, "suspension"))
	clk.Set(clk.Now().Add(ttl))
	if code, v := b.verdict(t, id, tok); code != http.StatusOK || v["verdict"] != "valid" {
		t.Errorf("instance 2, token a ttl after the reinstatement: %d %v %v, want valid", code, v["verdict"], v["checks"])
	}
	if l, _ := b.fetchList(t, "default", "suspension", list); l.bit(index) {
		t.Errorf("instance 2's suspension list still has the bit a ttl after the reinstatement")
	}
}

// Concurrent lifecycle actions on one certificate through two instances.
func TestMongoConcurrentActions(t *testing.T) {
	clk := &listClock{t: time.Date(2026, 6, 1, 10, 0, 0, 0, beijing)}
	a, b := twoInstances(t, withClock(clk.Now))
	today := clk.Now().Format(cert.DateLayout)

	// race runs one request on each instance at the same moment.
	race := func(t *testing.T, reqA, reqB func() (response, error)) (ra, rb response) {
		t.Helper()
		var wg sync.WaitGroup
		var errA, errB error
		start := make(chan struct{})
		wg.Add(2)
		go func() { defer wg.Done(); <-start; ra, errA = reqA() }()
		go func() { defer wg.Done(); <-start; rb, errB = reqB() }()
		close(start)
		wg.Wait()
		if err := errors.Join(errA, errB); err != nil {
			t.Fatal(err)
		}
		return ra, rb
	}
	events := func(t *testing.T, ts *testServer, id string) []string {
		t.Helper()
		var ev struct{ Events []struct{ Type string } }
		if err := json.Unmarshal(ts.do("GET", "/api/v1/certificates/"+id+"/events", ts.Admin, nil).Body, &ev); err != nil {
			t.Fatal(err)
		}
		var types []string
		for _, e := range ev.Events {
			types = append(types, e.Type)
		}
		return types
	}

	t.Run("if-match/one wins, the other gets 412", func(t *testing.T) {
		for round := range 8 {
			id := a.issue(t, "default")["id"].(string)
			path := "/api/v1/certificates/" + id + "/"
			ra, rb := race(t,
				func() (response, error) {
					return a.send(nil, "POST", path+"suspend", a.Admin, map[string]any{"reason": "holder request"}, "If-Match", `"1"`)
				},
				func() (response, error) {
					return b.send(nil, "POST", path+"withdraw", b.Admin, map[string]any{"reason": "fraud"}, "If-Match", `"1"`)
				})
			won, lost, winner := ra, rb, "suspended"
			if rb.Status == http.StatusOK {
				won, lost, winner = rb, ra, "withdrawn"
			}
			if won.Status != http.StatusOK || lost.Status != http.StatusPreconditionFailed {
				t.Fatalf("round %d: statuses %d (instance 1, suspend) and %d (instance 2, withdraw), want one 200 and one 412", round, ra.Status, rb.Status)
			}
			if ct := lost.Header.Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("round %d: the 412 is %q, want a problem document", round, ct)
			}
			if got := events(t, b, id); strings.Join(got, ",") != "issued,"+winner {
				t.Errorf("round %d: events %v, want issued and %s only", round, got, winner)
			}
			if etag := won.Header.Get("ETag"); etag != `"2"` {
				t.Errorf("round %d: winner's ETag %s, want \"2\"", round, etag)
			}
		}
	})

	t.Run("no if-match/every action is applied", func(t *testing.T) {
		id := a.issue(t, "default")["id"].(string)
		const perInstance = 4
		var (
			wg    sync.WaitGroup
			mu    sync.Mutex
			codes []int
			errs  []error
		)
		start := make(chan struct{})
		for _, ts := range []*testServer{a, b} {
			for i := range perInstance {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					r, err := ts.send(nil, "POST", "/api/v1/certificates/"+id+"/surveillance", ts.Admin,
						map[string]any{"reason": "annual audit", "date": today, "result": "passed", "auditRef": fmt.Sprintf("%s-%d", ts.URL, i)})
					mu.Lock()
					codes = append(codes, r.Status)
					if err != nil {
						errs = append(errs, err)
					}
					mu.Unlock()
				}()
			}
		}
		close(start)
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		for _, code := range codes {
			if code != http.StatusOK {
				t.Errorf("statuses %v, want all 200", codes)
				break
			}
		}
		got := events(t, a, id)
		if n := strings.Count(strings.Join(got, ","), "surveillance_passed"); n != 2*perInstance || len(got) != 1+2*perInstance {
			t.Errorf("events %v: %d surveillance records, want %d (no event lost)", got, n, 2*perInstance)
		}
		if v := a.do("GET", "/api/v1/certificates/"+id, a.Admin, nil).JSON(t)["version"]; v != float64(1+2*perInstance) {
			t.Errorf("version %v, want %d", v, 1+2*perInstance)
		}
	})

	t.Run("no if-match/the later action is decided on the new state", func(t *testing.T) {
		for round := range 4 {
			id := a.issue(t, "default")["id"].(string)
			path := "/api/v1/certificates/" + id + "/"
			ra, rb := race(t,
				func() (response, error) {
					return a.send(nil, "POST", path+"suspend", a.Admin, map[string]any{"reason": "holder request"})
				},
				func() (response, error) {
					return b.send(nil, "POST", path+"withdraw", b.Admin, map[string]any{"reason": "fraud"})
				})
			got := strings.Join(events(t, a, id), ",")
			switch {
			case ra.Status == http.StatusOK && rb.Status == http.StatusOK && got == "issued,suspended,withdrawn":
				// Suspended first, then withdrawn on the new version.
			case ra.Status == http.StatusConflict && rb.Status == http.StatusOK && got == "issued,withdrawn":
				// Withdrawn first: a withdrawn certificate cannot be suspended.
			default:
				t.Errorf("round %d: suspend %d, withdraw %d, events %s; want both applied in order, or the suspension refused (409) after the withdrawal",
					round, ra.Status, rb.Status, got)
			}
		}
	})
}

// Requests that must create one certificate, sent to both instances at
// once, create one: an Idempotency-Key retried on the other instance, and
// a revision asked of both.
func TestMongoOneCertificateAcrossInstances(t *testing.T) {
	a, b := twoInstances(t)
	const each = 5
	// both sends the request to each instance each times at once and
	// returns the answers.
	both := func(t *testing.T, path string, body any, headers ...string) []response {
		t.Helper()
		var (
			wg   sync.WaitGroup
			mu   sync.Mutex
			out  []response
			errs []error
		)
		start := make(chan struct{})
		for _, ts := range []*testServer{a, b} {
			for range each {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					r, err := ts.send(nil, "POST", path, ts.Admin, body, headers...)
					mu.Lock()
					defer mu.Unlock()
					out, errs = append(out, r), append(errs, err)
				}()
			}
		}
		close(start)
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		return out
	}
	ids := func(t *testing.T, rs []response, want int) map[string]int {
		t.Helper()
		seen := map[string]int{}
		for _, r := range rs {
			if r.Status != want {
				t.Errorf("status %d, want %d: %s", r.Status, want, r.Body)
				continue
			}
			seen[r.JSON(t)["id"].(string)]++
		}
		return seen
	}

	t.Run("idempotency key", func(t *testing.T) {
		got := ids(t, both(t, "/api/v1/certificates", sampleCertificate("default", testUSCC), "Idempotency-Key", "cb-order-7731"), http.StatusCreated)
		if len(got) != 1 {
			t.Errorf("one Idempotency-Key on two instances created %d certificates: %v", len(got), got)
		}
	})

	t.Run("revision", func(t *testing.T) {
		c := a.issue(t, "default")
		id := c["id"].(string)
		got := ids(t, both(t, "/api/v1/certificates/"+id+"/revise", map[string]any{"reason": "scope extended", "scope": "信息系统运行维护服务及咨询"}), http.StatusCreated)
		if len(got) != 1 {
			t.Fatalf("one revision asked of two instances created %d certificates: %v", len(got), got)
		}
		old := b.do("GET", "/api/v1/certificates/"+id, b.Admin, nil).JSON(t)
		for next := range got {
			if old["supersededBy"] != next || old["status"] != "superseded" {
				t.Errorf("the revised certificate: supersededBy %v status %v, want %s superseded", old["supersededBy"], old["status"], next)
			}
		}
		var ev struct{ Events []struct{ Type string } }
		if err := json.Unmarshal(a.do("GET", "/api/v1/certificates/"+id+"/events", a.Admin, nil).Body, &ev); err != nil {
			t.Fatal(err)
		}
		if n := len(ev.Events); n != 2 || ev.Events[1].Type != "revised" {
			t.Errorf("events of the revised certificate: %v, want issued and one revised", ev.Events)
		}
		// A different revision of the same certificate is refused now.
		r := b.do("POST", "/api/v1/certificates/"+id+"/revise", b.Admin, map[string]any{"reason": "other", "level": 2})
		if r.Status != http.StatusConflict {
			t.Errorf("another revision of a revised certificate: %d, want 409", r.Status)
		}
	})
}

// Every instance records time-derived changes; two of them sweeping the
// same database record each change once.
func TestMongoTwoInstancesSweepOnce(t *testing.T) {
	clk := &listClock{t: time.Date(2026, 6, 1, 10, 0, 0, 0, beijing)}
	fast := func(m *Main) { m.SweepInterval = 20 * time.Millisecond }
	a, b := twoInstances(t, withClock(clk.Now), fast)
	req := sampleCertificate("default", testUSCC)
	req["validFrom"] = "2025-01-01" // window closed 2026-01-01, cancelled 2026-04-01
	r := a.do("POST", "/api/v1/certificates", a.Admin, req)
	if r.Status != http.StatusCreated {
		t.Fatalf("issue: %d %s", r.Status, r.Body)
	}
	id := r.JSON(t)["id"].(string)
	derived := func() string {
		var ev struct {
			Events []struct{ Type, Status, Reason, Actor string }
		}
		if err := json.Unmarshal(b.do("GET", "/api/v1/certificates/"+id+"/events", b.Admin, nil).Body, &ev); err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range ev.Events {
			if e.Type == "status_changed" {
				out = append(out, e.Status+" "+e.Reason+" "+e.Actor)
			}
		}
		return strings.Join(out, ", ")
	}
	const want = "suspended surveillance_overdue system, cancelled suspension_limit system"
	deadline := time.Now().Add(30 * time.Second)
	for derived() != want && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	// Both instances have swept many times more by now.
	for range 10 {
		time.Sleep(20 * time.Millisecond)
		if got := derived(); got != want {
			t.Fatalf("derived events = %q, want %q: each change recorded once", got, want)
		}
	}
}

// A key rotation through instance 1 signs instance 2's next certificate;
// instance 2 verifies tokens of the new key at once and publishes the key
// within a second (its key ring cache, on the fake clock). A key revoked
// through instance 1 stops verifying on instance 2 within that second.
func TestMongoKeyRotationAcrossInstances(t *testing.T) {
	clk := &listClock{t: time.Date(2026, 6, 1, 10, 0, 0, 0, beijing)}
	a, b := twoInstances(t, withClock(clk.Now))
	before := b.issue(t, "default")
	oldKid := before["kid"].(string)
	jwksKids := func(ts *testServer) map[string]bool {
		var set struct{ Keys []struct{ Kid string } }
		if err := json.Unmarshal(ts.do("GET", "/issuers/default/jwks.json", "", nil).Body, &set); err != nil {
			t.Fatal(err)
		}
		kids := map[string]bool{}
		for _, k := range set.Keys {
			kids[k.Kid] = true
		}
		return kids
	}
	if kids := jwksKids(b); len(kids) != 1 || !kids[oldKid] {
		t.Fatalf("instance 2's JWKS before the rotation: %v, want only %s", kids, oldKid)
	}

	r := a.do("POST", "/api/v1/issuers/default/keys/rotate", a.Admin, nil)
	if r.Status != http.StatusCreated {
		t.Fatalf("rotate through instance 1: %d %s", r.Status, r.Body)
	}
	newKid := r.JSON(t)["kid"].(string)

	after := b.issue(t, "default")
	if after["kid"] != newKid || header(t, after["credential"].(string))["kid"] != newKid {
		t.Errorf("instance 2 signed its next certificate with %v, want the rotated key %s", after["kid"], newKid)
	}
	for _, c := range []map[string]any{after, before} {
		for _, tok := range []string{"", c["credential"].(string)} {
			if code, v := b.verdict(t, c["id"].(string), tok); code != http.StatusOK || v["verdict"] != "valid" {
				t.Errorf("instance 2 verifying a certificate of key %v (token %v): %d %v %v", c["kid"], tok != "", code, v["verdict"], v["reason"])
			}
		}
	}
	if err := b.verifyJWS(t, "default", after["credential"].(string)); err != nil {
		t.Errorf("the new credential against instance 2's JWKS: %v", err)
	}

	// Revoking the retired key through instance 1 reaches instance 2's
	// verification within its ring cache's second.
	if err := a.m.Keys.Revoke(context.Background(), "default", oldKid); err != nil {
		t.Fatal(err)
	}
	clk.Set(clk.Now().Add(time.Second))
	if code, v := b.verdict(t, "", before["credential"].(string)); code != http.StatusOK || v["verdict"] != "invalid" {
		t.Errorf("instance 2, token of the revoked key a second later: %d %v, want invalid", code, v["verdict"])
	}
	if code, v := b.verdict(t, before["id"].(string), ""); code != http.StatusOK || v["verdict"] != "invalid" || checks(v)["signature"] {
		t.Errorf("instance 2, by id, certificate of the revoked key: %d %v, want invalid with the signature check failing", code, v["verdict"])
	}
	if kids := jwksKids(b); len(kids) != 1 || !kids[newKid] {
		t.Errorf("instance 2's JWKS a second after the revocation: %v, want only %s", kids, newKid)
	}
}

// When the database goes away, instances answer at once and fail closed:
// verification unknown (503, never valid, even with every cache warm),
// readyz 503, issuing and actions 503 problem documents. When it comes
// back they work again without a restart.
func TestMongoDatabaseOutage(t *testing.T) {
	srv := mongotest.Start(t)
	db := onServer(t, srv)
	// The clock stands still: the verifier's issuers, the key rings and the
	// status lists stay cached through the outage, the worst case for
	// failing closed.
	clk := &listClock{t: time.Date(2026, 6, 1, 10, 0, 0, 0, beijing)}
	opts := []serverOption{withMongo(db), withStoreTimeout(time.Second), withPublicURL(sharedPublicURL), withClock(clk.Now)}
	a := startInstance(t, "", opts...)
	b := startInstance(t, "", opts...)
	c := a.issue(t, "default")
	id, tok := c["id"].(string), c["credential"].(string)
	for _, ts := range []*testServer{a, b} {
		for _, tk := range []string{"", tok} {
			if code, v := ts.verdict(t, id, tk); code != http.StatusOK || v["verdict"] != "valid" {
				t.Fatalf("before the outage (token %v): %d %v", tk != "", code, v["verdict"])
			}
		}
	}

	srv.Stop()
	// A request that hangs fails here instead of stalling the test; what
	// bounds the requests is the store timeout.
	client := &http.Client{Timeout: 30 * time.Second}
	type probe struct {
		name, method, path, token string
		body                      any
		headers                   []string
		want                      int
		verdict                   string
	}
	probes := []probe{
		{name: "verify by id", method: "GET", path: "/api/v1/verify/" + id, want: 503, verdict: "unknown"},
		{name: "verify token", method: "POST", path: "/api/v1/verify", body: tok, headers: []string{"Content-Type", "application/vc+jwt"}, want: 503, verdict: "unknown"},
		{name: "verification page as JSON", method: "GET", path: "/v/" + id, headers: []string{"Accept", "application/json"}, want: 503, verdict: "unknown"},
		{name: "verification page", method: "GET", path: "/v/" + id, want: 503},
		{name: "search", method: "GET", path: "/api/v1/search?q=" + c["number"].(string), want: 503},
		{name: "credential", method: "GET", path: "/v/" + id + "/credential.jwt", want: 503},
		{name: "readyz", method: "GET", path: "/readyz", want: 503},
		{name: "healthz", method: "GET", path: "/healthz", want: 200},
		{name: "issue", method: "POST", path: "/api/v1/certificates", body: sampleCertificate("default", testUSCC), want: 503},
		{name: "withdraw", method: "POST", path: "/api/v1/certificates/" + id + "/withdraw", body: map[string]any{"reason": "x"}, want: 503},
	}
	for i, ts := range []*testServer{a, b} {
		for _, p := range probes {
			t.Run(fmt.Sprintf("down/instance %d/%s", i+1, p.name), func(t *testing.T) {
				token := ""
				if p.method == "POST" && !strings.HasPrefix(p.path, "/api/v1/verify") {
					token = ts.Admin
				}
				r, err := ts.send(client, p.method, p.path, token, p.body, p.headers...)
				if err != nil {
					t.Fatalf("no answer: %v", err)
				}
				if r.Status != p.want {
					t.Fatalf("status %d, want %d: %s", r.Status, p.want, r.Body)
				}
				if bytes.Contains(r.Body, []byte(`"verdict":"valid"`)) {
					t.Fatalf("a valid verdict while the database is down: %s", r.Body)
				}
				switch {
				case p.verdict != "":
					if v := r.JSON(t); v["verdict"] != p.verdict {
						t.Errorf("verdict %v, want %s", v["verdict"], p.verdict)
					}
					if r.Header.Get("Retry-After") == "" {
						t.Errorf("no Retry-After on an unknown verdict")
					}
				case p.want == 503 && p.path != "/v/"+id:
					if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
						t.Errorf("Content-Type %q, want a problem document", ct)
					}
					if pd := r.JSON(t); pd["status"] != float64(503) || pd["type"] != "urn:certd:problem:unavailable" {
						t.Errorf("problem %v, want status 503 of type unavailable", pd)
					}
				}
			})
		}
	}

	for i, ts := range []*testServer{a, b} {
		t.Run(fmt.Sprintf("down/instance %d/verify batch", i+1), func(t *testing.T) {
			r, err := ts.send(client, "POST", "/api/v1/verify/batch", "", map[string]any{"items": []string{id, tok, c["number"].(string)}})
			if err != nil {
				t.Fatalf("no answer: %v", err)
			}
			var out struct{ Results []struct{ Verdict string } }
			if err := json.Unmarshal(r.Body, &out); err != nil || r.Status != http.StatusOK || len(out.Results) != 3 {
				t.Fatalf("%d %s, want 200 with 3 results", r.Status, r.Body)
			}
			for j, res := range out.Results {
				if res.Verdict != "unknown" {
					t.Errorf("item %d: verdict %s, want unknown", j, res.Verdict)
				}
			}
		})
	}

	// Many requests at once with every cache expired: each one answers
	// after a store timeout or two of its own, rather than queueing behind
	// the failed reads of the others (40 in turn would outlast the
	// client's timeout).
	clk.Set(clk.Now().Add(10 * time.Minute))
	t.Run("down/many requests at once", func(t *testing.T) {
		const n = 40
		var (
			wg   sync.WaitGroup
			mu   sync.Mutex
			errs []error
		)
		list, _ := a.position(t, c)
		for i := range 2 * n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var r response
				var err error
				if i%2 == 0 {
					r, err = a.send(client, "POST", "/api/v1/verify", "", tok, "Content-Type", "application/vc+jwt")
				} else {
					r, err = a.send(client, "GET", fmt.Sprintf("/status/default/revocation/%d", list), "", nil)
				}
				if err == nil && (r.Status != http.StatusServiceUnavailable || bytes.Contains(r.Body, []byte(`"verdict":"valid"`))) {
					err = fmt.Errorf("status %d, want 503: %s", r.Status, r.Body)
				}
				if err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if len(errs) > 0 {
			t.Errorf("%d of %d concurrent requests failed; the first: %v", len(errs), 2*n, errs[0])
		}
	})

	srv.Restart(t)
	for _, ts := range []*testServer{a, b} {
		deadline := time.Now().Add(time.Minute)
		for {
			r, err := ts.send(client, "GET", "/readyz", "", nil)
			if err == nil && r.Status == http.StatusOK {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s not ready a minute after the database came back: %v %d %s", ts.URL, err, r.Status, r.Body)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	c2 := b.issue(t, "default")
	for _, ts := range []*testServer{a, b} {
		for _, cc := range []map[string]any{c, c2} {
			for _, tk := range []string{"", cc["credential"].(string)} {
				if code, v := ts.verdict(t, cc["id"].(string), tk); code != http.StatusOK || v["verdict"] != "valid" {
					t.Errorf("after the outage on %s (token %v): %d %v %v", ts.URL, tk != "", code, v["verdict"], v["reason"])
				}
			}
		}
	}
	b.act(t, id, "withdraw", map[string]any{"reason": "certificate obtained by fraud"}, http.StatusOK)
	if code, v := a.verdict(t, id, ""); code != http.StatusOK || v["verdict"] != "invalid" {
		t.Errorf("withdrawal after the outage, seen by instance 1: %d %v", code, v["verdict"])
	}
}

// A second start on a database that exists does not fail on its indexes
// and does not bootstrap again; the unique indexes still hold.
func TestMongoSecondStart(t *testing.T) {
	db := newMongoDB(t)
	opts := []serverOption{withMongo(db), withPublicURL(sharedPublicURL)}
	first := startInstance(t, "", opts...)
	if n := strings.Count(first.Stdout.String(), "first start"); n != 1 {
		t.Fatalf("first start printed the first-start message %d times:\n%s", n, first.Stdout)
	}
	c := first.issue(t, "default")
	if err := first.m.Close(); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		ts := startInstance(t, "", opts...)
		if strings.Contains(ts.Stdout.String(), "first start") {
			t.Errorf("start %d printed the first-start message again", i+2)
		}
		if _, err := os.Stat(filepath.Join(ts.DataDir, "admin.token")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("start %d wrote an admin.token (%v)", i+2, err)
		}
		if r := ts.do("GET", "/api/v1/issuers", first.Admin, nil); r.Status != http.StatusOK {
			t.Fatalf("the first start's admin key on start %d: %d %s", i+2, r.Status, r.Body)
		} else if ids := issuerIDs(t, r); len(ids) != 1 || ids[0] != DefaultIssuer {
			t.Errorf("issuers after start %d: %v, want only %s", i+2, ids, DefaultIssuer)
		}
		if code, v := ts.verdict(t, c["id"].(string), ""); code != http.StatusOK || v["verdict"] != "valid" {
			t.Errorf("start %d verifying the first start's certificate: %d %v", i+2, code, v["verdict"])
		}
		// The unique index on (issuer, number) still holds.
		req := sampleCertificate("default", testUSCC)
		req["number"] = c["number"]
		if r := ts.do("POST", "/api/v1/certificates", ts.Admin, req); r.Status != http.StatusConflict {
			t.Errorf("start %d: a second certificate numbered %v: %d, want 409", i+2, c["number"], r.Status)
		}
		if err := ts.m.Close(); err != nil {
			t.Errorf("close start %d: %v", i+2, err)
		}
	}
}

// issuerIDs reads the ids of a GET /api/v1/issuers answer.
func issuerIDs(t testing.TB, r response) []string {
	t.Helper()
	var page struct{ Items []struct{ ID string } }
	if err := json.Unmarshal(r.Body, &page); err != nil {
		t.Fatalf("issuers: %v: %s", err, r.Body)
	}
	var ids []string
	for _, is := range page.Items {
		ids = append(ids, is.ID)
	}
	return ids
}

// backend starts certd on one storage backend; restart stops an instance
// and starts a new one on the same data (directory or database).
type backend struct {
	name  string
	start func(t *testing.T, opts ...serverOption) (ts *testServer, restart func() *testServer)
}

func backends() []backend {
	return []backend{
		{"bolt", func(t *testing.T, opts ...serverOption) (*testServer, func() *testServer) {
			dir := t.TempDir()
			opts = append([]serverOption{withPublicURL(sharedPublicURL)}, opts...)
			ts := startServer(t, dir, opts...)
			return ts, func() *testServer {
				if err := ts.m.Close(); err != nil {
					t.Fatal(err)
				}
				return startServer(t, dir, opts...)
			}
		}},
		{"mongo", func(t *testing.T, opts ...serverOption) (*testServer, func() *testServer) {
			opts = append([]serverOption{withMongo(newMongoDB(t)), withPublicURL(sharedPublicURL)}, opts...)
			dir := t.TempDir()
			ts := startInstance(t, dir, opts...)
			return ts, func() *testServer {
				if err := ts.m.Close(); err != nil {
					t.Fatal(err)
				}
				return startInstance(t, dir, opts...)
			}
		}},
	}
}

// The scenarios of the other cmd/certd tests that depend on the store run
// on both backends alike.
func TestMongoCoreScenariosOnBothBackends(t *testing.T) {
	for _, be := range backends() {
		t.Run(be.name+"/issue, verify, withdraw", func(t *testing.T) {
			ts, _ := be.start(t)
			c := ts.issue(t, "default")
			id, tok := c["id"].(string), c["credential"].(string)
			for _, tk := range []string{"", tok} {
				if code, v := ts.verdict(t, id, tk); code != http.StatusOK || v["verdict"] != "valid" || v["status"] != "active" {
					t.Fatalf("fresh certificate (token %v): %d %v/%v", tk != "", code, v["verdict"], v["status"])
				}
			}
			ts.act(t, id, "withdraw", map[string]any{"reason": "misuse of the mark"}, http.StatusOK)
			for _, tk := range []string{"", tok} {
				if code, v := ts.verdict(t, id, tk); code != http.StatusOK || v["verdict"] != "invalid" || v["status"] != "withdrawn" {
					t.Errorf("withdrawn certificate (token %v): %d %v/%v", tk != "", code, v["verdict"], v["status"])
				}
			}
			ts.act(t, id, "suspend", map[string]any{"reason": "too late"}, http.StatusConflict)
			if code, v := ts.verdict(t, "0000000000000000000000000Z", ""); code != http.StatusNotFound || v["status"] != "not_found" {
				t.Errorf("unknown id: %d %v", code, v["status"])
			}
		})

		t.Run(be.name+"/restart keeps everything", func(t *testing.T) {
			ts, restart := be.start(t)
			c := ts.issue(t, "default")
			id := c["id"].(string)
			ts.act(t, id, "suspend", map[string]any{"reason": "holder request"}, http.StatusOK)
			ts2 := restart()
			if ts2.Admin != ts.Admin {
				t.Errorf("the admin key changed across the restart")
			}
			if strings.Contains(ts2.Stdout.String(), "first start") {
				t.Errorf("the restart bootstrapped again")
			}
			got := ts2.do("GET", "/api/v1/certificates/"+id, ts.Admin, nil).JSON(t)
			for _, k := range []string{"number", "credential", "kid", "validFrom", "validUntil"} {
				if got[k] != c[k] {
					t.Errorf("%s after the restart: %v, want %v", k, got[k], c[k])
				}
			}
			if got["status"] != "suspended" || got["version"] != float64(2) {
				t.Errorf("after the restart: status %v version %v, want suspended 2", got["status"], got["version"])
			}
			if code, v := ts2.verdict(t, "", c["credential"].(string)); code != http.StatusOK || v["verdict"] != "invalid" || v["status"] != "suspended" || !checks(v)["signature"] {
				t.Errorf("token after the restart: %d %v/%v, want invalid/suspended with a good signature", code, v["verdict"], v["status"])
			}
			ts2.act(t, id, "reinstate", map[string]any{"reason": "resolved"}, http.StatusOK)
			if code, v := ts2.verdict(t, id, ""); code != http.StatusOK || v["verdict"] != "valid" {
				t.Errorf("reinstated after the restart: %d %v", code, v["verdict"])
			}
			if c2 := ts2.issue(t, "default"); c2["kid"] != c["kid"] {
				t.Errorf("the signing key changed across the restart: %v -> %v", c["kid"], c2["kid"])
			}
		})

		t.Run(be.name+"/batch, numbering, idempotency, listing", func(t *testing.T) {
			ts, _ := be.start(t, withRateLimit(1e9))
			items := make([]any, 30)
			for i := range items {
				items[i] = sampleCertificate("default", testUSCC)
			}
			dup := sampleCertificate("default", testUSCC)
			dup["number"] = "CB-FIXED-1"
			items = append(items, dup, dup)
			var out struct {
				Results []struct {
					Status      int
					Certificate struct{ ID, Number string }
				}
			}
			if err := json.Unmarshal(ts.do("POST", "/api/v1/certificates/batch", ts.Admin, map[string]any{"certificates": items}).Body, &out); err != nil {
				t.Fatal(err)
			}
			created := map[string]bool{}
			numbers := map[string]bool{}
			for i, res := range out.Results {
				want := http.StatusCreated
				if i == len(items)-1 {
					want = http.StatusConflict
				}
				if res.Status != want {
					t.Errorf("batch item %d: %d, want %d", i, res.Status, want)
				}
				if res.Status == http.StatusCreated {
					if numbers[res.Certificate.Number] {
						t.Errorf("number %s twice", res.Certificate.Number)
					}
					created[res.Certificate.ID], numbers[res.Certificate.Number] = true, true
				}
			}
			body := sampleCertificate("default", testUSCC)
			first := ts.do("POST", "/api/v1/certificates", ts.Admin, body, "Idempotency-Key", "audit-2026-0042")
			again := ts.do("POST", "/api/v1/certificates", ts.Admin, body, "Idempotency-Key", "audit-2026-0042")
			if first.Status != http.StatusCreated || again.Status != http.StatusCreated || first.JSON(t)["id"] != again.JSON(t)["id"] {
				t.Errorf("idempotent retry: %d %d, ids %v %v; want one certificate", first.Status, again.Status, first.JSON(t)["id"], again.JSON(t)["id"])
			}
			created[first.JSON(t)["id"].(string)] = true

			// Pages of 7, newest last, each certificate once.
			seen, cursor, pages := map[string]bool{}, "", 0
			for pages = 0; pages < 100; pages++ {
				var page struct {
					Items []struct{ ID, CreatedAt string }
					Next  string
				}
				if err := json.Unmarshal(ts.do("GET", "/api/v1/certificates?limit=7&cursor="+cursor, ts.Admin, nil).Body, &page); err != nil {
					t.Fatal(err)
				}
				for _, it := range page.Items {
					if seen[it.ID] {
						t.Errorf("certificate %s listed twice", it.ID)
					}
					seen[it.ID] = true
				}
				if cursor = page.Next; cursor == "" {
					break
				}
			}
			if len(seen) != len(created) {
				t.Errorf("listed %d certificates in %d pages, want %d", len(seen), pages+1, len(created))
			}
		})
	}
}

// BenchmarkBackends measures issuing and verifying through the handlers
// (no sockets, as bench_test.go does) on bbolt and on MongoDB side by side
// in one run. MongoDB is the embedded FerretDB unless CERTD_TEST_MONGO_URI
// names a real deployment; FerretDB is a test server, and its figures say
// what the tests cost, not what production would do.
func BenchmarkBackends(b *testing.B) {
	quiet := func(m *Main) {
		m.Config.LogLevel = "error"
		m.Logger = newLogger(m.Config, io.Discard)
	}
	for _, be := range []struct {
		name string
		opts func(b *testing.B) []serverOption
	}{
		{"bolt", func(*testing.B) []serverOption { return nil }},
		{"mongo", func(b *testing.B) []serverOption { return []serverOption{withMongo(newMongoDB(b))} }},
	} {
		start := func(b *testing.B) *testServer {
			return startInstance(b, "", append(be.opts(b), withRateLimit(1e9), quiet)...)
		}
		// serve runs one request through the router; it reports a wrong
		// status with Error (RunParallel's goroutines must not call Fatal)
		// and returns false.
		serve := func(b *testing.B, h http.Handler, req *http.Request, want int) bool {
			req.RemoteAddr = "192.0.2.1:1234"
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != want {
				b.Errorf("%s %s: status %d, want %d: %s", req.Method, req.URL, rec.Code, want, rec.Body)
				return false
			}
			return true
		}

		b.Run(be.name+"/issue", func(b *testing.B) {
			ts := start(b)
			body, _ := json.Marshal(sampleCertificate("default", testUSCC))
			b.SetParallelism(8)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req := httptest.NewRequest("POST", "/api/v1/certificates", bytes.NewReader(body))
					req.Header.Set("Authorization", "Bearer "+ts.Admin)
					req.Header.Set("Content-Type", "application/json")
					if !serve(b, ts.m.API, req, http.StatusCreated) {
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "certs/s")
		})

		b.Run(be.name+"/verify", func(b *testing.B) {
			ts := start(b)
			certs := seedCertificates(b, ts, 1000)
			b.SetParallelism(8)
			b.ResetTimer()
			var next atomic.Int64
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					c := certs[int(next.Add(7919))%len(certs)]
					if !serve(b, ts.m.API, httptest.NewRequest("GET", "/api/v1/verify/"+c.ID, nil), http.StatusOK) {
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "verifications/s")
		})

		b.Run(be.name+"/verify-token", func(b *testing.B) {
			ts := start(b)
			certs := seedCertificates(b, ts, 1000)
			b.SetParallelism(8)
			b.ResetTimer()
			var next atomic.Int64
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					c := certs[int(next.Add(7919))%len(certs)]
					req := httptest.NewRequest("POST", "/api/v1/verify", strings.NewReader(c.Credential))
					req.Header.Set("Content-Type", "application/vc+jwt")
					if !serve(b, ts.m.API, req, http.StatusOK) {
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "verifications/s")
		})
	}
}

// seedCertificates issues n certificates through the batch API.
func seedCertificates(b *testing.B, ts *testServer, n int) []issued {
	b.Helper()
	var out []issued
	for len(out) < n {
		items := make([]any, min(1000, n-len(out)))
		for i := range items {
			items[i] = sampleCertificate("default", testUSCC)
		}
		var res struct {
			Results []struct {
				Status      int
				Certificate issued
			}
		}
		r := ts.do("POST", "/api/v1/certificates/batch", ts.Admin, map[string]any{"certificates": items})
		if err := json.Unmarshal(r.Body, &res); err != nil || r.Status != http.StatusOK {
			b.Fatalf("seed: %d %s", r.Status, r.Body)
		}
		for _, it := range res.Results {
			if it.Status != http.StatusCreated {
				b.Fatalf("seed: an item failed with %d", it.Status)
			}
			out = append(out, it.Certificate)
		}
	}
	return out
}
