package api

import (
	"context"
	"net/http"
	"strings"
	"sync"
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

// ReadyCheck is one condition of /readyz.
type ReadyCheck struct {
	// Name identifies the check in the 503 problem (store, keys, write,
	// disk): it is public, the error is not.
	Name string
	// Check returns nil when the condition holds.
	Check func(ctx context.Context) error
}

// readyTTL is how long one run of the checks answers /readyz: a probe
// every few seconds from a load balancer, or a flood of requests, costs at
// most one run (a store read, a small write) per second.
const readyTTL = time.Second

// readyTimeout bounds one run of the checks.
const readyTimeout = 2 * time.Second

// readiness caches the last run of the checks.
type readiness struct {
	mu     sync.Mutex
	at     time.Time
	failed []string
}

// healthz answers while the process runs.
func (s *Server) healthz(c *echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// readyz answers 200 only when every check passes (by default: the store
// answers), so a load balancer stops sending traffic to an instance that
// cannot read, write or sign. The 503 problem names the failing checks.
func (s *Server) readyz(c *echo.Context) error {
	failed := s.runReadyChecks(c)
	if len(failed) > 0 {
		writeProblem(c, Problem{
			Type: problemTypeBase + "unavailable", Title: "Not ready", Status: http.StatusServiceUnavailable,
			Detail: "Failing checks: " + strings.Join(failed, ", ") + ". The server log says why.", RequestID: requestID(c),
		})
		return nil
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ready"})
}

// runReadyChecks returns the names of the failing checks, from the cache
// when the last run is younger than readyTTL. Concurrent requests wait for
// one run.
func (s *Server) runReadyChecks(c *echo.Context) []string {
	r := &s.ready
	r.mu.Lock()
	defer r.mu.Unlock()
	// The wall clock, not the injected one: a test's fake clock that
	// stands still must not freeze the answer.
	now := time.Now()
	if !r.at.IsZero() && now.Sub(r.at) < readyTTL {
		return r.failed
	}
	checks := s.cfg.ReadyChecks
	if checks == nil {
		checks = []ReadyCheck{{Name: "store", Check: s.cfg.Store.Ping}}
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.Request().Context()), readyTimeout)
	defer cancel()
	var failed []string
	for _, ch := range checks {
		if err := ch.Check(ctx); err != nil {
			failed = append(failed, ch.Name)
			s.log.Warn("not ready", "request_id", requestID(c), "check", ch.Name, "error", err.Error())
		}
	}
	r.at, r.failed = now, failed
	return failed
}
