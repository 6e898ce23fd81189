package issuer

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/keys"
	"github.com/certd/certd/store"
	"github.com/certd/certd/store/bolt"
)

// slClock is a fake clock the tests move; safe for concurrent use.
type slClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *slClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *slClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// countingStore counts the reads of rebuilds: lists counts the calls
// (pages of certificates or status views), certs the certificates they
// returned.
type countingStore struct {
	*bolt.Store
	lists atomic.Int64
	certs atomic.Int64
}

func (s *countingStore) ListCertificates(ctx context.Context, q store.Query) ([]*cert.Certificate, string, error) {
	s.lists.Add(1)
	page, next, err := s.Store.ListCertificates(ctx, q)
	s.certs.Add(int64(len(page)))
	return page, next, err
}

func (s *countingStore) StatusView(ctx context.Context, issuer string, at time.Time) (*store.StatusView, error) {
	s.lists.Add(1)
	v, err := s.Store.StatusView(ctx, issuer, at)
	if v != nil {
		s.certs.Add(int64(len(v.Due)))
	}
	return v, err
}

// slEnv is the real wiring of status lists: bolt in a temp dir, the keys
// service with a fixed KEK, a fake clock, and a Service that reports its
// writes to the lists.
type slEnv struct {
	st    *countingStore
	keys  *keys.Service
	clock *slClock
	lists *StatusLists
	svc   *Service
	cb    cert.Principal
}

const slTTL = time.Hour

var slShanghai = func() *time.Location {
	l, err := cert.LoadLocation("Asia/Shanghai")
	if err != nil {
		panic(err)
	}
	return l
}()

func slKEK(tb testing.TB) keys.KEK {
	tb.Helper()
	raw := make([]byte, 32)
	for i := range raw {
		raw[i] = byte(i + 7)
	}
	k, err := keys.ParseKEK([]byte(base64.StdEncoding.EncodeToString(raw)))
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

func slSchemes(tb testing.TB) cert.Schemes {
	tb.Helper()
	s, err := cert.NewSchemes(cert.BuiltinSchemes())
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// newSLEnv starts at now with an issuer "cb", with lists built from the
// store's status index.
func newSLEnv(tb testing.TB, now time.Time) *slEnv {
	tb.Helper()
	e := newSLEnvFull(tb, now)
	if err := e.lists.PrepareIndex(context.Background()); err != nil {
		tb.Fatal(err)
	}
	return e
}

// newSLEnvFull is newSLEnv with lists built from a read of every
// certificate.
func newSLEnvFull(tb testing.TB, now time.Time) *slEnv {
	tb.Helper()
	b, err := bolt.Open(filepath.Join(tb.TempDir(), "certd.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = b.Close() })
	e := &slEnv{st: &countingStore{Store: b}, clock: &slClock{t: now}}
	e.keys = keys.NewService(b, slKEK(tb), e.clock.Now)
	e.lists = NewStatusLists(StatusListConfig{
		Store: e.st, Signer: e.keys, Schemes: slSchemes(tb), PublicURL: "https://verify.example.cn", TTL: slTTL, Now: e.clock.Now,
	})
	e.svc = e.instance(tb, true)
	admin := cert.Principal{Role: cert.RoleAdmin, KeyID: "admin", Name: "admin"}
	if _, err := e.svc.CreateIssuer(context.Background(), admin, IssuerRequest{ID: "cb", Name: "Test CB", TimeZone: "Asia/Shanghai", NumberPrefix: "ITSS"}); err != nil {
		tb.Fatal(err)
	}
	e.cb = cert.Principal{Role: cert.RoleIssuer, Issuer: "cb", KeyID: "k1", Name: "operator"}
	return e
}

// instance is a Service on the same store; notify tells whether its writes
// reach e.lists (this instance) or not (another instance).
func (e *slEnv) instance(tb testing.TB, notify bool) *Service {
	tb.Helper()
	cfg := Config{Store: e.st, Signer: e.keys, Rings: e.keys, Schemes: slSchemes(tb), PublicURL: "https://verify.example.cn", Now: e.clock.Now}
	if notify {
		cfg.OnChange = e.lists.Invalidate
	}
	return New(cfg)
}

func (e *slEnv) issue(tb testing.TB, validFrom string) *cert.Certificate {
	tb.Helper()
	c, _, err := e.svc.Issue(context.Background(), e.cb, Request{
		Scheme: "itss", Standard: "GB/T 28827.1-2022", Category: "运行维护", Level: 3, Scope: "信息系统运行维护服务",
		ValidFrom: validFrom, Organization: cert.Organization{Name: "北京示例科技有限公司", USCC: "91110108MA0123456G"},
	}, "")
	if err != nil {
		tb.Fatalf("issue: %v", err)
	}
	return c
}

func (e *slEnv) bit(tb testing.TB, c *cert.Certificate, purpose string) bool {
	tb.Helper()
	set, err := e.lists.Bit(context.Background(), c.Issuer, purpose, c.StatusList, c.StatusIndex)
	if err != nil {
		tb.Fatalf("Bit(%s %s): %v", c.ID, purpose, err)
	}
	return set
}

// The snapshot follows a change made through this instance at once, and
// time-derived changes and other instances' changes within the ttl, never
// later.
func TestStatusListStaleness(t *testing.T) {
	ctx := context.Background()
	// A quarter of an hour before the first surveillance window of o
	// closes (2027-03-05 00:00 Beijing time).
	e := newSLEnv(t, time.Date(2027, 3, 4, 23, 45, 0, 0, slShanghai))
	o := e.issue(t, "2026-03-05")
	a := e.issue(t, "")
	b := e.issue(t, "")
	if e.bit(t, o, cert.PurposeSuspension) {
		t.Fatal("suspension bit of o set before its window closed")
	}

	// The window closes; the snapshot is younger than ttl and nothing was
	// written, so the list still says what it said.
	e.clock.Add(20 * time.Minute)
	if st := e.svc.StatusOf(o); st.Status != cert.StatusSuspended {
		t.Fatalf("o is %s after its window closed, want suspended", st.Status)
	}
	if e.bit(t, o, cert.PurposeSuspension) {
		t.Error("suspension bit of o changed before ttl with no write: the snapshot should be reused")
	}
	// A withdrawal through this instance is in the next answer.
	if _, err := e.svc.Act(ctx, e.cb, a.ID, ActionWithdraw, ActionRequest{Reason: "fraud"}, 0); err != nil {
		t.Fatal(err)
	}
	if !e.bit(t, a, cert.PurposeRevocation) {
		t.Error("revocation bit of a not set right after its withdrawal through this instance")
	}
	// The rebuild the withdrawal caused derived o's status anew.
	if !e.bit(t, o, cert.PurposeSuspension) {
		t.Error("suspension bit of o not set by the rebuild after the window closed")
	}

	// A withdrawal through another instance reaches this one within ttl.
	other := e.instance(t, false)
	if _, err := other.Act(ctx, e.cb, b.ID, ActionWithdraw, ActionRequest{Reason: "fraud"}, 0); err != nil {
		t.Fatal(err)
	}
	if e.bit(t, b, cert.PurposeRevocation) {
		t.Error("another instance's change showed before ttl: the test does not show the bound")
	}
	e.clock.Add(slTTL)
	if !e.bit(t, b, cert.PurposeRevocation) {
		t.Errorf("revocation bit of b not set %s after its withdrawal on another instance", slTTL)
	}
}

// The lists of one issuer are derived from one read of its certificates,
// whatever the number of callers, lists and purposes.
func TestStatusListSingleFlight(t *testing.T) {
	e := newSLEnv(t, time.Date(2027, 3, 1, 10, 0, 0, 0, slShanghai))
	cs := []*cert.Certificate{e.issue(t, ""), e.issue(t, ""), e.issue(t, "")}
	before := e.st.lists.Load()
	var wg sync.WaitGroup
	for i := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := cs[i%len(cs)]
			purpose := purposes[i%2]
			if i%3 == 0 {
				if _, err := e.lists.List(context.Background(), "cb", purpose, c.StatusList); err != nil {
					t.Error(err)
				}
				return
			}
			if _, err := e.lists.Bit(context.Background(), "cb", purpose, c.StatusList, c.StatusIndex); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if got := e.st.lists.Load() - before; got != 1 {
		t.Errorf("%d reads of the certificates for 32 concurrent callers, want 1", got)
	}
}

func TestStatusListNotFound(t *testing.T) {
	e := newSLEnv(t, time.Date(2027, 3, 1, 10, 0, 0, 0, slShanghai))
	c := e.issue(t, "")
	ctx := context.Background()
	for _, tc := range []struct {
		name, issuer, purpose string
		n                     int
	}{
		{"fail/unknown-issuer", "nobody", cert.PurposeRevocation, 1},
		{"fail/unknown-purpose", "cb", "message", 1},
		{"fail/empty-list", "cb", cert.PurposeRevocation, c.StatusList + 1},
		{"fail/list-zero", "cb", cert.PurposeSuspension, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.lists.List(ctx, tc.issuer, tc.purpose, tc.n)
			if !errors.Is(err, cert.ErrNotFound) {
				t.Errorf("List(%s, %s, %d) = %v, want cert.ErrNotFound", tc.issuer, tc.purpose, tc.n, err)
			}
		})
	}
	if len(e.lists.issuers) != 1 {
		t.Errorf("%d issuers cached after asking for an unknown one, want 1", len(e.lists.issuers))
	}
}

// statusBits: which states set which bit.
func TestStatusBits(t *testing.T) {
	now := time.Date(2027, 6, 1, 12, 0, 0, 0, slShanghai)
	from := time.Date(2026, 12, 1, 0, 0, 0, 0, slShanghai)
	itss := slSchemes(t)["itss"]
	ev := func(typ cert.EventType, at time.Time) cert.Event {
		return cert.Event{Type: typ, At: at, RecordedAt: at, Actor: "t", Reason: "r", Related: "NEXT"}
	}
	mk := func(events ...cert.Event) *cert.Certificate {
		c := &cert.Certificate{ID: "X", Issuer: "cb", Scheme: "itss", ValidFrom: from, ValidUntil: from.AddDate(3, 0, 0), TimeZone: "Asia/Shanghai"}
		c.Append(ev(cert.EventIssued, from))
		for _, e := range events {
			c.Append(e)
		}
		return c
	}
	day := func(d int) time.Time { return from.AddDate(0, 0, d) }
	for _, tc := range []struct {
		name               string
		c                  *cert.Certificate
		revoked, suspended bool
		wantStatus         cert.Status
	}{
		{name: "ok/active", c: mk(), wantStatus: cert.StatusActive},
		{name: "ok/withdrawn", c: mk(ev(cert.EventWithdrawn, day(10))), revoked: true, wantStatus: cert.StatusWithdrawn},
		{name: "ok/cancelled", c: mk(ev(cert.EventCancelled, day(10))), revoked: true, wantStatus: cert.StatusCancelled},
		{name: "ok/suspended", c: mk(ev(cert.EventSuspended, day(10))), suspended: true, wantStatus: cert.StatusSuspended},
		{name: "ok/reinstated", c: mk(ev(cert.EventSuspended, day(10)), ev(cert.EventReinstated, day(20))), wantStatus: cert.StatusActive},
		{name: "ok/revised", c: mk(ev(cert.EventRevised, day(10))), revoked: true, wantStatus: cert.StatusSuperseded},
		{name: "ok/renewed", c: mk(ev(cert.EventRenewed, day(10))), wantStatus: cert.StatusSuperseded},
		{name: "ok/renewal-not-started", c: mk(ev(cert.EventRenewed, now.AddDate(0, 1, 0))), wantStatus: cert.StatusActive},
		{name: "ok/suspended-then-withdrawn", c: mk(ev(cert.EventSuspended, day(10)), ev(cert.EventWithdrawn, day(20))), revoked: true, wantStatus: cert.StatusWithdrawn},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if st := cert.StatusAt(tc.c, itss, now); st.Status != tc.wantStatus {
				t.Fatalf("status %s, want %s", st.Status, tc.wantStatus)
			}
			r, s := statusBits(tc.c, itss, now)
			if r != tc.revoked || s != tc.suspended {
				t.Errorf("statusBits = revoked %v, suspended %v; want %v, %v", r, s, tc.revoked, tc.suspended)
			}
		})
	}
}

// The encoding is the specification's: "u", base64url without padding,
// GZIP, index 0 at the left-most bit of the first byte.
func TestEncodeBitstring(t *testing.T) {
	bits := make([]byte, cert.StatusListSize/8)
	set := []int{0, 7, 8, 48213, cert.StatusListSize - 1}
	for _, i := range set {
		setBit(bits, i)
	}
	enc, err := encodeBitstring(bits)
	if err != nil {
		t.Fatal(err)
	}
	got := decodeForTest(t, enc)
	if len(got) != cert.StatusListSize/8 {
		t.Fatalf("decoded %d bytes, want %d", len(got), cert.StatusListSize/8)
	}
	if got[0] != 0x81 || got[1] != 0x80 || got[len(got)-1] != 0x01 {
		t.Errorf("first bytes %08b %08b, last %08b; want 10000001 10000000 ... 00000001", got[0], got[1], got[len(got)-1])
	}
	n := 0
	for i := range cert.StatusListSize {
		if got[i/8]>>(7-i%8)&1 == 1 {
			n++
		}
	}
	if n != len(set) {
		t.Errorf("%d bits set, want %d", n, len(set))
	}
}

func decodeForTest(tb testing.TB, enc string) []byte {
	tb.Helper()
	raw, ok := strings.CutPrefix(enc, "u")
	if !ok {
		tb.Fatalf("encodedList %.20q lacks the multibase prefix u", enc)
	}
	gz, err := base64.RawURLEncoding.DecodeString(raw)
	if err != nil {
		tb.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		tb.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// randomBits sets frac of the entries of a list at random (fixed seed).
func randomBits(frac float64) []byte {
	bits := make([]byte, cert.StatusListSize/8)
	r := rand.New(rand.NewPCG(1, 2))
	for _, i := range r.Perm(cert.StatusListSize)[:int(frac*cert.StatusListSize)] {
		setBit(bits, i)
	}
	return bits
}

// The size of a published list with 1% of its entries set, and that it
// can be signed at all.
func TestStatusListSize(t *testing.T) {
	e := newSLEnv(t, time.Date(2027, 3, 1, 10, 0, 0, 0, slShanghai))
	for _, frac := range []float64{0, 0.01, 0.05} {
		payload, err := statusListPayload("https://verify.example.cn", "cb", "Test CB", cert.PurposeRevocation, 1, randomBits(frac), slTTL, e.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		tok, _, err := e.keys.Sign(context.Background(), "cb", payload)
		if err != nil {
			t.Fatalf("sign a list with %.0f%% set: %v", frac*100, err)
		}
		var p struct {
			CredentialSubject struct{ EncodedList string } `json:"credentialSubject"`
		}
		_ = json.Unmarshal(payload, &p)
		t.Logf("131072 entries, %4.1f%% set: encodedList %6d bytes, JWS %6d bytes", frac*100, len(p.CredentialSubject.EncodedList), len(tok))
	}
}

// BenchmarkBuildStatusList131072 measures the publication of one list of
// 131,072 entries with 1% set: from the positions to the signed JWS
// (bitstring, GZIP, base64url, JSON, Ed25519), and separately the full
// rebuild from a bolt store (read every certificate, derive its status,
// set the bits, sign one list).
func BenchmarkBuildStatusList131072(b *testing.B) {
	b.Run("sign", func(b *testing.B) {
		e := newSLEnv(b, time.Date(2027, 3, 1, 10, 0, 0, 0, slShanghai))
		r := rand.New(rand.NewPCG(3, 4))
		positions := r.Perm(cert.StatusListSize)[:cert.StatusListSize/100]
		ctx := context.Background()
		var size int
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			bits := make([]byte, cert.StatusListSize/8)
			for _, i := range positions {
				setBit(bits, i)
			}
			s, err := e.lists.sign(ctx, "cb", "Test CB", cert.PurposeRevocation, 1, bits, e.clock.Now())
			if err != nil {
				b.Fatal(err)
			}
			size = len(s.Token)
		}
		b.ReportMetric(float64(size), "jws-bytes")
	})
	for _, n := range []int{20000} {
		b.Run(fmt.Sprintf("rebuild-bolt-%d", n), func(b *testing.B) {
			e := newSLEnv(b, time.Date(2027, 3, 1, 10, 0, 0, 0, slShanghai))
			seedCertificates(b, e, n)
			ctx := context.Background()
			b.ResetTimer()
			for b.Loop() {
				e.lists.Invalidate("cb")
				if _, err := e.lists.List(ctx, "cb", cert.PurposeRevocation, 1); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/cert")
		})
	}
}

// seedCertificates stores n certificates of issuer cb directly, with
// distinct positions in list 1 and 1% of them withdrawn, 1% suspended.
func seedCertificates(b testing.TB, e *slEnv, n int) {
	b.Helper()
	ctx := context.Background()
	now := e.clock.Now()
	from, until := cert.ValidityPeriod(now.AddDate(0, -1, 0), slShanghai, 36)
	r := rand.New(rand.NewPCG(5, 6))
	perm := r.Perm(cert.StatusListSize)
	for start := 0; start < n; start += 1000 {
		var batch []*cert.Certificate
		for i := start; i < min(n, start+1000); i++ {
			c := &cert.Certificate{
				ID: cert.NewID(), Number: fmt.Sprintf("ITSS-2027-%06d", i+1), Issuer: "cb", Scheme: "itss",
				Standard: "GB/T 28827.1-2022", Category: "运行维护", Level: 3, Scope: "信息系统运行维护服务",
				Organization: cert.Organization{Name: "北京示例科技有限公司", USCC: "91110108MA0123456G", Country: "CN"},
				ValidFrom:    from, ValidUntil: until, TimeZone: "Asia/Shanghai",
				Credential: strings.Repeat("x", 1200), Kid: "kid",
				StatusList: 1, StatusIndex: perm[i], CreatedAt: from,
			}
			c.Append(cert.Event{Type: cert.EventIssued, At: from, RecordedAt: from, Actor: "seed"})
			switch i % 100 {
			case 0:
				c.Append(cert.Event{Type: cert.EventWithdrawn, At: now.AddDate(0, 0, -1), RecordedAt: now, Actor: "seed", Reason: "r"})
			case 1:
				c.Append(cert.Event{Type: cert.EventSuspended, At: now.AddDate(0, 0, -1), RecordedAt: now, Actor: "seed", Reason: "r"})
			}
			batch = append(batch, c)
		}
		errs, err := e.st.CreateCertificates(ctx, batch)
		if err != nil {
			b.Fatal(err)
		}
		for _, err := range errs {
			if err != nil {
				b.Fatal(err)
			}
		}
	}
}
