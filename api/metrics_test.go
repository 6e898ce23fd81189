package api_test

import (
	"bufio"
	"bytes"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// certdSeries counts the certd_ sample lines of /metrics: one per series.
func certdSeries(t testing.TB, a *pageAPI) int {
	t.Helper()
	rec := a.get("/metrics")
	if rec.Code != http.StatusOK {
		t.Fatalf("/metrics: %d", rec.Code)
	}
	n := 0
	sc := bufio.NewScanner(bytes.NewReader(rec.Body.Bytes()))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "certd_") {
			n++
		}
	}
	return n
}

// Label values come from closed sets: thousands of requests with invented
// methods and paths add a few series (the "other" method, the "unmatched"
// route), not one per request.
func TestMetricsLabelsAreClosedSets(t *testing.T) {
	a := newPageAPI(t, "https://verify.example.cn", 1e6)
	c := a.issue("北京示例科技有限公司", "", "91110108MA0123456G")
	a.get("/v/" + c.ID)
	before := certdSeries(t, a)

	rng := rand.New(rand.NewPCG(1, 2))
	word := func(alphabet string, n int) string {
		b := make([]byte, 1+rng.IntN(n))
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		return string(b)
	}
	const upper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	const lower = "abcdefghijklmnopqrstuvwxyz0123456789-"
	known := []string{"/healthz", "/v/" + c.ID, "/api/v1/verify/" + c.ID, "/metrics"}
	for i := range 3000 {
		method := word(upper, 12)
		var path string
		switch i % 3 {
		case 0: // an invented method on a known route
			path = known[rng.IntN(len(known))]
		case 1: // a standard method on an invented path
			method, path = []string{"GET", "POST", "DELETE"}[rng.IntN(3)], "/"+word(lower, 20)+"/"+word(lower, 20)
		default: // both invented
			path = "/" + word(lower, 30)
		}
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.Method = method
		req.RemoteAddr = "192.0.2.20:40000"
		a.srv.ServeHTTP(httptest.NewRecorder(), req)
	}
	after := certdSeries(t, a)
	// Bounded by the closed sets: "other" and the standard methods on the
	// unmatched route and the known routes, with their histograms.
	t.Logf("certd series: %d before, %d after", before, after)
	if after-before > 120 {
		t.Errorf("/metrics grew from %d to %d certd series after 3,000 requests with invented methods and paths", before, after)
	}
	body := a.get("/metrics").Body.String()
	for _, want := range []string{`method="other"`, `route="unmatched"`} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// The verdicts answered again from memory show on /metrics next to those
// judged from the store.
func TestMetricsKeptVerdicts(t *testing.T) {
	a := newPageAPI(t, "https://verify.example.cn", 1e6)
	c := a.issue("北京示例科技有限公司", "", "91110108MA0123456G")
	for range 3 {
		if rec := a.get("/api/v1/verify/" + c.ID); rec.Code != http.StatusOK {
			t.Fatalf("verify: %d", rec.Code)
		}
	}
	body := a.get("/metrics").Body.String()
	for _, want := range []string{`certd_verdicts_by_id_total{source="kept"} 2`, `certd_verdicts_by_id_total{source="store"} 1`} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s:\n%s", want, grepLines([]byte(body), "certd_verdicts_by_id"))
		}
	}
}
