package profile

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"mime"

	"github.com/certd/certd/cert"
)

// Limits of an issuer image.
const (
	// MaxImageBytes bounds the uploaded file.
	MaxImageBytes = 1 << 20
	// MaxImageSide bounds the width and the height, in pixels: enough
	// for a logo or a seal printed at 600 dpi.
	MaxImageSide = 4096
	// MinImageSide is the smallest width or height that prints legibly.
	MinImageSide = 16
	// maxStoredBytes bounds the PNG certd stores (a photograph re-encoded
	// as PNG grows).
	maxStoredBytes = 4 << 20
)

// ImageKinds are the images an issuer has.
var ImageKinds = []string{cert.ImageLogo, cert.ImageSeal}

func checkKind(kind string) error {
	if kind != cert.ImageLogo && kind != cert.ImageSeal {
		return fmt.Errorf("image %q: an issuer has a logo and a seal: %w", kind, cert.ErrNotFound)
	}
	return nil
}

// DecodeImage checks an uploaded PNG or JPEG and re-encodes it as PNG,
// keeping transparency. The header is read first (image.DecodeConfig), so
// dimensions out of range are refused before any pixel is allocated.
func DecodeImage(contentType string, data []byte) (pngBytes []byte, ref cert.ImageRef, err error) {
	mt, _, _ := mime.ParseMediaType(contentType)
	var decode func(*bytes.Reader) (image.Image, error)
	var decodeConfig func(*bytes.Reader) (image.Config, error)
	switch mt {
	case "image/png":
		decode = func(r *bytes.Reader) (image.Image, error) { return png.Decode(r) }
		decodeConfig = func(r *bytes.Reader) (image.Config, error) { return png.DecodeConfig(r) }
	case "image/jpeg":
		decode = func(r *bytes.Reader) (image.Image, error) { return jpeg.Decode(r) }
		decodeConfig = func(r *bytes.Reader) (image.Config, error) { return jpeg.DecodeConfig(r) }
	default:
		return nil, ref, fmt.Errorf("Content-Type %q: send the image as image/png or image/jpeg: %w", contentType, cert.ErrUnsupportedMedia)
	}
	if len(data) > MaxImageBytes {
		return nil, ref, cert.Invalid("image", fmt.Sprintf("must be at most %d bytes (1 MiB), got %d", MaxImageBytes, len(data)))
	}
	cfg, err := decodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, ref, cert.Invalid("image", fmt.Sprintf("is not a readable %s image", mt))
	}
	if cfg.Width < MinImageSide || cfg.Height < MinImageSide || cfg.Width > MaxImageSide || cfg.Height > MaxImageSide {
		return nil, ref, cert.Invalid("image", fmt.Sprintf("must be %d to %d pixels wide and high, got %dx%d", MinImageSide, MaxImageSide, cfg.Width, cfg.Height))
	}
	img, err := decode(bytes.NewReader(data))
	if err != nil {
		return nil, ref, cert.Invalid("image", fmt.Sprintf("is not a readable %s image", mt))
	}
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&buf, img); err != nil {
		return nil, ref, fmt.Errorf("encode PNG: %w", err)
	}
	if buf.Len() > maxStoredBytes {
		return nil, ref, cert.Invalid("image", fmt.Sprintf("is too detailed: as PNG it takes %d bytes, at most %d are kept; use a smaller or simpler image", buf.Len(), maxStoredBytes))
	}
	sum := sha256.Sum256(buf.Bytes())
	b := img.Bounds()
	return buf.Bytes(), cert.ImageRef{SHA256: hex.EncodeToString(sum[:]), Width: b.Dx(), Height: b.Dy(), Size: buf.Len()}, nil
}

// PutImage stores the issuer's logo or seal from an upload and records it
// in the issuer's audit trail.
func (s *Service) PutImage(ctx context.Context, p cert.Principal, id, kind, contentType string, data []byte, ifMatch int64) (*cert.Issuer, error) {
	if err := checkKind(kind); err != nil {
		return nil, err
	}
	if err := canChange(p, id); err != nil {
		return nil, err
	}
	pngBytes, ref, err := DecodeImage(contentType, data)
	if err != nil {
		return nil, err
	}
	if _, err := s.st.Issuer(ctx, id); err != nil {
		return nil, fmt.Errorf("issuer %s: %w", id, err)
	}
	// The image first: an image no issuer names is harmless, an issuer
	// naming a missing image is not.
	if err := s.st.PutImage(ctx, &cert.Image{Issuer: id, SHA256: ref.SHA256, PNG: pngBytes}); err != nil {
		return nil, fmt.Errorf("store %s of %s: %w", kind, id, err)
	}
	return s.change(ctx, p, id, ifMatch, func(is *cert.Issuer) (cert.IssuerEvent, error) {
		slot := imageSlot(is, kind)
		if *slot != nil && **slot == ref {
			return cert.IssuerEvent{}, nil
		}
		r := ref
		*slot = &r
		return cert.IssuerEvent{Type: cert.IssuerImagePut, Fields: []string{kind}}, nil
	})
}

// DeleteImage removes the issuer's logo or seal.
func (s *Service) DeleteImage(ctx context.Context, p cert.Principal, id, kind string, ifMatch int64) (*cert.Issuer, error) {
	if err := checkKind(kind); err != nil {
		return nil, err
	}
	return s.change(ctx, p, id, ifMatch, func(is *cert.Issuer) (cert.IssuerEvent, error) {
		slot := imageSlot(is, kind)
		if *slot == nil {
			return cert.IssuerEvent{}, nil
		}
		*slot = nil
		return cert.IssuerEvent{Type: cert.IssuerImageDeleted, Fields: []string{kind}}, nil
	})
}

// Image returns the issuer's current logo or seal (public), or
// ErrNotFound when it has none.
func (s *Service) Image(ctx context.Context, id, kind string) (*cert.Image, error) {
	if err := checkKind(kind); err != nil {
		return nil, err
	}
	is, err := s.st.Issuer(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("issuer %s: %w", id, err)
	}
	ref := *imageSlot(is, kind)
	if ref == nil {
		return nil, fmt.Errorf("issuer %s has no %s: %w", id, kind, cert.ErrNotFound)
	}
	return s.st.Image(ctx, id, ref.SHA256)
}

func imageSlot(is *cert.Issuer, kind string) **cert.ImageRef {
	if kind == cert.ImageSeal {
		return &is.Seal
	}
	return &is.Logo
}
