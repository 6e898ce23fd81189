package remind_test

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/notify"
	"github.com/certd/certd/remind"
	"github.com/certd/certd/store/bolt"
	"github.com/certd/certd/store/storetest"
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
	loc, _ := cert.LoadLocation("Asia/Shanghai")
	now := time.Date(2027, 3, 10, 10, 0, 0, 0, loc)
	storetest.SeedSpread(b, st, n, now)
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
