package api

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v5"
	"golang.org/x/time/rate"

	"github.com/certd/certd/cert"
)

// Body limits (DESIGN.md section 9).
const (
	maxBody      = 1 << 20
	maxBatchBody = 16 << 20
)

const (
	ctxRequestID = "certd.request_id"
	ctxPrincipal = "certd.principal"
)

// requestIDMiddleware gives every request an id: the client's X-Request-ID
// when it is a short token, a fresh one otherwise.
func requestIDMiddleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		id := c.Request().Header.Get("X-Request-ID")
		if !requestIDToken(id) {
			id = newRequestID()
		}
		c.Set(ctxRequestID, id)
		c.Response().Header()["X-Request-Id"] = []string{id}
		return next(c)
	}
}

// requestIDToken reports whether a client's request id is kept: 1 to 64
// characters of [A-Za-z0-9._:-].
func requestIDToken(id string) bool {
	if len(id) == 0 || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		switch c := id[i]; {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '_', c == ':', c == '-':
		default:
			return false
		}
	}
	return true
}

// newRequestID is 24 random hex digits. An id only tells requests apart
// in the logs (it is no secret and grants nothing), so it comes from the
// runtime's per-thread generator rather than a system call per request.
func newRequestID() string {
	var b [12]byte
	binary.LittleEndian.PutUint64(b[:8], rand.Uint64())
	binary.LittleEndian.PutUint32(b[8:], rand.Uint32())
	return hex.EncodeToString(b[:])
}

func requestID(c *echo.Context) string {
	id, _ := c.Get(ctxRequestID).(string)
	return id
}

// accessLog logs one line per request with its id; never headers or bodies
// (they carry API keys and tokens).
func (s *Server) accessLog(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		start := time.Now()
		err := next(c)
		status := http.StatusOK
		if resp, uerr := echo.UnwrapResponse(c.Response()); uerr == nil && resp.Status != 0 {
			status = resp.Status
		}
		if err != nil {
			p, _ := problemFor(err)
			status = p.Status
		}
		route := c.Path()
		s.metrics.observe(c.Request().Method, route, status, time.Since(start))
		level := slog.LevelDebug
		var he *httpError
		if status >= 500 && !(errors.As(err, &he) && he.quiet) {
			level = slog.LevelWarn
		}
		if !s.log.Enabled(c.Request().Context(), level) {
			return err
		}
		s.log.LogAttrs(c.Request().Context(), level, "request",
			slog.String("request_id", requestID(c)),
			slog.String("method", c.Request().Method),
			slog.String("route", route),
			slog.Int("status", status),
			slog.Duration("duration", time.Since(start)),
			slog.String("ip", c.RealIP()))
		return err
	}
}

// securityHeaders sets headers every response carries.
func securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		// Canonical keys set directly: Header.Set would canonicalize
		// each on every request. The slices are fresh per response (a
		// handler may change them).
		h := c.Response().Header()
		h["X-Content-Type-Options"] = []string{"nosniff"}
		h["Referrer-Policy"] = []string{"no-referrer"}
		h["X-Frame-Options"] = []string{"DENY"}
		return next(c)
	}
}

// rateLimiter limits requests per client IP with a token bucket each.
type rateLimiter struct {
	mu      sync.Mutex
	r       rate.Limit
	burst   int
	clients map[clientKey]*client
	sweep   time.Time
}

// clientKey is a client of the limiter: the address that ClientKey names
// (an IPv4 address, an IPv6 /64 as its first address), or the text given
// when it is not an address. A key of addresses is compared without
// printing them.
type clientKey struct {
	addr netip.Addr
	text string
}

type client struct {
	lim  *rate.Limiter
	seen time.Time
}

func newRateLimiter(perSecond float64, burst int) *rateLimiter {
	return &rateLimiter{r: rate.Limit(perSecond), burst: burst, clients: map[clientKey]*client{}}
}

func (l *rateLimiter) allow(ip string, now time.Time) bool { return l.allowN(ip, now, 1) }

// allowN takes n tokens from the bucket of ip's client, if it holds them.
func (l *rateLimiter) allowN(ip string, now time.Time, n int) bool {
	k := clientKey{text: ip}
	if a, err := netip.ParseAddr(ip); err == nil {
		k = clientKey{addr: clientAddr(a)}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.sweep) > time.Minute {
		for k, c := range l.clients {
			if now.Sub(c.seen) > 5*time.Minute {
				delete(l.clients, k)
			}
		}
		l.sweep = now
	}
	c := l.clients[k]
	if c == nil {
		c = &client{lim: rate.NewLimiter(l.r, l.burst)}
		l.clients[k] = c
	}
	c.seen = now
	return c.lim.AllowN(now, n)
}

func (l *rateLimiter) middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		if !l.allow(c.RealIP(), time.Now()) {
			c.Response().Header().Set("Retry-After", "1")
			return newHTTPError(http.StatusTooManyRequests, "rate-limited", "Too many requests",
				"This address sent too many requests; slow down and retry in a second. For bulk checks use POST /api/v1/verify/batch.")
		}
		return next(c)
	}
}

// ClientKey is the key of a client address for per-client limits (request
// rates, connections): an IPv4 address itself, an IPv6 address its /64,
// the network of one subscriber, which holds more addresses than any
// limit could count.
func ClientKey(a netip.Addr) string {
	k := clientAddr(a)
	if k.Is6() {
		return netip.PrefixFrom(k, 64).String()
	}
	return k.String()
}

// clientAddr is the address of the client ClientKey names: an IPv4
// address itself, an IPv6 address the first of its /64 (zone dropped).
func clientAddr(a netip.Addr) netip.Addr {
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.Addr()
	}
	return a
}

// requireAuth authenticates the bearer API key; the principal is kept on the
// context.
func (s *Server) requireAuth(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		h := c.Request().Header.Get("Authorization")
		token, ok := strings.CutPrefix(h, "Bearer ")
		if !ok || strings.TrimSpace(token) == "" {
			return errUnauthorized("Send an API key as 'Authorization: Bearer <key>'. The first start of certd prints an admin key and writes it to admin.token in the data directory.")
		}
		p, err := s.cfg.Issuing.Authenticate(c.Request().Context(), strings.TrimSpace(token))
		if errors.Is(err, cert.ErrNotFound) {
			return errUnauthorized("This API key is not valid (unknown or revoked).")
		}
		if err != nil {
			return err
		}
		c.Set(ctxPrincipal, p)
		return next(c)
	}
}

// requireAdmin refuses non-admin keys.
func requireAdmin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		if !principal(c).DeploymentAdmin() {
			return fmt.Errorf("this route needs an admin key: %w", cert.ErrForbidden)
		}
		return next(c)
	}
}

func principal(c *echo.Context) cert.Principal {
	p, _ := c.Get(ctxPrincipal).(cert.Principal)
	return p
}

// decodeJSON reads a JSON body of at most limit bytes into v, strictly:
// a body that is not UTF-8, unknown fields and trailing data are errors
// that name the field.
func decodeJSON(c *echo.Context, v any, limit int64) error {
	r := c.Request()
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return newHTTPError(http.StatusUnsupportedMediaType, "unsupported-media-type", "Unsupported media type",
			"Send the body as JSON with 'Content-Type: application/json'.")
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Response(), r.Body, limit))
	if err != nil {
		return jsonError(err, limit)
	}
	if err := checkUTF8(body); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err, limit)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return jsonError(err, limit)
		}
		return errBadRequest("The body must hold exactly one JSON value; remove what follows it.")
	}
	return nil
}

func jsonError(err error, limit int64) error {
	var (
		mbe *http.MaxBytesError
		syn *json.SyntaxError
		typ *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &mbe):
		return newHTTPError(http.StatusRequestEntityTooLarge, "body-too-large", "Request body too large",
			fmt.Sprintf("The body is larger than %d bytes. Split a batch into smaller ones.", limit))
	case errors.Is(err, io.EOF):
		return errBadRequest("The body is empty; send a JSON object.")
	case errors.As(err, &syn):
		return errBadRequest(fmt.Sprintf("The body is not valid JSON (at byte %d): %s.", syn.Offset, syn.Error()))
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "(body)"
		}
		return errBadRequest(fmt.Sprintf("Field %s must be a JSON %s, not %s.", field, jsonKind(typ.Type.Kind().String()), typ.Value),
			cert.FieldError{Field: field, Message: fmt.Sprintf("must be a JSON %s", jsonKind(typ.Type.Kind().String()))})
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return errBadRequest(fmt.Sprintf("Field %q is not part of this request; check its spelling against /openapi.json.", name),
			cert.FieldError{Field: name, Message: "is not a known field"})
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errBadRequest("The body ends in the middle of a JSON value.")
	}
	return errBadRequest("The body could not be read as JSON: " + err.Error())
}

func jsonKind(k string) string {
	switch k {
	case "int", "int64", "int32", "float64", "uint":
		return "number"
	case "string":
		return "string"
	case "slice", "array":
		return "array"
	case "struct", "map":
		return "object"
	case "bool":
		return "boolean"
	}
	return k
}

func prefixToIPNet(p netip.Prefix) *net.IPNet {
	p = p.Masked()
	bits := 32
	if p.Addr().Is6() {
		bits = 128
	}
	return &net.IPNet{IP: net.IP(p.Addr().AsSlice()), Mask: net.CIDRMask(p.Bits(), bits)}
}
