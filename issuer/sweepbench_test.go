package issuer_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/certd/certd/issuer"
	"github.com/certd/certd/store/bolt"
	"github.com/certd/certd/store/storetest"
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
	now := time.Date(2027, 3, 10, 10, 0, 0, 0, shanghai)
	clk := &clock{t: now}
	schemes := mustSchemes()
	lists := issuer.NewStatusLists(issuer.StatusListConfig{Store: st, Schemes: schemes, Now: clk.Now})
	storetest.SeedSpread(b, st, n, now)
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
