package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/certd/certd/api"
)

// /readyz runs every check, names the failing ones in a 503 problem (never
// their errors, which go to the log), and runs them at most once a second.
func TestReadyzChecks(t *testing.T) {
	var runs atomic.Int32
	var keysErr atomic.Value
	keysErr.Store(errors.New("unseal key k1 of issuer default: secret detail"))
	srv := api.New(api.Config{
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		ReadyChecks: []api.ReadyCheck{
			{Name: "store", Check: func(context.Context) error { runs.Add(1); return nil }},
			{Name: "keys", Check: func(context.Context) error { return keysErr.Load().(error) }},
			{Name: "disk", Check: func(context.Context) error { return errors.New("12 bytes free") }},
		},
	})
	get := func() *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
		return rec
	}
	rec := get()
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("status %d, want 503", rec.Code)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		t.Errorf("Content-Type %q", ct)
	}
	var p struct{ Detail string }
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(p.Detail, "keys, disk") || strings.Contains(p.Detail, "store") {
		t.Errorf("detail %q, want it to name keys and disk only", p.Detail)
	}
	if strings.Contains(rec.Body.String(), "secret detail") || strings.Contains(rec.Body.String(), "12 bytes") {
		t.Errorf("the problem shows a check's error: %s", rec.Body)
	}
	for range 20 {
		get()
	}
	// Cached for a second: 21 requests in a row run the checks far fewer
	// times than 21 (once, unless the machine stalls for a second).
	if n := runs.Load(); n >= 21 {
		t.Errorf("21 requests ran the checks %d times: not cached", n)
	}
}
