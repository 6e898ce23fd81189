package remind_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/notify"
	"github.com/certd/certd/remind"
	"github.com/certd/certd/store/bolt"
)

// BenchmarkSweep measures one reminder sweep over 100,000 certificates in
// bbolt whose validity starts are spread over three years (so that each
// day a few hundred reminders are due), ITSS and ISO/IEC 17021 mixed: by a
// read of every certificate ("full-read", what every sweep did before the
// validity index) and from the validity index.
//
//	go test ./remind -run '^$' -bench BenchmarkSweep -benchtime 5x
func BenchmarkSweep(b *testing.B) {
	const n = 100_000
	st, err := bolt.Open(filepath.Join(b.TempDir(), "certd.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = st.Close() })
	ctx := context.Background()
	if err := st.CreateIssuer(ctx, &cert.Issuer{ID: "cb", Name: "Test CB", TimeZone: "Asia/Shanghai", Version: 1}); err != nil {
		b.Fatal(err)
	}
	loc, _ := cert.LoadLocation("Asia/Shanghai")
	now := time.Date(2027, 3, 10, 10, 0, 0, 0, loc)
	r := rand.New(rand.NewPCG(7, 8))
	perm := r.Perm(cert.StatusListSize)
	for start := 0; start < n; start += 1000 {
		var batch []*cert.Certificate
		for i := start; i < min(n, start+1000); i++ {
			scheme := "itss"
			if i%2 == 1 {
				scheme = "iso17021"
			}
			from, until := cert.ValidityPeriod(now.AddDate(0, 0, -r.IntN(3*365)), loc, 36)
			c := &cert.Certificate{
				ID: cert.NewID(), Number: fmt.Sprintf("ITSS-2027-%06d", i+1), Issuer: "cb", Scheme: scheme,
				Standard: "GB/T 28827.1-2022", Category: "运行维护", Level: 3, Scope: "信息系统运行维护服务",
				Organization: cert.Organization{Name: "北京示例科技有限公司", USCC: "91110108MA0123456G", Country: "CN"},
				ValidFrom:    from, ValidUntil: until, TimeZone: "Asia/Shanghai",
				Credential: strings.Repeat("x", 1200), Kid: "kid",
				StatusList: 1, StatusIndex: perm[i], CreatedAt: from,
			}
			c.Append(cert.Event{Type: cert.EventIssued, At: from, RecordedAt: from, Actor: "seed"})
			if i%3 == 0 {
				// Surveillance audits on time.
				for _, m := range []int{10, 22} {
					if at := from.AddDate(0, m, 0); at.Before(now) {
						c.Append(cert.Event{Type: cert.EventSurveillancePassed, At: at, RecordedAt: at, Actor: "seed"})
					}
				}
			}
			batch = append(batch, c)
		}
		errs, err := st.CreateCertificates(ctx, batch)
		if err != nil {
			b.Fatal(err)
		}
		for _, err := range errs {
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	counter := &readCounter{Store: st}
	for _, bc := range []struct {
		name string
		st   remind.Store
	}{{"full-read", fullRead{counter}}, {"validity-index", counter}} {
		b.Run(bc.name, func(b *testing.B) {
			var events atomic.Int64
			sink := notify.SinkFunc(func(context.Context, notify.Event, time.Time) error { events.Add(1); return nil })
			sw := &remind.Sweeper{Store: bc.st, Schemes: mustSchemes(), Sinks: []notify.Sink{sink}, Now: func() time.Time { return now }}
			counter.listed.Store(0)
			counter.byValidity.Store(0)
			for b.Loop() {
				if _, err := sw.Sweep(ctx); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/sweep")
			b.ReportMetric(float64(events.Load())/float64(b.N), "reminders/sweep")
			b.ReportMetric(float64(counter.listed.Load()+counter.byValidity.Load())/float64(b.N), "certs-read/sweep")
		})
	}
}
