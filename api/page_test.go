package api_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certd/certd/api"
	"github.com/certd/certd/cert"
	"github.com/certd/certd/issuer"
	"github.com/certd/certd/keys"
	"github.com/certd/certd/profile"
	"github.com/certd/certd/store/bolt"
	"github.com/certd/certd/verifier"
)

// pageAPI is the real wiring (bolt, keys, issuer, verifier) behind the
// router, with the search, an accredited issuer, a fixed clock and the
// public URL given.
type pageAPI struct {
	t   testing.TB
	srv *api.Server
	svc *issuer.Service
	st  *bolt.Store
}

var pageNow = time.Date(2026, 11, 27, 2, 0, 0, 0, time.UTC)

func newPageAPI(t testing.TB, publicURL string, rate float64, opts ...func(*api.Config)) *pageAPI {
	t.Helper()
	return newPageAPIAt(t, publicURL, rate, func() time.Time { return pageNow }, opts...)
}

// newPageAPIAt is newPageAPI on the clock now.
func newPageAPIAt(t testing.TB, publicURL string, rate float64, now func() time.Time, opts ...func(*api.Config)) *pageAPI {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "certd.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	kek, err := keys.ParseKEK([]byte(base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{9}, 32))))
	if err != nil {
		t.Fatal(err)
	}
	schemes, err := cert.NewSchemes(cert.BuiltinSchemes())
	if err != nil {
		t.Fatal(err)
	}
	ks := keys.NewService(st, kek, now)
	svc := issuer.New(issuer.Config{Store: st, Signer: ks, Rings: ks, Schemes: schemes, PublicURL: publicURL, Now: now})
	ver := verifier.New(verifier.Config{Store: st, Keys: ks, Schemes: schemes, PublicURL: publicURL, Now: now, VerdictCache: 1000})
	admin := cert.Principal{Role: cert.RoleAdmin, KeyID: "test"}
	if _, err := svc.CreateIssuer(context.Background(), admin, issuer.IssuerRequest{
		ID: "cesa", Name: "China Electronics Standardization Association", NameZh: "中国电子工业标准化技术协会",
		AccreditationBody: "CNAS", AccreditationNumber: "CNAS C123-M", NumberPrefix: "CESA",
	}); err != nil {
		t.Fatal(err)
	}
	cfg := api.Config{
		Issuing: svc, Verifying: ver, Keys: ks, Store: st, Search: st, PublicURL: publicURL,
		Profiles:   profile.New(profile.Config{Store: st, Schemes: schemes, Now: now}),
		PublicRate: rate, PublicBurst: int(max(1, rate)), Now: now,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	for _, o := range opts {
		o(&cfg)
	}
	srv := api.New(cfg)
	return &pageAPI{t: t, srv: srv, svc: svc, st: st}
}

func (a *pageAPI) issue(name, nameEn, uscc string) *cert.Certificate {
	a.t.Helper()
	c, _, err := a.svc.Issue(context.Background(), cert.Principal{Role: cert.RoleAdmin, KeyID: "test"}, issuer.Request{
		Issuer: "cesa", Scheme: "itss", Standard: "GB/T 28827.1-2022", Category: "数据中心", Level: 2, Scope: "数据中心服务",
		Organization: cert.Organization{Name: name, NameEn: nameEn, USCC: uscc, Country: "CN"},
	}, "")
	if err != nil {
		a.t.Fatalf("issue: %v", err)
	}
	return c
}

func (a *pageAPI) get(path string, headers ...string) *httptest.ResponseRecorder {
	a.t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.RemoteAddr = "192.0.2.20:40000"
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	a.srv.ServeHTTP(rec, req)
	return rec
}

func TestSearchAPI(t *testing.T) {
	a := newPageAPI(t, "https://verify.example.cn", 1e6)
	first := a.issue("北京示例科技有限公司", "Beijing Example Technology Co., Ltd.", "91110108MA0123456G")
	second := a.issue("北京示例科技有限公司", "Beijing Example Technology Co., Ltd.", "91110108MA0123456G")
	if _, err := a.svc.Act(context.Background(), cert.Principal{Role: cert.RoleAdmin, KeyID: "test"}, second.ID, "suspend", issuer.ActionRequest{Reason: "客户申请"}, 0); err != nil {
		t.Fatal(err)
	}

	rec := a.get("/api/v1/search?q=" + url.QueryEscape("91110108ma0123456g") + "&limit=1")
	if rec.Code != 200 || rec.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("search: %d %s", rec.Code, rec.Body)
	}
	var page struct {
		Items []map[string]any
		Next  string
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &page); err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 1 || page.Next == "" {
		t.Fatalf("page 1 = %d items, next %q", len(page.Items), page.Next)
	}
	got := page.Items[0]
	want := map[string]any{
		"id": got["id"], "number": got["number"], "status": got["status"],
		"organization": map[string]any{"name": "北京示例科技有限公司", "nameEn": "Beijing Example Technology Co., Ltd.", "uscc": "91110108MA0123456G"},
		"issuer":       map[string]any{"id": "cesa", "name": "China Electronics Standardization Association", "nameZh": "中国电子工业标准化技术协会", "url": "https://verify.example.cn/issuers/cesa"},
		"scheme":       map[string]any{"id": "itss", "name": "ITSS conformity certificate", "nameZh": "信息技术服务标准符合性证书"},
		"validFrom":    "2026-11-27", "validUntil": "2029-11-26",
		"links": map[string]any{"verify": "https://verify.example.cn/v/" + got["id"].(string), "pdf": "https://verify.example.cn/v/" + got["id"].(string) + "/certificate.pdf"},
	}
	if g, w := mustJSON(t, got), mustJSON(t, want); g != w {
		t.Errorf("item:\n got %s\nwant %s", g, w)
	}
	statuses := map[string]string{first.ID: "active", second.ID: "suspended"}
	if statuses[got["id"].(string)] != got["status"] {
		t.Errorf("status of %s = %v, want %s", got["id"], got["status"], statuses[got["id"].(string)])
	}
	rec = a.get("/api/v1/search?q=91110108MA0123456G&limit=1&cursor=" + url.QueryEscape(page.Next))
	var page2 struct {
		Items []map[string]any
		Next  string
	}
	_ = json.Unmarshal(rec.Body.Bytes(), &page2)
	if len(page2.Items) != 1 || page2.Next != "" || page2.Items[0]["id"] == got["id"] {
		t.Errorf("page 2 = %s", rec.Body)
	}
}

// TestSearchPunctuationRefused: a text of punctuation alone cannot be a
// number or a USCC and has nothing the search index holds; it is refused
// with a problem that names the field and what a search needs, not
// answered by reading every certificate.
func TestSearchPunctuationRefused(t *testing.T) {
	a := newPageAPI(t, "https://verify.example.cn", 1e6)
	a.issue("北京示例科技有限公司", "Beijing Example (A&B) Co., Ltd.", "91110108MA0123456G")
	for _, q := range []string{"&&", "., ", "(&)", " -- "} {
		rec := a.get("/api/v1/search?q=" + url.QueryEscape(q))
		var p struct {
			Status int
			Errors []struct{ Field, Message string }
		}
		_ = json.Unmarshal(rec.Body.Bytes(), &p)
		if rec.Code != http.StatusUnprocessableEntity || len(p.Errors) != 1 || p.Errors[0].Field != "q" ||
			!strings.Contains(p.Errors[0].Message, "a letter, a digit or a Chinese character") {
			t.Errorf("search %q: %d %s; want 422 naming q and what a search needs", q, rec.Code, rec.Body)
		}
	}
	if rec := a.get("/api/v1/search?q=" + url.QueryEscape("(A&B)")); rec.Code != 200 || !strings.Contains(rec.Body.String(), `(A\u0026B)`) {
		t.Errorf("search with a letter among the punctuation: %d %s", rec.Code, rec.Body)
	}
}

func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Behind a proxy under a path prefix, page links and redirects keep it.
func TestPagesUnderPathPrefix(t *testing.T) {
	a := newPageAPI(t, "https://example.com/certd", 1e6)
	c := a.issue("北京示例科技有限公司", "", "91110108MA0123456G")
	rec := a.get("/v/"+c.ID, "Accept-Language", "en")
	body := rec.Body.String()
	for _, want := range []string{
		`href="/certd/v/` + c.ID + `/certificate.pdf"`, `href="/certd/issuers/cesa/jwks.json"`,
		`href="?lang=zh-CN"`, "CNAS C123-M", "example.com",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	rec = a.get("/search?lang=en&q=" + url.QueryEscape("https://example.com/certd/v/"+strings.ToLower(c.ID)))
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/certd/v/"+c.ID+"?lang=en" {
		t.Errorf("pasted link: %d Location %q", rec.Code, rec.Header().Get("Location"))
	}
	// An id that is not registered is searched for as text.
	rec = a.get("/search?q=0000000000000000000000000Z")
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "没有找到匹配的证书") {
		t.Errorf("unregistered id: %d", rec.Code)
	}
}

// The public pages are rate limited per client like the other public
// routes.
func TestPagesRateLimited(t *testing.T) {
	a := newPageAPI(t, "https://verify.example.cn", 1)
	for _, path := range []string{"/", "/search?q=abc", "/api/v1/search?q=abc"} {
		limited := false
		for range 5 {
			if rec := a.get(path); rec.Code == http.StatusTooManyRequests {
				limited = rec.Header().Get("Retry-After") != ""
				break
			}
		}
		if !limited {
			t.Errorf("%s: 5 requests in a row at 1/s were never limited", path)
		}
		time.Sleep(1100 * time.Millisecond) // the next path starts with a token
	}
}
