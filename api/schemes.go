package api

import (
	"net/http"

	"github.com/labstack/echo/v5"

	"github.com/certd/certd/cert"
)

// schemesAnswer is the body of GET /api/v1/schemes.
type schemesAnswer struct {
	Schemes []*cert.Scheme `json:"schemes"`
}

// listSchemes answers the schemes in force, sorted by id, with their rules
// and reason codes. It is public: the rules are what a verification page
// applies and what a client needs to fill reasonCode, and hold no secret.
func (s *Server) listSchemes(c *echo.Context) error {
	all := s.cfg.Issuing.Schemes()
	out := schemesAnswer{Schemes: make([]*cert.Scheme, 0, len(all))}
	for _, id := range all.IDs() {
		out.Schemes = append(out.Schemes, all[id])
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=300")
	return c.JSON(http.StatusOK, out)
}
