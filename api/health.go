package api

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v5"
)

type healthOnlyKey struct{}

// HealthOnly serves the health endpoints and refuses every other request
// with 503, closing the connection after each answer: the handler of the
// connections a listener accepts beyond its cap, so that health probes
// answer while the instance is full.
func (s *Server) HealthOnly() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "close")
		s.e.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), healthOnlyKey{}, true)))
	})
}

// healthOnlyGate refuses what HealthOnly does not serve.
func healthOnlyGate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		if c.Request().Context().Value(healthOnlyKey{}) == nil {
			return next(c)
		}
		switch c.Path() {
		case "/healthz", "/readyz":
			return next(c)
		}
		full := newHTTPError(http.StatusServiceUnavailable, "connection-capacity", "At connection capacity",
			"certd holds as many connections as it serves; this connection answers health probes only. Retry in a few seconds.")
		full.quiet = true
		return full
	}
}

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
