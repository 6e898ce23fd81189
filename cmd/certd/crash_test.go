package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/certd/certd/cert"
)

// buildCertd compiles the server once per test binary.
var buildCertd = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "certd-bin")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "certd")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})

func freePort(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startProcess runs certd as a child process and waits until it is ready.
func startProcess(t testing.TB, bin, dataDir, addr string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"--addr", addr, "--data-dir", dataDir, "--public-url", "http://certd.test", "--log-level", "warn"}, args...)...)
	cmd.Stdout, cmd.Stderr = &bytes.Buffer{}, &bytes.Buffer{}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _, _ = cmd.Process.Wait() })
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if r, err := http.Get("http://" + addr + "/readyz"); err == nil {
			r.Body.Close()
			if r.StatusCode == 200 {
				return cmd
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("certd did not become ready: %s", cmd.Stderr)
	return nil
}

// A kill -9 during 200 concurrent issue requests loses no certificate whose
// 201 the client received, and no two certificates share a number or a
// status-list position.
func TestKill9DuringConcurrentIssuing(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the server binary")
	}
	bin, err := buildCertd()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	addr := freePort(t)
	cmd := startProcess(t, bin, dir, addr)
	tokenBytes, err := os.ReadFile(filepath.Join(dir, "admin.token"))
	if err != nil {
		t.Fatal(err)
	}
	token := strings.TrimSpace(string(tokenBytes))

	var (
		mu      sync.Mutex
		created []string
		ok      atomic.Int32
		wg      sync.WaitGroup
		killed  sync.Once
	)
	client := &http.Client{Timeout: 10 * time.Second}
	body, _ := json.Marshal(sampleCertificate("default", testUSCC))
	for i := 0; i < 200; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest("POST", "http://"+addr+"/api/v1/certificates", bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set("Content-Type", "application/json")
			resp, err := client.Do(req)
			if err != nil {
				return
			}
			defer resp.Body.Close()
			var c struct{ ID string }
			if resp.StatusCode == http.StatusCreated && json.NewDecoder(resp.Body).Decode(&c) == nil {
				mu.Lock()
				created = append(created, c.ID)
				mu.Unlock()
				if ok.Add(1) == 60 {
					killed.Do(func() { _ = cmd.Process.Signal(syscall.SIGKILL) })
				}
			}
		}()
	}
	wg.Wait()
	killed.Do(func() { _ = cmd.Process.Signal(syscall.SIGKILL) })
	_, _ = cmd.Process.Wait()
	if len(created) < 60 {
		t.Fatalf("only %d certificates were created before the kill; the test needs at least 60", len(created))
	}

	startProcess(t, bin, dir, addr)
	get := func(path string) []byte {
		req, _ := http.NewRequest("GET", "http://"+addr+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var buf bytes.Buffer
		_, _ = buf.ReadFrom(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d %s", path, resp.StatusCode, buf.Bytes())
		}
		return buf.Bytes()
	}
	stored := map[string]bool{}
	numbers := map[string]string{}
	positions := map[string]string{}
	cursor := ""
	for {
		var page struct {
			Items []struct{ ID, Number, Credential string }
			Next  string
		}
		if err := json.Unmarshal(get("/api/v1/certificates?limit=1000&cursor="+cursor), &page); err != nil {
			t.Fatal(err)
		}
		for _, it := range page.Items {
			stored[it.ID] = true
			if other, dup := numbers[it.Number]; dup {
				t.Errorf("number %s shared by %s and %s", it.Number, other, it.ID)
			}
			numbers[it.Number] = it.ID
			pos := statusPosition(t, it.Credential)
			if other, dup := positions[pos]; dup {
				t.Errorf("status position %s shared by %s and %s", pos, other, it.ID)
			}
			positions[pos] = it.ID
		}
		if page.Next == "" {
			break
		}
		cursor = page.Next
	}
	for _, id := range created {
		if !stored[id] {
			t.Errorf("certificate %s was acknowledged with 201 but is gone after kill -9", id)
		}
	}
	t.Logf("%d acknowledged, %d stored after kill -9", len(created), len(stored))
}

func statusPosition(t testing.TB, credential string) string {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(credential, ".")[1])
	if err != nil {
		t.Fatal(err)
	}
	var c cert.Credential
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	e := c.CredentialStatus[0]
	if _, err := strconv.Atoi(e.StatusListIndex); err != nil {
		t.Fatalf("statusListIndex %q", e.StatusListIndex)
	}
	return e.StatusListCredential + "#" + e.StatusListIndex
}
