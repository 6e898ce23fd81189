package api

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"

	"github.com/labstack/echo/v5"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/templates"
)

// byteCache is a small LRU of rendered bodies (PDFs, QR codes), safe for
// concurrent use.
type byteCache struct {
	mu      sync.Mutex
	max     int
	entries map[string]*list.Element
	order   *list.List
}

type cacheEntry struct {
	key  string
	body []byte
}

func newByteCache(max int) *byteCache {
	return &byteCache{max: max, entries: map[string]*list.Element{}, order: list.New()}
}

func (p *byteCache) get(key string) ([]byte, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if el, ok := p.entries[key]; ok {
		p.order.MoveToFront(el)
		return el.Value.(*cacheEntry).body, true
	}
	return nil, false
}

func (p *byteCache) put(key string, body []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.entries[key]; ok {
		return
	}
	p.entries[key] = p.order.PushFront(&cacheEntry{key: key, body: body})
	for p.order.Len() > p.max {
		last := p.order.Back()
		p.order.Remove(last)
		delete(p.entries, last.Value.(*cacheEntry).key)
	}
}

func (s *Server) certificatePDF(c *echo.Context) error {
	id, ok := cert.NormalizeID(c.Param("id"))
	if !ok {
		return notRegistered()
	}
	if s.cfg.FontErr != nil || s.cfg.Fonts == nil || s.cfg.Fonts.Len() == 0 {
		return newHTTPError(http.StatusServiceUnavailable, "pdf-unavailable", "PDF rendering unavailable",
			"This service has no fonts to print certificates with. The verification page shows the certificate meanwhile.")
	}
	crt, err := s.existing(c, id)
	if err != nil {
		return err
	}
	doc, key, err := s.certificateDoc(c.Request().Context(), crt)
	if err != nil {
		return err
	}
	now := doc.GeneratedAt
	body, hit := s.pdfs.get(key)
	if !hit {
		// A render that failed for this version, status and day fails
		// again: answer what it answered, without rendering or logging.
		if perr, failed := s.pdfFailures.get(key, now); failed {
			return perr
		}
		if err := s.renderBudget(c, costPDF); err != nil {
			return err
		}
		release, err := s.renderSlot(c.Request().Context())
		if err != nil {
			return err
		}
		doc.Logo, doc.Seal, err = s.issuerImages(c.Request().Context(), doc.Issuer)
		if err != nil {
			release()
			return err
		}
		body, err = s.renderPDF(doc, *s.cfg.Fonts)
		release()
		if errors.Is(err, templates.ErrFontCoverage) {
			// The error names the font files: for the log only.
			s.log.Error("certificate cannot be printed with the configured fonts", "request_id", requestID(c), "id", crt.ID, "error", err.Error())
			return s.pdfFailures.remember(key, newHTTPError(http.StatusServiceUnavailable, "pdf-font-coverage", "The certificate cannot be printed",
				"This certificate holds characters that the fonts of this service cannot print. The verification page shows the certificate meanwhile."), now)
		}
		if err != nil {
			s.log.Error("certificate PDF render failed", "request_id", requestID(c), "id", crt.ID, "error", err.Error())
			return s.pdfFailures.remember(key, newHTTPError(http.StatusInternalServerError, "internal", "Internal error",
				"Something went wrong on our side; nothing you sent was at fault. Quote the request id when you report it."), now)
		}
		s.pdfs.put(key, body)
	}
	h := c.Response().Header()
	h.Set("Content-Disposition", fmt.Sprintf(`inline; filename="%s.pdf"`, crt.ID))
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", `"`+key+`"`)
	h.Set("Last-Modified", now.UTC().Format(http.TimeFormat))
	if inm := c.Request().Header.Get("If-None-Match"); inm == `"`+key+`"` {
		return c.NoContent(http.StatusNotModified)
	}
	return c.Blob(http.StatusOK, "application/pdf", body)
}

// certificateDoc is what the PDF of crt prints now (without the issuer's
// images), and the key of that PDF in the cache: everything the page
// shows that can change — the certificate's version, its derived status,
// the day of the "status on" line and the version of the issuer's profile
// — so a status change (recorded or derived from time) or a changed
// profile renders a new PDF and the old one ages out.
func (s *Server) certificateDoc(ctx context.Context, crt *cert.Certificate) (templates.CertificateDoc, string, error) {
	is, err := s.cfg.Issuing.Issuer(ctx, crt.Issuer)
	if err != nil {
		return templates.CertificateDoc{}, "", err
	}
	scheme := s.cfg.Issuing.Schemes()[crt.Scheme]
	if scheme == nil {
		return templates.CertificateDoc{}, "", fmt.Errorf("certificate %s has unknown scheme %q", crt.ID, crt.Scheme)
	}
	now := s.now()
	st := s.cfg.Issuing.StatusOf(crt)
	key := fmt.Sprintf("%s|%d|%s|%s|%d", crt.ID, crt.Version, st.Status, now.In(crt.Location()).Format(cert.DateLayout), is.Version)
	return templates.CertificateDoc{
		Certificate: crt, Issuer: is, Scheme: scheme, Status: st.Status,
		VerifyURL: cert.VerifyURL(s.cfg.PublicURL, crt.ID), QRContent: templates.QRContent(s.cfg.PublicURL, crt.ID),
		Credential: crt.Credential, GeneratedAt: now,
	}, key, nil
}

// CertificatePDF is the PDF of crt as GET /v/{id}/certificate.pdf serves
// it, from the same cache and within the same bound on concurrent renders
// (no per-client budget: certd itself asks, to attach it to an e-mail).
func (s *Server) CertificatePDF(ctx context.Context, crt *cert.Certificate) ([]byte, error) {
	if s.cfg.FontErr != nil || s.cfg.Fonts == nil || s.cfg.Fonts.Len() == 0 {
		return nil, fmt.Errorf("no fonts to print certificates with: %w", cert.ErrUnavailable)
	}
	doc, key, err := s.certificateDoc(ctx, crt)
	if err != nil {
		return nil, err
	}
	if body, hit := s.pdfs.get(key); hit {
		return body, nil
	}
	release, err := s.renderSlot(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	if doc.Logo, doc.Seal, err = s.issuerImages(ctx, doc.Issuer); err != nil {
		return nil, err
	}
	body, err := s.renderPDF(doc, *s.cfg.Fonts)
	if err != nil {
		return nil, err
	}
	s.pdfs.put(key, body)
	return body, nil
}

// issuerImages reads the issuer's logo and seal as PNG (nil for one it has
// none of). An image removed since the profile was read is left out; any
// other failure is the store's.
func (s *Server) issuerImages(ctx context.Context, is *cert.Issuer) (logo, seal []byte, err error) {
	if s.cfg.Profiles == nil {
		return nil, nil, nil
	}
	read := func(ref *cert.ImageRef, kind string) ([]byte, error) {
		if ref == nil {
			return nil, nil
		}
		img, err := s.cfg.Profiles.Image(ctx, is.ID, kind)
		if errors.Is(err, cert.ErrNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		return img.PNG, nil
	}
	if logo, err = read(is.Logo, cert.ImageLogo); err != nil {
		return nil, nil, err
	}
	if seal, err = read(is.Seal, cert.ImageSeal); err != nil {
		return nil, nil, err
	}
	return logo, seal, nil
}
