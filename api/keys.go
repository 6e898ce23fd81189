package api

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v5"

	"github.com/certd/certd/cert"
)

const jwksCache = "public, max-age=300"

// knownIssuer returns the issuer named in the path, or a 404 problem.
func (s *Server) knownIssuer(c *echo.Context) (*cert.Issuer, error) {
	is, err := s.cfg.Issuing.Issuer(c.Request().Context(), c.Param("issuer"))
	if errors.Is(err, cert.ErrNotFound) {
		return nil, newHTTPError(http.StatusNotFound, "not-found", "No such issuer", "No issuer "+quote(c.Param("issuer"))+" exists here. GET /api/v1/issuers (admin) or /.well-known/jwks.json lists what is published.")
	}
	return is, err
}

func quote(s string) string {
	if len(s) > 64 {
		s = s[:64]
	}
	return `"` + s + `"`
}

func (s *Server) issuerJWKS(c *echo.Context) error {
	is, err := s.knownIssuer(c)
	if err != nil {
		return err
	}
	b, err := s.cfg.Keys.JWKS(c.Request().Context(), is.ID)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", jwksCache)
	return c.Blob(http.StatusOK, "application/jwk-set+json", b)
}

func (s *Server) allJWKS(c *echo.Context) error {
	all, err := s.cfg.Issuing.Issuers(c.Request().Context())
	if err != nil {
		return err
	}
	ids := make([]string, len(all))
	for i, is := range all {
		ids[i] = is.ID
	}
	b, err := s.cfg.Keys.JWKSAll(c.Request().Context(), ids)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", jwksCache)
	return c.Blob(http.StatusOK, "application/jwk-set+json", b)
}

func (s *Server) issuerMetadata(c *echo.Context) error {
	is, err := s.knownIssuer(c)
	if err != nil {
		return err
	}
	b, err := s.cfg.Keys.IssuerMetadata(c.Request().Context(), is.ID, cert.IssuerURL(s.cfg.PublicURL, is.ID))
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", jwksCache)
	return c.Blob(http.StatusOK, "application/json", b)
}

func (s *Server) rotateKey(c *echo.Context) error {
	is, err := s.knownIssuer(c)
	if err != nil {
		return err
	}
	var body struct {
		KeyType string `json:"keyType,omitempty"`
	}
	if c.Request().ContentLength != 0 {
		if err := decodeJSON(c, &body, maxBody); err != nil {
			return err
		}
	}
	if body.KeyType != "" && body.KeyType != cert.KeyTypeEd25519 && body.KeyType != cert.KeyTypeES256 {
		return cert.Invalid("keyType", `must be "Ed25519" or "ES256" (or omitted to keep the current type)`)
	}
	info, err := s.cfg.Keys.Rotate(c.Request().Context(), is.ID, body.KeyType)
	if err != nil {
		return err
	}
	s.log.Info("key rotated", "request_id", requestID(c), "issuer", is.ID, "kid", info.Kid, "actor", principal(c).Actor())
	return c.JSON(http.StatusCreated, info)
}

func (s *Server) listKeys(c *echo.Context) error {
	is, err := s.knownIssuer(c)
	if err != nil {
		return err
	}
	keys, err := s.cfg.Keys.Keys(c.Request().Context(), is.ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, struct {
		Keys []cert.KeyInfo `json:"keys"`
	}{keys})
}
