package templates

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/makiuchi-d/gozxing"

	"github.com/certd/certd/templates/qrtest"
)

const (
	testPublicURL = "https://certs.example.com"
	testID        = "01JD3Z8K8X5V6Q2W9N4R7T1Y0M"
)

// requireTool returns the path of a system tool (a command name) or file (an
// absolute path). When it is missing the test is skipped, or fails when
// CERTD_REQUIRE_TOOLS=1, which CI sets after installing the tools.
func requireTool(t testing.TB, name string) string {
	t.Helper()
	var path string
	var err error
	if filepath.IsAbs(name) {
		path = name
		_, err = os.Stat(name)
	} else {
		path, err = exec.LookPath(name)
	}
	if err == nil {
		return path
	}
	if os.Getenv("CERTD_REQUIRE_TOOLS") == "1" {
		t.Fatalf("%s is required when CERTD_REQUIRE_TOOLS=1: %v", name, err)
	}
	t.Skipf("%s is not available (%v); set CERTD_REQUIRE_TOOLS=1 to fail instead", name, err)
	return ""
}

func decodePNG(t testing.TB, b []byte) image.Image {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("png decode: %v", err)
	}
	return img
}

// zbarDecode decodes the QR code in a PNG file with zbarimg.
func zbarDecode(t testing.TB, zbarimg, file string) string {
	t.Helper()
	// Only stdout: zbarimg may complain about D-Bus on stderr.
	var stderr bytes.Buffer
	cmd := exec.Command(zbarimg, "--raw", "-q", "-Sdisable", "-Sqrcode.enable", file)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("zbarimg %s: %v\n%s", file, err, stderr.Bytes())
	}
	return strings.TrimRight(string(out), "\n")
}

// isDark reports whether a pixel is closer to black than to white.
func isDark(c color.Color) bool {
	return color.GrayModel.Convert(c).(color.Gray).Y < 128
}

func TestQRPNG(t *testing.T) {
	upper := QRContent(testPublicURL, testID)
	tests := []struct {
		name    string
		content string
		size    int
	}{
		{"ok/default-size-alphanumeric", upper, DefaultQRSize},
		{"ok/byte-mode", "https://example.com/certd/v/" + testID + "?lang=zh", DefaultQRSize},
		{"ok/small", upper, 120},
		{"ok/smaller-than-modules", upper, 10},
		{"ok/utf8", "北京示例科技有限公司 " + testID, 300},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := QRPNG(tc.content, tc.size)
			if err != nil {
				t.Fatalf("QRPNG: %v", err)
			}
			img := decodePNG(t, b)
			res := qrtest.Decode(t, img)
			if got := res.GetText(); got != tc.content {
				t.Errorf("decoded %q, want %q", got, tc.content)
			}
			if got := res.GetResultMetadata()[gozxing.ResultMetadataType_ERROR_CORRECTION_LEVEL]; got != "M" {
				t.Errorf("error correction level %v, want M", got)
			}

			// The symbol's module count follows from its version, which
			// gozxing reports through the finder pattern spacing; here we
			// take it from the matrix and check the pixels against it.
			m, err := qrMatrix(tc.content)
			if err != nil {
				t.Fatal(err)
			}
			n := len(m)
			side := img.Bounds().Dx()
			if img.Bounds().Dy() != side {
				t.Fatalf("image %v is not square", img.Bounds())
			}
			scale := max(1, tc.size/n)
			if side != n*scale {
				t.Fatalf("side %d px, want %d modules x %d px", side, n, scale)
			}
			if tc.size >= n && side > tc.size {
				t.Errorf("side %d px exceeds the requested %d", side, tc.size)
			}
			// Whole pixels per module: every module is one flat colour that
			// matches the matrix; the outer QRQuietZone modules are white.
			for my := range n {
				for mx := range n {
					want := m[my][mx]
					quiet := mx < QRQuietZone || my < QRQuietZone || mx >= n-QRQuietZone || my >= n-QRQuietZone
					if quiet && want {
						t.Fatalf("module (%d,%d) in the quiet zone is dark", mx, my)
					}
					for py := my * scale; py < (my+1)*scale; py++ {
						for px := mx * scale; px < (mx+1)*scale; px++ {
							if isDark(img.At(px, py)) != want {
								t.Fatalf("pixel (%d,%d) of module (%d,%d): dark=%v, want %v", px, py, mx, my, !want, want)
							}
						}
					}
				}
			}
		})
	}
}

func TestQRPNGErrors(t *testing.T) {
	for _, tc := range []struct {
		name    string
		content string
		size    int
	}{
		{"fail/empty", "", 512},
		{"fail/size-zero", "X", 0},
		{"fail/too-long", strings.Repeat("x", 3000), 512},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if b, err := QRPNG(tc.content, tc.size); err == nil {
				t.Errorf("QRPNG gave %d bytes and no error", len(b))
			}
		})
	}
}

// TestQRPNGDownscaled checks that the default PNG still scans at a quarter
// of its size, as a thumbnail or a distant phone camera sees it.
func TestQRPNGDownscaled(t *testing.T) {
	content := QRContent(testPublicURL, testID)
	b, err := QRPNG(content, DefaultQRSize)
	if err != nil {
		t.Fatal(err)
	}
	small := qrtest.Downscale(decodePNG(t, b), 4)
	if got := qrtest.Decode(t, small).GetText(); got != content {
		t.Errorf("decoded %q from the 25%% image (%v), want %q", got, small.Bounds().Size(), content)
	}
}

func TestQRSVG(t *testing.T) {
	content := QRContent(testPublicURL, testID)
	svg, err := QRSVG(content)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`shape-rendering="crispEdges"`, `xmlns="http://www.w3.org/2000/svg"`, "</svg>"} {
		if !bytes.Contains(svg, []byte(want)) {
			t.Errorf("svg lacks %s", want)
		}
	}
	img, n := qrtest.RasterizeSVG(t, svg, 8)
	pngBytes, err := QRPNG(content, DefaultQRSize)
	if err != nil {
		t.Fatal(err)
	}
	fromPNG := qrtest.Decode(t, decodePNG(t, pngBytes)).GetText()
	fromSVG := qrtest.Decode(t, img)
	if got := fromSVG.GetText(); got != fromPNG || got != content {
		t.Errorf("svg decodes to %q, png to %q, want %q", got, fromPNG, content)
	}
	if got := fromSVG.GetResultMetadata()[gozxing.ResultMetadataType_ERROR_CORRECTION_LEVEL]; got != "M" {
		t.Errorf("svg error correction level %v, want M", got)
	}
	m, _ := qrMatrix(content)
	if n != len(m) {
		t.Errorf("viewBox %d modules, want %d (symbol and quiet zone)", n, len(m))
	}
	for i := range n * 8 {
		for _, p := range [][2]int{{i, 0}, {0, i}, {i, n*8 - 1}, {n*8 - 1, i}, {i, QRQuietZone*8 - 1}, {QRQuietZone*8 - 1, i}} {
			if isDark(img.At(p[0], p[1])) {
				t.Fatalf("quiet zone pixel %v is dark", p)
			}
		}
	}
}

func TestQRZbar(t *testing.T) {
	zbarimg := requireTool(t, "zbarimg")
	for _, content := range []string{QRContent(testPublicURL, testID), "https://example.com/certd/v/" + testID} {
		b, err := QRPNG(content, DefaultQRSize)
		if err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(t.TempDir(), "qr.png")
		if err := os.WriteFile(file, b, 0o600); err != nil {
			t.Fatal(err)
		}
		if got := zbarDecode(t, zbarimg, file); got != content {
			t.Errorf("zbarimg decoded %q, want %q", got, content)
		}
	}
}

func TestQRContent(t *testing.T) {
	tests := []struct {
		name, publicURL, id, want string
	}{
		{"upper/https", "https://certs.example.com", testID, "HTTPS://CERTS.EXAMPLE.COM/V/" + testID},
		{"upper/trailing-slash", "https://certs.example.com/", testID, "HTTPS://CERTS.EXAMPLE.COM/V/" + testID},
		{"upper/port", "http://localhost:8080", testID, "HTTP://LOCALHOST:8080/V/" + testID},
		{"upper/mixed-case-host", "https://Certs.Example.COM", testID, "HTTPS://CERTS.EXAMPLE.COM/V/" + testID},
		{"keep/path-prefix", "https://example.com/certd", testID, "https://example.com/certd/v/" + testID},
		{"keep/query", "https://example.com?x=1", testID, "https://example.com?x=1/v/" + testID},
		{"keep/percent", "https://ex%41mple.com", testID, "https://ex%41mple.com/v/" + testID},
		{"keep/userinfo", "https://user@example.com", testID, "https://user@example.com/v/" + testID},
		{"keep/underscore-host", "https://my_host.example.com", testID, "https://my_host.example.com/v/" + testID},
		{"keep/ipv6", "http://[::1]:8080", testID, "http://[::1]:8080/v/" + testID},
		{"keep/not-http", "ftp://example.com", testID, "ftp://example.com/v/" + testID},
		{"keep/id-with-underscore", "https://example.com", "ab_c", "https://example.com/v/ab_c"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := QRContent(tc.publicURL, tc.id); got != tc.want {
				t.Errorf("QRContent(%q, %q) = %q, want %q", tc.publicURL, tc.id, got, tc.want)
			}
		})
	}
}

// TestQRContentSmaller checks that the upper-cased URL really uses the
// alphanumeric mode: its symbol is smaller than that of the same URL in
// lower case.
func TestQRContentSmaller(t *testing.T) {
	upper, err := qrMatrix(QRContent(testPublicURL, testID))
	if err != nil {
		t.Fatal(err)
	}
	lower, err := qrMatrix(testPublicURL + "/v/" + testID)
	if err != nil {
		t.Fatal(err)
	}
	if len(upper) >= len(lower) {
		t.Errorf("upper-case symbol has %d modules, lower-case %d: want fewer", len(upper), len(lower))
	}
}

func BenchmarkQRPNG(b *testing.B) {
	content := QRContent(testPublicURL, testID)
	for b.Loop() {
		if _, err := QRPNG(content, DefaultQRSize); err != nil {
			b.Fatal(err)
		}
	}
}
