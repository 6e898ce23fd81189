package templates

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certd/certd/cert"
)

// pdfGoldenCases are the certificates whose PDFs are pinned byte for byte:
// a plain one, one with a watermark, the issuer's profile with images and
// sites, a large seal with sites on an annex, and text set in three fonts.
func pdfGoldenCases(t testing.TB) map[string]CertificateDoc {
	t.Helper()
	annex := profileDoc(t)
	annex.Seal = testSealPNG(t, 800)
	for i := len(annex.Certificate.Sites); i < 10; i++ {
		annex.Certificate.Sites = append(annex.Certificate.Sites, cert.Site{
			Name: fmt.Sprintf("第%d分公司", i+1), Address: "北京市海淀区中关村大街1号", Scope: "信息系统运行维护服务"})
	}
	symbols := testDoc(t, cert.StatusActive)
	symbols.Certificate.Organization.NameEn = "Example® Widgets™ – Москва Ltd."
	symbols.Certificate.Scope = "信息系统运行维护服务（臺灣體系、株式会社あいうえお）"
	symbols.Certificate.ScopeEn = "Services priced in € – quality™ — «Ω»"
	return map[string]CertificateDoc{
		"plain":          testDoc(t, cert.StatusActive),
		"suspended":      testDoc(t, cert.StatusSuspended),
		"profile":        profileDoc(t),
		"seal-800-annex": annex,
		"symbols":        symbols,
	}
}

// TestRenderPDFGolden pins the bytes of the PDFs: caching what does not
// change between certificates (parsed fonts, scaled images) must not change
// a byte of what is printed. The PDFs depend on the font files, so the
// golden file names the SHA-256 of the chain it was made with, and the
// test skips on a machine with other font files (go test -update rewrites
// it there).
func TestRenderPDFGolden(t *testing.T) {
	fonts := testFonts(t)
	h := sha256.New()
	for _, f := range fonts.list {
		h.Write(f.Data)
	}
	fontsSum := hex.EncodeToString(h.Sum(nil))
	var got strings.Builder
	fmt.Fprintf(&got, "fonts %s\n", fontsSum)
	cases := pdfGoldenCases(t)
	for _, name := range []string{"plain", "suspended", "profile", "seal-800-annex", "symbols"} {
		// Twice each: the second render is the one that uses the caches.
		for range 2 {
			pdf, err := RenderPDF(cases[name], fonts)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			sum := sha256.Sum256(pdf)
			fmt.Fprintf(&got, "%s %s\n", name, hex.EncodeToString(sum[:]))
		}
	}
	file := filepath.Join("testdata", "golden", "pdf_sha256.txt")
	if *update {
		if err := os.WriteFile(file, []byte(got.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (go test -update creates it)", err)
	}
	if first, _, _ := strings.Cut(string(want), "\n"); first != "fonts "+fontsSum {
		t.Skipf("the golden PDFs were made with other font files (%s, here fonts %s)", first, fontsSum)
	}
	if got.String() != string(want) {
		t.Errorf("%s differs (go test -update rewrites it):\n--- got\n%s--- want\n%s", file, got.String(), want)
	}
}
