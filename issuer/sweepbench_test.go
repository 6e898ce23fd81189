package issuer_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/issuer"
	"github.com/certd/certd/store/bolt"
)

// BenchmarkSweepDerived measures one periodic sweep of time-derived
// changes over 100,000 certificates in bbolt (validity starts spread over
// three years, a third with their audits recorded, ITSS and ISO/IEC 17021
// mixed), five minutes after the previous one, by a read of every
// certificate ("full-read", what every sweep did before the status index
// held sweep instants) and from the index ("index"). Each sweep asks for
// the certificates at a later five minutes than the one before, so the
// index sweep finds the few whose instant came meanwhile;
// "index-next-day" sweeps a day after the one before, as the first sweep
// after midnight does (windows close and certificates expire at midnight
// in the issuer's time zone), and records what a day brings.
//
//	go test ./issuer -run '^$' -bench BenchmarkSweepDerived -benchtime 20x
func BenchmarkSweepDerived(b *testing.B) {
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
	now := time.Date(2027, 3, 10, 10, 0, 0, 0, shanghai)
	clk := &clock{t: now}
	schemes := mustSchemes()
	lists := issuer.NewStatusLists(issuer.StatusListConfig{Store: st, Schemes: schemes, Now: clk.Now})
	r := rand.New(rand.NewPCG(7, 8))
	perm := r.Perm(cert.StatusListSize)
	for start := 0; start < n; start += 1000 {
		var batch []*cert.Certificate
		for i := start; i < min(n, start+1000); i++ {
			scheme := "itss"
			if i%2 == 1 {
				scheme = "iso17021"
			}
			from, until := cert.ValidityPeriod(now.AddDate(0, 0, -r.IntN(3*365)), shanghai, 36)
			c := &cert.Certificate{
				ID: cert.NewID(), Number: fmt.Sprintf("ITSS-2027-%06d", i+1), Issuer: "cb", Scheme: scheme,
				Standard: "GB/T 28827.1-2022", Category: "运行维护", Level: 3, Scope: "信息系统运行维护服务",
				Organization: cert.Organization{Name: "北京示例科技有限公司", USCC: "91110108MA0123456G", Country: "CN"},
				ValidFrom:    from, ValidUntil: until, TimeZone: "Asia/Shanghai",
				Credential: strings.Repeat("x", 1200), Kid: "kid",
				StatusList: 1 + i/cert.StatusListSize, StatusIndex: perm[i%cert.StatusListSize], CreatedAt: from,
			}
			c.Append(cert.Event{Type: cert.EventIssued, At: from, RecordedAt: from, Actor: "seed"})
			if i%3 == 0 {
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
	if err := lists.PrepareIndex(ctx); err != nil {
		b.Fatal(err)
	}
	full := issuer.New(issuer.Config{Store: st, Schemes: schemes, Now: clk.Now})
	indexed := issuer.New(issuer.Config{Store: st, Schemes: schemes, Now: clk.Now, StatusLists: lists})
	// The backlog of the imported certificates, recorded once.
	if _, err := full.SweepDerived(ctx, ""); err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		svc  *issuer.Service
		step time.Duration
	}{{"full-read", full, 5 * time.Minute}, {"index", indexed, 5 * time.Minute}, {"index-next-day", indexed, 24 * time.Hour}} {
		b.Run(bc.name, func(b *testing.B) {
			recorded := 0
			for b.Loop() {
				clk.Set(clk.Now().Add(bc.step))
				k, err := bc.svc.SweepDerived(ctx, "")
				if err != nil {
					b.Fatal(err)
				}
				recorded += k
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/sweep")
			b.ReportMetric(float64(recorded)/float64(b.N), "events/sweep")
		})
	}
}
