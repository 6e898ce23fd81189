package api

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v5"
)

// healthz answers while the process runs.
func (s *Server) healthz(c *echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// readyz answers 200 only when the store answers, so a load balancer stops
// sending traffic to an instance that cannot serve it.
func (s *Server) readyz(c *echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	if err := s.cfg.Store.Ping(ctx); err != nil {
		s.log.Warn("not ready", "request_id", requestID(c), "error", err.Error())
		writeProblem(c, Problem{
			Type: problemTypeBase + "unavailable", Title: "Not ready", Status: http.StatusServiceUnavailable,
			Detail: "The store does not answer.", RequestID: requestID(c),
		})
		return nil
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ready"})
}
