package remind_test

import (
	"context"
	"encoding/base64"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/cert/certtest"
	"github.com/certd/certd/issuer"
	"github.com/certd/certd/keys"
	"github.com/certd/certd/notify"
	"github.com/certd/certd/profile"
	"github.com/certd/certd/remind"
	"github.com/certd/certd/store/bolt"
)

// clock is the fake clock the tests move by hand.
type clock = certtest.Clock

// env is the real wiring: bbolt in a temp dir, the keys and issuer use
// cases, the profile service, a fake clock.
type env struct {
	st       *bolt.Store
	svc      *issuer.Service
	profiles *profile.Service
	clock    *clock
	admin    cert.Principal
}

func testKEK(t testing.TB) keys.KEK {
	t.Helper()
	raw := make([]byte, 32)
	for i := range raw {
		raw[i] = byte(i + 1)
	}
	k, err := keys.ParseKEK([]byte(base64.StdEncoding.EncodeToString(raw)))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func mustSchemes() cert.Schemes {
	s, err := cert.NewSchemes(cert.BuiltinSchemes())
	if err != nil {
		panic(err)
	}
	return s
}

func newEnv(t testing.TB, start time.Time) *env {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "certd.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	e := &env{st: st, clock: certtest.NewClock(start)}
	ks := keys.NewService(st, testKEK(t), e.clock.Now)
	e.svc = issuer.New(issuer.Config{Store: st, Signer: ks, Rings: ks, Schemes: mustSchemes(), PublicURL: "https://verify.example.cn", Now: e.clock.Now})
	e.profiles = profile.New(profile.Config{Store: st, Schemes: mustSchemes(), Now: e.clock.Now})
	e.admin = cert.Principal{Role: cert.RoleAdmin, KeyID: "admin", Name: "test admin"}
	return e
}

func (e *env) createIssuer(t testing.TB, id, tz, prefix string) cert.Principal {
	t.Helper()
	if _, err := e.svc.CreateIssuer(context.Background(), e.admin, issuer.IssuerRequest{
		ID: id, Name: "Test Certification Body " + id, TimeZone: tz, NumberPrefix: prefix,
	}); err != nil {
		t.Fatal(err)
	}
	return cert.Principal{Role: cert.RoleIssuer, Issuer: id, KeyID: "k-" + id, Name: id + " operator"}
}

// issue issues a certificate of scheme valid from validFrom.
func (e *env) issue(t testing.TB, p cert.Principal, scheme, validFrom string) *cert.Certificate {
	t.Helper()
	req := issuer.Request{
		Scheme: scheme, Standard: "GB/T 28827.1-2022", Scope: "信息系统运行维护服务", ValidFrom: validFrom,
		Organization: cert.Organization{Name: "北京示例科技有限公司", USCC: "91110108MA0123456G", Address: "北京市海淀区"},
	}
	if scheme == "itss" {
		req.Category, req.Level = "运行维护", 3
	} else {
		req.Standard = "ISO 9001:2015"
	}
	c, _, err := e.svc.Issue(context.Background(), p, req, "")
	if err != nil {
		t.Fatalf("issue: %v", err)
	}
	return c
}

func (e *env) act(t testing.TB, p cert.Principal, id, action string, req issuer.ActionRequest) *cert.Certificate {
	t.Helper()
	c, err := e.svc.Act(context.Background(), p, id, action, req, 0)
	if err != nil {
		t.Fatalf("%s %s: %v", action, id, err)
	}
	return c
}

func (e *env) sweeper(sinks ...notify.Sink) *remind.Sweeper {
	return &remind.Sweeper{Store: e.st, Schemes: mustSchemes(), Sinks: sinks, Now: e.clock.Now}
}

// recorder is a sink that keeps the events by id, as a store of
// deliveries keyed by the event id would, and counts the attempts.
type recorder struct {
	mu       sync.Mutex
	first    map[string]notify.Event
	attempts map[string]int
}

func newRecorder() *recorder {
	return &recorder{first: map[string]notify.Event{}, attempts: map[string]int{}}
}

func (r *recorder) Enqueue(_ context.Context, ev notify.Event, now time.Time) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.attempts[ev.ID]++
	if _, ok := r.first[ev.ID]; !ok {
		r.first[ev.ID] = ev
	}
	return nil
}

func (r *recorder) snapshot() (map[string]notify.Event, map[string]int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f, a := make(map[string]notify.Event, len(r.first)), make(map[string]int, len(r.attempts))
	for k, v := range r.first {
		f[k] = v
	}
	for k, v := range r.attempts {
		a[k] = v
	}
	return f, a
}
