package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/certd/certd/cert"
)

// binDir holds the certd and certctl binaries built once for the tests
// that run them as processes.
var (
	binDir    string
	buildOnce sync.Once
	buildErr  error
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "certctl-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// moduleRoot is the directory of go.mod.
func moduleRoot(t testing.TB) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil || strings.TrimSpace(string(out)) == "" {
		t.Fatalf("go env GOMOD: %v", err)
	}
	return filepath.Dir(strings.TrimSpace(string(out)))
}

// binaries builds certd and certctl once (without -race: they are the
// system under test, run as processes) and returns their paths.
func binaries(t testing.TB) (certd, certctl string) {
	t.Helper()
	buildOnce.Do(func() {
		root := moduleRoot(t)
		for _, b := range []struct{ out, pkg string }{{"certd", "./cmd/certd"}, {"certctl", "./cmd/certctl"}} {
			cmd := exec.Command("go", "build", "-o", filepath.Join(binDir, b.out), b.pkg)
			cmd.Dir = root
			if out, err := cmd.CombinedOutput(); err != nil {
				buildErr = fmt.Errorf("go build %s: %v\n%s", b.pkg, err, out)
				return
			}
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return filepath.Join(binDir, "certd"), filepath.Join(binDir, "certctl")
}

// syncBuffer is a goroutine-safe buffer for process output.
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

// testServer is a certd process on a free port with its own data dir.
type testServer struct {
	URL     string
	DataDir string
	// Admin is the bootstrap admin key; IssuerKey an issuer-role key of the
	// default issuer.
	Admin     string
	IssuerKey string
	cmd       *exec.Cmd
	logs      *syncBuffer
	exited    chan struct{}
}

// startServer runs certd with --data-dir in a temp dir on a free port and
// waits until it answers /healthz.
func startServer(t testing.TB) *testServer {
	t.Helper()
	certd, _ := binaries(t)
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		s, err := tryStart(t, certd)
		if err == nil {
			s.IssuerKey = s.createKey(t, "issuer", "default")
			return s
		}
		lastErr = err
	}
	t.Fatalf("start certd: %v", lastErr)
	return nil
}

func tryStart(t testing.TB, certd string) (*testServer, error) {
	return tryStartIn(t, certd, filepath.Join(t.TempDir(), "data"))
}

// tryStartIn runs certd on dataDir (kept from an earlier run, or new) with
// the extra flags.
func tryStartIn(t testing.TB, certd, dataDir string, extra ...string) (*testServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	s := &testServer{
		URL:     "http://127.0.0.1:" + strconv.Itoa(port),
		DataDir: dataDir,
		logs:    &syncBuffer{},
		exited:  make(chan struct{}),
	}
	args := []string{"--addr", "127.0.0.1:" + strconv.Itoa(port), "--public-url", s.URL,
		"--data-dir", s.DataDir, "--log-level", "warn", "--shutdown-timeout", "5s"}
	s.cmd = exec.Command(certd, append(args, extra...)...)
	s.cmd.Stdout, s.cmd.Stderr = s.logs, s.logs
	s.cmd.SysProcAttr = childAttr()
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { _ = s.cmd.Wait(); close(s.exited) }()
	t.Cleanup(func() { s.stop(t) })
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-s.exited:
			return nil, fmt.Errorf("certd exited: %s", s.logs.String())
		default:
		}
		resp, err := http.Get(s.URL + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("certd did not answer /healthz within 30s: %s", s.logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	b, err := os.ReadFile(filepath.Join(s.DataDir, "admin.token"))
	if err != nil {
		return nil, fmt.Errorf("read admin.token: %v", err)
	}
	s.Admin = strings.TrimSpace(string(b))
	return s, nil
}

// stop ends certd with SIGTERM, then SIGKILL after a deadline.
func (s *testServer) stop(t testing.TB) {
	select {
	case <-s.exited:
	default:
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-time.After(15 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.exited
		}
	}
	if t.Failed() {
		t.Logf("certd output:\n%s", s.logs.String())
	}
}

// api calls certd directly (not through certctl) and returns the status
// and body.
func (s *testServer) api(t testing.TB, method, path, token string, body any) (int, []byte) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, s.URL+path, r)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	resp, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

func (s *testServer) createKey(t testing.TB, role, issuer string) string {
	t.Helper()
	status, b := s.api(t, http.MethodPost, "/api/v1/apikeys", s.Admin, map[string]string{"role": role, "issuer": issuer, "name": "certctl test"})
	if status != http.StatusCreated {
		t.Fatalf("create %s key: HTTP %d %s", role, status, b)
	}
	var k struct {
		Token string `json:"token"`
	}
	if err := json.Unmarshal(b, &k); err != nil || k.Token == "" {
		t.Fatalf("create key: %s", b)
	}
	return k.Token
}

// issue issues one certificate through the API and returns its resource.
func (s *testServer) issue(t testing.TB, org, uscc string) certificate {
	t.Helper()
	status, b := s.api(t, http.MethodPost, "/api/v1/certificates", s.IssuerKey, map[string]any{
		"scheme": "itss", "standard": "GB/T 28827.1-2022", "category": "运行维护", "level": 3,
		"scope": "信息系统运行维护服务", "scopeEn": "IT operation and maintenance services",
		"organization": map[string]string{"name": org, "nameEn": "Example Co. Ltd.", "uscc": uscc, "address": "北京市海淀区"},
	})
	if status != http.StatusCreated {
		t.Fatalf("issue: HTTP %d %s", status, b)
	}
	var c certificate
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// allCertificates lists every certificate through the API, following the
// cursor.
func (s *testServer) allCertificates(t testing.TB) []certificate {
	t.Helper()
	var all []certificate
	cursor := ""
	for page := 0; ; page++ {
		if page > 1000 {
			t.Fatal("more than 1000 pages: the cursor does not advance")
		}
		path := "/api/v1/certificates?limit=1000"
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		status, b := s.api(t, http.MethodGet, path, s.Admin, nil)
		if status != http.StatusOK {
			t.Fatalf("list: HTTP %d %s", status, b)
		}
		var p struct {
			Items []certificate `json:"items"`
			Next  string        `json:"next"`
		}
		if err := json.Unmarshal(b, &p); err != nil {
			t.Fatal(err)
		}
		all = append(all, p.Items...)
		if p.Next == "" {
			return all
		}
		cursor = p.Next
	}
}

var issuedMetric = regexp.MustCompile(`(?m)^certd_certificates_issued_total (\d+)`)

// issuedCount reads the number of certificates this certd issued from
// /metrics (cheap enough to poll).
func (s *testServer) issuedCount(t testing.TB) int {
	t.Helper()
	resp, err := http.Get(s.URL + "/metrics")
	if err != nil {
		t.Fatalf("metrics: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	m := issuedMetric.FindSubmatch(b)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}

// result of one certctl run.
type result struct {
	code           int
	stdout, stderr string
}

// cli runs certctl in-process with an environment of its own: no user
// config file, CERTD_* only as given.
func cli(t testing.TB, env map[string]string, args ...string) result {
	t.Helper()
	if env == nil {
		env = map[string]string{}
	}
	if _, ok := env["HOME"]; !ok {
		env["HOME"] = t.TempDir()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	code := run(ctx, args, strings.NewReader(""), &stdout, &stderr, func(k string) string { return env[k] })
	return result{code, stdout.String(), stderr.String()}
}

// as returns the environment of certctl against s with token.
func (s *testServer) as(token string) map[string]string {
	return map[string]string{"CERTD_SERVER": s.URL, "CERTD_TOKEN": token}
}

// uscc returns a valid unified social credit code for n.
func uscc(t testing.TB, n int) string {
	t.Helper()
	first := fmt.Sprintf("91110108MA%07d", n)
	c, err := cert.USCCCheckChar(first)
	if err != nil {
		t.Fatal(err)
	}
	return first + string(c)
}

func writeFile(t testing.TB, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
