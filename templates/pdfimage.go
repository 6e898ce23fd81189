package templates

import (
	"bytes"
	"crypto/sha256"
	"image"
	"image/draw"
	"image/png"
	"sync"

	"github.com/certd/certd/templates/internal/fpdf"
)

// Images are printed at most this many pixels on their longer side: about
// 300 dpi at the printed size of the seal (32 mm) and of the logo (46 mm).
// The PDF library re-compresses an image with transparency on every
// render, so a 4096-pixel upload printed as it is would cost each first
// render hundreds of milliseconds and the PDF megabytes.
const (
	pdfSealPx = 400
	pdfLogoPx = 600
)

// pdfScaled holds images already scaled down, by the SHA-256 of the
// uploaded PNG and the size: an issuer's images are the same from one
// render to the next. It keeps at most pdfScaledMax of them.
var pdfScaled = struct {
	sync.Mutex
	m     map[[sha256.Size]byte][]byte
	order [][sha256.Size]byte
}{m: map[[sha256.Size]byte][]byte{}}

const pdfScaledMax = 16

// pdfParsed holds images as the PDF library parsed them (after
// pdfFitImage), by the SHA-256 of the uploaded PNG and the size: parsing
// re-compresses an image with transparency, which would otherwise cost
// every render of an issuer's certificates. It keeps at most pdfScaledMax
// of them.
var pdfParsed = struct {
	sync.Mutex
	m     map[[sha256.Size]byte]pdfParsedImage
	order [][sha256.Size]byte
}{m: map[[sha256.Size]byte]pdfParsedImage{}}

// pdfParsedImage is an image ready for a PDF, and the suffix of its name:
// "-8bit" when it had to be converted to 8 bits per channel first.
type pdfParsedImage struct {
	img    *fpdf.Image
	suffix string
}

// pdfImage returns data, a PNG, scaled down to at most maxPx pixels on its
// longer side and parsed for a PDF, or nil when it cannot be read. The
// PDF library reads 8-bit PNGs only: another depth is converted to 8-bit
// RGBA first, keeping the transparency, and the suffix says so.
func pdfImage(data []byte, maxPx int) (*fpdf.Image, string) {
	h := sha256.New()
	h.Write(data)
	h.Write([]byte{byte(maxPx >> 8), byte(maxPx)})
	var key [sha256.Size]byte
	h.Sum(key[:0])
	pdfParsed.Lock()
	p, ok := pdfParsed.m[key]
	pdfParsed.Unlock()
	if ok {
		return p.img, p.suffix
	}
	p = pdfParseImage(pdfFitImage(data, maxPx))
	pdfParsed.Lock()
	defer pdfParsed.Unlock()
	if _, ok := pdfParsed.m[key]; !ok {
		if len(pdfParsed.order) >= pdfScaledMax {
			delete(pdfParsed.m, pdfParsed.order[0])
			pdfParsed.order = pdfParsed.order[1:]
		}
		pdfParsed.m[key] = p
		pdfParsed.order = append(pdfParsed.order, key)
	}
	return p.img, p.suffix
}

// pdfParseImage parses a PNG for a PDF, converted to 8-bit RGBA when the
// PDF library cannot read it as it is.
func pdfParseImage(data []byte) pdfParsedImage {
	opt := fpdf.ImageOptions{ImageType: "PNG"}
	if img, err := fpdf.ParseImage(opt, data); err == nil {
		return pdfParsedImage{img: img}
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		return pdfParsedImage{}
	}
	rgba := image.NewNRGBA(img.Bounds())
	draw.Draw(rgba, rgba.Bounds(), img, img.Bounds().Min, draw.Src)
	var b bytes.Buffer
	if err := png.Encode(&b, rgba); err != nil {
		return pdfParsedImage{}
	}
	parsed, err := fpdf.ParseImage(opt, b.Bytes())
	if err != nil {
		return pdfParsedImage{}
	}
	return pdfParsedImage{img: parsed, suffix: "-8bit"}
}

// pdfFitImage returns data, a PNG, scaled down to at most maxPx pixels on
// its longer side (with its transparency), or data itself when it is no
// larger or cannot be read (the PDF library then decides).
func pdfFitImage(data []byte, maxPx int) []byte {
	cfg, err := png.DecodeConfig(bytes.NewReader(data))
	if err != nil || cfg.Width <= maxPx && cfg.Height <= maxPx {
		return data
	}
	h := sha256.New()
	h.Write(data)
	h.Write([]byte{byte(maxPx >> 8), byte(maxPx)})
	var key [sha256.Size]byte
	h.Sum(key[:0])
	pdfScaled.Lock()
	out, ok := pdfScaled.m[key]
	pdfScaled.Unlock()
	if ok {
		return out
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		return data
	}
	var b bytes.Buffer
	if err := png.Encode(&b, pdfShrink(img, maxPx)); err != nil {
		return data
	}
	out = b.Bytes()
	pdfScaled.Lock()
	defer pdfScaled.Unlock()
	if _, ok := pdfScaled.m[key]; !ok {
		if len(pdfScaled.order) >= pdfScaledMax {
			delete(pdfScaled.m, pdfScaled.order[0])
			pdfScaled.order = pdfScaled.order[1:]
		}
		pdfScaled.m[key] = out
		pdfScaled.order = append(pdfScaled.order, key)
	}
	return out
}

// pdfShrink scales img down to at most maxPx pixels on its longer side by
// averaging the source pixels under each target pixel, in premultiplied
// alpha so that transparent pixels lend no colour to the edges.
func pdfShrink(img image.Image, maxPx int) *image.RGBA {
	src := image.NewRGBA(image.Rect(0, 0, img.Bounds().Dx(), img.Bounds().Dy()))
	draw.Draw(src, src.Bounds(), img, img.Bounds().Min, draw.Src)
	sw, sh := src.Rect.Dx(), src.Rect.Dy()
	dw, dh := maxPx, maxPx
	if sw > sh {
		dh = max(1, sh*maxPx/sw)
	} else {
		dw = max(1, sw*maxPx/sh)
	}
	dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
	for y := range dh {
		y0, y1 := y*sh/dh, max((y+1)*sh/dh, y*sh/dh+1)
		for x := range dw {
			x0, x1 := x*sw/dw, max((x+1)*sw/dw, x*sw/dw+1)
			var sum [4]int
			for sy := y0; sy < y1; sy++ {
				row := src.Pix[sy*src.Stride:]
				for sx := x0; sx < x1; sx++ {
					for i := range 4 {
						sum[i] += int(row[4*sx+i])
					}
				}
			}
			n := (y1 - y0) * (x1 - x0)
			d := dst.Pix[y*dst.Stride+4*x:]
			for i := range 4 {
				d[i] = uint8(sum[i] / n)
			}
		}
	}
	return dst
}
