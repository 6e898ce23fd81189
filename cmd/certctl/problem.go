package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/certd/certd/cert"
)

// problem is an RFC 9457 problem document as certd writes it.
type problem struct {
	Type      string            `json:"type"`
	Title     string            `json:"title"`
	Status    int               `json:"status"`
	Detail    string            `json:"detail,omitempty"`
	Instance  string            `json:"instance,omitempty"`
	RequestID string            `json:"requestId,omitempty"`
	Errors    []cert.FieldError `json:"errors,omitempty"`
}

// apiError is a non-2xx answer of certd.
type apiError struct {
	method, url string
	status      int
	problem     *problem
	// body is the start of a non-problem answer (a proxy's error page).
	body      string
	requestID string
}

func newAPIError(method, url string, r *response) *apiError {
	e := &apiError{method: method, url: url, status: r.status, requestID: r.requestID}
	var p problem
	if r.isProblem() && json.Unmarshal(r.body, &p) == nil {
		e.problem = &p
		if p.RequestID != "" {
			e.requestID = p.RequestID
		}
	} else {
		body := r.body
		if strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
			body = htmlTag.ReplaceAll(body, []byte(" "))
		}
		e.body = snippet(body)
	}
	return e
}

// htmlTag matches the tags of a proxy's HTML error page, so that only its
// text is shown.
var htmlTag = regexp.MustCompile(`<[^>]*>`)

// snippet returns the start of a body as one line of text.
func snippet(b []byte) string {
	if !utf8.Valid(b) {
		return fmt.Sprintf("(%d bytes of binary data)", len(b))
	}
	s := strings.Join(strings.Fields(string(b)), " ")
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}

// Error is one line; describe gives the full report.
func (e *apiError) Error() string {
	if e.problem != nil {
		msg := e.problem.Title
		if e.problem.Detail != "" {
			msg += ": " + e.problem.Detail
		}
		for _, f := range e.problem.Errors {
			msg += "; " + f.Field + ": " + f.Message
		}
		return fmt.Sprintf("%s (HTTP %d)", msg, e.status)
	}
	return fmt.Sprintf("HTTP %d %s from %s %s: %s", e.status, http.StatusText(e.status), e.method, e.url, e.body)
}

// describe is the multi-line report of an API error: what happened, each
// invalid field, what to do, and the request id to quote.
func (e *apiError) describe() string {
	var b strings.Builder
	switch {
	case e.status == http.StatusUnauthorized:
		fmt.Fprintf(&b, "the API key was refused (HTTP 401)")
		if e.problem != nil && e.problem.Detail != "" {
			fmt.Fprintf(&b, ": %s", e.problem.Detail)
		}
		b.WriteString("\n  check --token, $CERTD_TOKEN or the \"token\" of the config file; an API key is shown only once, when it is created")
	case e.problem != nil:
		fmt.Fprintf(&b, "%s (HTTP %d)", e.problem.Title, e.status)
		if e.problem.Detail != "" {
			fmt.Fprintf(&b, "\n  %s", e.problem.Detail)
		}
		for _, f := range e.problem.Errors {
			fmt.Fprintf(&b, "\n  - %s: %s", f.Field, f.Message)
		}
		if e.status == http.StatusForbidden {
			b.WriteString("\n  this API key's role or issuer does not allow it: use an admin key, or a key of the certificate's issuer")
		}
	default:
		fmt.Fprintf(&b, "HTTP %d %s from %s %s", e.status, http.StatusText(e.status), e.method, e.url)
		if e.body != "" {
			fmt.Fprintf(&b, "\n  %s", e.body)
		}
		if e.status == http.StatusNotFound {
			b.WriteString("\n  is --server the base URL of a certd server (not a page below it)?")
		}
	}
	if e.requestID != "" {
		fmt.Fprintf(&b, "\n  request id: %s", e.requestID)
	}
	return b.String()
}

// connError is a request that got no answer.
type connError struct {
	server, url, method string
	err                 error
}

func (e *connError) Error() string {
	var ne net.Error
	switch {
	case errors.Is(e.err, context.Canceled):
		return "interrupted"
	case errors.Is(e.err, context.DeadlineExceeded), errors.As(e.err, &ne) && ne.Timeout():
		return fmt.Sprintf("certd at %s did not answer in time (%v); try again, or raise --timeout", e.server, e.err)
	}
	return fmt.Sprintf("cannot reach certd at %s: %v (is it running? set --server or $CERTD_SERVER)", e.server, e.err)
}

func (e *connError) Unwrap() error { return e.err }

// report prints err to stderr in the fullest form it has and returns the
// exit code of a failure.
func (a *app) report(err error) int {
	a.printErr(err)
	return exitFailure
}

func (a *app) printErr(err error) {
	var ae *apiError
	if errors.As(err, &ae) {
		fmt.Fprintf(a.stderr, "certctl: %s\n", ae.describe())
		return
	}
	fmt.Fprintf(a.stderr, "certctl: %v\n", err)
}

// fileError shortens an *os.PathError to "path: reason" (without the
// operation name, which means little to a user).
func fileError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %v", pe.Path, pe.Err)
	}
	return err
}
