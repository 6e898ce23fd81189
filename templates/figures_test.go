package templates

import (
	"slices"
	"testing"
	"time"

	"github.com/certd/certd/cert"
)

// BenchmarkRenderPDFLatency renders the certificate PDF as a cache miss
// does (every render is a first render) and reports the median and the
// 99th percentile of one render; run it with -cpu 1 for the figure of one
// core.
func BenchmarkRenderPDFLatency(b *testing.B) {
	fonts := testFonts(b)
	doc := testDoc(b, cert.StatusActive)
	var took []time.Duration
	for b.Loop() {
		start := time.Now()
		if _, err := RenderPDF(doc, fonts); err != nil {
			b.Fatal(err)
		}
		took = append(took, time.Since(start))
	}
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(took[len(took)*99/100].Microseconds())/1000, "p99-ms")
}
