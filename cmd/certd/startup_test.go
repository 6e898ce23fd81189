package main

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certd/certd/keys"
)

// runMain runs Main on dataDir and closes it again; it returns Run's error.
func runMain(t testing.TB, dataDir string) error {
	t.Helper()
	m := NewMain(testConfig(dataDir))
	m.Logger = quietLogger()
	m.Stdout = io.Discard
	err := m.Run(t.Context())
	_ = m.Close()
	return err
}

// usedDataDir returns a data directory after a first start that issued
// certificates, with certd stopped, and the bytes of its admin.token.
func usedDataDir(t testing.TB) (string, []byte) {
	t.Helper()
	ts := startServer(t, "")
	var batch []map[string]any
	for range 100 {
		batch = append(batch, sampleCertificate("default", testUSCC))
	}
	if r := ts.do("POST", "/api/v1/certificates/batch", ts.Admin, map[string]any{"certificates": batch}); r.Status >= 300 {
		t.Fatalf("batch issue: %d %s", r.Status, r.Body)
	}
	if err := ts.m.Close(); err != nil {
		t.Fatal(err)
	}
	token, err := os.ReadFile(filepath.Join(ts.DataDir, tokenFile))
	if err != nil {
		t.Fatal(err)
	}
	return ts.DataDir, token
}

func newKEKFile(t testing.TB, path string) {
	t.Helper()
	raw := make([]byte, 32)
	_, _ = rand.Read(raw)
	if err := os.WriteFile(path, []byte(base64.StdEncoding.EncodeToString(raw)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
}

// A data directory that lost its store or its KEK, or whose store is
// damaged, does not start: Run fails with a message that names the file and
// what to do, and admin.token is left byte for byte.
func TestRefuseBrokenStart(t *testing.T) {
	truncate := func(size int64) func(t testing.TB, dir string) {
		return func(t testing.TB, dir string) {
			if err := os.Truncate(filepath.Join(dir, dbFile), size); err != nil {
				t.Fatal(err)
			}
		}
	}
	cases := []struct {
		name   string
		damage func(t testing.TB, dir string)
		want   []string
		// noKEK: the KEK must still be absent after the refused start.
		noKEK bool
	}{
		{"fail/kek-missing", func(t testing.TB, dir string) {
			if err := os.Remove(filepath.Join(dir, kekFile)); err != nil {
				t.Fatal(err)
			}
		}, []string{"key-encryption key", "kek is missing", "holds issuers default", "restore the KEK file"}, true},
		{"fail/kek-different", func(t testing.TB, dir string) {
			newKEKFile(t, filepath.Join(dir, kekFile))
		}, []string{"does not open the signing key of issuer \"default\"", "Start certd with that KEK file"}, false},
		{"fail/db-empty", truncate(0), []string{"certd.db is empty (0 bytes)", "holds kek and admin.token", "not a first start", "Restore certd.db from a backup"}, false},
		{"fail/db-missing", func(t testing.TB, dir string) {
			if err := os.Remove(filepath.Join(dir, dbFile)); err != nil {
				t.Fatal(err)
			}
		}, []string{"certd.db is missing", "not a first start"}, false},
		{"fail/db-missing-token-only", func(t testing.TB, dir string) {
			for _, f := range []string{dbFile, kekFile} {
				if err := os.Remove(filepath.Join(dir, f)); err != nil {
					t.Fatal(err)
				}
			}
		}, []string{"certd.db is missing", "holds admin.token", "not a first start"}, true},
		{"fail/db-truncated-1", truncate(1), []string{"database file is damaged", "restore it from a backup"}, false},
		{"fail/db-truncated-8k+1", truncate(8<<10 + 1), []string{"database file is damaged"}, false},
		{"fail/db-truncated-64k", truncate(64 << 10), []string{"database file is damaged"}, false},
		{"fail/db-truncated-128k", truncate(128 << 10), []string{"database file is damaged"}, false},
		{"fail/db-garbage-middle", func(t testing.TB, dir string) {
			f, err := os.OpenFile(filepath.Join(dir, dbFile), os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			junk := bytes.Repeat([]byte("garbage!"), 128<<10/8)
			if _, err := f.WriteAt(junk, 64<<10); err != nil {
				t.Fatal(err)
			}
		}, []string{"database file is damaged"}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir, token := usedDataDir(t)
			tc.damage(t, dir)
			err := runMain(t, dir)
			if err == nil {
				t.Fatal("Run succeeded on a broken data directory")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Run error does not say %q:\n%v", w, err)
				}
			}
			after, rerr := os.ReadFile(filepath.Join(dir, tokenFile))
			if rerr != nil || !bytes.Equal(after, token) {
				t.Errorf("admin.token changed by the refused start: %q, %v (was %q)", after, rerr, token)
			}
			if _, serr := os.Stat(filepath.Join(dir, kekFile)); tc.noKEK && serr == nil {
				t.Errorf("the refused start generated a KEK")
			}
		})
	}
}

// A true first start still works, and a KEK given with --kek-file next to
// an empty data directory is not taken for an earlier start.
func TestFirstStartStillWorks(t *testing.T) {
	dir := t.TempDir()
	kek := filepath.Join(t.TempDir(), "kek")
	newKEKFile(t, kek)
	m := NewMain(testConfig(dir))
	m.Config.KEKFile = kek
	m.Logger, m.Stdout = quietLogger(), io.Discard
	if err := m.Run(t.Context()); err != nil {
		t.Fatalf("first start with --kek-file: %v", err)
	}
	_ = m.Close()
	if err := runMain(t, dir); err == nil || !strings.Contains(err.Error(), "kek is missing") {
		// The store now holds keys sealed with the other KEK: without
		// --kek-file the default path has none.
		t.Errorf("restart without the KEK: %v, want a missing-KEK error", err)
	}
}

// writeTokenFile never overwrites without replace.
func TestWriteTokenFileNeverOverwrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), tokenFile)
	if err := writeTokenFile(path, "certd_first", false); err != nil {
		t.Fatal(err)
	}
	if err := writeTokenFile(path, "certd_second", false); err == nil {
		t.Error("writeTokenFile overwrote an existing admin.token")
	}
	if b, _ := os.ReadFile(path); string(b) != "certd_first\n" {
		t.Errorf("admin.token = %q, want the first token", b)
	}
	if err := writeTokenFile(path, "certd_third", true); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "certd_third\n" {
		t.Errorf("admin.token after replace = %q", b)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
}

// waitReady polls /readyz until it answers want (the answer is cached for
// about a second) and returns the last answer.
func waitReady(t testing.TB, ts *testServer, want int) response {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		r := ts.do("GET", "/readyz", "", nil)
		if r.Status == want || time.Now().After(deadline) {
			return r
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// /readyz fails, naming the check, when the issuers' keys cannot be
// unsealed (another instance rotated with another KEK), when the disk has
// no room, and when the store cannot be read.
func TestReadyzReflectsSigningAndStore(t *testing.T) {
	t.Run("fail/keys", func(t *testing.T) {
		ts := startServer(t, "")
		if r := waitReady(t, ts, http.StatusOK); r.Status != http.StatusOK {
			t.Fatalf("readyz of a healthy instance: %d %s", r.Status, r.Body)
		}
		raw := make([]byte, 32)
		_, _ = rand.Read(raw)
		other, err := keys.ParseKEK([]byte(base64.StdEncoding.EncodeToString(raw)))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := keys.NewService(ts.m.store, other, nil).Rotate(t.Context(), "default", ""); err != nil {
			t.Fatal(err)
		}
		r := waitReady(t, ts, http.StatusServiceUnavailable)
		if r.Status != http.StatusServiceUnavailable || !strings.Contains(r.JSON(t)["detail"].(string), "keys") {
			t.Fatalf("readyz with a key ring the KEK cannot open: %d %s, want 503 naming keys", r.Status, r.Body)
		}
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
			t.Errorf("Content-Type %q, want a problem document", ct)
		}
		if !strings.Contains(ts.Logs.String(), "wrong KEK") {
			t.Errorf("the log does not say why:\n%s", ts.Logs.String())
		}
	})
	t.Run("fail/disk", func(t *testing.T) {
		ts := startServer(t, "", func(m *Main) { m.MinFreeDisk = 1 << 62 })
		r := waitReady(t, ts, http.StatusServiceUnavailable)
		if r.Status != http.StatusServiceUnavailable || !strings.Contains(r.JSON(t)["detail"].(string), "disk") {
			t.Fatalf("readyz with too little free disk: %d %s, want 503 naming disk", r.Status, r.Body)
		}
	})
	t.Run("fail/store", func(t *testing.T) {
		ts := startServer(t, "")
		if err := ts.m.store.Close(); err != nil {
			t.Fatal(err)
		}
		r := waitReady(t, ts, http.StatusServiceUnavailable)
		detail, _ := r.JSON(t)["detail"].(string)
		for _, check := range []string{"store", "keys", "write"} {
			if !strings.Contains(detail, check) {
				t.Errorf("readyz with the store closed: %d %s, want 503 naming %s", r.Status, r.Body, check)
			}
		}
	})
}

// An admin sees every API key (never a secret); the last active admin key
// cannot be revoked; and an operator locked out gets a new admin key with
// certd admin-key while certd is stopped.
func TestAdminKeyLockOut(t *testing.T) {
	ts := startServer(t, "")
	r := ts.do("POST", "/api/v1/apikeys", ts.Admin, map[string]string{"role": "issuer", "issuer": "default", "name": "ERP"})
	if r.Status != http.StatusCreated {
		t.Fatalf("create issuer key: %d %s", r.Status, r.Body)
	}
	issuerToken := r.JSON(t)["token"].(string)
	if r := ts.do("GET", "/api/v1/apikeys", issuerToken, nil); r.Status != http.StatusForbidden {
		t.Errorf("list with an issuer key: %d, want 403", r.Status)
	}
	r = ts.do("GET", "/api/v1/apikeys", ts.Admin, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("list: %d %s", r.Status, r.Body)
	}
	for _, secret := range []string{ts.Admin, issuerToken, "hash", "token", "certd_"} {
		if bytes.Contains(r.Body, []byte(secret)) {
			t.Errorf("the list shows %q: %s", secret, r.Body)
		}
	}
	var list struct {
		Items []struct {
			ID, Name, Role, Issuer string
			CreatedAt              time.Time
			LastUsedAt             *time.Time
			Revoked                bool
		}
	}
	if err := jsonUnmarshal(r.Body, &list); err != nil {
		t.Fatal(err)
	}
	var adminID string
	for _, k := range list.Items {
		if k.Role == "admin" {
			adminID = k.ID
			if k.LastUsedAt == nil {
				t.Errorf("the admin key, used just now, has no lastUsedAt: %s", r.Body)
			}
		}
	}
	if len(list.Items) != 2 || adminID == "" {
		t.Fatalf("list: %s, want the admin key and the issuer key", r.Body)
	}

	r = ts.do("DELETE", "/api/v1/apikeys/"+adminID, ts.Admin, nil)
	if r.Status != http.StatusConflict || !strings.HasSuffix(r.JSON(t)["type"].(string), "last-admin-key") {
		t.Fatalf("revoking the last admin key: %d %s, want 409 last-admin-key", r.Status, r.Body)
	}
	if r := ts.do("GET", "/api/v1/apikeys", ts.Admin, nil); r.Status != http.StatusOK {
		t.Fatalf("the admin key stopped working after the refused revocation: %d", r.Status)
	}

	// Recovery while certd runs on the embedded store: refused, nothing made.
	var out, errOut bytes.Buffer
	err := runAdminKey(t.Context(), []string{"--data-dir", ts.DataDir}, noEnv, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "stop certd first") {
		t.Errorf("admin-key while certd runs: %v, want a stop-certd-first error", err)
	}
	if err := ts.m.Close(); err != nil {
		t.Fatal(err)
	}
	tokenBefore, _ := os.ReadFile(filepath.Join(ts.DataDir, tokenFile))
	out.Reset()
	if err := runAdminKey(t.Context(), []string{"--data-dir", ts.DataDir, "--name", "break glass"}, noEnv, &out, &errOut); err != nil {
		t.Fatalf("admin-key: %v\n%s", err, errOut.String())
	}
	newToken := strings.TrimSpace(out.String())
	if !strings.HasPrefix(newToken, "certd_") || strings.Contains(newToken, "\n") {
		t.Fatalf("admin-key printed %q, want one token line", out.String())
	}
	if after, _ := os.ReadFile(filepath.Join(ts.DataDir, tokenFile)); !bytes.Equal(after, tokenBefore) {
		t.Errorf("admin-key without --write-token changed admin.token")
	}
	ts2 := startServer(t, ts.DataDir)
	r = ts2.do("GET", "/api/v1/apikeys", newToken, nil)
	if r.Status != http.StatusOK || !strings.Contains(string(r.Body), `"name":"break glass"`) {
		t.Fatalf("the recovered admin key: %d %s", r.Status, r.Body)
	}
	// With two admin keys, one may go.
	if r := ts2.do("DELETE", "/api/v1/apikeys/"+adminID, newToken, nil); r.Status != http.StatusNoContent {
		t.Errorf("revoking the old admin key with the new one: %d %s", r.Status, r.Body)
	}
	if err := ts2.m.Close(); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := runAdminKey(t.Context(), []string{"--data-dir", ts.DataDir, "--write-token"}, noEnv, &out, &errOut); err != nil {
		t.Fatalf("admin-key --write-token: %v", err)
	}
	if after, _ := os.ReadFile(filepath.Join(ts.DataDir, tokenFile)); string(after) != out.String() {
		t.Errorf("admin.token after --write-token = %q, want the printed token %q", after, out.String())
	}
	// No store: nothing to recover, and nothing created.
	empty := t.TempDir()
	if err := runAdminKey(t.Context(), []string{"--data-dir", empty}, noEnv, &out, &errOut); err == nil || !strings.Contains(err.Error(), "no store") {
		t.Errorf("admin-key on an empty directory: %v", err)
	}
	if _, err := os.Stat(filepath.Join(empty, dbFile)); err == nil {
		t.Errorf("admin-key created a store")
	}
}

func noEnv(string) string { return "" }

func jsonUnmarshal(b []byte, v any) error {
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("decode %s: %w", b, err)
	}
	return nil
}

// As a process: a refused start exits with status 1 and says why on stderr;
// `certd admin-key` prints a token that the restarted server accepts.
func TestStartupProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("builds certd")
	}
	bin, err := buildCertd()
	if err != nil {
		t.Fatal(err)
	}
	dir, token := usedDataDir(t)
	if err := os.Truncate(filepath.Join(dir, dbFile), 0); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--addr", "127.0.0.1:0", "--data-dir", dir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err = cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 || !strings.Contains(stderr.String(), "not a first start") {
		t.Fatalf("certd on an emptied store: %v, want exit status 1 saying it is not a first start\n%s", err, stderr.String())
	}
	if after, _ := os.ReadFile(filepath.Join(dir, tokenFile)); !bytes.Equal(after, token) {
		t.Errorf("admin.token changed")
	}

	dir, _ = usedDataDir(t)
	out, err := exec.Command(bin, "admin-key", "--data-dir", dir).Output()
	newToken := strings.TrimSpace(string(out))
	if err != nil || !strings.HasPrefix(newToken, "certd_") {
		t.Fatalf("certd admin-key: %v %q", err, out)
	}
	addr := freePort(t)
	startProcess(t, bin, dir, addr)
	resp, err := http.DefaultClient.Do(func() *http.Request {
		req, _ := http.NewRequest("GET", "http://"+addr+"/api/v1/apikeys", nil)
		req.Header.Set("Authorization", "Bearer "+newToken)
		return req
	}())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /api/v1/apikeys with the key from certd admin-key: %d", resp.StatusCode)
	}
}
