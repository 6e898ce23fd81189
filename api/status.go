package api

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v5"

	"github.com/certd/certd/issuer"
)

// StatusLists publishes the issuers' Bitstring Status Lists.
type StatusLists interface {
	// List returns the signed list n of the issuer for the purpose; an
	// unknown issuer, purpose or empty list matches cert.ErrNotFound.
	List(ctx context.Context, issuer, purpose string, n int) (*issuer.SignedStatusList, error)
}

func errNoStatusList(detail string) error {
	return newHTTPError(http.StatusNotFound, "not-found", "No such status list", detail)
}

// statusList serves GET /status/{issuer}/{purpose}/{n}: a
// BitstringStatusListCredential as vc+jwt, cacheable for its ttl, with a
// strong ETag and 304 on If-None-Match.
func (s *Server) statusList(c *echo.Context) error {
	if s.cfg.StatusLists == nil {
		return errNoStatusList("This server does not publish status lists.")
	}
	n, err := strconv.Atoi(c.Param("n"))
	if err != nil || n < 1 {
		return errNoStatusList("Status lists are numbered from 1: /status/{issuer}/{revocation|suspension}/{n}.")
	}
	l, err := s.cfg.StatusLists.List(c.Request().Context(), c.Param("issuer"), c.Param("purpose"), n)
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set("Cache-Control", "public, max-age="+strconv.Itoa(int(l.TTL/time.Second)))
	h.Set("ETag", l.ETag)
	if etagMatches(c.Request().Header.Get("If-None-Match"), l.ETag) {
		return c.NoContent(http.StatusNotModified)
	}
	return c.Blob(http.StatusOK, "application/vc+jwt", []byte(l.Token))
}

// etagMatches applies If-None-Match (RFC 9110 section 13.1.2): "*" or any
// listed tag equal to etag under the weak comparison.
func etagMatches(header, etag string) bool {
	if header == "" {
		return false
	}
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || strings.TrimPrefix(t, "W/") == etag {
			return true
		}
	}
	return false
}
