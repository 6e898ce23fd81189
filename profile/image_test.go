package profile

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"testing"

	"github.com/certd/certd/cert"
)

func tinyPNG(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	img.Set(1, 1, color.NRGBA{R: 200, A: 128})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// bomb is a PNG whose header claims w x h pixels; its data is a few bytes.
func bomb(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 6
	_ = binary.Write(&b, binary.BigEndian, uint32(13))
	crc := crc32.NewIEEE()
	crc.Write([]byte("IHDR"))
	crc.Write(ihdr)
	b.WriteString("IHDR")
	b.Write(ihdr)
	_ = binary.Write(&b, binary.BigEndian, crc.Sum32())
	return b.Bytes()
}

func TestDecodeImage(t *testing.T) {
	out, ref, err := DecodeImage("image/png", tinyPNG(t, 20, 30))
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(out))
	if err != nil || ref.Width != 20 || ref.Height != 30 || ref.Size != len(out) {
		t.Fatalf("re-encoded: %v %+v", err, ref)
	}
	if _, _, _, a := img.At(1, 1).RGBA(); a == 0 || a == 0xffff {
		t.Errorf("half-transparent pixel has alpha %d after re-encoding", a)
	}
	for _, tc := range []struct {
		name, ct string
		data     []byte
		kind     error
	}{
		{"fail/gif-type", "image/gif", []byte("GIF89a"), cert.ErrUnsupportedMedia},
		{"fail/text", "image/png", []byte("hello"), cert.ErrInvalid},
		{"fail/bomb", "image/png", bomb(20000, 20000), cert.ErrInvalid},
		{"fail/too-small", "image/png", tinyPNG(t, 4, 4), cert.ErrInvalid},
		{"fail/too-big", "image/png", append(tinyPNG(t, 20, 20), make([]byte, MaxImageBytes)...), cert.ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, _, err := DecodeImage(tc.ct, tc.data); !errors.Is(err, tc.kind) {
				t.Errorf("DecodeImage: %v, want %v", err, tc.kind)
			}
		})
	}
}

func FuzzDecodeImage(f *testing.F) {
	f.Add(tinyPNG(f, 16, 16))
	f.Add(bomb(5000, 5000))
	f.Fuzz(func(t *testing.T, data []byte) {
		out, ref, err := DecodeImage("image/png", data)
		if err != nil {
			return
		}
		cfg, derr := png.DecodeConfig(bytes.NewReader(out))
		if derr != nil || cfg.Width != ref.Width || cfg.Height != ref.Height || ref.Width > MaxImageSide || ref.Height > MaxImageSide {
			t.Errorf("accepted image re-encoded as %v %+v", derr, ref)
		}
	})
}
