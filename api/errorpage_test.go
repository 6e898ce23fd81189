package api_test

import (
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
)

func (a *pageAPI) request(method, path string, headers ...string) *httptest.ResponseRecorder {
	a.t.Helper()
	req := httptest.NewRequest(method, path, nil)
	req.RemoteAddr = "192.0.2.20:40000"
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	a.srv.ServeHTTP(rec, req)
	return rec
}

// Errors reach a browser as HTML pages, programs as problem documents;
// the JSON API always answers problems.
func TestErrorPages(t *testing.T) {
	a := newPageAPI(t, "https://verify.example.cn", 1e6)
	cases := []struct {
		name, method, path, accept string
		status                     int
		contentType, text          string
	}{
		{"html/unknown route", "GET", "/no/such/page", browserAccept, 404, "text/html", "Page not found"},
		{"html/unknown route, Chinese", "GET", "/no/such/page?lang=zh-CN", browserAccept, 404, "text/html", "页面不存在"},
		{"html/unknown certificate's QR code", "GET", "/v/0000000000000000000000000Z/qr.png", browserAccept, 404, "text/html", "Page not found"},
		{"html/method not allowed", "DELETE", "/search", browserAccept, 405, "text/html", "The request could not be handled"},
		{"problem/unknown route, JSON", "GET", "/no/such/page", "application/json", 404, "application/problem+json", `"status":404`},
		{"problem/unknown route, no Accept", "GET", "/no/such/page", "", 404, "application/problem+json", `"status":404`},
		{"problem/the API, to a browser", "GET", "/api/v2/no-such-route", browserAccept, 404, "application/problem+json", `"status":404`},
		{"problem/the API's verdict of an unknown id, to a browser", "GET", "/api/v1/verify/0000000000000000000000000Z", browserAccept, 404, "application/json", `"not_found"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := a.request(tc.method, tc.path, "Accept", tc.accept, "Accept-Language", "en")
			if rec.Code != tc.status || !strings.HasPrefix(rec.Header().Get("Content-Type"), tc.contentType) || !strings.Contains(rec.Body.String(), tc.text) {
				t.Errorf("%s %s: %d %s, want %d %s with %q:\n%.400s", tc.method, tc.path, rec.Code, rec.Header().Get("Content-Type"), tc.status, tc.contentType, tc.text, rec.Body)
			}
			if !strings.HasPrefix(tc.path, "/api/") && !strings.Contains(rec.Header().Get("Vary"), "Accept") {
				t.Errorf("Vary = %q: a cache would mix the page and the problem", rec.Header().Get("Vary"))
			}
			if id := rec.Header().Get("X-Request-ID"); tc.contentType == "text/html" && (id == "" || !strings.Contains(rec.Body.String(), id)) {
				t.Errorf("the page does not quote the request id %s", rec.Header().Get("X-Request-ID"))
			}
		})
	}
}

// When the store does not answer, the public pages tell a browser so in
// HTML, with 503 and Retry-After.
func TestStoreDownPages(t *testing.T) {
	a := newPageAPI(t, "https://verify.example.cn", 1e6)
	c := a.issue("北京示例科技有限公司", "", "91110108MA0123456G")
	if err := a.st.Close(); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/", "/search", "/search?q=" + "91110108MA0123456G", "/verify", "/v/" + c.ID, "/v/" + c.ID + "/qr.png"} {
		rec := a.request("GET", path, "Accept", browserAccept, "Accept-Language", "en")
		body := rec.Body.String()
		if rec.Code != 503 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") || rec.Header().Get("Retry-After") == "" {
			t.Errorf("GET %s: %d %s (Retry-After %q), want an HTML 503:\n%.300s", path, rec.Code, rec.Header().Get("Content-Type"), rec.Header().Get("Retry-After"), body)
		}
		if strings.Contains(body, "Valid") && !strings.Contains(body, "not") {
			t.Errorf("GET %s: the page says valid while the store is down", path)
		}
	}
	rec := a.upload("/verify", browserAccept, [3]string{"file", "certificate.pdf", string(pdfWith(c.Credential, false))})
	if rec.Code != 503 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
		t.Errorf("POST /verify: %d %s, want an HTML 503", rec.Code, rec.Header().Get("Content-Type"))
	}
	rec = a.request("GET", "/no/such/page", "Accept", "application/json")
	if rec.Code != 404 || rec.Header().Get("Content-Type") != "application/problem+json" {
		t.Errorf("unknown route, JSON: %d %s", rec.Code, rec.Header().Get("Content-Type"))
	}
}

// HEAD answers every public page with the status and headers of GET and
// no body.
func TestHEAD(t *testing.T) {
	a := newPageAPI(t, "https://verify.example.cn", 1e6)
	c := a.issue("北京示例科技有限公司", "", "91110108MA0123456G")
	for _, path := range []string{
		"/", "/search", "/search?q=" + "91110108MA0123456G", "/verify", "/v/" + c.ID, "/v/" + c.ID + "/qr.png", "/v/" + c.ID + "/qr.svg",
		"/v/" + c.ID + "/credential.jwt", "/v/" + c.ID + "/certificate.pdf", "/v/0000000000000000000000000Z", "/no/such/page",
		"/api/v1/verify/" + c.ID, "/issuers/cesa/jwks.json", "/.well-known/jwks.json", "/openapi.json", "/healthz",
	} {
		for _, accept := range []string{browserAccept, "application/json"} {
			get := a.request("GET", path, "Accept", accept)
			head := a.request("HEAD", path, "Accept", accept)
			if head.Code != get.Code || head.Body.Len() != 0 {
				t.Errorf("HEAD %s (%s): %d with %d body bytes, GET: %d", path, accept, head.Code, head.Body.Len(), get.Code)
			}
			// net/http adds Content-Length to a small GET on the wire; a
			// HEAD that states it must state the GET's length.
			if n := head.Header().Get("Content-Length"); n != "" && n != strconv.Itoa(get.Body.Len()) {
				t.Errorf("HEAD %s (%s): Content-Length %s, GET body: %d bytes", path, accept, n, get.Body.Len())
			}
			for _, h := range []string{"Content-Type", "Cache-Control", "Content-Language", "Content-Security-Policy", "ETag", "Retry-After"} {
				if head.Header().Get(h) != get.Header().Get(h) {
					t.Errorf("HEAD %s (%s): %s %q, GET: %q", path, accept, h, head.Header().Get(h), get.Header().Get(h))
				}
			}
		}
	}
}
