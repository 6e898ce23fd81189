// Package qrtest reads QR codes back in tests: it decodes them with
// gozxing, an implementation independent of the encoder, shrinks images as
// a camera or a thumbnail would, and draws the SVG codes of
// templates.QRSVG as pixels.
package qrtest

import (
	"image"
	"image/color"
	"regexp"
	"strconv"
	"testing"

	"github.com/makiuchi-d/gozxing"
	gozxingqr "github.com/makiuchi-d/gozxing/qrcode"
)

// Decode decodes the QR code in img, failing the test when there is none.
func Decode(t testing.TB, img image.Image) *gozxing.Result {
	t.Helper()
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatalf("binary bitmap: %v", err)
	}
	hints := map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true}
	res, err := gozxingqr.NewQRCodeReader().Decode(bmp, hints)
	if err != nil {
		t.Fatalf("decode QR (%v): %v", img.Bounds().Size(), err)
	}
	return res
}

// Downscale shrinks img by an integer factor, averaging each block, as a
// phone camera or a small thumbnail would.
func Downscale(img image.Image, factor int) *image.Gray {
	b := img.Bounds()
	out := image.NewGray(image.Rect(0, 0, b.Dx()/factor, b.Dy()/factor))
	for y := range out.Rect.Dy() {
		for x := range out.Rect.Dx() {
			sum := 0
			for dy := range factor {
				for dx := range factor {
					sum += int(color.GrayModel.Convert(img.At(b.Min.X+x*factor+dx, b.Min.Y+y*factor+dy)).(color.Gray).Y)
				}
			}
			out.Pix[y*out.Stride+x] = uint8(sum / (factor * factor))
		}
	}
	return out
}

var (
	svgViewBox = regexp.MustCompile(`viewBox="0 0 (\d+) (\d+)"`)
	svgPath    = regexp.MustCompile(`<path [^>]*d="([^"]*)"`)
	svgRect    = regexp.MustCompile(`M(\d+) (\d+)h(\d+)v1h-(\d+)z`)
)

// RasterizeSVG draws the rectangles of a QR SVG's one path, scale pixels a
// module, and returns the image and the modules per side. It fails on
// anything in the SVG it does not understand.
func RasterizeSVG(t testing.TB, svg []byte, scale int) (*image.Gray, int) {
	t.Helper()
	vb := svgViewBox.FindSubmatch(svg)
	if vb == nil || string(vb[1]) != string(vb[2]) {
		t.Fatalf("no square viewBox in %.200s", svg)
	}
	n, _ := strconv.Atoi(string(vb[1]))
	paths := svgPath.FindAllSubmatch(svg, -1)
	if len(paths) != 1 {
		t.Fatalf("want exactly one <path>, got %d", len(paths))
	}
	d := string(paths[0][1])
	img := image.NewGray(image.Rect(0, 0, n*scale, n*scale))
	for i := range img.Pix {
		img.Pix[i] = 0xff
	}
	consumed := 0
	for _, m := range svgRect.FindAllStringSubmatch(d, -1) {
		consumed += len(m[0])
		x, _ := strconv.Atoi(m[1])
		y, _ := strconv.Atoi(m[2])
		w, _ := strconv.Atoi(m[3])
		if m[3] != m[4] || x+w > n || y >= n {
			t.Fatalf("bad rectangle %q in a %d-module viewBox", m[0], n)
		}
		for py := y * scale; py < (y+1)*scale; py++ {
			for px := x * scale; px < (x+w)*scale; px++ {
				img.Pix[py*img.Stride+px] = 0
			}
		}
	}
	if consumed != len(d) {
		t.Fatalf("path has %d bytes that are not rectangles: %.100q", len(d)-consumed, d)
	}
	return img, n
}
