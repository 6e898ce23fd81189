package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// requireTool skips a test that needs an outside tool, unless
// CERTD_REQUIRE_TOOLS=1 (set by CI after installing them), where a missing
// tool fails the test.
func requireTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CERTD_REQUIRE_TOOLS") == "1" {
			t.Fatalf("%s is required (CERTD_REQUIRE_TOOLS=1) but not installed", name)
		}
		t.Skipf("%s not installed", name)
	}
	return p
}

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// testServer is a running Main on port 0 with a temp data dir.
type testServer struct {
	t       testing.TB
	m       *Main
	URL     string
	Admin   string
	DataDir string
	Stdout  *syncBuffer
	Logs    *syncBuffer
}

type serverOption func(*Main)

func withClock(now func() time.Time) serverOption { return func(m *Main) { m.Now = now } }

func withRateLimit(r float64) serverOption { return func(m *Main) { m.Config.RateLimit = r } }

func withPublicURL(u string) serverOption { return func(m *Main) { m.Config.PublicURL = u } }

func testConfig(dataDir string) Config {
	return Config{
		Addr: "127.0.0.1:0", DataDir: dataDir, MongoDatabase: "certd", LogFormat: "json", LogLevel: "debug",
		ShutdownTimeout: 5 * time.Second, StoreTimeout: 5 * time.Second, RateLimit: 50,
	}
}

// startServer runs the real wiring; dataDir "" means a fresh temp dir.
func startServer(t testing.TB, dataDir string, opts ...serverOption) *testServer {
	t.Helper()
	if dataDir == "" {
		dataDir = t.TempDir()
	}
	ts := &testServer{t: t, DataDir: dataDir, Stdout: &syncBuffer{}, Logs: &syncBuffer{}}
	m := NewMain(testConfig(dataDir))
	m.Stdout = ts.Stdout
	m.Logger = newLogger(m.Config, ts.Logs)
	for _, o := range opts {
		o(m)
	}
	if err := m.Run(context.Background()); err != nil {
		t.Fatalf("Run: %v", err)
	}
	ts.m = m
	ts.URL = "http://" + m.Addr()
	t.Cleanup(func() { _ = m.Close() })
	b, err := os.ReadFile(filepath.Join(dataDir, "admin.token"))
	if err != nil {
		t.Fatalf("read admin.token: %v", err)
	}
	ts.Admin = strings.TrimSpace(string(b))
	return ts
}

// response is an HTTP answer read whole.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r response) JSON(t testing.TB) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(r.Body, &v); err != nil {
		t.Fatalf("response is not a JSON object: %v\n%s", err, r.Body)
	}
	return v
}

// do sends a request; body may be a string, []byte or a value to encode.
func (ts *testServer) do(method, path, token string, body any, headers ...string) response {
	ts.t.Helper()
	var rd io.Reader
	contentType := "application/json"
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		enc, err := json.Marshal(b)
		if err != nil {
			ts.t.Fatal(err)
		}
		rd = bytes.NewReader(enc)
	}
	req, err := http.NewRequest(method, ts.URL+path, rd)
	if err != nil {
		ts.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		ts.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		ts.t.Fatal(err)
	}
	return response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// sampleCertificate is a valid issue request.
func sampleCertificate(issuer, uscc string) map[string]any {
	return map[string]any{
		"issuer": issuer, "scheme": "itss", "standard": "GB/T 28827.1-2022", "category": "运行维护", "level": 3,
		"scope": "信息系统运行维护服务", "scopeEn": "IT operation and maintenance services",
		"organization": map[string]any{
			"name": "北京示例科技有限公司", "nameEn": "Beijing Example Technology Co., Ltd.",
			"uscc": uscc, "address": "北京市海淀区中关村大街1号", "country": "CN",
		},
	}
}

const testUSCC = "91110108MA0123456G"

// issue issues a certificate with the admin key and returns its resource.
func (ts *testServer) issue(t testing.TB, issuer string) map[string]any {
	t.Helper()
	r := ts.do("POST", "/api/v1/certificates", ts.Admin, sampleCertificate(issuer, testUSCC))
	if r.Status != http.StatusCreated {
		t.Fatalf("issue: status %d, want 201: %s", r.Status, r.Body)
	}
	return r.JSON(t)
}

// payload decodes the payload of a compact JWS.
func payload(t testing.TB, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a compact JWS: %q", token)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func header(t testing.TB, token string) map[string]any {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// quietLogger discards logs for tests that do not read them.
func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
