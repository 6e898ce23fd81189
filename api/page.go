package api

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v5"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/templates"
)

// pageCSP is the Content-Security-Policy of every HTML page: no script at
// all, the inline stylesheet, forms only to this site.
const pageCSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// pageLang is the language of an HTML page: ?lang= first, then
// Accept-Language.
func pageLang(c *echo.Context) string {
	return templates.PickLanguage(c.QueryParam("lang"), c.Request().Header.Get("Accept-Language"))
}

// writePage answers an HTML page in lang.
func writePage(c *echo.Context, status int, lang string, page []byte) error {
	setPageHeaders(c, lang, len(page))
	return c.HTMLBlob(status, page)
}

// setPageHeaders sets the headers of an HTML page of n bytes.
func setPageHeaders(c *echo.Context, lang string, n int) {
	h := c.Response().Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Language", lang)
	h.Set("Vary", "Accept, Accept-Language")
	h.Set("Content-Security-Policy", pageCSP)
	h.Set("Content-Type", "text/html; charset=UTF-8")
	// Known length: net/http would otherwise send a page this size
	// chunked.
	h.Set("Content-Length", strconv.Itoa(n))
}

// publicPath is path as readers reach it: below the path of the public
// URL, if it has one (certd behind a proxy under a prefix).
func (s *Server) publicPath(path string) string {
	if u, err := url.Parse(s.cfg.PublicURL); err == nil {
		return strings.TrimRight(u.Path, "/") + path
	}
	return path
}

// landing is the home page: what this service is, a search box, how to
// verify.
func (s *Server) landing(c *echo.Context) error {
	lang := pageLang(c)
	issuers, err := s.cfg.Issuing.Issuers(c.Request().Context())
	if err != nil {
		return err
	}
	page, err := templates.LandingPage(templates.LandingPageData{Lang: lang, PublicURL: s.cfg.PublicURL, Issuers: issuers})
	if err != nil {
		return err
	}
	return writePage(c, http.StatusOK, lang, page)
}

// issuerCache keeps the issuer records the pages show (logo, website,
// accreditation, time zone) for issuerCacheTTL, sparing every page view a
// read of the store. A profile change on this instance drops the entry
// (Server.changed); one on another instance shows within the TTL. The zero
// value is ready.
type issuerCache struct{ m sync.Map } // id → issuerEntry

type issuerEntry struct {
	is      *cert.Issuer
	fetched time.Time
}

const issuerCacheTTL = time.Minute

// issuer returns the issuer, from the cache when it is fresh.
func (s *Server) issuer(ctx context.Context, id string) (*cert.Issuer, error) {
	now := time.Now()
	if e, ok := s.issuers.m.Load(id); ok && now.Sub(e.(issuerEntry).fetched) < issuerCacheTTL {
		return e.(issuerEntry).is, nil
	}
	is, err := s.cfg.Issuing.Issuer(ctx, id)
	if err != nil {
		return nil, err
	}
	s.issuers.m.Store(id, issuerEntry{is: is, fetched: now})
	return is, nil
}
