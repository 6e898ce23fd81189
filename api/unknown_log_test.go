package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/certd/certd/api"
	"github.com/certd/certd/cert"
	"github.com/certd/certd/verifier"
)

// failingStore is the real store whose certificate reads fail on demand,
// as when the database stops answering.
type failingStore struct {
	verifier.Store
	down atomic.Bool
}

func (f *failingStore) Certificate(ctx context.Context, id string) (*cert.Certificate, error) {
	if f.down.Load() {
		return nil, fmt.Errorf("read certificate %s: disk I/O error: %w", id, cert.ErrUnavailable)
	}
	return f.Store.Certificate(ctx, id)
}

// failingKeys is the real keys service whose key states fail on demand.
type failingKeys struct {
	verifier.Keys
	down atomic.Bool
}

func (f *failingKeys) KeyState(ctx context.Context, issuer, kid string) (cert.KeyState, error) {
	if f.down.Load() {
		return "", errors.New("open key ring: cipher: message authentication failed")
	}
	return f.Keys.KeyState(ctx, issuer, kid)
}

// syncBuffer is a log destination several requests may write at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) lines() []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(s.b.String()), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) == nil {
			out = append(out, m)
		}
	}
	return out
}

// An unknown verdict answers the reader "try again" and nothing more; the
// cause (the store or the keys failed) goes to the log at warn, on a line
// with the request id, so that the operator can find it from the id the
// reader reports.
func TestUnknownVerdictLogsItsCause(t *testing.T) {
	a := newTestAPI(t, "2026-11-27")
	c := a.issue("itss")
	st := &failingStore{Store: a.store}
	ks := &failingKeys{Keys: a.keys}
	logs := &syncBuffer{}
	ver := verifier.New(verifier.Config{Store: st, Keys: ks, Schemes: a.svc.Schemes(), PublicURL: publicURL, Now: a.clock.Now})
	srv := api.New(api.Config{
		Issuing: a.svc, Verifying: ver, Keys: a.keys, Store: a.store, PublicURL: publicURL,
		PublicRate: 1e6, PublicBurst: 1e6, Now: a.clock.Now,
		Logger: slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo})),
	})
	for _, tc := range []struct {
		name, method, path, body string
		down                     *atomic.Bool
		want                     string
	}{
		{"store/by-id", http.MethodGet, "/api/v1/verify/" + c.ID, "", &st.down, "disk I/O error"},
		{"store/page", http.MethodGet, "/v/" + c.ID, "", &st.down, "disk I/O error"},
		{"store/token", http.MethodPost, "/api/v1/verify", `{"credential":"` + c.Credential + `"}`, &st.down, "disk I/O error"},
		{"store/batch", http.MethodPost, "/api/v1/verify/batch", `{"items":["` + c.ID + `"]}`, &st.down, "disk I/O error"},
		{"keys/by-id", http.MethodGet, "/api/v1/verify/" + c.ID, "", &ks.down, "message authentication failed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.down.Store(true)
			defer tc.down.Store(false)
			id := "req-" + strings.ReplaceAll(tc.name, "/", "-")
			req := httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body))
			req.RemoteAddr = "192.0.2.10:40000"
			req.Header.Set("X-Request-ID", id)
			if tc.body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			rec := httptest.NewRecorder()
			srv.ServeHTTP(rec, req)
			if strings.Contains(rec.Body.String(), tc.want) {
				t.Errorf("the answer shows the internal cause: %s", rec.Body.String())
			}
			if rec.Code != http.StatusServiceUnavailable && !strings.Contains(rec.Body.String(), `"verdict":"unknown"`) {
				t.Fatalf("HTTP %d %s, want an unknown verdict", rec.Code, rec.Body.String())
			}
			found := false
			for _, l := range logs.lines() {
				if l["request_id"] == id && l["level"] == "WARN" {
					if e, _ := l["error"].(string); strings.Contains(e, tc.want) {
						found = true
					}
				}
			}
			if !found {
				t.Errorf("no warn line with request_id %s and the cause %q in the log:\n%s", id, tc.want, logs.b.String())
			}
		})
	}
}
