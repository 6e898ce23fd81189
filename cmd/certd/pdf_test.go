package main

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The PDF route serves a printable certificate whose attachment is the
// credential, re-rendered when the status changes.
func TestCertificatePDF(t *testing.T) {
	requireTool(t, "pdftotext")
	requireTool(t, "pdfdetach")
	if _, err := os.Stat("/usr/share/fonts/truetype/arphic-gbsn00lp/gbsn00lp.ttf"); err != nil {
		requireTool(t, "fonts-arphic-gbsn00lp (font file)")
	}
	ts := startServer(t, "")
	c := ts.issue(t, "default")
	id := c["id"].(string)
	r := ts.do("GET", "/v/"+id+"/certificate.pdf", "", nil)
	if r.Status != 200 || r.Header.Get("Content-Type") != "application/pdf" {
		t.Fatalf("certificate.pdf: %d %s %s", r.Status, r.Header.Get("Content-Type"), r.Body)
	}
	dir := t.TempDir()
	pdf := filepath.Join(dir, "c.pdf")
	if err := os.WriteFile(pdf, r.Body, 0o600); err != nil {
		t.Fatal(err)
	}
	text, err := exec.Command("pdftotext", pdf, "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"北京示例科技有限公司", c["number"].(string), testUSCC} {
		if !strings.Contains(string(text), want) {
			t.Errorf("PDF text lacks %q", want)
		}
	}
	if out, err := exec.Command("pdfdetach", "-saveall", "-o", dir, pdf).CombinedOutput(); err != nil {
		t.Fatalf("pdfdetach: %v %s", err, out)
	}
	att, err := os.ReadFile(filepath.Join(dir, "credential.jwt"))
	if err != nil {
		t.Fatal(err)
	}
	v := ts.do("POST", "/api/v1/verify", "", att, "Content-Type", "application/vc+jwt").JSON(t)
	if v["verdict"] != "valid" {
		t.Errorf("the attached credential does not verify: %v %v", v["verdict"], v["reason"])
	}

	// Cached: the same bytes again; after a suspension, a new PDF with the
	// watermark.
	again := ts.do("GET", "/v/"+id+"/certificate.pdf", "", nil)
	if !bytes.Equal(again.Body, r.Body) {
		t.Errorf("second download differs from the first (cache miss with no change)")
	}
	if r := ts.do("POST", "/api/v1/certificates/"+id+"/suspend", ts.Admin, map[string]any{"reason": "客户申请暂停"}); r.Status != 200 {
		t.Fatalf("suspend: %d %s", r.Status, r.Body)
	}
	suspended := ts.do("GET", "/v/"+id+"/certificate.pdf", "", nil)
	if bytes.Equal(suspended.Body, r.Body) {
		t.Fatalf("PDF unchanged after suspension: the cache does not follow status changes")
	}
	_ = os.WriteFile(pdf, suspended.Body, 0o600)
	text, _ = exec.Command("pdftotext", "-raw", pdf, "-").Output()
	// The rotated watermark may come out with spaces between letters.
	if !strings.Contains(strings.Join(strings.Fields(string(text)), ""), "SUSPENDED") {
		t.Errorf("suspended certificate's PDF lacks the watermark")
	}
	if r := ts.do("GET", "/v/0000000000000000000000000Z/certificate.pdf", "", nil); r.Status != 404 {
		t.Errorf("unknown id: %d", r.Status)
	}
}

// logoPNG is a 96x48 navy badge with a gold disc on a transparent ground.
func logoPNG(t testing.TB) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, 96, 48))
	for y := range 48 {
		for x := range 96 {
			switch {
			case (x-24)*(x-24)+(y-24)*(y-24) < 400:
				img.Set(x, y, color.NRGBA{R: 176, G: 141, B: 68, A: 255})
			case x >= 50 && y >= 12 && y < 36:
				img.Set(x, y, color.NRGBA{R: 22, G: 48, B: 96, A: 255})
			}
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// imageRows matches the rows of pdfimages -list that are images (not
// their soft masks).
var imageRows = regexp.MustCompile(`(?m)^\s*\d+\s+\d+\s+image\s`)

// pdfFile downloads the PDF of certificate id into dir.
func (ts *testServer) pdfFile(t testing.TB, id, dir string) string {
	t.Helper()
	r := ts.do("GET", "/v/"+id+"/certificate.pdf", "", nil)
	if r.Status != 200 || r.Header.Get("Content-Type") != "application/pdf" {
		t.Fatalf("certificate.pdf of %s: %d %s %s", id, r.Status, r.Header.Get("Content-Type"), r.Body)
	}
	file := filepath.Join(dir, id+".pdf")
	if err := os.WriteFile(file, r.Body, 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

// runTool runs a poppler tool and returns its output.
func runTool(t testing.TB, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(requireTool(t, name), args...).Output()
	if err != nil {
		t.Fatalf("%s %v: %v", name, args, err)
	}
	return string(out)
}

// TestCertificatePDFIssuerProfile: after the profile is edited and a logo
// and a seal uploaded, a new certificate's PDF prints the new names, the
// accreditation and approval numbers and the signatory, and carries the
// logo and the seal (with their transparency) besides the QR code; its
// sites are printed, on an annex page when there are many. A certificate
// issued before keeps the name it was signed with, and its attached
// credential still verifies.
func TestCertificatePDFIssuerProfile(t *testing.T) {
	for _, tool := range []string{"pdftotext", "pdfimages", "pdfinfo", "pdfdetach"} {
		requireTool(t, tool)
	}
	if _, err := os.Stat("/usr/share/fonts/truetype/arphic-gbsn00lp/gbsn00lp.ttf"); err != nil {
		requireTool(t, "fonts-arphic-gbsn00lp (font file)")
	}
	ts := startServer(t, "")
	dir := t.TempDir()
	old := ts.issue(t, "default")
	oldFile := ts.pdfFile(t, old["id"].(string), dir)
	if images := runTool(t, "pdfimages", "-list", oldFile); len(imageRows.FindAllString(images, -1)) != 1 {
		t.Errorf("PDF before any image was uploaded: want the QR code alone:\n%s", images)
	}

	const newZh, newEn = "华信认证中心", "Huaxin Certification Centre"
	r := ts.patch(t, `{"name": "`+newEn+`", "nameZh": "`+newZh+`",
		"accreditation": [{"body": "CNAS", "number": "CNAS C001-M"}, {"body": "IAF", "number": "IAF MLA 2021-88"}],
		"approvalNumber": "CNCA-R-2002-001", "signatory": {"name": "张三", "title": "总经理 General Manager"}}`, `"1"`)
	if r.Status != http.StatusOK {
		t.Fatalf("PATCH profile: %d %s", r.Status, r.Body)
	}
	for kind, body := range map[string][]byte{"seal": sealPNG(t), "logo": logoPNG(t)} {
		if r := ts.do("PUT", "/api/v1/issuers/default/"+kind, ts.Admin, body, "Content-Type", "image/png"); r.Status != http.StatusOK {
			t.Fatalf("PUT %s: %d %s", kind, r.Status, r.Body)
		}
	}

	fresh := ts.issueCert(t, map[string]any{"sites": []any{
		map[string]any{"name": "松山湖数据中心", "address": "东莞市松山湖科技园", "scope": "数据中心运维"}, "上海分公司"}}, nil)
	file := ts.pdfFile(t, fresh["id"].(string), dir)
	text := strings.Join(strings.Fields(runTool(t, "pdftotext", "-raw", file, "-")), " ")
	for _, want := range []string{newZh, newEn, "CNAS C001-M", "IAF MLA 2021-88", "CNCA-R-2002-001", "张三", "总经理 General Manager",
		"认证场所", "松山湖数据中心", "东莞市松山湖科技园", "数据中心运维", "上海分公司"} {
		if !strings.Contains(text, want) {
			t.Errorf("new certificate's PDF text lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "默认认证机构") {
		t.Errorf("new certificate's PDF shows the old issuer name:\n%s", text)
	}
	// The QR code, the logo (96x48) and the seal (64x64), the last two
	// each with its soft mask.
	images := runTool(t, "pdfimages", "-list", file)
	for _, re := range []string{`(?m)\s+image\s+96\s+48\s`, `(?m)\s+smask\s+96\s+48\s`, `(?m)\s+image\s+64\s+64\s`, `(?m)\s+smask\s+64\s+64\s`} {
		if !regexp.MustCompile(re).MatchString(images) {
			t.Errorf("pdfimages -list does not match %s:\n%s", re, images)
		}
	}
	if n := len(imageRows.FindAllString(images, -1)); n != 3 {
		t.Errorf("pdfimages -list shows %d images, want 3 (QR, logo, seal):\n%s", n, images)
	}
	if info := runTool(t, "pdfinfo", file); !regexp.MustCompile(`(?m)^Pages:\s+1$`).MatchString(info) {
		t.Errorf("a certificate with two sites takes more than one page:\n%s", info)
	}
	// The images leave the attached credential readable to "verify a file".
	pdf, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if r := ts.uploadFile(t, "/api/v1/verify/file", "application/json", pdf); r.Status != http.StatusOK || r.JSON(t)["verdict"] != "valid" {
		t.Errorf("POST /api/v1/verify/file with the new PDF: %d %s, want valid", r.Status, r.Body)
	}

	// The certificate issued before: the name it was signed with, the
	// current name beside it, and a credential that still verifies.
	oldFile = ts.pdfFile(t, old["id"].(string), dir)
	text = strings.Join(strings.Fields(runTool(t, "pdftotext", "-raw", oldFile, "-")), " ")
	for _, want := range []string{"默认认证机构", "现名称 Now: " + newZh} {
		if !strings.Contains(text, want) {
			t.Errorf("old certificate's PDF text lacks %q:\n%s", want, text)
		}
	}
	att := filepath.Join(dir, "old.jwt")
	runTool(t, "pdfdetach", "-save", "1", "-o", att, oldFile)
	jwt, err := os.ReadFile(att)
	if err != nil {
		t.Fatal(err)
	}
	if v := ts.do("POST", "/api/v1/verify", "", jwt, "Content-Type", "application/vc+jwt").JSON(t); v["verdict"] != "valid" {
		t.Errorf("old certificate's attached credential: %v %v, want valid", v["verdict"], v["reason"])
	}

	// Twelve sites go on an annex page, every one of them printed.
	var sites []any
	for i := 1; i <= 12; i++ {
		sites = append(sites, map[string]any{"name": fmt.Sprintf("第%d分公司", i), "address": fmt.Sprintf("北京市海淀区中关村大街%d号", i), "scope": "信息系统运行维护服务"})
	}
	many := ts.issueCert(t, map[string]any{"sites": sites}, nil)
	file = ts.pdfFile(t, many["id"].(string), dir)
	if info := runTool(t, "pdfinfo", file); !regexp.MustCompile(`(?m)^Pages:\s+2$`).MatchString(info) {
		t.Errorf("a certificate with 12 sites: want the certificate and one annex page:\n%s", info)
	}
	text = strings.Join(strings.Fields(runTool(t, "pdftotext", "-raw", file, "-")), " ")
	for _, want := range []string{"认证场所：见附件（1页）", "附件 认证场所", "第1分公司", "第12分公司", "北京市海淀区中关村大街12号"} {
		if !strings.Contains(text, want) {
			t.Errorf("12-site certificate's PDF text lacks %q:\n%s", want, text)
		}
	}
}
