package api

import (
	_ "embed"
	"net/http"

	"github.com/labstack/echo/v5"
)

// openapiJSON documents every route; TestOpenAPICoversRoutes keeps the two
// in step.
//
//go:embed openapi.json
var openapiJSON []byte

func (s *Server) openAPI(c *echo.Context) error {
	c.Response().Header().Set("Cache-Control", "public, max-age=300")
	return c.Blob(http.StatusOK, "application/json", openapiJSON)
}
