package main

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestConfigValidation(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	cases := []struct {
		name    string
		args    []string
		env     map[string]string
		wantErr string
	}{
		{"defaults", nil, nil, ""},
		{"env", nil, map[string]string{"CERTD_ADDR": "127.0.0.1:9999", "CERTD_LOG_FORMAT": "json"}, ""},
		{"flag wins over env", []string{"--log-format", "text"}, map[string]string{"CERTD_LOG_FORMAT": "yaml"}, ""},
		{"bad addr", []string{"--addr", "8080"}, nil, "--addr"},
		{"bad public url", []string{"--public-url", "verify.example.cn"}, nil, "--public-url"},
		{"mongo without kek", []string{"--mongo-uri", "mongodb://localhost"}, nil, "--kek-file"},
		{"bad log level", nil, map[string]string{"CERTD_LOG_LEVEL": "loud"}, "--log-level"},
		{"bad proxies", []string{"--trusted-proxies", "10.0.0.0/8,nonsense"}, nil, "--trusted-proxies"},
		{"missing schemes file", []string{"--schemes-file", "/nonexistent.json"}, nil, "--schemes-file"},
		{"bad duration", []string{"--shutdown-timeout", "soon"}, nil, "--shutdown-timeout"},
		{"stray argument", []string{"serve"}, nil, "unexpected argument"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := ParseConfig(tc.args, env(tc.env), io.Discard)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if tc.env["CERTD_ADDR"] != "" && cfg.Addr != tc.env["CERTD_ADDR"] {
					t.Errorf("addr = %q, want the environment's %q", cfg.Addr, tc.env["CERTD_ADDR"])
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error %v, want one naming %s", err, tc.wantErr)
			}
		})
	}
}

// --demo is a switch: given alone it means true, as the README shows it.
func TestDemoFlag(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want bool
	}{
		{nil, nil, false},
		{[]string{"--demo"}, nil, true},
		{[]string{"-demo"}, nil, true},
		{[]string{"--demo=true"}, nil, true},
		{[]string{"--demo=false"}, map[string]string{"CERTD_DEMO": "true"}, false},
		{nil, map[string]string{"CERTD_DEMO": "true"}, true},
		{[]string{"--demo", "--addr", "127.0.0.1:9999"}, nil, true},
	} {
		cfg, err := ParseConfig(tc.args, env(tc.env), io.Discard)
		if err != nil || cfg.Demo != tc.want {
			t.Errorf("%v %v: demo %v, err %v; want %v", tc.args, tc.env, cfg.Demo, err, tc.want)
		}
	}
	if _, err := ParseConfig([]string{"--demo=maybe"}, env(nil), io.Discard); err == nil || !strings.Contains(err.Error(), "--demo") {
		t.Errorf("--demo=maybe: %v, want an error naming --demo", err)
	}
}

func TestKEKFileMustBePrivate(t *testing.T) {
	dir := t.TempDir()
	kek := filepath.Join(dir, "kek")
	if err := os.WriteFile(kek, []byte("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(dir)
	cfg.KEKFile = kek
	m := NewMain(cfg)
	m.Logger = quietLogger()
	m.Stdout = io.Discard
	err := m.Run(t.Context())
	_ = m.Close()
	if err == nil || !strings.Contains(err.Error(), "600") {
		t.Fatalf("a KEK readable by others was accepted: %v", err)
	}
	// The generated one is private.
	ts := startServer(t, "")
	st, err := os.Stat(filepath.Join(ts.DataDir, "kek"))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("generated KEK mode %v, want 0600", st.Mode().Perm())
	}
	st, _ = os.Stat(filepath.Join(ts.DataDir, "admin.token"))
	if st.Mode().Perm() != 0o600 {
		t.Errorf("admin.token mode %v, want 0600", st.Mode().Perm())
	}
}

func TestOperationsEndpoints(t *testing.T) {
	ts := startServer(t, "")
	c := ts.issue(t, "default")
	ts.do("GET", "/api/v1/verify/"+c["id"].(string), "", nil)
	if r := ts.do("GET", "/healthz", "", nil); r.Status != 200 {
		t.Errorf("healthz %d", r.Status)
	}
	if r := ts.do("GET", "/readyz", "", nil); r.Status != 200 {
		t.Errorf("readyz %d", r.Status)
	}
	m := string(ts.do("GET", "/metrics", "", nil).Body)
	for _, want := range []string{"certd_http_requests_total", "certd_certificates_issued_total 1", `certd_verifications_total{verdict="valid"} 1`} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	var meta struct {
		Issuer string
		JWKS   struct{ Keys []map[string]any }
	}
	if err := json.Unmarshal(ts.do("GET", "/.well-known/jwt-vc-issuer/issuers/default", "", nil).Body, &meta); err != nil {
		t.Fatal(err)
	}
	if meta.Issuer != ts.m.PublicURL()+"/issuers/default" || len(meta.JWKS.Keys) != 1 || meta.JWKS.Keys[0]["kid"] != c["kid"] {
		t.Errorf("issuer metadata %+v", meta)
	}
	if r := ts.do("GET", "/issuers/nobody/jwks.json", "", nil); r.Status != 404 || r.Header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("JWKS of an unknown issuer: %d %s", r.Status, r.Header.Get("Content-Type"))
	}
}

// SIGTERM lets a request in flight finish, then the process exits 0.
func TestSIGTERMDrainsInFlightRequests(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the server binary")
	}
	bin, err := buildCertd()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	addr := freePort(t)
	cmd := startProcess(t, bin, dir, addr)
	tok, _ := os.ReadFile(filepath.Join(dir, "admin.token"))
	items := make([]any, 1000)
	for i := range items {
		items[i] = sampleCertificate("default", testUSCC)
	}
	body, _ := json.Marshal(map[string]any{"certificates": items})
	type result struct {
		status int
		n      int
		err    error
	}
	done := make(chan result, 1)
	// The body arrives in two halves, with SIGTERM between them: the request
	// is certainly in flight when the signal comes.
	pr, pw := io.Pipe()
	go func() {
		req, _ := http.NewRequest("POST", "http://"+addr+"/api/v1/certificates/batch", pr)
		req.ContentLength = int64(len(body))
		req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(tok)))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- result{err: err}
			return
		}
		defer resp.Body.Close()
		var out struct{ Results []struct{ Status int } }
		err = json.NewDecoder(resp.Body).Decode(&out)
		done <- result{status: resp.StatusCode, n: len(out.Results), err: err}
	}()
	if _, err := pw.Write(body[:len(body)/2]); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // the server reads the first half
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // shutdown has begun
	if _, err := pw.Write(body[len(body)/2:]); err != nil {
		t.Fatal(err)
	}
	_ = pw.Close()
	r := <-done
	if r.err != nil || r.status != 200 || r.n != 1000 {
		t.Fatalf("in-flight batch: status %d, %d results, err %v; want 200 with 1000 results", r.status, r.n, r.err)
	}
	exit := make(chan error, 1)
	go func() { exit <- cmd.Wait() }()
	select {
	case err := <-exit:
		if err != nil {
			t.Errorf("certd exited with %v after SIGTERM, want 0", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("certd did not exit after SIGTERM")
	}
}

// --demo fills a first start with a certificate in every status.
func TestDemoHasEveryStatus(t *testing.T) {
	ts := startServer(t, "", func(m *Main) { m.Config.Demo = true })
	var page struct {
		Items []struct {
			ID, Status   string
			Surveillance struct{ State string }
		}
	}
	if err := json.Unmarshal(ts.do("GET", "/api/v1/certificates?limit=100", ts.Admin, nil).Body, &page); err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	overdue := false
	for _, it := range page.Items {
		seen[it.Status]++
		overdue = overdue || it.Surveillance.State == "overdue"
	}
	for _, st := range []string{"active", "suspended", "withdrawn", "cancelled", "expired", "superseded"} {
		if seen[st] == 0 {
			t.Errorf("no demo certificate is %s (have %v)", st, seen)
		}
	}
	if !overdue {
		t.Errorf("no demo certificate has an overdue surveillance audit")
	}
	// The first-start message lists them with their verification links,
	// and each link leads to a page saying that status.
	printed := regexp.MustCompile(`(?m)^  ([a-z_]+) +(\S+/v/([0-9A-Z]+))  `).FindAllStringSubmatch(ts.Stdout.String(), -1)
	listed := map[string]bool{}
	for _, p := range printed {
		listed[p[1]] = true
		r := ts.do("GET", "/api/v1/verify/"+p[3], "", nil)
		var v struct{ Status string }
		if err := json.Unmarshal(r.Body, &v); err != nil || v.Status != p[1] {
			t.Errorf("printed %s %s, verify says %q (%v)", p[1], p[2], v.Status, err)
		}
	}
	for _, st := range []string{"active", "suspended", "withdrawn", "cancelled", "expired", "superseded"} {
		if !listed[st] {
			t.Errorf("the first-start message lists no %s certificate:\n%s", st, ts.Stdout.String())
		}
	}
}
