package api

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v5"
)

// Renders (PDFs, QR codes) cost a thousand times what a verification
// costs, so they have their own budget per client IP, measured in cost
// units of about a millisecond of CPU each, and a bound on how many run at
// once in the process. Only renders are charged: an answer from the caches
// costs what any public request costs.
const (
	// costPDF is one certificate PDF (about 35 ms).
	costPDF = 40
	// costQRSVG is one SVG QR code.
	costQRSVG = 1
	// defaultRenderRate is the PDFs per second and client IP when the
	// configuration does not say.
	defaultRenderRate = 5
	// defaultRenderWait is how long a render waits for a free slot before
	// it is refused.
	defaultRenderWait = 2 * time.Second
	// failureTTL is how long a failed PDF render is remembered, per
	// certificate version, status and day.
	failureTTL = 10 * time.Minute
	// maxFailures bounds the failures remembered.
	maxFailures = 4096
)

// qrSizes are the sizes of QR code PNGs, in pixels, and what encoding each
// costs: a closed set, so that the cache of encoded codes cannot be filled
// with sizes nobody prints.
var qrSizes = []struct{ size, cost int }{{128, 1}, {256, 1}, {512, 2}, {1024, 8}}

// qrSizeCost returns the cost of a QR code PNG of size pixels, or false if
// the size is not offered.
func qrSizeCost(size int) (int, bool) {
	for _, s := range qrSizes {
		if s.size == size {
			return s.cost, true
		}
	}
	return 0, false
}

// qrSizeList is the accepted sizes for error messages: "128, 256, 512 or 1024".
func qrSizeList() string {
	var b []byte
	for i, s := range qrSizes {
		switch {
		case i == len(qrSizes)-1 && i > 0:
			b = append(b, " or "...)
		case i > 0:
			b = append(b, ", "...)
		}
		b = strconv.AppendInt(b, int64(s.size), 10)
	}
	return string(b)
}

// renderBudget charges cost units to the client's render budget, or
// answers 429 with the seconds after which the budget holds the cost again.
func (s *Server) renderBudget(c *echo.Context, cost int) error {
	if s.renderLimit.allowN(c.RealIP(), time.Now(), cost) {
		return nil
	}
	wait := max(1, int(math.Ceil(float64(cost)/float64(s.renderLimit.r))))
	c.Response().Header().Set("Retry-After", strconv.Itoa(wait))
	return newHTTPError(http.StatusTooManyRequests, "render-rate-limited", "Too many renders",
		fmt.Sprintf("This address asked for more PDFs and QR codes than certd renders for one client; retry in %d s. The verification page and the verification API are not limited by this.", wait))
}

// renderSlot waits, for at most the configured render wait, for one of the
// process's render slots; release gives it back. When every slot stays
// busy, the render is refused with 503 and Retry-After.
func (s *Server) renderSlot(ctx context.Context) (release func(), err error) {
	select {
	case s.renders <- struct{}{}:
		return func() { <-s.renders }, nil
	default:
	}
	t := time.NewTimer(s.cfg.RenderWait)
	defer t.Stop()
	select {
	case s.renders <- struct{}{}:
		return func() { <-s.renders }, nil
	case <-t.C:
	case <-ctx.Done():
	}
	busy := newHTTPError(http.StatusServiceUnavailable, "render-busy", "Too many renders in progress",
		"certd is rendering as many PDFs and QR codes as it can at once; retry in a few seconds.")
	busy.quiet = true
	return nil, busy
}

// failureCache remembers failed renders for failureTTL, so that a
// certificate that cannot be printed is not rendered (nor logged) again on
// every request. It is bounded: when full, expired entries go first, then
// any.
type failureCache struct {
	mu      sync.Mutex
	entries map[string]failure
}

type failure struct {
	err   *httpError
	until time.Time
}

func (f *failureCache) get(key string, now time.Time) (*httpError, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	e, ok := f.entries[key]
	if !ok || !now.Before(e.until) {
		return nil, false
	}
	return e.err, true
}

// remember keeps err for key and returns it, marked quiet: its cause is
// logged once, by the caller.
func (f *failureCache) remember(key string, err *httpError, now time.Time) *httpError {
	err.quiet = true
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.entries == nil {
		f.entries = map[string]failure{}
	}
	if len(f.entries) >= maxFailures {
		for k, e := range f.entries {
			if !now.Before(e.until) {
				delete(f.entries, k)
			}
		}
		for k := range f.entries {
			if len(f.entries) < maxFailures {
				break
			}
			delete(f.entries, k)
		}
	}
	f.entries[key] = failure{err: err, until: now.Add(failureTTL)}
	return err
}
