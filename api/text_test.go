package api_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certd/certd/api"
	"github.com/certd/certd/issuer"
	"github.com/certd/certd/templates"
)

// gbk holds "北京示例" encoded in GBK, the encoding a Windows system in
// China may send when it is not told otherwise.
const gbk = "\xb1\xb1\xbe\xa9\xca\xbe\xc0\xfd"

// rawJSON sends body as it is, as JSON, with the test API key.
func (a *testAPI) rawJSON(method, path, body string) response {
	a.t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.RemoteAddr = "192.0.2.10:40000"
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+a.token)
	rec := httptest.NewRecorder()
	a.srv.ServeHTTP(rec, req)
	return response{code: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
}

// wantFieldProblem checks a 422 problem whose first field error names
// field and says has.
func wantFieldProblem(t testing.TB, r response, field, has string) {
	t.Helper()
	if r.code != http.StatusUnprocessableEntity {
		t.Fatalf("HTTP %d, want 422: %s", r.code, r.body)
	}
	var p api.Problem
	r.decode(t, &p)
	if len(p.Errors) == 0 || p.Errors[0].Field != field || !strings.Contains(p.Errors[0].Message, has) {
		t.Errorf("problem errors %+v, want field %s with a message that says %q", p.Errors, field, has)
	}
}

const issueBody = `{"scheme":"itss","standard":"GB/T 28827.1-2022","category":"运行维护","level":3,` +
	`"scope":"信息系统运行维护服务","validFrom":"2026-11-27",` +
	`"organization":{"name":"%s","uscc":"91110108MA0123456G","address":"北京市海淀区"}}`

// TestAPIBodyNotUTF8 sends JSON bodies that are not UTF-8 to each kind of
// route that takes one: refused with 422 naming the field, nothing issued.
func TestAPIBodyNotUTF8(t *testing.T) {
	a := newTestAPI(t, "2026-11-27")
	c := a.issue("itss")
	tests := []struct {
		name, method, path, body, field string
	}{
		{"issue", "POST", "/api/v1/certificates", fmt.Sprintf(issueBody, gbk+"科技有限公司"), "organization.name"},
		{"issue-scope", "POST", "/api/v1/certificates", strings.Replace(fmt.Sprintf(issueBody, "北京示例科技有限公司"), "信息系统", gbk, 1), "scope"},
		{"batch", "POST", "/api/v1/certificates/batch", `{"certificates":[` + fmt.Sprintf(issueBody, "北京示例科技有限公司") + "," + fmt.Sprintf(issueBody, gbk) + `]}`, "certificates[1].organization.name"},
		{"action", "POST", "/api/v1/certificates/" + c.ID + "/withdraw", `{"reason":"` + gbk + `"}`, "reason"},
		{"revise", "POST", "/api/v1/certificates/" + c.ID + "/revise", `{"reason":"x","organization":{"name":"` + gbk + `"}}`, "organization.name"},
		{"verify", "POST", "/api/v1/verify", `{"credential":"` + gbk + `"}`, "credential"},
		{"outside-a-value", "POST", "/api/v1/certificates", "\xff" + fmt.Sprintf(issueBody, "北京示例科技有限公司"), "(body)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := a.rawJSON(tc.method, tc.path, tc.body)
			wantFieldProblem(t, r, tc.field, "UTF-8")
		})
	}
	var list struct {
		Items []resource `json:"items"`
	}
	a.do("GET", "/api/v1/certificates", nil).decode(t, &list)
	if len(list.Items) != 1 {
		t.Errorf("%d certificates after the refused requests, want 1", len(list.Items))
	}
}

// forbidden are the characters that CheckText refuses everywhere, one of
// each kind.
var forbidden = []rune{0x202E, 0x202A, 0x2066, 0x2069, 0x200E, 0x200F, 0x061C, 0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF, 0x0007, 0x001B, 0x0085, 0x009B}

// TestAPIForbiddenCharacters puts each forbidden character into each text
// field of an issue request, a batch item, a revision and a reason: each
// is a 422 that names the field and the code point.
func TestAPIForbiddenCharacters(t *testing.T) {
	a := newTestAPI(t, "2026-11-27")
	base := func() map[string]any {
		return map[string]any{
			"scheme": "itss", "standard": "GB/T 28827.1-2022", "category": "运行维护", "level": 3,
			"scope": "信息系统运行维护服务", "scopeEn": "IT services", "assessmentBody": "审核中心", "sites": []string{"北京"},
			"number": "ITSS-2026-900001", "validFrom": "2026-11-27",
			"organization": map[string]any{"name": "北京示例科技有限公司", "nameEn": "Example", "uscc": "91110108MA0123456G", "address": "北京市海淀区"},
		}
	}
	set := func(body map[string]any, field, value string) {
		switch {
		case strings.HasPrefix(field, "organization."):
			org := body["organization"].(map[string]any)
			name := strings.TrimPrefix(field, "organization.")
			org[name] = org[name].(string) + value
		case field == "sites[0].name":
			body["sites"] = []string{"北京" + value}
		default:
			body[field] = body[field].(string) + value
		}
	}
	fields := []string{"number", "standard", "category", "scope", "scopeEn", "assessmentBody", "sites[0].name",
		"organization.name", "organization.nameEn", "organization.uscc", "organization.address"}
	for _, field := range fields {
		for _, r := range forbidden {
			t.Run(fmt.Sprintf("issue/%s/%04X", field, r), func(t *testing.T) {
				body := base()
				set(body, field, string(r))
				wantFieldProblem(t, a.do("POST", "/api/v1/certificates", body), field, fmt.Sprintf("%U", r))
			})
		}
	}
	t.Run("batch", func(t *testing.T) {
		bad := base()
		set(bad, "organization.name", "\u202E")
		r := a.do("POST", "/api/v1/certificates/batch", map[string]any{"certificates": []any{bad}})
		var out struct {
			Results []struct {
				Status  int          `json:"status"`
				Problem *api.Problem `json:"problem"`
			} `json:"results"`
		}
		r.decode(t, &out)
		if len(out.Results) != 1 || out.Results[0].Status != 422 || out.Results[0].Problem == nil ||
			out.Results[0].Problem.Errors[0].Field != "certificates[0].organization.name" ||
			!strings.Contains(out.Results[0].Problem.Errors[0].Message, "U+202E") {
			t.Errorf("batch results %s, want a 422 naming certificates[0].organization.name and U+202E", r.body)
		}
	})
	c := a.issue("itss")
	for _, r := range []rune{0x202E, 0x200B, 0xFEFF} {
		for _, field := range []string{"organization.name", "organization.nameEn", "organization.address", "scope", "category"} {
			t.Run(fmt.Sprintf("revise/%s/%04X", field, r), func(t *testing.T) {
				body := map[string]any{"reason": "更名"}
				v := "北京新名称" + string(r)
				if name, ok := strings.CutPrefix(field, "organization."); ok {
					body["organization"] = map[string]any{name: v}
				} else {
					body[field] = v
				}
				wantFieldProblem(t, a.do("POST", "/api/v1/certificates/"+c.ID+"/revise", body), field, fmt.Sprintf("%U", r))
			})
		}
		t.Run(fmt.Sprintf("reason/%04X", r), func(t *testing.T) {
			wantFieldProblem(t, a.do("POST", "/api/v1/certificates/"+c.ID+"/suspend", map[string]any{"reason": "客户" + string(r) + "申请"}), "reason", fmt.Sprintf("%U", r))
		})
	}
	// A scope may hold line breaks (a pasted paragraph); a name may not.
	body := base()
	body["scope"], body["number"] = "第一段\n第二段", "ITSS-2026-900002"
	if r := a.do("POST", "/api/v1/certificates", body); r.code != http.StatusCreated {
		t.Errorf("scope with a line break: HTTP %d %s, want 201", r.code, r.body)
	}
	body = base()
	set(body, "organization.name", "\n")
	wantFieldProblem(t, a.do("POST", "/api/v1/certificates", body), "organization.name", "U+000A")
}

// testFonts returns the fonts CI installs, or skips without them (fails
// under CERTD_REQUIRE_TOOLS=1).
func testFonts(t testing.TB) templates.Fonts {
	t.Helper()
	fonts, err := templates.FindFonts("")
	if err == nil && strings.Contains(strings.Join(fonts.Paths(), " "), "Liberation") {
		return fonts
	}
	if os.Getenv("CERTD_REQUIRE_TOOLS") == "1" {
		t.Fatalf("fonts-liberation2 and fonts-arphic-gbsn00lp are required when CERTD_REQUIRE_TOOLS=1: %v %q", err, fonts.Paths())
	}
	t.Skipf("fonts not installed (%v); set CERTD_REQUIRE_TOOLS=1 to fail instead", err)
	return templates.Fonts{}
}

// TestAPIPrintableText checks that issuing refuses what the PDF cannot
// print, with the same fonts the PDF uses, and that what it accepts
// (symbols, Cyrillic, traditional Chinese, kana) is printed and read back.
func TestAPIPrintableText(t *testing.T) {
	fonts := testFonts(t)
	a := newTestAPIWith(t, "2026-11-27", func(ic *issuer.Config, ac *api.Config) {
		ic.Printer, ac.Fonts = fonts, &fonts
	})
	for _, tc := range []struct {
		field, value, has string
	}{
		{"organization.name", "北京示例科技有限公司😀", "U+1F600"},
		{"scope", "信息系统运行维护服务🚀", "U+1F680"},
		{"organization.nameEn", "Example \U0001D400 Co.", "U+1D400"},
	} {
		t.Run("refused/"+tc.field, func(t *testing.T) {
			body := map[string]any{
				"scheme": "itss", "category": "运行维护", "level": 3, "scope": "信息系统运行维护服务", "validFrom": "2026-11-27",
				"organization": map[string]any{"name": "北京示例科技有限公司", "uscc": "91110108MA0123456G"},
			}
			if name, ok := strings.CutPrefix(tc.field, "organization."); ok {
				body["organization"].(map[string]any)[name] = tc.value
			} else {
				body[tc.field] = tc.value
			}
			wantFieldProblem(t, a.do("POST", "/api/v1/certificates", body), tc.field, tc.has)
		})
	}
	t.Run("refused/batch", func(t *testing.T) {
		item := map[string]any{
			"scheme": "itss", "category": "运行维护", "level": 3, "scope": "信息系统运行维护服务", "validFrom": "2026-11-27",
			"organization": map[string]any{"name": "北京示例科技有限公司😀", "uscc": "91110108MA0123456G"},
		}
		r := a.do("POST", "/api/v1/certificates/batch", map[string]any{"certificates": []any{item}})
		if r.code != http.StatusOK || !strings.Contains(string(r.body), `"certificates[0].organization.name"`) || !strings.Contains(string(r.body), "U+1F600") {
			t.Errorf("batch: HTTP %d %s, want an item problem naming certificates[0].organization.name and U+1F600", r.code, r.body)
		}
	})
	pdftotext, err := exec.LookPath("pdftotext")
	if err != nil {
		if os.Getenv("CERTD_REQUIRE_TOOLS") == "1" {
			t.Fatalf("pdftotext is required when CERTD_REQUIRE_TOOLS=1: %v", err)
		}
		t.Skipf("pdftotext is not installed (%v)", err)
	}
	nameEn := "Example® Widgets™ – Москва Ltd."
	scope := "信息系统运行维护服务（臺灣體系、株式会社あいうえお）"
	scopeEn := "Services priced in € – quality™"
	r := a.do("POST", "/api/v1/certificates", map[string]any{
		"scheme": "itss", "category": "运行维护", "level": 3, "scope": scope, "scopeEn": scopeEn, "validFrom": "2026-11-27",
		"organization": map[string]any{"name": "北京示例科技有限公司", "nameEn": nameEn, "uscc": "91110108MA0123456G"},
	})
	if r.code != http.StatusCreated {
		t.Fatalf("issue: HTTP %d %s", r.code, r.body)
	}
	var c resource
	r.decode(t, &c)
	pdf := a.do("GET", "/v/"+c.ID+"/certificate.pdf", nil)
	if pdf.code != http.StatusOK {
		t.Fatalf("certificate.pdf: HTTP %d %s", pdf.code, pdf.body)
	}
	file := filepath.Join(t.TempDir(), "c.pdf")
	if err := os.WriteFile(file, pdf.body, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(pdftotext, "-raw", "-enc", "UTF-8", file, "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Join(strings.Fields(string(out)), " ")
	for _, want := range []string{nameEn, scope, scopeEn, "®", "™", "€", "–", "Москва"} {
		if !strings.Contains(text, want) {
			t.Errorf("pdftotext output lacks %q:\n%s", want, text)
		}
	}
}

// TestAPIPDFErrorHidesPaths stores a certificate the fonts cannot print
// (issued without the check, as before it existed) and asks for its PDF:
// a 503 problem that names no server path.
func TestAPIPDFErrorHidesPaths(t *testing.T) {
	fonts := testFonts(t)
	var logs bytes.Buffer
	a := newTestAPIWith(t, "2026-11-27", func(ic *issuer.Config, ac *api.Config) {
		ac.Fonts = &fonts
		ac.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	r := a.do("POST", "/api/v1/certificates", map[string]any{
		"scheme": "itss", "category": "运行维护", "level": 3, "scope": "信息系统运行维护服务", "validFrom": "2026-11-27",
		"organization": map[string]any{"name": "北京示例科技有限公司😀", "uscc": "91110108MA0123456G"},
	})
	if r.code != http.StatusCreated {
		t.Fatalf("issue without a printer: HTTP %d %s", r.code, r.body)
	}
	var c resource
	r.decode(t, &c)
	pdf := a.do("GET", "/v/"+c.ID+"/certificate.pdf", nil)
	wantProblem(t, pdf, http.StatusServiceUnavailable, "pdf-font-coverage", "cannot print")
	for _, p := range append(fonts.Paths(), "/usr/", ".ttf") {
		if bytes.Contains(pdf.body, []byte(p)) {
			t.Errorf("the public problem shows %q: %s", p, pdf.body)
		}
	}
	if !strings.Contains(logs.String(), fonts.Paths()[0]) || !strings.Contains(logs.String(), "U+1F600") {
		t.Errorf("the log does not name the fonts and the character: %s", logs.String())
	}
}

// TestAPINoFonts is the contract without fonts: certd issues (checking
// the text rule only) and the PDF is a 503 problem.
func TestAPINoFonts(t *testing.T) {
	a := newTestAPI(t, "2026-11-27")
	c := a.issue("itss")
	r := a.do("GET", "/v/"+c.ID+"/certificate.pdf", nil)
	wantProblem(t, r, http.StatusServiceUnavailable, "pdf-unavailable", "no fonts")
	if bytes.Contains(r.body, []byte("/usr/")) {
		t.Errorf("the problem shows a path: %s", r.body)
	}
}
