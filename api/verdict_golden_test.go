package api_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/issuer"
)

// The answers of the verification routes, byte for byte: the verdict JSON
// (by id, by number, by a presented token), the page in both languages and
// their headers, for certificates in every status, with a clock the test
// moves. Ids, key ids and signatures are random: they are replaced by their
// names before the comparison (each is of fixed length, so Content-Length
// stands).
func TestVerificationAnswersGolden(t *testing.T) {
	const pub = "https://verify.example.cn"
	clk := &clock{t: time.Date(2026, 11, 27, 2, 0, 0, 0, time.UTC)}
	a := newPageAPIAt(t, pub, 1e6, clk.Now)
	st, svc, srv := a.st, a.svc, a.srv
	ctx := context.Background()
	admin := cert.Principal{Role: cert.RoleAdmin, KeyID: "test"}
	_, adminToken, err := svc.CreateAPIKey(ctx, admin, issuer.APIKeyRequest{Role: cert.RoleAdmin, Name: "golden"})
	if err != nil {
		t.Fatal(err)
	}

	names := map[string]string{} // random value -> its name in the golden files
	issue := func(name, nameEn, uscc, scheme string, validFrom ...string) *cert.Certificate {
		t.Helper()
		req := issuer.Request{
			Issuer: "cesa", Scheme: scheme, Standard: "GB/T 28827.1-2022", Category: "数据中心", Level: 2, Scope: "数据中心服务",
			ScopeEn:        "Data centre services",
			AssessmentBody: "中国电子工业标准化技术协会",
			Organization:   cert.Organization{Name: name, NameEn: nameEn, USCC: uscc, Address: "北京市海淀区示例路1号", Country: "CN"},
			Sites:          []cert.Site{{Name: "数据中心", Address: "东莞市松山湖", Scope: "数据中心运维"}},
		}
		if len(validFrom) > 0 {
			req.ValidFrom = validFrom[0]
		}
		if scheme != "itss" {
			req.Standard, req.Category, req.Level = "ISO/IEC 27001:2022", "", 0
		}
		c, _, err := svc.Issue(ctx, admin, req, "")
		if err != nil {
			t.Fatalf("issue: %v", err)
		}
		return c
	}
	act := func(id, action string, r issuer.ActionRequest) *cert.Certificate {
		t.Helper()
		c, err := svc.Act(ctx, admin, id, action, r, 0)
		if err != nil {
			t.Fatalf("%s %s: %v", action, id, err)
		}
		return c
	}
	name := func(c *cert.Certificate, n string) *cert.Certificate {
		names[c.ID] = "{" + n + ".id}"
		names[strings.ToLower(c.ID)] = "{" + n + ".id-lower}"
		names[c.Kid] = "{kid}"
		parts := strings.Split(c.Credential, ".")
		names[parts[2]] = "{" + n + ".signature}"
		return c
	}

	active := name(issue("北京示例科技有限公司", "Beijing Example Technology Co., Ltd.", "91110108MA0123456G", "itss"), "active")
	suspended := name(issue("上海示例信息技术有限公司", "", "91110108MA0123456G", "itss"), "suspended")
	act(suspended.ID, "suspend", issuer.ActionRequest{Reason: "客户申请暂停"})
	withdrawn := name(issue("广州示例 <科技> & \"Co\"", "Guangzhou <Example> & 'Co'", "91110108MA0123456G", "iso17021"), "withdrawn")
	act(withdrawn.ID, "withdraw", issuer.ActionRequest{Reason: "证书持有人违规", ReasonCode: "0103"})
	renewed := name(issue("深圳示例有限公司", "Shenzhen Example Ltd.", "91110108MA0123456G", "itss", "2024-01-10"), "renewed")
	for _, date := range []string{"2024-11-01", "2025-11-01"} {
		act(renewed.ID, "surveillance", issuer.ActionRequest{Reason: "年度监督审核", Date: date, Result: "passed", AuditRef: "AR-" + date})
	}
	act(renewed.ID, "renew", issuer.ActionRequest{Reason: "到期换证"})
	revised := name(issue("杭州示例有限公司", "", "91110108MA0123456G", "itss"), "revised")
	level := 3
	act(revised.ID, "revise", issuer.ActionRequest{Reason: "升级", Level: &level})
	for _, c := range []*cert.Certificate{renewed, revised} {
		now, err := st.Certificate(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		name(must(st.Certificate(ctx, now.SupersededBy)), "successor-of-"+strings.TrimSuffix(strings.TrimPrefix(names[c.ID], "{"), ".id}"))
	}
	// A certificate signed under a name the issuer has since changed.
	rename := httptest.NewRequest(http.MethodPatch, "/api/v1/issuers/cesa", strings.NewReader(`{"nameZh": "中国电子标准化协会"}`))
	rename.Header.Set("Authorization", "Bearer "+adminToken)
	rename.Header.Set("Content-Type", "application/merge-patch+json")
	rename.RemoteAddr = "192.0.2.20:40000"
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, rename)
	if rec.Code != http.StatusOK {
		t.Fatalf("rename: %d %s", rec.Code, rec.Body)
	}
	fresh := name(issue("成都示例有限公司", "", "91110108MA0123456G", "iso17021"), "after-rename")

	const browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
	type request struct {
		file, method, path, contentType, body string
		headers                               []string
	}
	var reqs []request
	views := func(prefix string, ids ...*cert.Certificate) {
		for _, c := range ids {
			n := strings.TrimSuffix(strings.TrimPrefix(names[c.ID], "{"), ".id}")
			reqs = append(reqs,
				request{file: prefix + n + "_api.txt", method: "GET", path: "/api/v1/verify/" + c.ID},
				request{file: prefix + n + "_json.txt", method: "GET", path: "/v/" + c.ID, headers: []string{"Accept", "application/json"}},
				request{file: prefix + n + "_token.txt", method: "POST", path: "/api/v1/verify", contentType: "application/vc+jwt", body: c.Credential},
				request{file: prefix + n + "_page_zh.txt", method: "GET", path: "/v/" + c.ID, headers: []string{"Accept", browser, "Accept-Language", "zh-CN,zh;q=0.9"}},
				request{file: prefix + n + "_page_en.txt", method: "GET", path: "/v/" + strings.ToLower(c.ID) + "?lang=en", headers: []string{"Accept", browser}},
			)
		}
	}
	all := []*cert.Certificate{active, suspended, withdrawn, renewed, revised, fresh}
	for _, c := range []*cert.Certificate{renewed, revised} {
		now, _ := st.Certificate(ctx, c.ID)
		all = append(all, must(st.Certificate(ctx, now.SupersededBy)))
	}
	views("now_", all...)
	reqs = append(reqs,
		request{file: "now_not-found_api.txt", method: "GET", path: "/api/v1/verify/0000000000000000000000000Z"},
		request{file: "now_not-found_page.txt", method: "GET", path: "/v/0000000000000000000000000Z", headers: []string{"Accept", browser}},
		request{file: "now_number_api.txt", method: "GET", path: "/api/v1/verify/" + active.Number},
		request{file: "now_number_page.txt", method: "GET", path: "/v/" + strings.ToLower(active.Number), headers: []string{"Accept", browser}},
		request{file: "now_bad-token.txt", method: "POST", path: "/api/v1/verify", contentType: "text/plain", body: "eyJhbGciOiJub25lIn0.e30."},
	)
	check := func(reqs []request) {
		t.Helper()
		for _, r := range reqs {
			var body io.Reader
			if r.body != "" {
				body = strings.NewReader(r.body)
			}
			req := httptest.NewRequest(r.method, r.path, body)
			req.RemoteAddr = "192.0.2.20:40000"
			if r.contentType != "" {
				req.Header.Set("Content-Type", r.contentType)
			}
			for i := 0; i+1 < len(r.headers); i += 2 {
				req.Header.Set(r.headers[i], r.headers[i+1])
			}
			rec := httptest.NewRecorder()
			srv.ServeHTTP(rec, req)
			verdictGolden(t, r.file, rec, names)
		}
	}
	check(reqs)

	// Later: the active one overdue for its surveillance audit (suspended
	// by the scheme), then every certificate expired.
	clk.Set(time.Date(2027, 12, 1, 2, 0, 0, 0, time.UTC))
	reqs = nil
	views("overdue_", active, fresh)
	check(reqs)
	clk.Set(time.Date(2030, 3, 1, 2, 0, 0, 0, time.UTC))
	reqs = nil
	views("expired_", active, withdrawn)
	check(reqs)
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// verdictGolden compares an answer (status, headers but X-Request-ID, and
// body, with names for the random values) with testdata/golden/verify/file.
func verdictGolden(t *testing.T, file string, rec *httptest.ResponseRecorder, names map[string]string) {
	t.Helper()
	var b strings.Builder
	b.WriteString(http.StatusText(rec.Code) + "\n")
	var hs []string
	for k, vs := range rec.Header() {
		if k == "X-Request-Id" {
			continue
		}
		for _, v := range vs {
			hs = append(hs, k+": "+v)
		}
	}
	slices.Sort(hs)
	for _, h := range hs {
		b.WriteString(h + "\n")
	}
	b.WriteString("\n")
	b.Write(rec.Body.Bytes())
	got := b.String()
	// Longest first: a signature may hold an id by chance.
	keys := make([]string, 0, len(names))
	for k := range names {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int { return len(b) - len(a) })
	for _, k := range keys {
		got = strings.ReplaceAll(got, k, names[k])
	}
	path := filepath.Join("testdata", "golden", "verify", file)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file (run with -update after checking):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}
