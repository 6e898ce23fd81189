package templates

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/url"
	"strconv"
	"strings"
	"sync"

	qrcode "github.com/skip2/go-qrcode"
)

// QRQuietZone is the width, in modules, of the white margin around every QR
// code certd draws: the 4 modules ISO/IEC 18004 requires.
const QRQuietZone = 4

// DefaultQRSize is the PNG size, in pixels, the server asks QRPNG for.
const DefaultQRSize = 512

// qrAlphanumeric is the character set of the QR alphanumeric mode.
const qrAlphanumeric = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"

// qrMatrix encodes content at level M and returns its modules, quiet zone
// included: m[y][x] is true for a dark module.
func qrMatrix(content string) ([][]bool, error) {
	if content == "" {
		return nil, fmt.Errorf("qr: content is empty")
	}
	q, err := qrcode.New(content, qrcode.Medium)
	if err != nil {
		return nil, fmt.Errorf("qr: encode %d bytes: %w", len(content), err)
	}
	// Bitmap must be the only encoding call on q: go-qrcode appends the
	// terminator and padding again on every call.
	m := q.Bitmap()
	if n := len(m); n < 21+2*QRQuietZone || m[0][0] || m[n-1][n-1] {
		return nil, fmt.Errorf("qr: unexpected symbol of %d modules", n)
	}
	return m, nil
}

// QRPNG returns a PNG of content as a QR code: error correction level M, a
// QRQuietZone-module quiet zone, black on white, two-colour palette.
//
// Every module is a square of whole pixels, so the image is never blurred by
// resampling: the side of the image is the largest multiple of the number of
// modules (quiet zone included) that does not exceed size, and it may
// therefore be a little smaller than size: a certd URL in alphanumeric mode
// is a version 3 symbol, 37 modules with its quiet zone, so 512 gives 481
// pixels, 13 a module.
// When size is smaller than the number of modules, each module gets one
// pixel and the image is larger than size. size must be positive.
func QRPNG(content string, size int) ([]byte, error) {
	if size < 1 {
		return nil, fmt.Errorf("qr: size must be a positive number of pixels, got %d", size)
	}
	m, err := qrMatrix(content)
	if err != nil {
		return nil, err
	}
	return qrPNG(m, max(1, size/len(m)))
}

// qrPNG draws m with scale pixels per module.
func qrPNG(m [][]bool, scale int) ([]byte, error) {
	n := len(m) * scale
	img := image.NewPaletted(image.Rect(0, 0, n, n), color.Palette{color.White, color.Black})
	for y, row := range m {
		for x, dark := range row {
			if !dark {
				continue
			}
			for py := y * scale; py < (y+1)*scale; py++ {
				line := img.Pix[py*img.Stride:]
				for px := x * scale; px < (x+1)*scale; px++ {
					line[px] = 1
				}
			}
		}
	}
	var b bytes.Buffer
	if err := qrEncoder.Encode(&b, img); err != nil {
		return nil, fmt.Errorf("qr: encode png: %w", err)
	}
	return b.Bytes(), nil
}

// qrEncoder writes what png.Encode writes, reusing its compressor and row
// buffers from one QR code to the next.
var qrEncoder = png.Encoder{BufferPool: &qrBuffers{}}

// qrBuffers is a png.EncoderBufferPool over a sync.Pool.
type qrBuffers struct{ p sync.Pool }

func (q *qrBuffers) Get() *png.EncoderBuffer {
	b, _ := q.p.Get().(*png.EncoderBuffer)
	return b
}

func (q *qrBuffers) Put(b *png.EncoderBuffer) { q.p.Put(b) }

// QRSVG returns content as a QR code in SVG: the same symbol as QRPNG (level
// M, QRQuietZone-module quiet zone, black on white). The viewBox counts
// modules, so the image scales to any size; the dark modules are one <path>
// of unit-high rectangles (each horizontal run of dark modules is one
// rectangle) drawn with shape-rendering="crispEdges".
func QRSVG(content string) ([]byte, error) {
	m, err := qrMatrix(content)
	if err != nil {
		return nil, err
	}
	n := strconv.Itoa(len(m))
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString(`<svg xmlns="http://www.w3.org/2000/svg" version="1.1" viewBox="0 0 ` + n + " " + n +
		`" shape-rendering="crispEdges">` + "\n")
	b.WriteString(`<rect width="` + n + `" height="` + n + `" fill="#fff"/>` + "\n")
	b.WriteString(`<path fill="#000" d="`)
	for y, row := range m {
		for x := 0; x < len(row); {
			if !row[x] {
				x++
				continue
			}
			start := x
			for x < len(row) && row[x] {
				x++
			}
			w := strconv.Itoa(x - start)
			b.WriteString("M" + strconv.Itoa(start) + " " + strconv.Itoa(y) + "h" + w + "v1h-" + w + "z")
		}
	}
	b.WriteString(`"/>` + "\n</svg>\n")
	return b.Bytes(), nil
}

// QRContent returns what the QR code of certificate id encodes: the
// verification URL {publicURL}/v/{id}.
//
// The URL is returned upper-cased when that is safe and makes it fit the QR
// alphanumeric mode (0-9, A-Z, space and $ % * + - . / :), which needs about
// 5.5 bits a character instead of 8, so the symbol is smaller and easier to
// scan. It is safe only when nothing in the URL depends on case: publicURL
// is http or https with a host (and maybe a port) and no path, query,
// fragment, user information or percent-escape, since the scheme and host
// are case-insensitive and certd serves /V/{ID} like /v/{id} (ids are
// upper-case Crockford base32 already). Any other URL, for instance one
// behind a reverse proxy under a path prefix, is returned as is and
// encoded in byte mode.
func QRContent(publicURL, id string) string {
	base := strings.TrimRight(publicURL, "/")
	u := base + "/v/" + id
	if !caseInsensitiveBase(base) {
		return u
	}
	up := strings.ToUpper(u)
	for _, r := range up {
		if !strings.ContainsRune(qrAlphanumeric, r) {
			return u
		}
	}
	return up
}

// caseInsensitiveBase reports whether base is a URL whose meaning does not
// change when it is upper-cased.
func caseInsensitiveBase(base string) bool {
	if strings.ContainsAny(base, "%?#@ ") {
		return false
	}
	p, err := url.Parse(base)
	if err != nil {
		return false
	}
	s := strings.ToLower(p.Scheme)
	return (s == "http" || s == "https") && p.Host != "" && p.Path == "" &&
		p.RawQuery == "" && p.Fragment == "" && p.User == nil && p.Opaque == ""
}
