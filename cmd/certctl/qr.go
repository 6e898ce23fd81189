package main

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	_ "image/gif" // decoders for QR images
	_ "image/jpeg"
	_ "image/png"
	"net"
	"net/url"
	"strings"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"

	"github.com/certd/certd/cert"
)

// decodeQR returns the text of the QR code in an image (PNG, JPEG or GIF):
// a generated image first as it is, a photo then with the harder search.
func decodeQR(img []byte) (string, error) {
	im, _, err := image.Decode(bytes.NewReader(img))
	if err != nil {
		return "", fmt.Errorf("not a PNG, JPEG or GIF image: %v", err)
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(im)
	if err != nil {
		return "", fmt.Errorf("read image: %v", err)
	}
	reader := qrcode.NewQRCodeReader()
	res, err := reader.Decode(bmp, nil)
	if err != nil {
		res, err = reader.Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true})
	}
	if err != nil {
		return "", errors.New("no QR code found in the image: photograph it straight on, in focus, with its margin")
	}
	return res.GetText(), nil
}

// parseVerifyURL reads a certd verification URL, {public-url}/v/{ID} (or
// the upper-case form QR codes carry), and returns its host and the
// certificate id.
func parseVerifyURL(s string) (host, id string, ok bool) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || u.Host == "" {
		return "", "", false
	}
	if sch := strings.ToLower(u.Scheme); sch != "http" && sch != "https" {
		return "", "", false
	}
	path := strings.TrimSuffix(u.Path, "/")
	i := strings.LastIndex(strings.ToLower(path), "/v/")
	if i < 0 {
		return "", "", false
	}
	id, ok = cert.NormalizeID(path[i+3:])
	if !ok {
		return "", "", false
	}
	return hostKey(u), id, true
}

// hostKey is a URL's host in lower case with its port, the scheme's
// default port made explicit, so that equal hosts compare equal.
func hostKey(u *url.URL) string {
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if port == "" {
		port = "80"
		if strings.EqualFold(u.Scheme, "https") {
			port = "443"
		}
	}
	return net.JoinHostPort(host, port)
}
