package issuer_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/issuer"
	"github.com/certd/certd/keys"
	"github.com/certd/certd/store/bolt"
)

// clock is a fake clock tests move by hand; safe for concurrent use.
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

// faultyStore is the real bolt store with injected faults: while
// failUpdates is positive, UpdateCertificate fails as if the process had
// stopped before the write; while hideKeys is positive,
// CertificateByIdempotencyKey finds nothing, as a replica that lags behind.
type faultyStore struct {
	*bolt.Store
	failUpdates atomic.Int32
	hideKeys    atomic.Int32
	// While refuseStatus is set, reservations of status positions fail;
	// statusReserved counts those that succeeded.
	refuseStatus   atomic.Bool
	statusReserved atomic.Int32
}

func (f *faultyStore) NextSequence(ctx context.Context, name string, n int64) (int64, error) {
	if !strings.HasPrefix(name, "status/") {
		return f.Store.NextSequence(ctx, name, n)
	}
	if f.refuseStatus.Load() {
		return 0, errCrash
	}
	first, err := f.Store.NextSequence(ctx, name, n)
	if err == nil {
		f.statusReserved.Add(1)
	}
	return first, err
}

func (f *faultyStore) CertificateByIdempotencyKey(ctx context.Context, issuer, key string) (*cert.Certificate, error) {
	if f.hideKeys.Add(-1) >= 0 {
		return nil, fmt.Errorf("injected: not replicated yet: %w", cert.ErrNotFound)
	}
	f.hideKeys.Store(0)
	return f.Store.CertificateByIdempotencyKey(ctx, issuer, key)
}

var errCrash = errors.New("injected: process stopped")

func (f *faultyStore) UpdateCertificate(ctx context.Context, c *cert.Certificate) error {
	if f.failUpdates.Add(-1) >= 0 {
		return errCrash
	}
	f.failUpdates.Store(0)
	return f.Store.UpdateCertificate(ctx, c)
}

// env is the real wiring of the issuer use cases: bolt in a temp dir, the
// keys service with a fixed KEK, a fake clock.
type env struct {
	st    *faultyStore
	keys  *keys.Service
	svc   *issuer.Service
	clock *clock
	admin cert.Principal
	cb    cert.Principal
}

var shanghai = func() *time.Location {
	l, err := cert.LoadLocation("Asia/Shanghai")
	if err != nil {
		panic(err)
	}
	return l
}()

// bj is midnight of a date in Beijing, or a date and time.
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

func newEnv(t testing.TB, start string) *env {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "certd.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	e := &env{st: &faultyStore{Store: st}, clock: &clock{t: bj(t, start).Add(9 * time.Hour)}}
	e.keys = keys.NewService(st, testKEK(t), e.clock.Now)
	e.svc = e.newService()
	e.admin = cert.Principal{Role: cert.RoleAdmin, KeyID: "admin", Name: "test admin"}
	if _, err := e.svc.CreateIssuer(context.Background(), e.admin, issuer.IssuerRequest{
		ID: "cb", Name: "Test Certification Body", TimeZone: "Asia/Shanghai", NumberPrefix: "ITSS",
	}); err != nil {
		t.Fatal(err)
	}
	e.cb = cert.Principal{Role: cert.RoleIssuer, Issuer: "cb", KeyID: "k1", Name: "cb operator"}
	return e
}

// newService is another instance on the same store.
func (e *env) newService() *issuer.Service {
	return issuer.New(issuer.Config{
		Store: e.st, Signer: e.keys, Rings: e.keys, Schemes: mustSchemes(), PublicURL: "https://verify.example.cn", Now: e.clock.Now,
	})
}

func mustSchemes() cert.Schemes {
	s, err := cert.NewSchemes(cert.BuiltinSchemes())
	if err != nil {
		panic(err)
	}
	return s
}

// issue issues a certificate of scheme valid from validFrom.
func (e *env) issue(t testing.TB, scheme, validFrom string) *cert.Certificate {
	t.Helper()
	req := issuer.Request{
		Scheme: scheme, Standard: "GB/T 28827.1-2022", Scope: "信息系统运行维护服务", ValidFrom: validFrom,
		Organization: cert.Organization{Name: "北京示例科技有限公司", USCC: "91110108MA0123456G", Address: "北京市海淀区"},
	}
	if scheme == "itss" {
		req.Category, req.Level = "运行维护", 3
	}
	c, _, err := e.svc.Issue(context.Background(), e.cb, req, "")
	if err != nil {
		t.Fatalf("issue: %v", err)
	}
	return c
}

// act runs an action and fails the test on an error.
func (e *env) act(t testing.TB, id, action string, req issuer.ActionRequest) *cert.Certificate {
	t.Helper()
	c, err := e.svc.Act(context.Background(), e.cb, id, action, req, 0)
	if err != nil {
		t.Fatalf("%s %s: %v", action, id, err)
	}
	return c
}

func (e *env) get(t testing.TB, id string) *cert.Certificate {
	t.Helper()
	c, err := e.st.Certificate(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (e *env) status(t testing.TB, id string) cert.Standing {
	t.Helper()
	return e.svc.StatusOf(e.get(t, id))
}

func ptr[T any](v T) *T { return &v }

func countType(c *cert.Certificate, typ cert.EventType) int {
	n := 0
	for _, e := range c.Events {
		if e.Type == typ {
			n++
		}
	}
	return n
}
