package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// TestRetries: 429 and 503 are retried (Retry-After honoured), an import's
// POST with an Idempotency-Key too; a plain action is not retried after a
// broken connection.
func TestRetries(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		switch {
		case n == 1:
			w.Header().Set("Retry-After", "0")
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusTooManyRequests)
			fmt.Fprint(w, `{"type":"urn:certd:problem:rate-limited","title":"Too many requests","status":429}`)
		case n == 2:
			w.WriteHeader(http.StatusServiceUnavailable)
		default:
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"items":[{"id":"X","number":"N-1","status":"active","organization":{"name":"甲"}}]}`)
		}
	}))
	defer srv.Close()
	r := cli(t, map[string]string{"CERTD_SERVER": srv.URL, "CERTD_TOKEN": "t"}, "list")
	if r.code != exitOK || calls.Load() != 3 || !strings.Contains(r.stdout, "N-1") {
		t.Fatalf("exit %d after %d calls\n%s%s", r.code, calls.Load(), r.stdout, r.stderr)
	}
}

// TestErrorMessages: what a person reads for each kind of failure.
func TestErrorMessages(t *testing.T) {
	problem := `{"type":"urn:certd:problem:invalid-input","title":"The request has invalid fields","status":422,` +
		`"detail":"organization.uscc: check character","requestId":"req-42",` +
		`"errors":[{"field":"organization.uscc","message":"check character is 'X'"},{"field":"level","message":"must be 1 to 4"}]}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Header.Get("Authorization") != "Bearer good":
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"type":"urn:certd:problem:unauthorized","title":"Authentication required","status":401,"detail":"This API key is not valid (unknown or revoked).","requestId":"req-1"}`)
		case strings.HasSuffix(r.URL.Path, "/suspend"):
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusUnprocessableEntity)
			fmt.Fprint(w, problem)
		default:
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusBadGateway)
			fmt.Fprint(w, "<html><body><h1>502 Bad Gateway</h1></body></html>")
		}
	}))
	defer srv.Close()
	id := "6P74JZDPWJQBXSBR1AXDWR697C"
	for _, tc := range []struct {
		name  string
		env   map[string]string
		args  []string
		wants []string
	}{
		{"401", map[string]string{"CERTD_SERVER": srv.URL, "CERTD_TOKEN": "bad"}, []string{"get", id},
			[]string{"the API key was refused (HTTP 401): This API key is not valid", "check --token", "request id: req-1"}},
		{"problem", map[string]string{"CERTD_SERVER": srv.URL, "CERTD_TOKEN": "good"}, []string{"suspend", id, "--reason", "r"},
			[]string{"The request has invalid fields (HTTP 422)", "- organization.uscc: check character is 'X'", "- level: must be 1 to 4", "request id: req-42"}},
		{"proxy page", map[string]string{"CERTD_SERVER": srv.URL, "CERTD_TOKEN": "good"}, []string{"withdraw", id, "--reason", "r"},
			[]string{"HTTP 502 Bad Gateway from POST", "\n  502 Bad Gateway\n"}},
		{"refused", map[string]string{"CERTD_SERVER": closedPort(t), "CERTD_TOKEN": "good"}, []string{"get", id},
			[]string{"cannot reach certd at http://127.0.0.1:", "connection refused", "(is it running? set --server"}},
		{"no token", map[string]string{"CERTD_SERVER": srv.URL}, []string{"list"},
			[]string{"no API key: pass --token, set CERTD_TOKEN"}},
		{"bad id", map[string]string{"CERTD_SERVER": srv.URL, "CERTD_TOKEN": "good"}, []string{"get", "nope"},
			[]string{`"nope" is not a certificate id`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := cli(t, tc.env, tc.args...)
			if r.code != exitFailure {
				t.Errorf("exit %d, want 1", r.code)
			}
			for _, w := range tc.wants {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, r.stderr)
				}
			}
		})
	}
}

// TestConnectionSettings: a flag beats the environment, which beats the
// config file; a config file with a key readable by others is warned of.
func TestConnectionSettings(t *testing.T) {
	var got atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Store(r.Host + " " + r.Header.Get("Authorization"))
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"items":[]}`)
	}))
	defer srv.Close()
	home := t.TempDir()
	cfgDir := filepath.Join(home, ".config", "certctl")
	if err := os.MkdirAll(cfgDir, 0o700); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(cfgDir, "config.json")
	if err := os.WriteFile(cfg, []byte(`{"server": "`+srv.URL+`", "token": "from-file"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	host := strings.TrimPrefix(srv.URL, "http://")
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"config file", map[string]string{"HOME": home}, []string{"list"}, host + " Bearer from-file"},
		{"env beats file", map[string]string{"HOME": home, "CERTD_TOKEN": "from-env"}, []string{"list"}, host + " Bearer from-env"},
		{"flag beats env", map[string]string{"HOME": home, "CERTD_TOKEN": "from-env"}, []string{"--token", "from-flag", "list"}, host + " Bearer from-flag"},
		{"flag after the command", map[string]string{"HOME": home}, []string{"list", "--token", "late"}, host + " Bearer late"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := cli(t, tc.env, tc.args...)
			if r.code != exitOK || got.Load() != tc.want {
				t.Fatalf("exit %d, request %v, want %q\n%s", r.code, got.Load(), tc.want, r.stderr)
			}
			if !strings.Contains(r.stderr, "readable by others: chmod 600") {
				t.Errorf("no warning about the config file's mode: %s", r.stderr)
			}
		})
	}
	if err := os.Chmod(cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	if r := cli(t, map[string]string{"HOME": home}, "list"); strings.Contains(r.stderr, "warning") {
		t.Errorf("warning with mode 0600: %s", r.stderr)
	}
	bad := writeFile(t, "bad.json", `{"server": "x", "tokn": "typo"}`)
	if r := cli(t, nil, "--config", bad, "list"); r.code != exitUsage || !strings.Contains(r.stderr, `unknown field "tokn"`) {
		t.Errorf("config with a typo: exit %d %s", r.code, r.stderr)
	}
	if r := cli(t, nil, "--config", filepath.Join(home, "missing.json"), "list"); r.code != exitUsage || !strings.Contains(r.stderr, "no such file") {
		t.Errorf("missing --config: exit %d %s", r.code, r.stderr)
	}
	if r := cli(t, nil, "--output", "yaml", "list"); r.code != exitUsage || !strings.Contains(r.stderr, "must be table or json") {
		t.Errorf("--output yaml: exit %d %s", r.code, r.stderr)
	}
}

// TestHelp: every command's help shows its synopsis, flags and an example.
func TestHelp(t *testing.T) {
	for _, c := range commands() {
		t.Run(c.name, func(t *testing.T) {
			r := cli(t, nil, append(strings.Fields(c.name), "-h")...)
			if r.code != exitOK {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			for _, want := range []string{"usage: certctl " + c.name, "flags:", "--server URL", "example:\n  certctl " + strings.Fields(c.name)[0]} {
				if !strings.Contains(r.stdout, want) {
					t.Errorf("help lacks %q:\n%s", want, r.stdout)
				}
			}
		})
	}
	if r := cli(t, nil, "help"); r.code != exitOK || !strings.Contains(r.stdout, "apikeys revoke") {
		t.Errorf("help: %d\n%s", r.code, r.stdout)
	}
	if r := cli(t, nil, "frobnicate"); r.code != exitUsage || !strings.Contains(r.stderr, `unknown command "frobnicate"`) {
		t.Errorf("unknown command: %d %s", r.code, r.stderr)
	}
	if r := cli(t, nil, "issue", "-h"); !strings.Contains(r.stdout, "org_name") || !strings.Contains(r.stdout, "uscc") {
		t.Errorf("issue -h does not document the CSV columns")
	}
}

// TestVerifyUnknownIsNotRetried: certd's 503 verdict "unknown" is an
// answer, shown at once with exit 2.
func TestVerifyUnknownIsNotRetried(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Retry-After", "5")
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprint(w, `{"verdict":"unknown","status":"","reason":"The status cannot be confirmed right now.","checks":[],"checkedAt":"2026-11-27T00:00:00Z"}`)
	}))
	defer srv.Close()
	r := cli(t, map[string]string{"CERTD_SERVER": srv.URL}, "verify", "6P74JZDPWJQBXSBR1AXDWR697C")
	if r.code != exitUnknown || calls.Load() != 1 || !strings.Contains(r.stdout, "UNKNOWN: The status cannot be confirmed") {
		t.Fatalf("exit %d after %d calls\n%s%s", r.code, calls.Load(), r.stdout, r.stderr)
	}
}

// TestImportStopsOnRefusedKey: when certd refuses the key in the middle of
// an import, the import stops, and the result still accounts for every
// row.
func TestImportStopsOnRefusedKey(t *testing.T) {
	var posts atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/problem+json")
		if r.Method == http.MethodGet {
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, `{"title":"Not allowed for this API key","status":403}`)
			return
		}
		if n := posts.Add(1); n <= 3 {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusCreated)
			fmt.Fprintf(w, `{"id":"ID%d","number":"N-%d"}`, n, n)
			return
		}
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"title":"Authentication required","status":401,"detail":"This API key is not valid (unknown or revoked)."}`)
	}))
	defer srv.Close()
	file := importCSV(t, 200)
	r := cli(t, map[string]string{"CERTD_SERVER": srv.URL, "CERTD_TOKEN": "k"}, "issue", "--csv", file, "--concurrency", "1")
	if r.code != exitFailure || !strings.Contains(r.stderr, "stopped: the API key was refused (HTTP 401)") {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	res, err := os.ReadFile(file + ".result.csv")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(res)), "\n")
	counts := map[string]int{}
	for _, l := range lines[1:] {
		counts[strings.Split(l, ",")[3]]++
	}
	if len(lines) != 201 || counts[rowCreated] != 3 || counts[rowFailed] != 1 || counts[rowNotSent] != 196 {
		t.Fatalf("%d result lines, statuses %v", len(lines), counts)
	}
	if posts.Load() != 4 {
		t.Errorf("%d requests sent after the key was refused, want none", posts.Load()-4)
	}
}
