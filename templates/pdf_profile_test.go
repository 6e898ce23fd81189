package templates

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/templates/qrtest"
)

// testSealPNG is a round red stamp on a transparent ground, px pixels
// wide: an outer ring, an inner ring and a five-pointed star, with
// anti-aliased edges (partial alpha).
func testSealPNG(t testing.TB, px int) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, px, px))
	c := float64(px) / 2
	star := func(x, y float64) bool {
		// Inside a five-pointed star of outer radius 0.3 c, its boundary
		// taken as running from the outer to the inner radius linearly
		// with the angle.
		dx, dy := x-c, y-c
		r := math.Hypot(dx, dy) / c
		a := math.Mod(math.Atan2(dx, -dy)+2*math.Pi, 2*math.Pi/5) - math.Pi/5
		const ro, ri = 0.3, 0.12
		lim := ri + (ro-ri)*(1-math.Abs(a)/(math.Pi/5))
		return r < lim
	}
	for y := range px {
		for x := range px {
			// 4x4 supersampling for the edges.
			hits := 0
			for sy := range 4 {
				for sx := range 4 {
					fx, fy := float64(x)+(float64(sx)+0.5)/4, float64(y)+(float64(sy)+0.5)/4
					r := math.Hypot(fx-c, fy-c) / c
					if (r > 0.9 && r < 0.98) || (r > 0.8 && r < 0.83) || star(fx, fy) {
						hits++
					}
				}
			}
			if hits > 0 {
				img.Set(x, y, color.NRGBA{R: 215, G: 25, B: 32, A: uint8(hits * 255 / 16)})
			}
		}
	}
	return encodePNG(t, img)
}

// testLogoPNG is a navy badge with a gold disc on a transparent ground,
// twice as wide as high.
func testLogoPNG(t testing.TB) []byte {
	t.Helper()
	const w, h = 120, 60
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			switch {
			case math.Hypot(float64(x)-30, float64(y)-30) < 22:
				img.Set(x, y, color.NRGBA{R: 176, G: 141, B: 68, A: 255})
			case x >= 58 && x < 116 && y >= 14 && y < 46:
				img.Set(x, y, color.NRGBA{R: 22, G: 48, B: 96, A: 255})
			}
		}
	}
	return encodePNG(t, img)
}

func encodePNG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// signedCredential stands for a compact JWS whose payload names the issuer
// as it was at issuance; RenderPDF reads the payload, not the signature.
func signedCredential(t testing.TB, issuer cert.CredentialIssuer) string {
	t.Helper()
	payload, err := json.Marshal(map[string]any{"iss": "https://certs.example.com/issuers/default", "issuer": issuer})
	if err != nil {
		t.Fatal(err)
	}
	return "eyJhbGciOiJFZERTQSJ9." + base64.RawURLEncoding.EncodeToString(payload) + ".c2lnbmF0dXJl"
}

// profileDoc is testDoc with an issuer profile in full: signatory,
// approval, logo and seal, and a credential that signed the same name and
// accreditation.
func profileDoc(t testing.TB) CertificateDoc {
	t.Helper()
	doc := testDoc(t, cert.StatusActive)
	is := doc.Issuer
	is.ApprovalNumber = "CNCA-R-2002-001"
	is.Accreditation = append(is.Accreditation, cert.Accreditation{Body: "IAF", Number: "IAF MLA 2021-88"})
	is.Signatory = &cert.Signatory{Name: "王建国", Title: "总经理 General Manager"}
	doc.Credential = signedCredential(t, cert.CredentialIssuer{ID: "https://certs.example.com/issuers/default", Name: is.NameZh,
		Accreditation: &cert.CredentialAccreditation{Accreditations: is.Accreditation, ApprovalNumber: is.ApprovalNumber}})
	doc.Certificate.Credential = doc.Credential
	doc.Logo, doc.Seal = testLogoPNG(t), testSealPNG(t, 240)
	doc.Certificate.Sites = []cert.Site{
		{Name: "总部", Address: "北京市海淀区中关村大街1号", Scope: "运行维护服务的管理与交付"},
		{Name: "上海数据中心 Shanghai data centre", Address: "上海市浦东新区张江路88号", Scope: "数据中心基础设施运维"},
	}
	return doc
}

// pdfImages lists the images of a PDF (pdfimages -list): type and size of
// each, as "image 240x240" or "smask 240x240".
func pdfImages(t testing.TB, file string) []string {
	t.Helper()
	out := run(t, requireTool(t, "pdfimages"), "-list", file)
	var list []string
	for _, l := range strings.Split(out, "\n")[2:] {
		f := strings.Fields(l)
		if len(f) > 5 {
			list = append(list, f[2]+" "+f[3]+"x"+f[4])
		}
	}
	return list
}

// TestRenderPDFIssuerProfile: the logo, the seal, the signatory, the
// accreditations and the approval number are on the page, and the sites.
func TestRenderPDFIssuerProfile(t *testing.T) {
	fonts := testFonts(t)
	tools := pdfTools(t)
	doc := profileDoc(t)
	_, file := render(t, doc, fonts, "certificate-profile")
	// The QR code still reads with the seal and the logo on the page.
	pngFile, err := os.ReadFile(rasterize(t, tools["pdftoppm"], file))
	if err != nil {
		t.Fatal(err)
	}
	if got := qrtest.Decode(t, decodePNG(t, pngFile)).GetText(); got != doc.QRContent {
		t.Errorf("decoded %q from the page, want %q", got, doc.QRContent)
	}
	checkLayout(t, wordBoxes(t, tools["pdftotext"], file))
	text := pdfText(t, tools["pdftotext"], file)
	for _, want := range []string{
		"王建国", "总经理 General Manager", "授权签字人", "CNCA-R-2002-001", "CNAS C123-M", "IAF MLA 2021-88",
		"中认示例认证有限公司", "Example Certification Co., Ltd.", "2026年11月27日",
		"认证场所", "总部", "北京市海淀区中关村大街1号", "运行维护服务的管理与交付",
		"上海数据中心 Shanghai data centre", "上海市浦东新区张江路88号", "数据中心基础设施运维",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("pdftotext output lacks %q:\n%s", want, text)
		}
	}
	// The QR code, the logo and the seal, each colour image of the two
	// with its soft mask (the transparency).
	images := strings.Join(pdfImages(t, file), ", ")
	for _, want := range []string{"image 120x60", "smask 120x60", "image 240x240", "smask 240x240"} {
		if !strings.Contains(images, want) {
			t.Errorf("pdfimages -list: %s; lacks %s", images, want)
		}
	}
	if n := strings.Count(images, "image "); n != 3 {
		t.Errorf("pdfimages -list: %s; want 3 images (QR, logo, seal)", images)
	}

	t.Run("without-images", func(t *testing.T) {
		doc := profileDoc(t)
		doc.Logo, doc.Seal = nil, nil
		_, file := render(t, doc, fonts, "certificate-profile-plain")
		if images := pdfImages(t, file); len(images) != 1 {
			t.Errorf("pdfimages -list: %v; want the QR code alone", images)
		}
	})

	t.Run("unreadable-image-left-out", func(t *testing.T) {
		doc := profileDoc(t)
		doc.Seal = []byte("\x89PNG\r\n\x1a\nnot a png")
		_, file := render(t, doc, fonts, "certificate-profile-bad-seal")
		if images := strings.Join(pdfImages(t, file), ", "); strings.Count(images, "image ") != 2 {
			t.Errorf("pdfimages -list: %s; want the QR code and the logo", images)
		}
	})

	t.Run("large-seal-scaled", func(t *testing.T) {
		// A 1200-pixel seal is printed at 400 pixels, its transparency kept.
		doc := profileDoc(t)
		doc.Seal = testSealPNG(t, 1200)
		_, file := render(t, doc, fonts, "certificate-profile-seal1200")
		if images := strings.Join(pdfImages(t, file), ", "); !strings.Contains(images, "image 400x400") || !strings.Contains(images, "smask 400x400") {
			t.Errorf("pdfimages -list: %s; want the seal scaled to 400x400 with its mask", images)
		}
	})

	t.Run("16-bit-seal", func(t *testing.T) {
		// Go writes 16-bit PNGs for 16-bit sources, which fpdf cannot read
		// as they are.
		img := image.NewNRGBA64(image.Rect(0, 0, 50, 50))
		for y := range 50 {
			for x := range 50 {
				if math.Hypot(float64(x)-25, float64(y)-25) < 22 {
					img.Set(x, y, color.NRGBA64{R: 0xd000, A: 0xffff})
				}
			}
		}
		doc := profileDoc(t)
		doc.Seal = encodePNG(t, img)
		_, file := render(t, doc, fonts, "certificate-profile-seal16")
		if images := strings.Join(pdfImages(t, file), ", "); !strings.Contains(images, "image 50x50") || !strings.Contains(images, "smask 50x50") {
			t.Errorf("pdfimages -list: %s; want the 16-bit seal as an image with its mask", images)
		}
	})
}

// TestRenderPDFSignedIssuer: a certificate shows the issuer's name and
// accreditation as its credential signed them, and the name now when the
// issuer was renamed since; what an old credential lacks comes from the
// profile.
func TestRenderPDFSignedIssuer(t *testing.T) {
	fonts := testFonts(t)
	pdftotext := requireTool(t, "pdftotext")
	tests := []struct {
		name         string
		signed       cert.CredentialIssuer
		want, absent []string
	}{
		{"renamed", cert.CredentialIssuer{Name: "旧名认证中心", Accreditation: &cert.CredentialAccreditation{
			Accreditations: []cert.Accreditation{{Body: "CNAS", Number: "CNAS C001-M"}}, ApprovalNumber: "CNCA-R-2001-009"}},
			[]string{"旧名认证中心", "现名称 Now: 中认示例认证有限公司 Example Certification Co., Ltd.", "CNAS C001-M", "CNCA-R-2001-009"},
			[]string{"CNAS C123-M", "CNCA-R-2002-001"}},
		{"old-credential-without-accreditation", cert.CredentialIssuer{Name: "中认示例认证有限公司"},
			[]string{"中认示例认证有限公司", "Example Certification Co., Ltd.", "CNAS C123-M", "CNCA-R-2002-001"},
			[]string{"现名称"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc := profileDoc(t)
			doc.Credential = signedCredential(t, tc.signed)
			_, file := render(t, doc, fonts, "certificate-signed-"+tc.name)
			text := pdfText(t, pdftotext, file)
			for _, want := range tc.want {
				if !strings.Contains(text, want) {
					t.Errorf("pdftotext output lacks %q:\n%s", want, text)
				}
			}
			for _, bad := range tc.absent {
				if strings.Contains(text, bad) {
					t.Errorf("pdftotext output shows %q:\n%s", bad, text)
				}
			}
		})
	}
}

// TestRenderPDFSites: sites that fit are on the certificate; ten sites
// with a 60-character name and a 200-character scope go on an annex page,
// in full and in order, and no word crosses the frame.
func TestRenderPDFSites(t *testing.T) {
	fonts := testFonts(t)
	pdftotext := requireTool(t, "pdftotext")
	const zhSentence = "信息系统运行维护服务，包括基础环境、硬件、软件及数据的例行操作；"
	sites := func(n int) []cert.Site {
		var out []cert.Site
		for i := 1; i <= n; i++ {
			out = append(out, cert.Site{
				Name:    fmt.Sprintf("T%03d 北京示例科技有限公司第%d分公司", i, i),
				Address: fmt.Sprintf("北京市海淀区中关村大街%d号院%d号楼", i, i),
				Scope:   "信息系统运行维护服务及数据中心基础设施运维",
			})
		}
		return out
	}
	tests := []struct {
		name    string
		sites   int
		orgName string
		scopeN  int
		pages   int
		annex   string
	}{
		{name: "sites-3", sites: 3, scopeN: 1, pages: 1},
		{name: "name-60-scope-200-sites-10", sites: 10, orgName: strings.Repeat("北京示例科技", 9) + "有限公司名称", scopeN: 6, pages: 2, annex: "附件 认证场所"},
		{name: "sites-40", sites: 40, scopeN: 6, pages: 3, annex: "附件 认证场所"},
		{name: "scope-1000-sites-10", sites: 10, scopeN: 30, pages: 2, annex: "附件 认证范围及认证场所"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc := profileDoc(t)
			c := doc.Certificate
			c.Sites = sites(tc.sites)
			c.Scope = strings.Repeat(zhSentence, tc.scopeN)
			c.ScopeEn = ""
			if tc.orgName != "" {
				c.Organization.Name = tc.orgName
			}
			_, file := render(t, doc, fonts, "certificate-"+tc.name)
			pages := wordBoxes(t, pdftotext, file)
			if len(pages) != tc.pages {
				t.Fatalf("%d pages, want %d", len(pages), tc.pages)
			}
			checkLayout(t, pages)
			for i, words := range pages {
				for _, w := range words {
					if i == 0 && regexp.MustCompile(`^T\d{3}$`).MatchString(w.text) && w.yMax > pdfRule/pdfPtToMM {
						t.Errorf("site %q at y %.1f pt runs into the bottom block (rule at %.1f)", w.text, w.yMax, pdfRule/pdfPtToMM)
					}
				}
			}
			text := pdfText(t, pdftotext, file)
			pos := 0
			for i := 1; i <= tc.sites; i++ {
				marker := fmt.Sprintf("T%03d", i)
				at := strings.Index(text[pos:], marker)
				if at < 0 {
					t.Fatalf("pdftotext output lacks site %s after byte %d:\n%s", marker, pos, text)
				}
				pos += at + len(marker)
			}
			if tc.annex == "" {
				if strings.Contains(text, "见附件") {
					t.Errorf("certificate refers to an annex it does not have:\n%s", text)
				}
			} else if !strings.Contains(text, tc.annex) || !strings.Contains(text, "见附件") {
				t.Errorf("pdftotext output lacks the annex %q and the reference to it:\n%s", tc.annex, text)
			}
			if tc.orgName != "" && !strings.Contains(strings.ReplaceAll(text, " ", ""), tc.orgName) {
				t.Errorf("pdftotext output lacks the name %q", tc.orgName)
			}
		})
	}
}

// TestRenderPDFLongProfile: a long issuer name, a long signatory title,
// four accreditations, a 60-character company name and ten sites: every
// word inside the frame, no word drawn over another, and all of them
// printed.
func TestRenderPDFLongProfile(t *testing.T) {
	pdftotext := requireTool(t, "pdftotext")
	doc := profileDoc(t)
	is := doc.Issuer
	is.NameZh = strings.Repeat("中国质量认证", 5) + "中心有限公司"
	is.Name = strings.Repeat("China Quality Certification ", 3) + "Centre Co., Ltd."
	is.Accreditation = []cert.Accreditation{{Body: "CNAS", Number: "CNAS C001-M"}, {Body: "CNAS", Number: "CNAS C001-E"},
		{Body: "IAF", Number: "IAF MLA 2021-88"}, {Body: "UKAS", Number: "UKAS 1234"}}
	is.Signatory = &cert.Signatory{Name: "欧阳建国", Title: "总经理兼管理者代表 General Manager and Management Representative"}
	doc.Credential = signedCredential(t, cert.CredentialIssuer{Name: is.NameZh, Accreditation: &cert.CredentialAccreditation{
		Accreditations: is.Accreditation, ApprovalNumber: "CNCA-R-2002-001"}})
	c := doc.Certificate
	c.Organization.Name = strings.Repeat("北京示例科技", 9) + "有限公司名称"
	c.Scope = strings.Repeat("信息系统运行维护服务，包括基础环境、硬件、软件及数据的例行操作；", 6)
	for i := len(c.Sites); i < 10; i++ {
		c.Sites = append(c.Sites, cert.Site{Name: fmt.Sprintf("第%d分公司", i+1), Address: "北京市海淀区中关村大街1号", Scope: "信息系统运行维护服务"})
	}
	_, file := render(t, doc, testFonts(t), "certificate-long-profile")
	checkLayout(t, wordBoxes(t, pdftotext, file))
	text := strings.ReplaceAll(pdfText(t, pdftotext, file), " ", "")
	for _, want := range []string{is.NameZh, "欧阳建国", "UKAS1234", "CNCA-R-2002-001", "第10分公司", c.Organization.Name} {
		if !strings.Contains(text, want) {
			t.Errorf("pdftotext output lacks %q:\n%s", want, text)
		}
	}
}

// checkLayout fails when a word crosses the inner frame line or is drawn
// over another word.
func checkLayout(t testing.TB, pages [][]wordBox) {
	t.Helper()
	const inner = pdfFrameInner / pdfPtToMM
	for i, words := range pages {
		for j, w := range words {
			if w.xMin < inner || w.yMin < inner || w.xMax > pdfPageW/pdfPtToMM-inner || w.yMax > pdfPageH/pdfPtToMM-inner {
				t.Errorf("page %d: %q at (%.1f,%.1f)-(%.1f,%.1f) pt crosses the frame", i+1, w.text, w.xMin, w.yMin, w.xMax, w.yMax)
			}
			for _, o := range words[:j] {
				// Boxes include the ascent and descent of the font: adjacent
				// lines may touch, so only a clear overlap counts.
				const slack = 1.5
				if w.xMin+slack < o.xMax && o.xMin+slack < w.xMax && w.yMin+slack < o.yMax && o.yMin+slack < w.yMax {
					t.Errorf("page %d: %q at (%.1f,%.1f)-(%.1f,%.1f) is drawn over %q at (%.1f,%.1f)-(%.1f,%.1f)",
						i+1, w.text, w.xMin, w.yMin, w.xMax, w.yMax, o.text, o.xMin, o.yMin, o.xMax, o.yMax)
				}
			}
		}
	}
}

// TestPDFFitImage: an image larger than its printed size is scaled down
// keeping its proportions, its transparent ground and the colour of its
// edges (no dark fringe from averaging with transparent black); a small
// one and one that is not a PNG are passed through.
func TestPDFFitImage(t *testing.T) {
	seal := testSealPNG(t, 1000)
	scaled := pdfFitImage(seal, 400)
	img, err := png.Decode(bytes.NewReader(scaled))
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 400 || b.Dy() != 400 {
		t.Fatalf("scaled to %v, want 400x400", b.Size())
	}
	if _, _, _, a := img.At(2, 2).RGBA(); a != 0 {
		t.Errorf("corner alpha %d, want transparent", a)
	}
	edges := 0
	for y := range 400 {
		for x := range 400 {
			c := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
			// Below alpha 32 premultiplied 8-bit values are too coarse to
			// keep the hue exactly; such pixels are all but invisible.
			if c.A < 32 || c.A == 255 {
				continue
			}
			edges++
			if c.R < 200 || c.G > 40 || c.B > 45 {
				t.Fatalf("edge pixel (%d,%d) = %v, want the seal's red (215,25,32) at partial alpha", x, y, c)
			}
		}
	}
	if edges == 0 {
		t.Error("no partially transparent pixels: the edges were not averaged")
	}
	if again := pdfFitImage(seal, 400); !bytes.Equal(again, scaled) {
		t.Error("a second call gives other bytes")
	}
	// Renders share the scaled images: concurrent calls (under -race) for
	// one image and for more images than are kept.
	done := make(chan []byte, 4)
	for i := range 4 {
		go func() {
			for j := range 5 {
				pdfFitImage(encodePNG(t, image.NewNRGBA(image.Rect(0, 0, 401+i*5+j, 401))), 400)
			}
			done <- pdfFitImage(seal, 400)
		}()
	}
	for range 4 {
		if got := <-done; !bytes.Equal(got, scaled) {
			t.Error("a concurrent call gives other bytes")
		}
	}
	small := testSealPNG(t, 100)
	if got := pdfFitImage(small, 400); !bytes.Equal(got, small) {
		t.Error("an image within the size was re-encoded")
	}
	if got := pdfFitImage([]byte("not a png"), 400); string(got) != "not a png" {
		t.Errorf("unreadable data changed to %q", got)
	}
	wide := encodePNG(t, image.NewNRGBA(image.Rect(0, 0, 1200, 300)))
	if cfg, err := png.DecodeConfig(bytes.NewReader(pdfFitImage(wide, 600))); err != nil || cfg.Width != 600 || cfg.Height != 150 {
		t.Errorf("1200x300 scaled to %dx%d (%v), want 600x150", cfg.Width, cfg.Height, err)
	}
}
