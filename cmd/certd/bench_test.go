package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"
)

// seedServer starts a server and issues n certificates through the batch
// API. It logs as a deployment does by default (info, JSON), to nowhere.
func seedServer(b *testing.B, n int) (*testServer, []string) {
	b.Helper()
	ts := startServer(b, "", withRateLimit(1e9), func(m *Main) {
		m.Logger = newLogger(Config{LogFormat: "json", LogLevel: "info"}, io.Discard)
	})
	var ids []string
	for len(ids) < n {
		size := min(1000, n-len(ids))
		items := make([]any, size)
		for i := range items {
			items[i] = sampleCertificate("default", testUSCC)
		}
		r := ts.do("POST", "/api/v1/certificates/batch", ts.Admin, map[string]any{"certificates": items})
		var out struct {
			Results []struct {
				Status      int
				Certificate struct{ ID string }
			}
		}
		if err := json.Unmarshal(r.Body, &out); err != nil {
			b.Fatal(err)
		}
		for _, res := range out.Results {
			ids = append(ids, res.Certificate.ID)
		}
	}
	return ts, ids
}

// The handler benchmarks call the router directly (no sockets), so they
// measure certd's own cost per request; bench/load measures over HTTP.
func BenchmarkVerifyByIDHandler(b *testing.B) {
	ts, ids := seedServer(b, 10000)
	h := ts.m.API
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			req := httptest.NewRequest("GET", "/api/v1/verify/"+ids[i%len(ids)], nil)
			req.RemoteAddr = "192.0.2.1:1234"
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != 200 {
				b.Fatalf("status %d", rec.Code)
			}
			i += 7919
		}
	})
}

func BenchmarkVerifyTokenHandler(b *testing.B) {
	ts, ids := seedServer(b, 1000)
	tok := string(ts.do("GET", "/v/"+ids[0]+"/credential.jwt", "", nil).Body)
	h := ts.m.API
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest("POST", "/api/v1/verify", strings.NewReader(tok))
			req.Header.Set("Content-Type", "application/vc+jwt")
			req.RemoteAddr = "192.0.2.1:1234"
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != 200 {
				b.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
		}
	})
}

func BenchmarkIssueBatch1000Handler(b *testing.B) {
	ts := startServer(b, "")
	ts.m.Logger = quietLogger()
	items := make([]any, 1000)
	for i := range items {
		items[i] = sampleCertificate("default", testUSCC)
	}
	body, _ := json.Marshal(map[string]any{"certificates": items})
	h := ts.m.API
	cpu0 := processCPU()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req := httptest.NewRequest("POST", "/api/v1/certificates/batch", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+ts.Admin)
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d", rec.Code)
		}
	}
	b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "certs/s")
	b.ReportMetric(float64((processCPU()-cpu0).Microseconds())/float64(b.N*1000), "cpu-µs/cert")
}

// BenchmarkIssueSingleHandler issues one certificate per request from 32
// concurrent callers, each answered after its commit, as the single-issue
// scenario of bench/load does over HTTP.
func BenchmarkIssueSingleHandler(b *testing.B) {
	ts := startServer(b, "", withRateLimit(1e9))
	ts.m.Logger = quietLogger()
	body, _ := json.Marshal(sampleCertificate("default", testUSCC))
	h := ts.m.API
	b.SetParallelism(16) // 32 callers on 2 cores
	cpu0 := processCPU()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest("POST", "/api/v1/certificates", bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+ts.Admin)
			req.Header.Set("Content-Type", "application/json")
			req.RemoteAddr = "192.0.2.1:1234"
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusCreated {
				b.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "certs/s")
	b.ReportMetric(float64((processCPU()-cpu0).Microseconds())/float64(b.N), "cpu-µs/cert")
}

// processCPU is the CPU time this process has used, server and callers
// together: on a machine shared with other work it moves less than the
// rate does.
func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
