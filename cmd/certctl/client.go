package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// maxResponse bounds a response body read into memory (a page of 1,000
// certificates is a few MB; a PDF less).
const maxResponse = 64 << 20

// client speaks to one certd server.
type client struct {
	base    *url.URL
	token   string
	http    *http.Client
	retries int
	// dialRetries bounds the retries of a server that refuses connections:
	// few for an interactive command, more for an import that should ride
	// out a restart.
	dialRetries int
	// sleep waits between retries; tests shorten it.
	sleep func(ctx context.Context, d time.Duration) error
}

// retryPolicy says when a request may be sent again.
type retryPolicy int

const (
	// retryNever sends once.
	retryNever retryPolicy = iota
	// retryUnsent retries only what certd did not act on: 429, 503 (certd
	// answers it only when nothing was changed) and connections that were
	// never established. For non-idempotent requests.
	retryUnsent
	// retryAlways also retries after a connection broke mid-request, and on
	// 502 and 504: for GETs and for POSTs carrying an Idempotency-Key.
	retryAlways
)

// request is one API call.
type request struct {
	method string
	path   string
	query  url.Values
	// body is encoded as JSON unless raw is set.
	body        any
	raw         []byte
	contentType string
	header      http.Header
	auth        bool
	retry       retryPolicy
	// answer503 marks a 503 that is itself the answer (a verdict
	// "unknown"), not to be retried.
	answer503 bool
}

// response is a read response.
type response struct {
	status    int
	header    http.Header
	body      []byte
	requestID string
}

// isProblem reports whether the body is an RFC 9457 problem document.
func (r *response) isProblem() bool {
	return strings.HasPrefix(r.header.Get("Content-Type"), "application/problem+json")
}

// newClient builds the client of the resolved connection settings. With
// needToken, a missing API key is an error that says where to set one.
func (a *app) newClient(needToken bool) (*client, error) {
	for _, w := range a.g.warnings {
		fmt.Fprintf(a.stderr, "certctl: warning: %s\n", w)
	}
	a.g.warnings = nil
	if needToken && a.g.Token == "" {
		return nil, errors.New("no API key: pass --token, set CERTD_TOKEN, or put {\"token\": \"...\"} in ~/.config/certctl/config.json (the first start of certd writes an admin key to DATA-DIR/admin.token)")
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = 64
	return &client{
		base:        a.g.Server,
		token:       a.g.Token,
		http:        &http.Client{Timeout: a.g.Timeout, Transport: transport},
		retries:     6,
		dialRetries: 2,
		sleep:       sleepCtx,
	}, nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// url returns the absolute URL of an API path.
func (c *client) url(path string, q url.Values) string {
	u := *c.base
	u.Path = strings.TrimRight(u.Path, "/") + path
	u.RawQuery = q.Encode()
	return u.String()
}

// do sends r, retrying by its policy with exponential backoff and jitter
// (honouring Retry-After), and returns the response whatever its status;
// errors are only those of the connection, as *connError.
func (c *client) do(ctx context.Context, r request) (*response, error) {
	var payload []byte
	contentType := r.contentType
	switch {
	case r.raw != nil:
		payload = r.raw
	case r.body != nil:
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(r.body); err != nil {
			return nil, fmt.Errorf("encode request: %w", err)
		}
		payload = buf.Bytes()
		if contentType == "" {
			contentType = "application/json"
		}
	}
	rid := newRequestID()
	target := c.url(r.path, r.query)
	dials := 0
	for attempt := 0; ; attempt++ {
		resp, err := c.once(ctx, r, target, contentType, payload, rid)
		var wait time.Duration
		switch {
		case err != nil:
			if neverSent(err) {
				dials++
			}
			if ctx.Err() != nil || !retryableConn(err, r.retry) || attempt >= c.retries || dials > c.dialRetries {
				return nil, &connError{server: c.base.String(), url: target, err: unwrapURLError(err), method: r.method}
			}
		case resp.status == http.StatusTooManyRequests || resp.status == http.StatusServiceUnavailable && !r.answer503:
			if r.retry == retryNever || attempt >= c.retries {
				return resp, nil
			}
			wait = retryAfter(resp.header)
		case (resp.status == http.StatusBadGateway || resp.status == http.StatusGatewayTimeout) && r.retry == retryAlways:
			if attempt >= c.retries {
				return resp, nil
			}
		default:
			return resp, nil
		}
		if err := c.sleep(ctx, backoff(attempt, wait)); err != nil {
			return nil, &connError{server: c.base.String(), url: target, err: err, method: r.method}
		}
	}
}

func (c *client) once(ctx context.Context, r request, target, contentType string, payload []byte, rid string) (*response, error) {
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, target, body)
	if err != nil {
		return nil, err
	}
	for k, vs := range r.header {
		req.Header[k] = vs
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if req.Header.Get("Accept") == "" {
		req.Header.Set("Accept", "application/json, application/problem+json")
	}
	req.Header.Set("User-Agent", "certctl/"+version())
	req.Header.Set("X-Request-ID", rid)
	if r.auth && c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		return nil, fmt.Errorf("read response: %w", err)
	}
	if len(b) > maxResponse {
		return nil, fmt.Errorf("response larger than %d MB", maxResponse>>20)
	}
	id := resp.Header.Get("X-Request-ID")
	if id == "" {
		id = rid
	}
	return &response{status: resp.StatusCode, header: resp.Header, body: b, requestID: id}, nil
}

// retryableConn says whether a connection error may be retried under p.
func retryableConn(err error, p retryPolicy) bool {
	switch p {
	case retryAlways:
		return true
	case retryUnsent:
		return neverSent(err)
	}
	return false
}

// unwrapURLError drops the "Get URL:" prefix net/http adds; the message
// names the server already.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// neverSent reports whether err happened before the request reached the
// server (refused, no route, DNS), so nothing can have been done.
func neverSent(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var dns *net.DNSError
	return errors.As(err, &dns) || errors.Is(err, syscall.ECONNREFUSED)
}

// backoff is the wait before retry attempt+1: exponential from 200 ms,
// capped at 10 s, with full jitter; at least what Retry-After asked.
func backoff(attempt int, atLeast time.Duration) time.Duration {
	ceil := 200 * time.Millisecond << min(attempt, 6)
	ceil = min(ceil, 10*time.Second)
	d := ceil/2 + mrand.N(ceil/2+1)
	return max(d, min(atLeast, 30*time.Second))
}

func retryAfter(h http.Header) time.Duration {
	if s, err := strconv.Atoi(strings.TrimSpace(h.Get("Retry-After"))); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	return 0
}

func newRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return "certctl-" + hex.EncodeToString(b[:])
}

// call sends r and decodes a 2xx JSON answer into out (when not nil); any
// other status is returned as *apiError.
func (c *client) call(ctx context.Context, r request, out any) (*response, error) {
	if r.retry == retryNever && r.method == http.MethodGet {
		r.retry = retryAlways
	}
	resp, err := c.do(ctx, r)
	if err != nil {
		return nil, err
	}
	if resp.status < 200 || resp.status > 299 {
		return resp, newAPIError(r.method, c.url(r.path, r.query), resp)
	}
	if out != nil && len(resp.body) > 0 {
		if err := json.Unmarshal(resp.body, out); err != nil {
			return resp, fmt.Errorf("read answer of %s %s: %v (is %s a certd server?)", r.method, r.path, err, c.base)
		}
	}
	return resp, nil
}

// version is the module version certctl was built from, or its VCS
// revision, or "dev".
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "dev"
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			return "dev-" + s.Value[:12]
		}
	}
	return "dev"
}
