package console_test

import (
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/issuer"
)

// BenchmarkPages100k measures the dashboard (uncached) and the certificate
// list filtered to 1% of an issuer's 100,000 certificates, through the
// handler with a signed-in session, and reports p50 and p99 of each:
//
//	go test -run '^$' -bench Pages100k -benchtime 1x ./console/
func BenchmarkPages100k(b *testing.B) {
	e := newEnvTB(b, -1)
	const total = 100_000
	seed(b, e, total)
	br := e.signUp(b, "a", "admin@a.cn", cert.RoleAdmin)
	for b.Loop() {
		for _, page := range []struct{ name, path string }{
			{"dashboard", "/console/"},
			{"list-1pct", "/console/certificates?q=" + "特选"},
		} {
			var lats []time.Duration
			for range 20 {
				t0 := time.Now()
				code, _, _ := br.get(page.path)
				lats = append(lats, time.Since(t0))
				if code != http.StatusOK {
					b.Fatalf("%s: %d", page.path, code)
				}
			}
			slices.Sort(lats)
			b.ReportMetric(float64(lats[len(lats)/2].Milliseconds()), page.name+"-p50-ms")
			b.ReportMetric(float64(lats[len(lats)*99/100].Milliseconds()), page.name+"-p99-ms")
		}
	}
}

// seed issues n certificates of issuer a in batches, 1% of them to an
// organization named 特选….
func seed(tb testing.TB, e *env, n int) {
	admin := cert.Principal{Role: cert.RoleAdmin, KeyID: "seed"}
	for done := 0; done < n; done += 1000 {
		reqs := make([]issuer.Request, 0, 1000)
		for i := done; i < min(done+1000, n); i++ {
			name := fmt.Sprintf("北京示例%d科技有限公司", i)
			if i%100 == 0 {
				name = fmt.Sprintf("特选%d科技有限公司", i)
			}
			reqs = append(reqs, issuer.Request{Issuer: "a", Scheme: "itss", Standard: "GB/T 28827.1-2022", Category: "运行维护", Level: 3,
				Scope: "信息系统运行维护服务", Organization: cert.Organization{Name: name, USCC: "91110108MA0123456G"}})
		}
		res, err := e.iss.IssueBatch(tb.Context(), admin, reqs)
		if err != nil {
			tb.Fatal(err)
		}
		for _, r := range res {
			if r.Err != nil {
				tb.Fatal(r.Err)
			}
		}
	}
}
