package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
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
