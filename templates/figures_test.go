package templates

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/certd/certd/cert"
)

// BenchmarkRenderPDFLatency renders the certificate PDF as a cache miss
// does (every render is a first render) and reports the median and the
// 99th percentile of one render; run it with -cpu 1 for the figure of one
// core. "plain" is a certificate of an issuer without images or sites;
// "logo-seal-sites" adds the issuer's profile (logo, a 240-pixel seal,
// signatory, approval) and two sites; "seal-800px-sites-10" a seal of the
// size scanned stamps come in and ten sites, which go on an annex page.
func BenchmarkRenderPDFLatency(b *testing.B) {
	fonts := testFonts(b)
	for _, bc := range []struct {
		name string
		doc  func(testing.TB) CertificateDoc
	}{
		{"plain", func(tb testing.TB) CertificateDoc { return testDoc(tb, cert.StatusActive) }},
		{"logo-seal-sites", profileDoc},
		{"seal-800px-sites-10", func(tb testing.TB) CertificateDoc {
			doc := profileDoc(tb)
			doc.Seal = testSealPNG(tb, 800)
			for i := len(doc.Certificate.Sites); i < 10; i++ {
				doc.Certificate.Sites = append(doc.Certificate.Sites, cert.Site{
					Name: fmt.Sprintf("第%d分公司", i+1), Address: "北京市海淀区中关村大街1号", Scope: "信息系统运行维护服务"})
			}
			return doc
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			doc := bc.doc(b)
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
		})
	}
}
