package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v5"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/templates"
)

// Problem is an RFC 9457 problem document.
type Problem struct {
	Type      string            `json:"type"`
	Title     string            `json:"title"`
	Status    int               `json:"status"`
	Detail    string            `json:"detail,omitempty"`
	Instance  string            `json:"instance,omitempty"`
	RequestID string            `json:"requestId,omitempty"`
	Errors    []cert.FieldError `json:"errors,omitempty"`
}

// problemTypeBase prefixes problem type URIs.
const problemTypeBase = "urn:certd:problem:"

// kind maps a domain error kind to its HTTP form: the one table of status
// codes in certd.
var kinds = []struct {
	err    error
	status int
	slug   string
	title  string
}{
	{cert.ErrIdempotencyMismatch, http.StatusUnprocessableEntity, "idempotency-key-reused", "Idempotency-Key reused with a different request"},
	{cert.ErrInvalid, http.StatusUnprocessableEntity, "invalid-input", "The request has invalid fields"},
	{cert.ErrNotFound, http.StatusNotFound, "not-found", "Not found"},
	{cert.ErrAlreadyExists, http.StatusConflict, "already-exists", "Already exists"},
	{cert.ErrTransition, http.StatusConflict, "transition-not-allowed", "The certificate's status does not allow this action"},
	{cert.ErrLastAdminKey, http.StatusConflict, "last-admin-key", "The last active admin API key cannot be revoked"},
	{cert.ErrConflict, http.StatusConflict, "conflict", "Concurrent change"},
	{cert.ErrPrecondition, http.StatusPreconditionFailed, "precondition-failed", "The certificate changed since you read it"},
	{cert.ErrUnsupportedMedia, http.StatusUnsupportedMediaType, "unsupported-media-type", "Unsupported media type"},
	{cert.ErrForbidden, http.StatusForbidden, "forbidden", "Not allowed for this API key"},
	{cert.ErrUnavailable, http.StatusServiceUnavailable, "unavailable", "Service temporarily unavailable"},
	{context.DeadlineExceeded, http.StatusServiceUnavailable, "unavailable", "Service temporarily unavailable"},
}

// httpError is an error that already knows its HTTP form (malformed
// requests, authentication, limits).
type httpError struct {
	status int
	slug   string
	title  string
	detail string
	fields []cert.FieldError
	// quiet marks a 5xx that is no news: shedding load (render slots,
	// connection capacity) or a remembered failure whose cause was logged
	// once. The access log keeps it to debug, so a client cannot flood the
	// log with it; /metrics counts it.
	quiet bool
}

func (e *httpError) Error() string { return e.detail }

func newHTTPError(status int, slug, title, detail string) *httpError {
	return &httpError{status: status, slug: slug, title: title, detail: detail}
}

func errUnauthorized(detail string) error {
	return newHTTPError(http.StatusUnauthorized, "unauthorized", "Authentication required", detail)
}

func errBadRequest(detail string, fields ...cert.FieldError) error {
	e := newHTTPError(http.StatusBadRequest, "malformed-request", "The request could not be read", detail)
	e.fields = fields
	return e
}

// problemFor builds the problem document of err. Internal errors get a
// generic document; their text is only logged.
func problemFor(err error) (p Problem, internal bool) {
	var he *httpError
	if errors.As(err, &he) {
		return Problem{Type: problemTypeBase + he.slug, Title: he.title, Status: he.status, Detail: he.detail, Errors: he.fields}, false
	}
	var ve *cert.ValidationError
	if errors.As(err, &ve) {
		return Problem{
			Type: problemTypeBase + "invalid-input", Title: "The request has invalid fields",
			Status: http.StatusUnprocessableEntity, Detail: ve.Error(), Errors: ve.Fields,
		}, false
	}
	for _, k := range kinds {
		if errors.Is(err, k.err) {
			p := Problem{Type: problemTypeBase + k.slug, Title: k.title, Status: k.status, Detail: detailOf(err, k.err)}
			if k.status == http.StatusServiceUnavailable {
				p.Detail = "A backing service does not answer right now; nothing was changed by this request. Retry in a few seconds."
				return p, true
			}
			return p, false
		}
	}
	if code := echo.StatusCode(err); code != 0 && code < 500 {
		title := http.StatusText(code)
		detail := title
		switch code {
		case http.StatusNotFound:
			detail = "No such resource. See /openapi.json for the routes this service offers."
		case http.StatusMethodNotAllowed:
			detail = "This method is not allowed on this resource. See /openapi.json."
		}
		return Problem{Type: problemTypeBase + strings.ToLower(strings.ReplaceAll(title, " ", "-")), Title: title, Status: code, Detail: detail}, false
	}
	return Problem{
		Type: problemTypeBase + "internal", Title: "Internal error", Status: http.StatusInternalServerError,
		Detail: "Something went wrong on our side; nothing you sent was at fault. Quote the request id when you report it.",
	}, true
}

// detailOf strips the trailing sentinel text from a wrapped error message,
// so "number: ... already used: already exists" reads naturally.
func detailOf(err, kind error) string {
	msg := err.Error()
	return strings.TrimSuffix(msg, ": "+kind.Error())
}

// errorHandler is echo's HTTPErrorHandler: every error becomes a problem
// document carrying the request id.
func (s *Server) errorHandler(c *echo.Context, err error) {
	if resp, uerr := echo.UnwrapResponse(c.Response()); uerr == nil && resp.Committed {
		return
	}
	p, internal := problemFor(err)
	p.RequestID = requestID(c)
	p.Instance = c.Request().URL.Path
	if internal {
		s.log.LogAttrs(c.Request().Context(), slog.LevelError, "request failed",
			slog.String("request_id", p.RequestID), slog.String("path", c.Request().URL.Path), slog.String("error", err.Error()))
	}
	if p.Status == http.StatusServiceUnavailable {
		c.Response().Header().Set("Retry-After", "5")
	}
	if p.Status == http.StatusUnauthorized {
		c.Response().Header().Set("WWW-Authenticate", `Bearer realm="certd"`)
	}
	if !strings.HasPrefix(c.Request().URL.Path, "/api/") {
		// Outside the API the same address answers a page or a problem
		// by Accept: a cache must keep them apart.
		c.Response().Header().Set("Vary", "Accept, Accept-Language")
	}
	if wantsHTML(c.Request()) {
		s.writeErrorPage(c, p)
		return
	}
	writeProblem(c, p)
}

// wantsHTML reports whether an error is answered as an HTML page: to a
// browser (its Accept names text/html) anywhere outside the JSON API,
// unknown routes included. Programs, and every route under /api/, get
// problem documents.
func wantsHTML(r *http.Request) bool {
	return !strings.HasPrefix(r.URL.Path, "/api/") && strings.Contains(r.Header.Get("Accept"), "text/html")
}

// writeErrorPage answers the HTML page of problem p.
func (s *Server) writeErrorPage(c *echo.Context, p Problem) {
	lang := pageLang(c)
	page, err := templates.ErrorPage(templates.ErrorPageData{Lang: lang, PublicURL: s.cfg.PublicURL, Status: p.Status, RequestID: p.RequestID})
	if err != nil {
		writeProblem(c, p)
		return
	}
	if c.Request().Method == http.MethodHead {
		setPageHeaders(c, lang, len(page))
		_ = c.NoContent(p.Status)
		return
	}
	_ = writePage(c, p.Status, lang, page)
}

func writeProblem(c *echo.Context, p Problem) {
	b, err := json.Marshal(p)
	if err != nil {
		b = []byte(fmt.Sprintf(`{"type":"%sinternal","title":"Internal error","status":500}`, problemTypeBase))
	}
	if c.Request().Method == http.MethodHead {
		// The headers GET would have sent, without the body.
		c.Response().Header().Set("Content-Type", "application/problem+json")
		c.Response().Header().Set("Content-Length", strconv.Itoa(len(b)))
		_ = c.NoContent(p.Status)
		return
	}
	_ = c.Blob(p.Status, "application/problem+json", b)
}
