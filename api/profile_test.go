package api_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"hash/crc32"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/issuer"
)

// raw sends a request with a raw body through the router.
func (a *testAPI) raw(method, path, token, contentType string, body []byte, headers ...string) response {
	a.t.Helper()
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	req.RemoteAddr = "192.0.2.10:40000"
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	a.srv.ServeHTTP(rec, req)
	return response{code: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
}

func bombPNG(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 6
	_ = binary.Write(&b, binary.BigEndian, uint32(13))
	crc := crc32.NewIEEE()
	crc.Write([]byte("IHDR"))
	crc.Write(ihdr)
	b.WriteString("IHDR")
	b.Write(ihdr)
	_ = binary.Write(&b, binary.BigEndian, crc.Sum32())
	return b.Bytes()
}

// TestIssuerProfileRoutes goes through the router: roles, If-Match, the
// media types and the problems of PATCH and PUT.
func TestIssuerProfileRoutes(t *testing.T) {
	a := newTestAPI(t, "2026-11-27")
	_, admin, err := a.svc.CreateAPIKey(context.Background(), cert.Principal{Role: cert.RoleAdmin, KeyID: "root"}, issuer.APIKeyRequest{Role: cert.RoleAdmin, Name: "ops"})
	if err != nil {
		t.Fatal(err)
	}
	const merge = "application/merge-patch+json"
	if r := a.raw("GET", "/api/v1/issuers/cb", a.token, "", nil); r.code != http.StatusOK || r.header.Get("ETag") != `"1"` {
		t.Errorf("issuer key GET own issuer: %d %q", r.code, r.header.Get("ETag"))
	}
	if r := a.raw("GET", "/api/v1/issuers/other", a.token, "", nil); r.code != http.StatusNotFound {
		t.Errorf("issuer key GET another issuer: %d, want 404", r.code)
	}
	for _, tc := range []struct {
		name, token, ct, body, ifMatch string
		want                           int
		field                          string
	}{
		{"fail/issuer-key", a.token, merge, `{"name": "X"}`, "", http.StatusForbidden, ""},
		{"fail/no-seq", admin, merge, `{"numberPatterns": {"iso17021": "QMS-{YYYY}"}}`, "", http.StatusUnprocessableEntity, "numberPatterns.iso17021"},
		{"fail/read-only", admin, merge, `{"keyType": "ES256"}`, "", http.StatusUnprocessableEntity, "keyType"},
		{"fail/if-match", admin, merge, `{"name": "X"}`, `"9"`, http.StatusPreconditionFailed, ""},
		{"fail/media-type", admin, "text/plain", `{"name": "X"}`, "", http.StatusUnsupportedMediaType, ""},
		{"fail/not-json", admin, merge, `{"name": `, "", http.StatusBadRequest, ""},
		{"ok", admin, merge, `{"name": "Renamed CB", "approvalNumber": "CNCA-R-2002-001"}`, `"1"`, http.StatusOK, ""},
		{"ok/no-change", admin, "application/json", `{"name": "Renamed CB"}`, `"2"`, http.StatusOK, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := []string{}
			if tc.ifMatch != "" {
				h = append(h, "If-Match", tc.ifMatch)
			}
			r := a.raw("PATCH", "/api/v1/issuers/cb", tc.token, tc.ct, []byte(tc.body), h...)
			if r.code != tc.want {
				t.Fatalf("PATCH: %d %s, want %d", r.code, r.body, tc.want)
			}
			if tc.field != "" && !strings.Contains(string(r.body), `"field":"`+tc.field+`"`) {
				t.Errorf("problem does not name %s: %s", tc.field, r.body)
			}
		})
	}
	r := a.raw("GET", "/api/v1/issuers/cb/events", admin, "", nil)
	var ev struct{ Events []cert.IssuerEvent }
	if err := json.Unmarshal(r.body, &ev); err != nil || len(ev.Events) != 2 || ev.Events[1].Type != cert.IssuerProfileUpdated || !strings.HasSuffix(ev.Events[1].Actor, "(ops)") {
		t.Errorf("events = %s, want created and one update (no event for the patch that changed nothing)", r.body)
	}
	if r := a.raw("PUT", "/api/v1/issuers/cb/seal", admin, "image/png", bombPNG(20000, 20000)); r.code != http.StatusUnprocessableEntity {
		t.Errorf("PUT a 20000x20000 PNG: %d %s, want 422", r.code, r.body)
	}
	if r := a.raw("GET", "/issuers/cb/seal.png", "", "", nil); r.code != http.StatusNotFound {
		t.Errorf("seal.png after the refused upload: %d, want 404", r.code)
	}
	if r := a.raw("GET", "/api/v1/issuers/cb", admin, "", nil); r.header.Get("ETag") != `"2"` {
		t.Errorf("version after a refused upload and an empty change: %s, want \"2\"", r.header.Get("ETag"))
	}
}
