package templates

import (
	"fmt"
	"slices"
	"syscall"
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
			var took, cpu []time.Duration
			for b.Loop() {
				start, startCPU := time.Now(), processCPU(b)
				if _, err := RenderPDF(doc, fonts); err != nil {
					b.Fatal(err)
				}
				took = append(took, time.Since(start))
				cpu = append(cpu, processCPU(b)-startCPU)
			}
			slices.Sort(took)
			slices.Sort(cpu)
			b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(took[len(took)*99/100].Microseconds())/1000, "p99-ms")
			// The CPU time of the process: with -cpu 1 that is the render's
			// (and its garbage collection's), whatever else shares the
			// machine, which the wall-clock figures are not.
			b.ReportMetric(float64(cpu[len(cpu)/2].Microseconds())/1000, "p50-cpu-ms")
		})
	}
}

// processCPU returns the CPU time (user and system) the process has used.
func processCPU(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
