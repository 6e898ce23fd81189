package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"html"
	"image/png"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/certd/certd/templates/qrtest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// pageNow is the fixed clock of the page tests: 27 November 2026, 10:00 in
// Beijing.
var pageNow = time.Date(2026, 11, 27, 2, 0, 0, 0, time.UTC)

func fixedClock() time.Time { return pageNow }

// issueCert issues the sample certificate with the changes, failing the
// test unless it is created.
func (ts *testServer) issueCert(t testing.TB, changes map[string]any, org map[string]any) map[string]any {
	t.Helper()
	body := sampleCertificate("default", testUSCC)
	for k, v := range changes {
		body[k] = v
	}
	o := body["organization"].(map[string]any)
	for k, v := range org {
		o[k] = v
	}
	r := ts.do("POST", "/api/v1/certificates", ts.Admin, body)
	if r.Status != http.StatusCreated {
		t.Fatalf("issue: %d %s", r.Status, r.Body)
	}
	return r.JSON(t)
}

// suspendedOrg is the organization of the certificate that missed its
// first surveillance window (validity from 2025-09-27: the window of months
// 9-12 closed on 2026-09-27, and the scheme cancels it only on 2026-12-27).
const (
	suspendedName   = "上海暂停示例信息技术有限公司"
	suspendedNameEn = "Shanghai Suspended Example Information Technology Co., Ltd."
	suspendedUSCC   = "91310000MA1FL8XQ37"
)

func (ts *testServer) issueSuspended(t testing.TB) map[string]any {
	t.Helper()
	return ts.issueCert(t, map[string]any{"validFrom": "2025-09-27", "category": "云计算", "level": 2},
		map[string]any{"name": suspendedName, "nameEn": suspendedNameEn, "uscc": suspendedUSCC})
}

// pageFacts is what the browser reports of a verification page.
type pageFacts struct {
	Lang           string  `json:"lang"`
	Text           string  `json:"text"`
	Verdict        string  `json:"verdict"`
	VerdictVisible bool    `json:"verdictVisible"`
	VerdictBottom  float64 `json:"verdictBottom"`
	VerdictFontPx  float64 `json:"verdictFontPx"`
	VerdictLines   int     `json:"verdictLines"`
	Org            string  `json:"org"`
	OrgVisible     bool    `json:"orgVisible"`
	InnerWidth     float64 `json:"innerWidth"`
	InnerHeight    float64 `json:"innerHeight"`
	ScrollWidth    float64 `json:"scrollWidth"`
	ScrollHeight   float64 `json:"scrollHeight"`
	Scripts        int     `json:"scripts"`
	// WatchForm is the "notify me" form's e-mail field, visible and
	// inside the viewport's width.
	WatchForm bool `json:"watchForm"`
}

// factsJS reads the rendered page: innerText is the text as laid out
// (without what CSS hides), and an element counts as visible only with a
// box, no display:none, no visibility:hidden and some opacity.
const factsJS = `JSON.stringify((() => {
  const visible = el => {
    if (!el) return false;
    for (let e = el; e; e = e.parentElement) {
      const s = getComputedStyle(e);
      if (s.display === 'none' || s.visibility === 'hidden' || parseFloat(s.opacity) === 0) return false;
    }
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0;
  };
  const v = document.querySelector('[data-verdict]'), o = document.querySelector('[data-org]');
  return {
    lang: document.documentElement.lang, text: document.body.innerText,
    verdict: v ? v.innerText : '', verdictVisible: visible(v),
    verdictBottom: v ? v.getBoundingClientRect().bottom : -1,
    verdictFontPx: v ? parseFloat(getComputedStyle(v).fontSize) : 0,
    verdictLines: v ? Math.round(v.getBoundingClientRect().height / parseFloat(getComputedStyle(v).lineHeight)) : 0,
    org: o ? o.innerText : '', orgVisible: visible(o),
    innerWidth: innerWidth, innerHeight: innerHeight,
    scrollWidth: document.documentElement.scrollWidth, scrollHeight: document.documentElement.scrollHeight,
    scripts: document.scripts.length,
    watchForm: (() => {
      const e = document.querySelector('form[method=post][action*="/watch"] input[type=email][name=email]');
      return visible(e) && e.getBoundingClientRect().right <= innerWidth;
    })(),
  };
})())`

// TestVerificationPageInBrowser loads the page of a valid and of a
// suspended certificate in headless Chromium, in both languages, at a
// phone and a desktop viewport, reads what is rendered, and writes
// screenshots under the test's artifact directory (kept with
// go test -artifacts -outputdir DIR).
func TestVerificationPageInBrowser(t *testing.T) {
	chromium := requireTool(t, "chromium")
	ts := startServer(t, "", withClock(fixedClock))
	valid := ts.issue(t, "default")
	suspended := ts.issueSuspended(t)
	shots := t.ArtifactDir()
	t.Logf("screenshots go to %s", shots)

	certs := []struct {
		name, id, org string
		words         map[string]string
	}{
		{"valid", valid["id"].(string), "北京示例科技有限公司", map[string]string{"zh-CN": "有效", "en": "Valid"}},
		{"suspended", suspended["id"].(string), suspendedName, map[string]string{"zh-CN": "暂停", "en": "Suspended"}},
		{"not-registered", "0000000000000000000000000Z", "", map[string]string{"zh-CN": "未登记", "en": "Not registered"}},
	}
	viewports := []struct {
		name          string
		width, height int
		mobile        bool
	}{
		{"narrow", 320, 640, true},
		{"phone", 390, 844, true},
		{"desktop", 1280, 900, false},
	}
	for _, c := range certs {
		for _, lang := range []string{"zh-CN", "en"} {
			for _, vp := range viewports {
				if c.org == "" && vp.name == "desktop" {
					continue // the not-registered page at one size is enough
				}
				t.Run(c.name+"/"+lang+"/"+vp.name, func(t *testing.T) {
					ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
					defer cancel()
					b := startBrowser(ctx, t, chromium, vp.width, vp.height, vp.mobile)
					if err := b.open(ctx, ts.URL+"/v/"+c.id+"?lang="+lang); err != nil {
						t.Fatal(err)
					}
					var raw string
					if err := b.eval(ctx, factsJS, &raw); err != nil {
						t.Fatal(err)
					}
					var f pageFacts
					if err := json.Unmarshal([]byte(raw), &f); err != nil {
						t.Fatal(err)
					}
					writeScreenshots(ctx, t, b, filepath.Join(shots, c.name+"-"+lang+"-"+vp.name), vp.width, f)

					t.Logf("verdict %q: %.0fpx, %d line(s), ends at %.0f of %.0fpx; page %.0fx%.0f", f.Verdict, f.VerdictFontPx, f.VerdictLines, f.VerdictBottom, f.InnerHeight, f.ScrollWidth, f.ScrollHeight)
					want := c.words[lang]
					if f.Lang != lang {
						t.Errorf("html lang = %q, want %q", f.Lang, lang)
					}
					if !strings.Contains(f.Text, want) || f.Verdict != want || !f.VerdictVisible {
						t.Errorf("verdict %q (visible %v) in the rendered text: %v; want %q\n%s", f.Verdict, f.VerdictVisible, strings.Contains(f.Text, want), want, f.Text)
					}
					if c.org != "" && (!strings.Contains(f.Text, c.org) || f.Org != c.org || !f.OrgVisible) {
						t.Errorf("organization %q (visible %v) not rendered; want %q", f.Org, f.OrgVisible, c.org)
					}
					if f.VerdictBottom <= 0 || f.VerdictBottom > f.InnerHeight {
						t.Errorf("the verdict ends at %.0fpx, below the first screen (%.0fpx): it must be seen without scrolling", f.VerdictBottom, f.InnerHeight)
					}
					if words := len(strings.Fields(f.Verdict)); f.VerdictLines > max(words, 1) {
						t.Errorf("verdict %q is broken over %d lines", f.Verdict, f.VerdictLines)
					}
					// 9.5vw: 30px on the narrowest phones, 32px and more from 340px.
					if minFont := min(32, 0.095*float64(vp.width)-0.5); f.VerdictFontPx < minFont {
						t.Errorf("verdict font size %.0fpx; want at least %.0fpx", f.VerdictFontPx, minFont)
					}
					if f.ScrollWidth > f.InnerWidth {
						t.Errorf("page is %.0fpx wide in a %.0fpx viewport: it scrolls sideways", f.ScrollWidth, f.InnerWidth)
					}
					if f.Scripts != 0 {
						t.Errorf("page has %d scripts; it must work without JavaScript", f.Scripts)
					}
					if f.WatchForm != (c.org != "") {
						t.Errorf("watch form shown and within the width: %v, want %v", f.WatchForm, c.org != "")
					}
					if c.org != "" && !strings.Contains(f.Text, hostOf(ts.m.PublicURL())) {
						t.Errorf("the address to check (%s) is not on the page", hostOf(ts.m.PublicURL()))
					}
				})
			}
		}
	}
}

func hostOf(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return u
	}
	return p.Host
}

// writeScreenshots saves the first screen (name.png) and the whole page
// (name-full.png).
func writeScreenshots(ctx context.Context, t *testing.T, b *browser, name string, width int, f pageFacts) {
	t.Helper()
	for _, s := range []struct {
		file   string
		height int
	}{{name + ".png", 0}, {name + "-full.png", int(f.ScrollHeight)}} {
		img, err := b.screenshot(ctx, width, s.height)
		if err != nil {
			t.Fatalf("screenshot: %v", err)
		}
		if _, err := png.DecodeConfig(bytes.NewReader(img)); err != nil {
			t.Fatalf("screenshot is not a PNG: %v", err)
		}
		if err := os.WriteFile(s.file, img, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// htmlText is the text of an HTML page, tags removed and white space
// folded, for checks that do not need a browser.
func htmlText(b []byte) string {
	s := regexp.MustCompile(`(?s)<style.*?</style>|<[^>]*>`).ReplaceAllString(string(b), " ")
	return strings.Join(strings.Fields(html.UnescapeString(s)), " ")
}

func TestVerificationPage(t *testing.T) {
	ts := startServer(t, "", withClock(fixedClock))
	c := ts.issue(t, "default")
	id := c["id"].(string)
	host := hostOf(ts.m.PublicURL())

	tests := []struct {
		name, path string
		headers    []string
		status     int
		lang       string
		want       []string
	}{
		{"zh/default", "/v/" + id, nil, 200, "zh-CN", []string{"有效", "北京示例科技有限公司", "运行维护", "三级", "信息技术服务标准符合性证书", host, "默认认证机构"}},
		{"en/accept-language", "/v/" + id, []string{"Accept-Language", "en-GB,en;q=0.9,zh;q=0.5"}, 200, "en", []string{"Valid", "Operation and maintenance", "Level 3", "ITSS conformity certificate", "Check that your address bar shows " + host}},
		{"zh/accept-language-q", "/v/" + id, []string{"Accept-Language", "en;q=0.3, zh-CN;q=0.8"}, 200, "zh-CN", []string{"有效"}},
		{"en/query-wins", "/v/" + id + "?lang=en", []string{"Accept-Language", "zh-CN"}, 200, "en", []string{"Valid"}},
		{"upper-case-url", "/V/" + id + "?lang=en", nil, 200, "en", []string{"Valid"}},
		{"lower-case-id", "/v/" + strings.ToLower(id) + "?lang=zh-CN", nil, 200, "zh-CN", []string{"有效"}},
		{"not-registered/zh", "/v/0000000000000000000000000Z", nil, 404, "zh-CN", []string{"未登记", "本站没有登记这份证书", host}},
		{"not-registered/en", "/v/0000000000000000000000000Z?lang=en", nil, 404, "en", []string{"Not registered", "This certificate is not registered here", host}},
		{"not-an-id", "/v/not-a-certificate?lang=en", nil, 404, "en", []string{"Not registered", "not-a-certificate"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := ts.do("GET", tc.path, "", nil, append([]string{"Accept", "text/html"}, tc.headers...)...)
			if r.Status != tc.status {
				t.Fatalf("status %d, want %d: %.300s", r.Status, tc.status, r.Body)
			}
			if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
				t.Errorf("Content-Type %q", ct)
			}
			if got := r.Header.Get("Content-Language"); got != tc.lang {
				t.Errorf("Content-Language %q, want %q", got, tc.lang)
			}
			csp := r.Header.Get("Content-Security-Policy")
			if !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "script-src") {
				t.Errorf("Content-Security-Policy %q allows more than styles", csp)
			}
			body := string(r.Body)
			if !strings.Contains(body, `<html lang="`+tc.lang+`">`) || !strings.Contains(body, `name="viewport"`) {
				t.Errorf("page lacks <html lang=%q> or the viewport meta", tc.lang)
			}
			if strings.Contains(strings.ToLower(body), "<script") {
				t.Errorf("page has a script")
			}
			text := htmlText(r.Body)
			for _, w := range tc.want {
				if !strings.Contains(text, w) {
					t.Errorf("page text lacks %q:\n%s", w, text)
				}
			}
			other := map[string]string{"zh-CN": "lang=en", "en": "lang=zh-CN"}[tc.lang]
			if !strings.Contains(body, other) {
				t.Errorf("no link to the page in the other language (%s)", other)
			}
		})
	}

	// Links to the PDF, the credential and the keys, which answer.
	r := ts.do("GET", "/v/"+id+"?lang=en", "", nil)
	for _, link := range []string{"/v/" + id + "/certificate.pdf", "/v/" + id + "/credential.jwt", "/issuers/default/jwks.json", "/api/v1/verify/" + id} {
		if !bytes.Contains(r.Body, []byte(`href="`+link+`"`)) {
			t.Errorf("page does not link %s", link)
		}
	}
	for _, link := range []string{"/v/" + id + "/credential.jwt", "/issuers/default/jwks.json"} {
		if got := ts.do("GET", link, "", nil); got.Status != 200 {
			t.Errorf("GET %s: %d", link, got.Status)
		}
	}
	// The key that signed it, by kid.
	kid := header(t, c["credential"].(string))["kid"].(string)
	if !bytes.Contains(r.Body, []byte(kid)) {
		t.Errorf("page does not name the signing key %s", kid)
	}

	// What a path echoes is escaped.
	evil := "/v/%3Cscript%3Ealert(1)%3C%2Fscript%3E%22'"
	r = ts.do("GET", evil, "", nil)
	if r.Status != 404 || bytes.Contains(r.Body, []byte("<script>")) || bytes.Contains(r.Body, []byte(`"'`)) {
		t.Errorf("GET %s: %d, body echoes the path unescaped:\n%s", evil, r.Status, r.Body)
	}

	// JSON still answers with Accept: application/json.
	if v := ts.do("GET", "/v/"+id, "", nil, "Accept", "application/json").JSON(t); v["verdict"] != "valid" {
		t.Errorf("JSON verdict %v", v["verdict"])
	}
}

// TestVerificationPageStatuses shows each status with its word, its reason
// in the page's language, and what to do.
func TestVerificationPageStatuses(t *testing.T) {
	// An ISO/IEC 17021 certificate issued on 2023-01-05 passes both its
	// surveillance audits and expires; the clock then stops at pageNow.
	var mu sync.Mutex
	now := time.Date(2023, 1, 5, 2, 0, 0, 0, time.UTC)
	setNow := func(t time.Time) { mu.Lock(); now = t; mu.Unlock() }
	ts := startServer(t, "", withClock(func() time.Time { mu.Lock(); defer mu.Unlock(); return now }))
	expired := ts.issueCert(t, map[string]any{"scheme": "iso17021", "category": nil, "level": nil}, nil)["id"].(string)
	for _, day := range []string{"2023-06-01", "2024-06-03"} {
		d, _ := time.Parse(time.DateOnly, day)
		setNow(d.Add(4 * time.Hour))
		if r := ts.do("POST", "/api/v1/certificates/"+expired+"/surveillance", ts.Admin, map[string]any{"reason": "annual audit", "result": "passed", "date": day}); r.Status != 200 {
			t.Fatalf("surveillance %s: %d %s", day, r.Status, r.Body)
		}
	}
	setNow(pageNow)
	susp := ts.issueSuspended(t)["id"].(string)
	withdrawn := ts.issueCert(t, nil, map[string]any{"name": "广州撤销示例有限公司"})["id"].(string)
	if r := ts.do("POST", "/api/v1/certificates/"+withdrawn+"/withdraw", ts.Admin, map[string]any{"reason": "获证组织不再满足认证要求"}); r.Status != 200 {
		t.Fatalf("withdraw: %d %s", r.Status, r.Body)
	}
	for _, tc := range []struct {
		id, lang string
		want     []string
	}{
		{susp, "zh-CN", []string{"暂停", "证书自2026年9月27日起暂停", "未在规定期限内通过年度监督审核", "逾期", "2026年6月27日 至 2026年9月26日", "持证组织须通过监督审核", "按认证规则自动变更"}},
		{susp, "en", []string{"Suspended", "Suspended since 2026-09-27", "the annual surveillance audit was not passed in time", "Overdue", "automatic, by the scheme's rules"}},
		{withdrawn, "zh-CN", []string{"撤销", "证书已于2026年11月27日被默认认证机构", "获证组织不再满足认证要求"}},
		{withdrawn, "en", []string{"Withdrawn", "Reason: “获证组织不再满足认证要求”"}},
		{expired, "zh-CN", []string{"过期", "有效期已于2026年1月4日届满"}},
		{expired, "en", []string{"Expired", "Expired: it was valid until 2026-01-04"}},
	} {
		r := ts.do("GET", "/v/"+tc.id+"?lang="+tc.lang, "", nil)
		text := htmlText(r.Body)
		for _, w := range tc.want {
			if !strings.Contains(text, w) {
				t.Errorf("%s page of %s lacks %q:\n%s", tc.lang, tc.id, w, text)
			}
		}
		if tc.lang == "zh-CN" && strings.Contains(text, "This certificate") {
			t.Errorf("the Chinese page shows the English reason: %s", text)
		}
	}

	// Cannot confirm now: the store is gone.
	if err := ts.m.store.Close(); err != nil {
		t.Fatal(err)
	}
	r := ts.do("GET", "/v/"+susp+"?lang=zh-CN", "", nil)
	text := htmlText(r.Body)
	if r.Status != 503 || r.Header.Get("Retry-After") == "" || !strings.Contains(text, "暂时无法确认") || strings.Contains(text, "有效期至") {
		t.Errorf("store closed: %d, Retry-After %q, page: %s", r.Status, r.Header.Get("Retry-After"), text)
	}
}

func TestLandingPage(t *testing.T) {
	ts := startServer(t, "")
	for _, tc := range []struct {
		lang string
		want []string
	}{
		{"zh-CN", []string{"证书验证服务", "扫描证书上的二维码", "证书编号、组织名称或统一社会信用代码", "默认认证机构", "API 文档"}},
		{"en", []string{"Certificate verification service", "Scan the QR code", "Certificate number, organization name or USCC", "Default Certification Body", "API documentation"}},
	} {
		r := ts.do("GET", "/?lang="+tc.lang, "", nil)
		if r.Status != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") {
			t.Fatalf("GET /: %d %s", r.Status, r.Header.Get("Content-Type"))
		}
		text := htmlText(r.Body)
		for _, w := range tc.want {
			if !strings.Contains(text, w) {
				t.Errorf("%s landing page lacks %q:\n%s", tc.lang, w, text)
			}
		}
		for _, link := range []string{`action="/search"`, `href="/openapi.json"`, `href="/.well-known/jwks.json"`, `name="q"`} {
			if !bytes.Contains(r.Body, []byte(link)) {
				t.Errorf("%s landing page lacks %s", tc.lang, link)
			}
		}
	}
}

// searchResult is one item of GET /api/v1/search.
type searchResult struct {
	ID, Number, Status string
	Organization       struct{ Name, NameEn, USCC string }
	Issuer             struct{ ID, Name string }
	Scheme             struct{ ID, Name, NameZh string }
	ValidFrom          string
	ValidUntil         string
	Links              struct{ Verify string }
}

func (ts *testServer) search(t testing.TB, q string, extra ...string) ([]searchResult, string) {
	t.Helper()
	path := "/api/v1/search?q=" + url.QueryEscape(q)
	for _, e := range extra {
		path += "&" + e
	}
	r := ts.do("GET", path, "", nil)
	if r.Status != 200 {
		t.Fatalf("GET %s: %d %s", path, r.Status, r.Body)
	}
	var out struct {
		Items []searchResult
		Next  string
	}
	if err := json.Unmarshal(r.Body, &out); err != nil {
		t.Fatal(err)
	}
	return out.Items, out.Next
}

func TestSearch(t *testing.T) {
	ts := startServer(t, "", withClock(fixedClock), withRateLimit(1000))
	bj := ts.issue(t, "default")
	sh := ts.issueSuspended(t)
	bjID, shID := bj["id"].(string), sh["id"].(string)

	for _, tc := range []struct {
		name, q string
		want    []string
	}{
		{"number", bj["number"].(string), []string{bjID}},
		{"number/lower-case", strings.ToLower(sh["number"].(string)), []string{shID}},
		{"uscc", suspendedUSCC, []string{shID}},
		{"uscc/other", testUSCC, []string{bjID}},
		{"name/zh-part", "暂停示例", []string{shID}},
		{"name/zh-common", "有限公司", []string{shID, bjID}},
		{"name/en-any-case", "shanghai SUSPENDED", []string{shID}},
		{"name/en-other", "Beijing Example", []string{bjID}},
		{"none/zh", "深圳", nil},
		{"none/number-part", "DEFAULT-2026", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			items, next := ts.search(t, tc.q)
			var got []string
			for _, it := range items {
				got = append(got, it.ID)
			}
			// The clock is fixed, so both were created at one instant:
			// the order (newest first, tested in storetest) is the ids'.
			slices.Sort(got)
			slices.Sort(tc.want)
			if fmt.Sprint(got) != fmt.Sprint(tc.want) || next != "" {
				t.Errorf("search %q = %v (next %q), want %v", tc.q, got, next, tc.want)
			}
		})
	}

	items, _ := ts.search(t, suspendedUSCC)
	it := items[0]
	if it.Status != "suspended" || it.Organization.Name != suspendedName || it.Organization.NameEn != suspendedNameEn ||
		it.Issuer.ID != "default" || it.Issuer.Name == "" || it.Scheme.ID != "itss" || it.Scheme.NameZh == "" ||
		it.ValidFrom != "2025-09-27" || it.ValidUntil != "2028-09-26" || it.Links.Verify != ts.m.PublicURL()+"/v/"+shID {
		t.Errorf("search item = %+v", it)
	}

	// Pagination: limit 1 gives two pages.
	first, next := ts.search(t, "有限公司", "limit=1")
	second, last := ts.search(t, "有限公司", "limit=1", "cursor="+url.QueryEscape(next))
	if len(first) != 1 || len(second) != 1 || first[0].ID == second[0].ID || next == "" || last != "" {
		t.Errorf("pages %v / %v, cursors %q %q", first, second, next, last)
	}

	// Bad input is a 422 problem naming the field.
	for _, tc := range []struct{ query, field string }{
		{"q=a", "q"}, {"q=", "q"}, {"q=%20%20x%20", "q"}, {"q=" + strings.Repeat("长", 101), "q"},
		{"q=有限公司&limit=0", "limit"}, {"q=有限公司&limit=51", "limit"}, {"q=有限公司&cursor=%21%21", "cursor"},
	} {
		r := ts.do("GET", "/api/v1/search?"+tc.query, "", nil)
		p := r.JSON(t)
		errs, _ := p["errors"].([]any)
		if r.Status != 422 || r.Header.Get("Content-Type") != "application/problem+json" || len(errs) == 0 || errs[0].(map[string]any)["field"] != tc.field {
			t.Errorf("GET /api/v1/search?%s: %d %s; want a 422 problem on %s", tc.query, r.Status, r.Body, tc.field)
		}
	}
}

func TestSearchPage(t *testing.T) {
	ts := startServer(t, "", withClock(fixedClock), withRateLimit(1000))
	bj := ts.issue(t, "default")
	sh := ts.issueSuspended(t)

	r := ts.do("GET", "/search?lang=zh-CN&q="+url.QueryEscape("暂停示例"), "", nil)
	text := htmlText(r.Body)
	if r.Status != 200 || !strings.Contains(text, suspendedName) || !strings.Contains(text, "暂停") || strings.Contains(text, "北京示例科技有限公司") {
		t.Errorf("search page: %d\n%s", r.Status, text)
	}
	if !bytes.Contains(r.Body, []byte(`href="/v/`+sh["id"].(string)+`?lang=zh-CN"`)) {
		t.Errorf("result does not link its verification page")
	}
	if !bytes.Contains(r.Body, []byte(`class="badge warn"`)) {
		t.Errorf("the suspended result has no coloured badge")
	}
	if !strings.Contains(text, "共 1 条结果") {
		t.Errorf("search page without its count of results:\n%s", text)
	}
	r = ts.do("GET", "/search?lang=en&q="+url.QueryEscape("示例"), "", nil)
	if text := htmlText(r.Body); r.Status != 200 || !strings.Contains(text, "2 results") {
		t.Errorf("search page for two certificates: %d, want the count \"2 results\":\n%s", r.Status, text)
	}
	r = ts.do("GET", "/search?lang=en&q="+url.QueryEscape(bj["number"].(string)), "", nil)
	if text := htmlText(r.Body); !strings.Contains(text, "Valid") || !strings.Contains(text, "北京示例科技有限公司") {
		t.Errorf("search by number, English page:\n%s", text)
	}

	// Friendly messages.
	for _, tc := range []struct {
		q, lang, want string
		status        int
	}{
		{"x", "zh-CN", "请至少输入 2 个字符", 422},
		{"x", "en", "Type at least 2 characters", 422},
		{"., &", "zh-CN", "仅有标点符号无法搜索", 422},
		{"., &", "en", "punctuation alone cannot be searched", 422},
		{"深圳", "zh-CN", "没有找到匹配的证书", 200},
		{"暂", "zh-CN", suspendedName, 200}, // one Chinese character: the index answers it
		{"鑫", "zh-CN", "没有找到匹配的证书", 200},
		{"", "en", "Certificate number, organization name or USCC", 200},
	} {
		r := ts.do("GET", "/search?lang="+tc.lang+"&q="+url.QueryEscape(tc.q), "", nil)
		if r.Status != tc.status || !strings.Contains(htmlText(r.Body), tc.want) {
			t.Errorf("search %q (%s): %d, want %d with %q:\n%s", tc.q, tc.lang, r.Status, tc.status, tc.want, htmlText(r.Body))
		}
	}

	// A pasted verification link leads to the page.
	r = ts.do("GET", "/search?q="+url.QueryEscape(ts.m.PublicURL()+"/V/"+sh["id"].(string)), "", nil)
	if r.Status != 200 || !strings.Contains(htmlText(r.Body), suspendedName) {
		t.Errorf("pasted link: %d", r.Status)
	}

	// Everything echoed is escaped: the text box, the heading, the
	// language and paging links.
	for _, q := range []string{`<script>alert(1)</script>"'`, `"><img src=x onerror=alert(1)>`} {
		for _, lang := range []string{"zh-CN", "en"} {
			r := ts.do("GET", "/search?lang="+lang+"&q="+url.QueryEscape(q), "", nil)
			body := strings.ToLower(string(r.Body))
			if r.Status != 200 || strings.Contains(body, "<script") || strings.Contains(body, "<img") {
				t.Errorf("search %q (%s): %d, markup echoed unescaped:\n%s", q, lang, r.Status, r.Body)
			}
		}
	}
	r = ts.do("GET", "/search?q="+url.QueryEscape(`<script>alert(1)</script>"'`), "", nil)
	if !bytes.Contains(r.Body, []byte(`value="&lt;script&gt;alert(1)&lt;/script&gt;&#34;&#39;"`)) {
		t.Errorf("the search box does not hold the escaped text:\n%s", r.Body)
	}
	r = ts.do("GET", "/api/v1/search?q="+url.QueryEscape(`<script>alert(1)</script>`), "", nil)
	if r.Status != 200 || bytes.Contains(r.Body, []byte("<script")) {
		t.Errorf("API search echoes markup: %d %s", r.Status, r.Body)
	}
}

// TestQRRoutes checks the QR routes with an independent decoder: the PNG
// and the SVG hold the same URL, the one that opens the page, and the PNG
// at the default size still decodes at a quarter of its size.
func TestQRRoutes(t *testing.T) {
	ts := startServer(t, "", withPublicURL("https://verify.example.cn"))
	id := ts.issue(t, "default")["id"].(string)
	r := ts.do("GET", "/v/"+id+"/qr.png", "", nil)
	if r.Status != 200 || r.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("qr.png: %d %s", r.Status, r.Header.Get("Content-Type"))
	}
	img, err := png.Decode(bytes.NewReader(r.Body))
	if err != nil {
		t.Fatal(err)
	}
	fromPNG := qrtest.Decode(t, img).GetText()
	svg := ts.do("GET", "/V/"+id+"/qr.svg", "", nil)
	if svg.Status != 200 || svg.Header.Get("Content-Type") != "image/svg+xml" {
		t.Fatalf("qr.svg: %d %s", svg.Status, svg.Header.Get("Content-Type"))
	}
	raster, _ := qrtest.RasterizeSVG(t, svg.Body, 8)
	fromSVG := qrtest.Decode(t, raster).GetText()
	want := "HTTPS://VERIFY.EXAMPLE.CN/V/" + id
	if fromPNG != want || fromSVG != want {
		t.Errorf("PNG holds %q, SVG %q; want %q", fromPNG, fromSVG, want)
	}
	if got := qrtest.Decode(t, qrtest.Downscale(img, 4)).GetText(); got != want {
		t.Errorf("PNG at 25%% (%v) holds %q, want %q", qrtest.Downscale(img, 4).Bounds().Size(), got, want)
	}
	if b := img.Bounds(); b.Dx() < 400 || b.Dx() > 512 {
		t.Errorf("default PNG is %dpx wide, want about 512", b.Dx())
	}
	// The encoded path opens the page.
	if v := ts.do("GET", strings.TrimPrefix(want, "HTTPS://VERIFY.EXAMPLE.CN"), "", nil, "Accept", "application/json").JSON(t); v["verdict"] != "valid" {
		t.Errorf("the QR's path does not verify: %v", v["verdict"])
	}
}

// TestVerdictGolden compares the JSON verdicts of a valid, a suspended and
// an unknown id with golden files; ids and keys, random by design, are
// replaced by placeholders, and the clock is fixed.
func TestVerdictGolden(t *testing.T) {
	ts := startServer(t, "", withClock(fixedClock))
	valid := ts.issue(t, "default")
	susp := ts.issueSuspended(t)
	kid := header(t, valid["credential"].(string))["kid"].(string)
	norm := strings.NewReplacer(
		valid["id"].(string), "{valid-id}", susp["id"].(string), "{suspended-id}",
		kid, "{kid}", ts.m.PublicURL(), "{public-url}")
	for _, tc := range []struct{ name, id string }{
		{"verdict_valid", valid["id"].(string)},
		{"verdict_suspended", susp["id"].(string)},
		{"verdict_not_found", "0000000000000000000000000Z"},
	} {
		r := ts.do("GET", "/api/v1/verify/"+tc.id, "", nil)
		var v any
		if err := json.Unmarshal(r.Body, &v); err != nil {
			t.Fatal(err)
		}
		pretty, _ := json.MarshalIndent(v, "", "  ")
		got := []byte(norm.Replace(string(pretty)) + "\n")
		golden(t, filepath.Join("testdata", "golden", tc.name+".json"), got)
	}
}

// golden compares got with the file, or rewrites it with -update.
func golden(t testing.TB, file string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it):\n--- got\n%s\n--- want\n%s", file, got, want)
	}
}

// BenchmarkVerifyPageHandler is BenchmarkVerifyByIDHandler for the HTML
// page: the verdict, the issuer, the page's view and its rendering.
func BenchmarkVerifyPageHandler(b *testing.B) {
	ts, ids := seedServer(b, 10000)
	h := ts.m.API
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			req := httptest.NewRequest("GET", "/v/"+ids[i%len(ids)], nil)
			req.RemoteAddr = "192.0.2.1:1234"
			req.Header.Set("Accept", "text/html")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != 200 {
				b.Fatalf("status %d", rec.Code)
			}
			i += 7919
		}
	})
}
