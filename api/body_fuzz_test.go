package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/certd/certd/api"
	"github.com/certd/certd/cert"
	"github.com/certd/certd/issuer"
)

var fuzzActions = []string{"surveillance", "suspend", "reinstate", "withdraw", "cancel", "renew", "revise", "unknown-action"}

// send posts body to path through the router with the issuer's key.
func (a *testAPI) send(t testing.TB, path, contentType string, body []byte, headers ...string) *httptest.ResponseRecorder {
	t.Helper()
	return a.sendAs(t, a.token, path, contentType, body, headers...)
}

// sendAs posts body to path through the router with the API key token.
func (a *testAPI) sendAs(t testing.TB, token, path, contentType string, body []byte, headers ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
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
	return rec
}

// wantNoFault fails on a 5xx (a panic the Recover middleware caught is
// one) and on an error answer that is not a problem document.
func wantNoFault(t *testing.T, what string, rec *httptest.ResponseRecorder) {
	t.Helper()
	if rec.Code >= 500 {
		t.Fatalf("%s: HTTP %d %s", what, rec.Code, rec.Body.Bytes())
	}
	if rec.Code >= 400 {
		var p api.Problem
		if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
			t.Fatalf("%s: HTTP %d with Content-Type %q, want a problem document", what, rec.Code, ct)
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || p.Status != rec.Code || p.Type == "" || p.RequestID == "" {
			t.Fatalf("%s: HTTP %d problem %s: %v", what, rec.Code, rec.Body.Bytes(), err)
		}
		return
	}
	if !json.Valid(rec.Body.Bytes()) {
		t.Fatalf("%s: HTTP %d body is not JSON: %q", what, rec.Code, rec.Body.Bytes())
	}
}

// FuzzRequestBodies: whatever body a client sends to the routes that read
// one (issue, batch, the lifecycle actions, verify, batch verify), with
// whatever Content-Type, If-Match and Idempotency-Key, certd answers with
// a certificate, a verdict or a problem document: never a 5xx, never a
// panic.
func FuzzRequestBodies(f *testing.F) {
	a := newTestAPI(f, "2026-11-27")
	c := a.issue("itss")
	valid, _ := json.Marshal(map[string]any{
		"scheme": "itss", "standard": "GB/T 28827.1-2022", "category": "运行维护", "level": 3, "scope": "信息系统运行维护服务",
		"validFrom": "2026-11-27", "organization": map[string]any{"name": "北京示例科技有限公司", "uscc": "91110108MA0123456G"},
	})
	seeds := []struct {
		route uint8
		body  string
	}{
		{0, string(valid)},
		{0, `{"scheme":"itss","level":"3"}`},
		{0, `{"scheme":"itss","organization":{"name":"\ud800"},"validFrom":"2026-02-30"}`},
		{0, `{"level":1e400}`},
		{0, `{"sites":[null,""],"x":1}`},
		{0, `{} {}`},
		{1, `{"certificates":[` + string(valid) + `,{},null,1]}`},
		{1, `{"certificates":null}`},
		{2, `{"reason":"annual audit","date":"2026-12-01","result":"passed","auditRef":"R-1"}`},
		{3, `{"reason":"x","until":"2027-13-01"}`},
		{4, `{"reason":"back"}`},
		{7, `{"reason":"renewal","validFrom":"2029-11-27"}`},
		{8, `{"reason":"typo","organization":{"name":"新名称"}}`},
		{9, `{"credential":"` + c.Credential + `"}`},
		{10, c.Credential},
		{11, "eyJhbGciOiJub25lIn0.e30."},
		{12, `{"items":["` + c.ID + `","` + c.Credential + `","ITSS-2026-000001","",null]}`},
		{12, `{"items":"x"}`},
		{13, "\xff\xfe{"},
	}
	for _, s := range seeds {
		f.Add(s.route, []byte(s.body), `"1"`, "")
	}
	f.Add(uint8(0), valid, "", "key-1")
	f.Add(uint8(3), []byte(`{"reason":"r"}`), `W/"999999999999999999999"`, "")

	f.Fuzz(func(t *testing.T, route uint8, body []byte, ifMatch, idemKey string) {
		var headers []string
		// net/http refuses such header values on the wire; httptest would
		// pass them through.
		if validHeader(ifMatch) {
			headers = append(headers, "If-Match", ifMatch)
		}
		if validHeader(idemKey) {
			headers = append(headers, "Idempotency-Key", idemKey)
		}
		var path, ct string
		switch r := route % 14; {
		case r == 0:
			path, ct = "/api/v1/certificates", "application/json"
		case r == 1:
			path, ct = "/api/v1/certificates/batch", "application/json"
		case r < 9:
			path, ct = "/api/v1/certificates/"+c.ID+"/"+fuzzActions[r-2], "application/json"
		case r == 9:
			path, ct = "/api/v1/verify", "application/json"
		case r == 10:
			path, ct = "/api/v1/verify", "application/vc+jwt"
		case r == 11:
			path, ct = "/api/v1/verify", "text/plain"
		case r == 12:
			path, ct = "/api/v1/verify/batch", "application/json"
		default:
			path, ct = "/api/v1/certificates", "text/csv"
		}
		rec := a.send(t, path, ct, body, headers...)
		wantNoFault(t, "POST "+path, rec)
	})
}

// FuzzAdminBodies: the same for the bodies an admin key sends: a new
// issuer, a new API key, a key rotation.
func FuzzAdminBodies(f *testing.F) {
	a := newTestAPI(f, "2026-11-27")
	_, admin, err := a.svc.CreateAPIKey(context.Background(), cert.Principal{Role: cert.RoleAdmin, KeyID: "test"},
		issuer.APIKeyRequest{Role: cert.RoleAdmin, Name: "fuzz admin"})
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []struct {
		route uint8
		body  string
	}{
		{0, `{"id":"cb2","name":"Second CB","nameZh":"第二认证中心","timeZone":"Asia/Shanghai","numberPattern":"{PREFIX}-{YYYY}-{SEQ:6}","keyType":"ES256"}`},
		{0, `{"id":"UPPER","name":"","timeZone":"Mars/Olympus","numberPattern":"{SEQ:99}"}`},
		{0, `{"id":"x","name":"X","numberPattern":"{YYYY}{YYYY}{SEQ:0}"}`},
		{1, `{"issuer":"cb","role":"viewer","name":"reader"}`},
		{1, `{"role":"admin"}`},
		{1, `{"issuer":"nope","role":"owner"}`},
		{2, `{"keyType":"ES256"}`},
		{2, `{"keyType":"RSA"}`},
		{2, ``},
	} {
		f.Add(s.route, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, route uint8, body []byte) {
		path := []string{"/api/v1/issuers", "/api/v1/apikeys", "/api/v1/issuers/cb/keys/rotate"}[route%3]
		rec := a.sendAs(t, admin, path, "application/json", body)
		wantNoFault(t, "POST "+path, rec)
	})
}

func validHeader(v string) bool {
	if v == "" || !utf8.ValidString(v) {
		return false
	}
	for _, r := range v {
		if r < 0x20 && r != '\t' || r == 0x7f {
			return false
		}
	}
	return strings.TrimSpace(v) == v
}

// FuzzIfMatch: an If-Match header either names the current version (the
// action proceeds), names another one (412), or is not an ETag (400);
// never a 5xx, never an action on a version the client did not name. An
// input's "V" stands for the current version, so that the fuzzer reaches
// the matching case.
func FuzzIfMatch(f *testing.F) {
	a := newTestAPI(f, "2026-11-27")
	c := a.issue("itss")
	version := c.Version
	for _, h := range []string{`"V"`, "V", `W/"V"`, `"2"`, `"0"`, `"-V"`, "*", `"V", "2"`, `""`, `"V`, "V\"", "+V", "0V", "V0",
		`"9223372036854775808"`, "\"\u00a0V\"", "W/W/\"V\"", "W/V", `"V"x`, "\"V\"\t"} {
		f.Add(h)
	}
	f.Fuzz(func(t *testing.T, h string) {
		h = strings.ReplaceAll(h, "V", strconv.FormatInt(version, 10))
		if !validHeader(h) {
			return
		}
		rec := a.send(t, "/api/v1/certificates/"+c.ID+"/suspend", "application/json", []byte(`{"reason":"fuzz"}`), "If-Match", h)
		wantNoFault(t, "If-Match "+strconv.Quote(h), rec)
		switch rec.Code {
		case http.StatusOK:
			if !namesVersion(h, version) {
				t.Fatalf("If-Match %q suspended version %d", h, version)
			}
			// Back to active for the next input.
			rec = a.send(t, "/api/v1/certificates/"+c.ID+"/reinstate", "application/json", []byte(`{"reason":"fuzz"}`))
			if rec.Code != http.StatusOK {
				t.Fatalf("reinstate: HTTP %d %s", rec.Code, rec.Body.Bytes())
			}
			v, err := strconv.ParseInt(strings.Trim(rec.Header().Get("ETag"), `"`), 10, 64)
			if err != nil {
				t.Fatalf("ETag %q: %v", rec.Header().Get("ETag"), err)
			}
			version = v
		case http.StatusPreconditionFailed:
			if namesVersion(h, version) {
				t.Fatalf("If-Match %q answered 412 for version %d", h, version)
			}
		case http.StatusBadRequest:
			if namesVersion(h, version) {
				t.Fatalf("If-Match %q refused as malformed", h)
			}
		default:
			t.Fatalf("If-Match %q: HTTP %d %s", h, rec.Code, rec.Body.Bytes())
		}
	})
}

// namesVersion tells whether an If-Match value names version v: the ETag
// certd sends ("3"), the same marked weak or without quotes, or "*".
func namesVersion(h string, v int64) bool {
	want := strconv.FormatInt(v, 10)
	h = strings.TrimSpace(h)
	return h == "*" || h == `"`+want+`"` || h == `W/"`+want+`"` || h == want
}
