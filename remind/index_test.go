package remind_test

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/notify"
	"github.com/certd/certd/remind"
	"github.com/certd/certd/store"
	"github.com/certd/certd/store/bolt"
)

// fullRead is the store without its validity index: Sweep reads every
// certificate.
type fullRead struct{ remind.Store }

// readCounter counts the certificates the sweep reads, by either path.
type readCounter struct {
	*bolt.Store
	listed, byValidity atomic.Int64
}

func (r *readCounter) ListCertificates(ctx context.Context, q store.Query) ([]*cert.Certificate, string, error) {
	page, next, err := r.Store.ListCertificates(ctx, q)
	r.listed.Add(int64(len(page)))
	return page, next, err
}

func (r *readCounter) CertificatesByValidity(ctx context.Context, q store.ValidityQuery) ([]*cert.Certificate, string, error) {
	page, next, err := r.Store.CertificatesByValidity(ctx, q)
	r.byValidity.Add(int64(len(page)))
	return page, next, err
}

// randomStore fills a store with n certificates of two issuers (one with
// the default lead times in Shanghai, one with its own in Berlin), both
// schemes, validity starts spread over four years, some audits, some
// suspensions and withdrawals.
func randomStore(t testing.TB, n int, seed uint64) (*bolt.Store, time.Time) {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "certd.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	ctx := context.Background()
	own := cert.Reminders{SurveillanceOpen: false, SurveillanceCloseDays: []int{60, 7, 1}, ExpiryDays: []int{365, 45, 2}}
	for _, is := range []*cert.Issuer{
		{ID: "cb", Name: "CB", TimeZone: "Asia/Shanghai", Version: 1},
		{ID: "eu", Name: "EU CB", TimeZone: "Europe/Berlin", Version: 1, Reminders: &own},
	} {
		if err := st.CreateIssuer(ctx, is); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	r := rand.New(rand.NewPCG(seed, 3))
	var batch []*cert.Certificate
	for i := range n {
		issuer, tz := "cb", "Asia/Shanghai"
		if i%3 == 0 {
			issuer, tz = "eu", "Europe/Berlin"
		}
		loc, _ := cert.LoadLocation(tz)
		scheme := "itss"
		if r.IntN(2) == 0 {
			scheme = "iso17021"
		}
		from, until := cert.ValidityPeriod(start.AddDate(0, 0, r.IntN(4*365)).Add(time.Duration(r.IntN(86400))*time.Second), loc, 36)
		created := from
		if r.IntN(4) == 0 {
			created = from.AddDate(0, r.IntN(30), 0) // imported later
		}
		c := &cert.Certificate{
			ID: cert.NewID(), Number: fmt.Sprintf("N-%06d", i), Issuer: issuer, Scheme: scheme,
			Standard: "GB/T 28827.1-2022", Category: "运行维护", Level: 3, Scope: "信息系统运行维护服务",
			Organization: cert.Organization{Name: "北京示例科技有限公司", USCC: "91110108MA0123456G", Country: "CN"},
			ValidFrom:    from, ValidUntil: until, TimeZone: tz, Credential: strings.Repeat("x", 100), Kid: "kid",
			StatusList: 1, StatusIndex: i, CreatedAt: created,
		}
		c.Append(cert.Event{Type: cert.EventIssued, At: from, RecordedAt: created, Actor: "seed"})
		for _, m := range []int{10, 11, 22, 23} {
			if r.IntN(3) == 0 {
				at := from.AddDate(0, m, 0)
				c.Append(cert.Event{Type: cert.EventSurveillancePassed, At: at, RecordedAt: at, Actor: "seed"})
			}
		}
		switch r.IntN(12) {
		case 0:
			at := from.AddDate(0, r.IntN(30), 0)
			c.Append(cert.Event{Type: cert.EventSuspended, At: at, RecordedAt: at, Actor: "seed", Reason: "r"})
		case 1:
			at := from.AddDate(0, r.IntN(30), 0)
			c.Append(cert.Event{Type: cert.EventWithdrawn, At: at, RecordedAt: at, Actor: "seed", Reason: "r"})
		}
		batch = append(batch, c)
		if len(batch) == 500 || i == n-1 {
			errs, err := st.CreateCertificates(ctx, batch)
			if err != nil {
				t.Fatal(err)
			}
			for _, err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			batch = batch[:0]
		}
	}
	return st, start
}

// At random instants over five years, the sweep from the validity index
// hands on exactly the reminders of a sweep that reads every certificate,
// and reads a fraction of the certificates.
func TestSweepByValidityMatchesFullRead(t *testing.T) {
	const n = 3000
	st, start := randomStore(t, n, 1)
	counter := &readCounter{Store: st}
	r := rand.New(rand.NewPCG(5, 6))
	total, read, sweeps := 0, int64(0), 0
	for i := range 60 {
		now := start.Add(time.Duration(r.Int64N(int64(5 * 365 * 24 * time.Hour))))
		if i%5 == 0 {
			// The send hour itself, where the range ends.
			loc, _ := cert.LoadLocation("Asia/Shanghai")
			now = time.Date(now.Year(), now.Month(), now.Day(), remind.SendHour, 0, 0, 0, loc)
		}
		catchUp := []time.Duration{0, time.Hour, 36 * time.Hour}[i%3]
		clock := func() time.Time { return now }
		want, got := newRecorder(), newRecorder()
		wn, err := (&remind.Sweeper{Store: fullRead{st}, Schemes: mustSchemes(), Sinks: []notify.Sink{want}, Now: clock, CatchUp: catchUp}).Sweep(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		counter.listed.Store(0)
		counter.byValidity.Store(0)
		gn, err := (&remind.Sweeper{Store: counter, Schemes: mustSchemes(), Sinks: []notify.Sink{got}, Now: clock, CatchUp: catchUp}).Sweep(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if counter.listed.Load() != 0 {
			t.Fatalf("the sweep with a validity index listed %d certificates", counter.listed.Load())
		}
		wantEv, _ := want.snapshot()
		gotEv, _ := got.snapshot()
		if gn != wn || !maps.EqualFunc(gotEv, wantEv, sameEvent) {
			ids := slices.Sorted(maps.Keys(wantEv))
			t.Fatalf("at %s (catch-up %s): %d reminders from the index, %d from every certificate (want %v)", now, catchUp, gn, wn, ids)
		}
		total += wn
		read += counter.byValidity.Load()
		sweeps++
	}
	if total == 0 {
		t.Fatal("no reminder in any sweep: the comparison proves nothing")
	}
	if avg := float64(read) / float64(sweeps); avg > n/4 {
		t.Errorf("the sweep from the index read %.0f of %d certificates on average, want under a quarter", avg, n)
	}
	t.Logf("%d reminders in %d sweeps; %.0f of %d certificates read per sweep", total, sweeps, float64(read)/float64(sweeps), n)
}

func sameEvent(a, b notify.Event) bool {
	return a.ID == b.ID && a.Type == b.Type && a.At.Equal(b.At) && a.RecordedAt.Equal(b.RecordedAt) &&
		a.Certificate.ID == b.Certificate.ID && *a.Reminder == *b.Reminder
}
