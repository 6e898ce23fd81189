package templates

import (
	"bytes"
	"flag"
	"html"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/certd/certd/cert"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// Every file of html/ is a page or a partial, every page and partial
// exists, and every template a partial defines is used by some page.
func TestTemplatesRegistered(t *testing.T) {
	files, err := fs.Glob(htmlFS, "html/*.html")
	if err != nil {
		t.Fatal(err)
	}
	registered := append(slices.Clone(pageFiles), partialFiles...)
	for _, f := range files {
		if !slices.Contains(registered, filepath.Base(f)) {
			t.Errorf("%s is neither in pageFiles nor in partialFiles", f)
		}
	}
	sources := map[string]string{}
	for _, name := range registered {
		b, err := fs.ReadFile(htmlFS, "html/"+name)
		if err != nil {
			t.Errorf("registered %s: %v", name, err)
			continue
		}
		sources[name] = string(b)
		for _, lang := range Languages {
			if pages[lang].Lookup(name) == nil {
				t.Errorf("template %s is not parsed for %s", name, lang)
			}
		}
	}
	define := regexp.MustCompile(`{{define "([^"]+)"}}`)
	for _, p := range partialFiles {
		for _, m := range define.FindAllStringSubmatch(sources[p], -1) {
			used := false
			for _, page := range pageFiles {
				used = used || strings.Contains(sources[page], `{{template "`+m[1]+`"`)
			}
			used = used || m[1] == headTemplate || m[1] == topTemplate || m[1] == footTemplate // rendered from Go

			if !used {
				t.Errorf("%s defines %q, which no page uses", p, m[1])
			}
		}
	}
}

// Both languages have the same messages, and every message a template
// asks for exists.
func TestMessages(t *testing.T) {
	zhKeys, enKeys := keysOf(messages["zh-CN"]), keysOf(messages["en"])
	if !slices.Equal(zhKeys, enKeys) {
		t.Errorf("message keys differ:\nzh-CN %v\nen    %v", zhKeys, enKeys)
	}
	use := regexp.MustCompile(`{{t \$?\.Lang "([^"]+)"}}`)
	files, _ := fs.Glob(htmlFS, "html/*.html")
	for _, f := range files {
		b, _ := fs.ReadFile(htmlFS, f)
		for _, m := range use.FindAllStringSubmatch(string(b), -1) {
			for _, lang := range Languages {
				if _, ok := messages[lang][m[1]]; !ok {
					t.Errorf("%s uses %q, missing in %s", f, m[1], lang)
				}
			}
		}
	}
	for _, lang := range Languages {
		for _, st := range []cert.Status{cert.StatusActive, cert.StatusSuspended, cert.StatusWithdrawn, cert.StatusCancelled, cert.StatusExpired, cert.StatusSuperseded, cert.StatusNotFound, ""} {
			if b := statusBadge(lang, st); b.Word == "" || b.Icon == "" || b.Class == "" {
				t.Errorf("status %q has no complete badge in %s: %+v", st, lang, b)
			}
		}
	}
}

func keysOf(m map[string]string) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

func TestPickLanguage(t *testing.T) {
	tests := []struct{ explicit, accept, want string }{
		{"", "", "zh-CN"},
		{"en", "zh-CN", "en"},
		{"zh", "en", "zh-CN"},
		{"EN-us", "", "en"},
		{"fr", "en-US,en;q=0.9", "en"},
		{"", "zh-TW,zh;q=0.9", "zh-CN"},
		{"", "fr-FR,en;q=0.5,zh;q=0.8", "zh-CN"},
		{"", "de, en-GB;q=0.7", "en"},
		{"", "en;q=0, zh;q=0.1", "zh-CN"},
		{"", "ja", "zh-CN"},
		{"", "english", "zh-CN"},
	}
	for _, tc := range tests {
		if got := PickLanguage(tc.explicit, tc.accept); got != tc.want {
			t.Errorf("PickLanguage(%q, %q) = %q, want %q", tc.explicit, tc.accept, got, tc.want)
		}
	}
}

var (
	shanghai = func() *time.Location {
		l, err := cert.LoadLocation("Asia/Shanghai")
		if err != nil {
			panic(err)
		}
		return l
	}()
	testIssuer = &cert.Issuer{
		ID: "cesa-itss", Name: "China Electronics Standardization Association", NameZh: "中国电子工业标准化技术协会",
		Accreditation: []cert.Accreditation{{Body: "CNAS", Number: "CNAS C123-M"}}, TimeZone: "Asia/Shanghai",
	}
	testSchemes, _ = cert.NewSchemes(cert.BuiltinSchemes())
)

func bj(day string) time.Time {
	t, err := time.ParseInLocation(time.DateOnly, day, shanghai)
	if err != nil {
		panic(err)
	}
	return t
}

// testVerdict is a fixed verdict of the ITSS certificate in each status.
func testVerdict(status cert.Status) cert.Verdict {
	v := cert.Verdict{
		Verdict: cert.VerdictValid, Status: cert.StatusActive,
		Reason: "Genuine and valid today (the English sentence of the verifier, shown in the JSON only).",
		Checks: []cert.Check{
			{Name: cert.CheckSignature, OK: true}, {Name: cert.CheckValidity, OK: true},
			{Name: cert.CheckRevocation, OK: true}, {Name: cert.CheckSuspension, OK: true}, {Name: cert.CheckSurveillance, OK: true},
		},
		Surveillance: &cert.Surveillance{State: cert.SurveillanceNotDue, WindowStart: "2027-08-27", WindowEnd: "2027-11-26"},
		Certificate: &cert.VerdictCertificate{
			ID: testID, Number: "CESA-ITSS-2026-000123", Scheme: "itss", Standard: "GB/T 28827.1-2022",
			Category: "运行维护", Level: 3, Scope: "信息系统运行维护服务", ScopeEn: "IT operation and maintenance services",
			AssessmentBody: "中电标协审核中心",
			Organization: cert.Organization{
				Name: "北京示例科技有限公司", NameEn: "Beijing Example Technology Co., Ltd.", USCC: "91110108MA0123456G",
			},
			ValidFrom: "2026-11-27", ValidUntil: "2029-11-26", OriginalDate: "2020-11-27",
			Kid: "Vr2cJ8kM3T5qWfL0xYp7nB4hD6sA9eG1uZ2iO3cK5mQ",
		},
		Issuer:    &cert.VerdictIssuer{ID: testIssuer.ID, Name: testIssuer.Name, NameZh: testIssuer.NameZh, URL: testPublicURL + "/issuers/cesa-itss"},
		CheckedAt: time.Date(2027, 10, 15, 2, 30, 0, 0, time.UTC),
	}
	fail := func(name string) {
		for i := range v.Checks {
			if v.Checks[i].Name == name {
				v.Checks[i].OK = false
			}
		}
	}
	switch status {
	case cert.StatusSuspended:
		v.Verdict, v.Status = cert.VerdictInvalid, status
		v.Surveillance = &cert.Surveillance{State: cert.SurveillanceOverdue, WindowStart: "2027-08-27", WindowEnd: "2027-11-26"}
		v.CheckedAt = time.Date(2027, 12, 20, 1, 0, 0, 0, time.UTC)
		v.History = []cert.Change{{At: bj("2027-11-27"), Status: status, Reason: cert.ReasonSurveillanceOverdue, Derived: true}}
		fail(cert.CheckSuspension)
		fail(cert.CheckSurveillance)
	case cert.StatusWithdrawn:
		v.Verdict, v.Status = cert.VerdictInvalid, status
		v.Surveillance = &cert.Surveillance{State: cert.SurveillanceNone}
		v.History = []cert.Change{
			{At: bj("2027-03-01"), Status: cert.StatusSuspended, Reason: "客户申请暂停"},
			{At: bj("2027-03-20"), Status: cert.StatusActive, Reason: "整改完成"},
			{At: bj("2027-09-30").Add(15 * time.Hour), Status: status, Reason: "获证组织不再满足认证要求 <b>&</b>"},
		}
		fail(cert.CheckRevocation)
	case cert.StatusExpired:
		v.Verdict, v.Status = cert.VerdictInvalid, status
		v.Surveillance = &cert.Surveillance{State: cert.SurveillanceNone}
		v.CheckedAt = time.Date(2029, 12, 1, 1, 0, 0, 0, time.UTC)
		v.History = []cert.Change{{At: bj("2029-11-27"), Status: status, Reason: cert.ReasonExpired, Derived: true}}
		fail(cert.CheckValidity)
	case cert.StatusSuperseded:
		v.Verdict, v.Status = cert.VerdictInvalid, status
		v.Surveillance = &cert.Surveillance{State: cert.SurveillanceNone}
		v.Certificate.SupersededBy = "01JD3Z8K8X5V6Q2W9N4R7T1Y0N"
		v.History = []cert.Change{{At: bj("2027-06-01"), Status: status, Reason: "revised: scope extended"}}
	case cert.StatusNotFound:
		v = cert.Verdict{Verdict: cert.VerdictInvalid, Status: status, Checks: []cert.Check{}, CheckedAt: v.CheckedAt}
	case "":
		v = cert.Verdict{Verdict: cert.VerdictUnknown, Checks: []cert.Check{}, CheckedAt: v.CheckedAt}
	}
	return v
}

func pageData(status cert.Status, lang string) VerifyPageData {
	v := testVerdict(status)
	d := VerifyPageData{Verdict: v, Lang: lang, PublicURL: testPublicURL, ID: testID}
	if v.Certificate != nil {
		d.Scheme, d.Issuer = testSchemes["itss"], testIssuer
	}
	return d
}

var (
	styleRE = regexp.MustCompile(`(?s)<style.*?</style>`)
	blockRE = regexp.MustCompile(`(?i)</?(p|li|h1|h2|dt|dd|div|section|header|footer|main|ul|ol|dl|nav|article|title|form|label|button)\b[^>]*>`)
	tagRE   = regexp.MustCompile(`<[^>]*>`)
)

// pageText is the text of a page, one line per block, as a reader sees it
// (markup removed, entities decoded, white space folded).
func pageText(b []byte) string {
	s := styleRE.ReplaceAllString(string(b), "")
	s = blockRE.ReplaceAllString(s, "\n")
	s = html.UnescapeString(tagRE.ReplaceAllString(s, ""))
	var lines []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.Join(strings.Fields(l), " "); l != "" {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, "\n") + "\n"
}

func goldenFile(t *testing.T, name string, got []byte) {
	t.Helper()
	file := filepath.Join("testdata", "golden", name)
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
		t.Fatalf("%v (go test -update creates it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it):\n--- got\n%s--- want\n%s", file, got, want)
	}
}

// TestVerifyPageGolden pins the text of the verification page in every
// status and both languages.
func TestVerifyPageGolden(t *testing.T) {
	statuses := map[string]cert.Status{
		"valid": cert.StatusActive, "suspended": cert.StatusSuspended, "withdrawn": cert.StatusWithdrawn,
		"expired": cert.StatusExpired, "superseded": cert.StatusSuperseded, "not_found": cert.StatusNotFound, "unknown": "",
	}
	for name, st := range statuses {
		for _, lang := range Languages {
			t.Run(name+"/"+lang, func(t *testing.T) {
				page, err := VerifyPage(pageData(st, lang))
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Contains(page, []byte(`<html lang="`+lang+`">`)) {
					t.Errorf("no <html lang=%q>", lang)
				}
				goldenFile(t, "verify_"+name+"_"+lang+".txt", []byte(pageText(page)))
			})
		}
	}
}

// TestVerifyPageWords checks the verdict word, its icon and the class
// that colours it, in both languages.
func TestVerifyPageWords(t *testing.T) {
	tests := []struct {
		status           cert.Status
		zh, en, icon, cl string
	}{
		{cert.StatusActive, "有效", "Valid", "✓", "ok"},
		{cert.StatusSuspended, "暂停", "Suspended", "!", "warn"},
		{cert.StatusWithdrawn, "撤销", "Withdrawn", "✕", "bad"},
		{cert.StatusExpired, "过期", "Expired", "✕", "bad"},
		{cert.StatusSuperseded, "已换证", "Superseded", "↻", "info"},
		{cert.StatusNotFound, "未登记", "Not registered", "✕", "bad"},
		{"", "暂时无法确认", "Cannot confirm now", "?", "muted"},
	}
	for _, tc := range tests {
		for lang, word := range map[string]string{"zh-CN": tc.zh, "en": tc.en} {
			page, err := VerifyPage(pageData(tc.status, lang))
			if err != nil {
				t.Fatal(err)
			}
			want := `<section class="verdict ` + tc.cl + `" aria-labelledby="verdict-word">`
			if !bytes.Contains(page, []byte(want)) || !bytes.Contains(page, []byte(`<span data-verdict>`+word+`</span>`)) ||
				!bytes.Contains(page, []byte(`<span class="icon" aria-hidden="true">`+tc.icon+`</span>`)) {
				t.Errorf("%s page of %q lacks %s, the word %q or the icon %q", lang, tc.status, want, word, tc.icon)
			}
		}
	}
	// The verifier's English sentence is not on the Chinese page.
	page, _ := VerifyPage(pageData(cert.StatusActive, "zh-CN"))
	if bytes.Contains(page, []byte("English sentence")) {
		t.Error("the Chinese page shows the verifier's English reason")
	}
	// A revoked signing key is not trusted, whatever the status.
	d := pageData(cert.StatusActive, "en")
	d.Verdict.Verdict = cert.VerdictInvalid
	d.Verdict.Checks[0].OK = false
	page, _ = VerifyPage(d)
	if !bytes.Contains(page, []byte("Signature not trusted")) {
		t.Errorf("a certificate with a revoked key is not shown as untrusted:\n%s", pageText(page))
	}
}

// Everything a certificate holds is escaped.
func TestVerifyPageEscapes(t *testing.T) {
	d := pageData(cert.StatusWithdrawn, "en")
	d.Verdict.Certificate.Organization.Name = `<script>alert(1)</script>"'`
	d.Verdict.Certificate.Scope = `<img src=x onerror=alert(1)>`
	d.ID = `"><script>`
	page, err := VerifyPage(d)
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"<script", "<img", "<b>"} {
		if bytes.Contains(page, []byte(bad)) {
			t.Errorf("page holds %q unescaped", bad)
		}
	}
	if !strings.Contains(pageText(page), `<script>alert(1)</script>"'`) {
		t.Errorf("the name is not shown as text")
	}
}

func TestSearchPageGolden(t *testing.T) {
	results := []SearchResult{
		{
			ID: testID, Number: "CESA-ITSS-2026-000123",
			Organization: cert.Organization{Name: "北京示例科技有限公司", NameEn: "Beijing Example Technology Co., Ltd.", USCC: "91110108MA0123456G"},
			Issuer:       cert.VerdictIssuer{ID: "cesa-itss", Name: testIssuer.Name, NameZh: testIssuer.NameZh},
			Scheme:       testSchemes["itss"], SchemeID: "itss", Status: cert.StatusActive, ValidFrom: "2026-11-27", ValidUntil: "2029-11-26",
		},
		{
			ID: "01JD3Z8K8X5V6Q2W9N4R7T1Y0N", Number: "CESA-ITSS-2024-000007",
			Organization: cert.Organization{Name: "北京示例科技有限公司", USCC: "91110108MA0123456G"},
			Issuer:       cert.VerdictIssuer{ID: "cesa-itss", Name: testIssuer.Name},
			SchemeID:     "retired-scheme", Status: cert.StatusSuspended, ValidFrom: "2024-03-01", ValidUntil: "2027-02-28",
		},
	}
	for _, tc := range []struct {
		name string
		d    SearchPageData
	}{
		{"results", SearchPageData{Query: "示例科技", Searched: true, Results: results, Next: "bmV4dA", Cursor: "Zmlyc3Q", Count: 100, CountMore: true}},
		{"none", SearchPageData{Query: "深圳", Searched: true}},
		{"short", SearchPageData{Query: "x", Problem: SearchTooShort}},
		{"noword", SearchPageData{Query: "., -", Problem: SearchNoWord}},
		{"empty", SearchPageData{}},
	} {
		for _, lang := range Languages {
			d := tc.d
			d.Lang, d.PublicURL = lang, testPublicURL
			page, err := SearchPage(d)
			if err != nil {
				t.Fatal(err)
			}
			goldenFile(t, "search_"+tc.name+"_"+lang+".txt", []byte(pageText(page)))
			if tc.name == "results" {
				for _, want := range []string{`href="/v/` + testID + `?lang=` + lang + `"`, `class="badge warn"`, `cursor=bmV4dA`, `rel="next"`} {
					if !bytes.Contains(page, []byte(want)) {
						t.Errorf("%s results page lacks %s", lang, want)
					}
				}
			}
		}
	}
}

func TestLandingPageGolden(t *testing.T) {
	for _, lang := range Languages {
		page, err := LandingPage(LandingPageData{Lang: lang, PublicURL: testPublicURL, Issuers: []*cert.Issuer{testIssuer}})
		if err != nil {
			t.Fatal(err)
		}
		goldenFile(t, "landing_"+lang+".txt", []byte(pageText(page)))
	}
}

// Links written by markup are paths on this site, or "#".
func TestLinkItems(t *testing.T) {
	got := string(linkItems([]link{
		{"/v/X/certificate.pdf", "PDF <1>"}, {"", "skipped"}, {"javascript:alert(1)", "js"},
		{"//evil.example/x", "other host"}, {`/a"onclick="x`, "quote"},
	}))
	want := `<li><a href="/v/X/certificate.pdf">PDF &lt;1&gt;</a></li>` + "\n" +
		`<li><a href="#">js</a></li>` + "\n" + `<li><a href="#">other host</a></li>` + "\n" +
		`<li><a href="/a&#34;onclick=&#34;x">quote</a></li>` + "\n"
	if got != want {
		t.Errorf("linkItems:\n got %s\nwant %s", got, want)
	}
}

// Behind a proxy under a path prefix, links keep the prefix.
func TestPagePathPrefix(t *testing.T) {
	d := pageData(cert.StatusActive, "en")
	d.PublicURL = "https://example.com/certd"
	page, err := VerifyPage(d)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`href="/certd/v/` + testID + `/certificate.pdf"`, `href="?lang=zh-CN"`, `href="/certd/search"`, "example.com"} {
		if !bytes.Contains(page, []byte(want)) {
			t.Errorf("page lacks %s", want)
		}
	}
}

func BenchmarkVerifyPage(b *testing.B) {
	d := pageData(cert.StatusActive, "zh-CN")
	for b.Loop() {
		if _, err := VerifyPage(d); err != nil {
			b.Fatal(err)
		}
	}
}
