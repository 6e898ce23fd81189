package templates

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/templates/qrtest"
)

var outDir = flag.String("out", "", "also write the rendered test PDFs and their PNG pages to this directory")

// testCredential stands for a compact JWS; RenderPDF attaches it verbatim.
const testCredential = "eyJhbGciOiJFZERTQSIsImtpZCI6InRlc3Qta2lkIiwidHlwIjoidmMrand0IiwiY3R5IjoidmMifQ" +
	".eyJpc3MiOiJodHRwczovL2NlcnRzLmV4YW1wbGUuY29tL2lzc3VlcnMvZGVmYXVsdCIsImp0aSI6InVybjp1dWlkOjEifQ" +
	".c2lnbmF0dXJlLWJ5dGVzLWZvci10aGUtdGVzdA"

// testDoc is a fixed ITSS certificate of 北京示例科技有限公司 issued on
// 2026-11-27 in Asia/Shanghai.
func testDoc(t testing.TB, status cert.Status) CertificateDoc {
	t.Helper()
	loc, err := cert.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	schemes, err := cert.NewSchemes(cert.BuiltinSchemes())
	if err != nil {
		t.Fatal(err)
	}
	from, until := cert.ValidityPeriod(time.Date(2026, 11, 27, 10, 0, 0, 0, loc), loc, 36)
	c := &cert.Certificate{
		ID: testID, Number: "ITSS-2026-000123", Issuer: "default", Scheme: "itss",
		Standard: "GB/T 28827.1-2022", Category: "运行维护", Level: 3,
		Scope:          "信息系统运行维护服务，包括基础环境、硬件、软件及数据的例行操作、响应支持、优化改善和调研评估",
		ScopeEn:        "IT operation and maintenance services: routine operation, response support, optimization and assessment of infrastructure, hardware, software and data",
		AssessmentBody: "北京示例审核中心 Beijing Example Audit Centre",
		Organization: cert.Organization{
			Name: "北京示例科技有限公司", NameEn: "Beijing Example Technology Co., Ltd.",
			USCC: "91110108MA01234567", Address: "北京市海淀区中关村大街1号", Country: "CN",
		},
		DecisionDate: "2026-11-20", OriginalDate: "2020-11-27",
		ValidFrom: from, ValidUntil: until, TimeZone: "Asia/Shanghai",
		Credential: testCredential,
	}
	is := &cert.Issuer{
		ID: "default", Name: "Example Certification Co., Ltd.", NameZh: "中认示例认证有限公司",
		Accreditation: []cert.Accreditation{{Body: "CNAS", Number: "CNAS C123-M"}}, TimeZone: "Asia/Shanghai",
	}
	return CertificateDoc{
		Certificate: c, Issuer: is, Scheme: schemes["itss"], Status: status,
		VerifyURL:   testPublicURL + "/v/" + testID,
		QRContent:   QRContent(testPublicURL, testID),
		Credential:  testCredential,
		GeneratedAt: time.Date(2026, 12, 1, 9, 30, 0, 0, loc),
	}
}

// pdfTools returns the poppler-utils the PDF tests run.
func pdfTools(t testing.TB) map[string]string {
	t.Helper()
	tools := map[string]string{}
	for _, name := range []string{"pdftotext", "pdftoppm", "pdfdetach", "pdffonts", "pdfinfo"} {
		tools[name] = requireTool(t, name)
	}
	return tools
}

// render renders doc and writes it to a temporary file (and to -out).
func render(t testing.TB, doc CertificateDoc, fonts Fonts, name string) (pdf []byte, file string) {
	t.Helper()
	pdf, err := RenderPDF(doc, fonts)
	if err != nil {
		t.Fatalf("RenderPDF: %v", err)
	}
	if !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		t.Fatalf("output does not start with %%PDF-: %.20q", pdf)
	}
	file = filepath.Join(t.TempDir(), name+".pdf")
	writeFile(t, file, pdf)
	return pdf, file
}

func writeFile(t testing.TB, file string, b []byte) {
	t.Helper()
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if *outDir != "" {
		if err := os.MkdirAll(*outDir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(*outDir, filepath.Base(file)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func run(t testing.TB, name string, args ...string) string {
	t.Helper()
	var stderr bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %q: %v\n%s", filepath.Base(name), args, err, stderr.Bytes())
	}
	return string(out)
}

// pdfText extracts the text of a PDF in the order it is drawn (-raw, so
// the rotated watermark is not mixed into the lines it crosses), with white
// space collapsed so that the checks do not depend on line breaks.
func pdfText(t testing.TB, pdftotext, file string) string {
	t.Helper()
	return strings.Join(strings.Fields(run(t, pdftotext, "-raw", "-enc", "UTF-8", file, "-")), " ")
}

// rasterize renders page 1 at 150 dpi and returns the PNG file.
func rasterize(t testing.TB, pdftoppm, file string) string {
	t.Helper()
	prefix := strings.TrimSuffix(file, ".pdf")
	run(t, pdftoppm, "-r", "150", "-png", "-f", "1", "-l", "1", "-singlefile", file, prefix)
	png := prefix + ".png"
	b, err := os.ReadFile(png)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, png, b)
	return png
}

func TestRenderPDF(t *testing.T) {
	fonts := testFonts(t)
	tools := pdfTools(t)
	doc := testDoc(t, cert.StatusActive)
	pdf, file := render(t, doc, fonts, "certificate-active")

	t.Run("text", func(t *testing.T) {
		text := pdfText(t, tools["pdftotext"], file)
		for _, want := range []string{
			"北京示例科技有限公司", "Beijing Example Technology Co., Ltd.", "ITSS-2026-000123",
			"91110108MA01234567", "信息技术服务标准符合性证书", "GB/T 28827.1-2022",
			"运行维护", "三级", "Operation and maintenance",
			"2026年11月27日", "2026-11-27", "2029年11月26日", "2029-11-26", "2020年11月27日", "2020-11-27",
			"中认示例认证有限公司", "Example Certification Co., Ltd.", "CNAS C123-M",
			"北京示例审核中心", doc.VerifyURL,
		} {
			if !strings.Contains(text, want) {
				t.Errorf("pdftotext output lacks %q:\n%s", want, text)
			}
		}
		for _, unwanted := range []string{"SUSPENDED", "已暂停", "NOT VALID"} {
			if strings.Contains(text, unwanted) {
				t.Errorf("active certificate shows %q", unwanted)
			}
		}
	})

	t.Run("qr", func(t *testing.T) {
		png := rasterize(t, tools["pdftoppm"], file)
		b, err := os.ReadFile(png)
		if err != nil {
			t.Fatal(err)
		}
		got := qrtest.Decode(t, decodePNG(t, b)).GetText()
		if got != doc.QRContent || !strings.EqualFold(got, doc.VerifyURL) {
			t.Errorf("gozxing decoded %q from the page, want %q (the verification URL %s)", got, doc.QRContent, doc.VerifyURL)
		}
		if zbarimg, err := exec.LookPath("zbarimg"); err == nil {
			if got := zbarDecode(t, zbarimg, png); got != doc.QRContent {
				t.Errorf("zbarimg decoded %q from the page, want %q", got, doc.QRContent)
			}
		} else {
			requireTool(t, "zbarimg")
		}
	})

	t.Run("attachment", func(t *testing.T) {
		dir := t.TempDir()
		run(t, tools["pdfdetach"], "-saveall", "-o", dir, file)
		got, err := os.ReadFile(filepath.Join(dir, CredentialFilename))
		if err != nil {
			t.Fatalf("no %s attached: %v", CredentialFilename, err)
		}
		if string(got) != doc.Credential {
			t.Errorf("attached credential %q, want %q", got, doc.Credential)
		}
		if list := run(t, tools["pdfdetach"], "-list", file); !strings.Contains(list, "1 embedded files") {
			t.Errorf("pdfdetach -list: %s, want exactly one embedded file", list)
		}
	})

	t.Run("fonts", func(t *testing.T) {
		// The Latin face and the simplified Chinese face, both embedded
		// with a ToUnicode map; the fallbacks are not needed here and so
		// not embedded.
		out := run(t, tools["pdffonts"], file)
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != 4 {
			t.Fatalf("pdffonts lists %d fonts, want 2:\n%s", len(lines)-2, out)
		}
		// Columns: name, type, encoding, emb, sub, uni, object ID. fpdf
		// subsets without the tag pdffonts reads "sub" from; the file size
		// shows the subsetting.
		for _, l := range lines[2:] {
			if !regexp.MustCompile(`CID TrueType\s+Identity-H\s+yes\s+(yes|no)\s+yes\s+\d+\s+\d+$`).MatchString(l) {
				t.Errorf("font not embedded with a ToUnicode map (emb, uni):\n%s", out)
			}
		}
		for _, name := range []string{"liberationserif-regular", "gbsn00lp"} {
			if !strings.Contains(out, name) {
				t.Errorf("pdffonts does not list %s:\n%s", name, out)
			}
		}
		if len(pdf) > len(fonts.list[1].Data)/10 {
			t.Errorf("PDF of %d bytes for a font of %d: the font is not subset", len(pdf), len(fonts.list[1].Data))
		}
	})

	t.Run("info", func(t *testing.T) {
		out := run(t, tools["pdfinfo"], file)
		for _, re := range []string{
			`(?m)^Page size:\s+841\.89 x 595\.28 pts \(A4\)`,
			`(?m)^Pages:\s+1$`,
			`(?m)^Creator:\s+certd$`,
			`(?m)^Title:\s+信息技术服务标准符合性证书 ITSS-2026-000123$`,
			`(?m)^Subject:\s+北京示例科技有限公司$`,
		} {
			if !regexp.MustCompile(re).MatchString(out) {
				t.Errorf("pdfinfo output does not match %s:\n%s", re, out)
			}
		}
	})

	t.Run("deterministic", func(t *testing.T) {
		again, err := RenderPDF(doc, fonts)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(again, pdf) {
			t.Error("two renders of the same document differ")
		}
	})
}

func TestRenderPDFWatermark(t *testing.T) {
	fonts := testFonts(t)
	tools := pdfTools(t)
	tests := []struct {
		status cert.Status
		zh, en string
	}{
		{cert.StatusSuspended, "已暂停", "SUSPENDED"},
		{cert.StatusWithdrawn, "已撤销", "WITHDRAWN"},
		{cert.StatusCancelled, "已注销", "CANCELLED"},
		{cert.StatusExpired, "已过期", "EXPIRED"},
		{cert.StatusSuperseded, "已换证", "SUPERSEDED"},
	}
	for _, tc := range tests {
		t.Run(string(tc.status), func(t *testing.T) {
			doc := testDoc(t, tc.status)
			_, file := render(t, doc, fonts, "certificate-"+string(tc.status))
			// The rotated watermark comes out with spaces between some of
			// its letters.
			text := strings.ReplaceAll(pdfText(t, tools["pdftotext"], file), " ", "")
			for _, want := range []string{tc.zh, tc.en, "北京示例科技有限公司"} {
				if !strings.Contains(text, want) {
					t.Errorf("pdftotext output lacks %q:\n%s", want, text)
				}
			}
			if tc.status == cert.StatusSuspended {
				// The watermark must leave the QR code readable.
				b, err := os.ReadFile(rasterize(t, tools["pdftoppm"], file))
				if err != nil {
					t.Fatal(err)
				}
				if got := qrtest.Decode(t, decodePNG(t, b)).GetText(); got != doc.QRContent {
					t.Errorf("decoded %q from the watermarked page, want %q", got, doc.QRContent)
				}
			}
		})
	}
}

func TestRenderPDFFontCoverage(t *testing.T) {
	fonts := testFonts(t)
	tests := []struct {
		name    string
		edit    func(*CertificateDoc)
		field   string
		missing []rune
	}{
		{"fail/emoji-in-name", func(d *CertificateDoc) { d.Certificate.Organization.Name += "😀" }, "organization.name", []rune{0x1F600}},
		{"fail/bmp-char-in-scope", func(d *CertificateDoc) { d.Certificate.ScopeEn = "snow \u2603 and \uA66E" }, "scope", []rune{0x2603, 0xA66E}},
		{"fail/issuer", func(d *CertificateDoc) { d.Issuer.NameZh = "示例\u2603认证" }, "issuer.name", []rune{0x2603}},
		{"fail/signatory", func(d *CertificateDoc) { d.Issuer.Signatory = &cert.Signatory{Name: "王\u2603"} }, "signatory", []rune{0x2603}},
		{"fail/approval", func(d *CertificateDoc) { d.Issuer.ApprovalNumber = "CNCA\u2603" }, "issuer.approvalNumber", []rune{0x2603}},
		{"fail/site", func(d *CertificateDoc) {
			d.Certificate.Sites = []cert.Site{{Name: "总部"}, {Name: "分部", Address: "地址\u2603"}}
		}, "sites[1]", []rune{0x2603}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc := testDoc(t, cert.StatusActive)
			tc.edit(&doc)
			pdf, err := RenderPDF(doc, fonts)
			if !errors.Is(err, ErrFontCoverage) {
				t.Fatalf("RenderPDF: %v, want ErrFontCoverage", err)
			}
			if pdf != nil {
				t.Errorf("RenderPDF returned %d bytes with the error", len(pdf))
			}
			var ce *CoverageError
			if !errors.As(err, &ce) || len(ce.Fields) != 1 || ce.Fields[0].Field != tc.field ||
				string(ce.Fields[0].Missing) != string(tc.missing) {
				t.Fatalf("error %v, want field %s missing %U", err, tc.field, tc.missing)
			}
			for _, r := range tc.missing {
				if !strings.Contains(err.Error(), fmt.Sprintf("%U", r)) {
					t.Errorf("error %q does not name %U", err, r)
				}
			}
		})
	}
}

// TestRenderPDFLongText checks that long texts stay inside the frame: a
// long scope shrinks to fit above the dates, one too long for the page
// goes on annex pages in full and in order, and a long name shrinks.
func TestRenderPDFLongText(t *testing.T) {
	fonts := testFonts(t)
	pdftotext := requireTool(t, "pdftotext")
	// marked repeats a sentence n times, each time after a marker (S001,
	// S002, ...) that pdftotext reads back as one word.
	marked := func(prefix, sentence string, n int) string {
		var b strings.Builder
		for i := 1; i <= n; i++ {
			fmt.Fprintf(&b, "%s%03d %s", prefix, i, sentence)
		}
		return b.String()
	}
	const zhSentence = "信息系统运行维护服务，包括基础环境、硬件、软件及数据的例行操作；"
	const enSentence = "IT operation and maintenance of infrastructure, hardware, software and data; "
	tests := []struct {
		name          string
		scope, en     string
		orgName       string
		address       string
		nameEn        string
		zhN, enN      int
		pages         int
		annexOnPage1  bool
		scopeAboveRul bool
	}{
		{name: "scope-200", zhN: 6, enN: 2, pages: 1, scopeAboveRul: true},
		{name: "name-60-scope-200", orgName: strings.Repeat("北京示例科技", 9) + "有限公司名称", zhN: 6, enN: 2, pages: 1, scopeAboveRul: true},
		{name: "name-200-address-500", orgName: strings.Repeat("北京示例科技有限公司", 20), address: strings.Repeat("北京市海淀区中关村大街1号", 38),
			nameEn: strings.Repeat("Beijing Example Technology Co., Ltd. ", 8), zhN: 30, enN: 2, pages: 2, annexOnPage1: true},
		{name: "scope-1000", zhN: 30, enN: 10, pages: 2, annexOnPage1: true},
		{name: "scope-2000-scopeEn-4000", zhN: 54, enN: 48, pages: 3, annexOnPage1: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc := testDoc(t, cert.StatusActive)
			c := doc.Certificate
			c.Scope = marked("S", zhSentence, tc.zhN)
			c.ScopeEn = marked("E", enSentence, tc.enN)
			if tc.orgName != "" {
				c.Organization.Name = tc.orgName
			}
			if tc.address != "" {
				c.Organization.Address = tc.address
			}
			if tc.nameEn != "" {
				c.Organization.NameEn = tc.nameEn
			}
			if n := len([]rune(c.Scope)); tc.zhN >= 30 && n < 1000 || n > 2000 {
				t.Fatalf("scope of %d characters", n)
			}
			if n := len([]rune(c.ScopeEn)); n > 4000 {
				t.Fatalf("scopeEn of %d characters", n)
			}
			_, file := render(t, doc, fonts, "certificate-"+tc.name)
			pages := wordBoxes(t, pdftotext, file)
			if len(pages) != tc.pages {
				t.Fatalf("%d pages, want %d", len(pages), tc.pages)
			}
			// Every word inside the inner frame line, on every page.
			const inner = pdfFrameInner / pdfPtToMM
			for i, words := range pages {
				for _, w := range words {
					if w.xMin < inner || w.yMin < inner || w.xMax > pdfPageW/pdfPtToMM-inner || w.yMax > pdfPageH/pdfPtToMM-inner {
						t.Errorf("page %d: %q at (%.1f,%.1f)-(%.1f,%.1f) pt crosses the frame", i+1, w.text, w.xMin, w.yMin, w.xMax, w.yMax)
					}
					if tc.scopeAboveRul && i == 0 && regexp.MustCompile(`^[SE]\d{3}$`).MatchString(w.text) && w.yMax > pdfRule/pdfPtToMM {
						t.Errorf("scope word %q at y %.1f pt runs into the bottom block (rule at %.1f)", w.text, w.yMax, pdfRule/pdfPtToMM)
					}
				}
			}
			// The whole scope, in order.
			text := pdfText(t, pdftotext, file)
			pos := 0
			for _, m := range []struct {
				prefix string
				n      int
			}{{"S", tc.zhN}, {"E", tc.enN}} {
				for i := 1; i <= m.n; i++ {
					marker := fmt.Sprintf("%s%03d", m.prefix, i)
					at := strings.Index(text[pos:], marker)
					if at < 0 {
						t.Fatalf("pdftotext output lacks %s after byte %d:\n%s", marker, pos, text)
					}
					pos += at + len(marker)
				}
			}
			if strings.Contains(text, "见附件") != tc.annexOnPage1 || strings.Contains(text, "see the annex") != tc.annexOnPage1 {
				t.Errorf("reference to the annex: %v, want %v", !tc.annexOnPage1, tc.annexOnPage1)
			}
			if tc.orgName != "" && !strings.Contains(strings.ReplaceAll(text, " ", ""), tc.orgName) {
				t.Errorf("pdftotext output lacks the name %q", tc.orgName)
			}
			for _, want := range []string{"2029-11-26", c.Number} {
				if !strings.Contains(text, want) {
					t.Errorf("pdftotext output lacks %q", want)
				}
			}
		})
	}
}

type wordBox struct {
	text                   string
	xMin, yMin, xMax, yMax float64
}

var bboxWord = regexp.MustCompile(`<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>`)

// wordBoxes returns the words of each page with their boxes in points
// from the top left, as pdftotext -bbox reads them.
func wordBoxes(t testing.TB, pdftotext, file string) [][]wordBox {
	t.Helper()
	out := run(t, pdftotext, "-bbox", "-enc", "UTF-8", file, "-")
	var pages [][]wordBox
	for _, page := range strings.Split(out, "<page ")[1:] {
		var words []wordBox
		for _, m := range bboxWord.FindAllStringSubmatch(page, -1) {
			var f [4]float64
			for i := range f {
				fmt.Sscan(m[i+1], &f[i])
			}
			words = append(words, wordBox{m[5], f[0], f[1], f[2], f[3]})
		}
		pages = append(pages, words)
	}
	return pages
}

func TestRenderPDFInvalid(t *testing.T) {
	tests := []struct {
		name string
		edit func(*CertificateDoc)
		want string
	}{
		{"fail/no-certificate", func(d *CertificateDoc) { d.Certificate = nil }, "certificate"},
		{"fail/no-issuer", func(d *CertificateDoc) { d.Issuer = nil }, "issuer"},
		{"fail/no-scheme", func(d *CertificateDoc) { d.Scheme = nil }, "scheme"},
		{"fail/no-status", func(d *CertificateDoc) { d.Status = "" }, "status"},
		{"fail/no-url", func(d *CertificateDoc) { d.VerifyURL = "" }, "verification URL"},
		{"fail/no-credential", func(d *CertificateDoc) { d.Credential = "" }, "credential"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc := testDoc(t, cert.StatusActive)
			tc.edit(&doc)
			pdf, err := RenderPDF(doc, Fonts{})
			if err == nil || !strings.Contains(err.Error(), tc.want) || pdf != nil {
				t.Errorf("RenderPDF: %d bytes, %v; want an error naming %s", len(pdf), err, tc.want)
			}
		})
	}
	// With no font at all, the coverage check refuses to print anything.
	if _, err := RenderPDF(testDoc(t, cert.StatusActive), Fonts{}); !errors.Is(err, ErrFontCoverage) {
		t.Errorf("RenderPDF with the zero Font: %v, want ErrFontCoverage", err)
	}
}

// TestRenderPDFConcurrent renders with one Font from several goroutines, as
// the server does; under -race it also guards against shared state.
func TestRenderPDFConcurrent(t *testing.T) {
	fonts := testFonts(t)
	doc := testDoc(t, cert.StatusActive)
	want, err := RenderPDF(doc, fonts)
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 3)
	for range 3 {
		go func() {
			got, err := RenderPDF(doc, fonts)
			if err == nil && !bytes.Equal(got, want) {
				err = errors.New("concurrent render differs")
			}
			errs <- err
		}()
	}
	for range 3 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

func BenchmarkRenderPDF(b *testing.B) {
	fonts := testFonts(b)
	doc := testDoc(b, cert.StatusActive)
	for b.Loop() {
		if _, err := RenderPDF(doc, fonts); err != nil {
			b.Fatal(err)
		}
	}
}

// TestRenderPDFSymbols prints what the CJK font alone could not: Latin
// symbols, Cyrillic, traditional Chinese and kana, each in the font of the
// chain that has it, and reads them back.
func TestRenderPDFSymbols(t *testing.T) {
	fonts := testFonts(t)
	tools := pdfTools(t)
	doc := testDoc(t, cert.StatusActive)
	c := doc.Certificate
	c.Organization.NameEn = "Example® Widgets™ – Москва Ltd."
	c.Scope = "信息系统运行维护服务（臺灣體系、株式会社あいうえお）"
	c.ScopeEn = "Services priced in € – quality™ — «Ω»"
	_, file := render(t, doc, fonts, "certificate-symbols")
	text := pdfText(t, tools["pdftotext"], file)
	for _, want := range []string{c.Organization.NameEn, c.Scope, c.ScopeEn} {
		if !strings.Contains(text, want) {
			t.Errorf("pdftotext output lacks %q:\n%s", want, text)
		}
	}
	// The Latin face, the simplified Chinese face (which has the kana of
	// GB 2312) and the traditional Chinese face.
	out := run(t, tools["pdffonts"], file)
	for _, name := range []string{"liberationserif-regular", "gbsn00lp", "bsmi00lp"} {
		if !strings.Contains(out, name) {
			t.Errorf("pdffonts does not list %s:\n%s", name, out)
		}
	}
}
