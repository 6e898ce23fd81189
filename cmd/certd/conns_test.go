package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// rawConn is a keep-alive connection from a chosen loopback address (one
// client IP each: 127.0.0.1, 127.0.0.2, ...).
type rawConn struct {
	c  net.Conn
	br *bufio.Reader
}

func dialFrom(t testing.TB, from, addr string) *rawConn {
	t.Helper()
	c, err := tryDialFrom(t, from, addr)
	if err != nil {
		t.Fatalf("dial from %s: %v", from, err)
	}
	return c
}

// tryDialFrom dials; a refused connection may already fail here, when the
// server's reset arrives before the handshake completes on this side.
func tryDialFrom(t testing.TB, from, addr string) (*rawConn, error) {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 5 * time.Second}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { _ = c.Close() })
	return &rawConn{c: c, br: bufio.NewReader(c)}, nil
}

// get sends one keep-alive request and reads its answer; an error means
// the server closed the connection without answering.
func (r *rawConn) get(path string) (*http.Response, error) {
	_ = r.c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := fmt.Fprintf(r.c, "GET %s HTTP/1.1\r\nHost: certd\r\n\r\n", path); err != nil {
		return nil, err
	}
	resp, err := http.ReadResponse(r.br, nil)
	if err != nil {
		return nil, err
	}
	buf := make([]byte, resp.ContentLength)
	if _, err := io.ReadFull(r.br, buf); err != nil {
		return nil, err
	}
	return resp, nil
}

// Connections are capped per client IP and in all: the connections over a
// cap are closed before they are served, and /healthz keeps answering,
// from another client and from the reserve beyond the total cap.
func TestConnectionCaps(t *testing.T) {
	ts := startServer(t, "", func(m *Main) { m.Config.MaxConns, m.Config.MaxConnsPerIP = 6, 3 })
	addr := ts.m.Addr()
	id := ts.issue(t, "default")["id"].(string)

	// 127.0.0.11 holds its three idle keep-alive connections...
	var held []*rawConn
	for i := range 3 {
		c := dialFrom(t, "127.0.0.11", addr)
		if resp, err := c.get("/healthz"); err != nil || resp.StatusCode != 200 {
			t.Fatalf("connection %d of 127.0.0.11: %v %v", i, resp, err)
		}
		held = append(held, c)
	}
	// ...and its further ones are closed unanswered.
	for i := range 5 {
		c, err := tryDialFrom(t, "127.0.0.11", addr)
		if err != nil {
			continue
		}
		if resp, err := c.get("/healthz"); err == nil {
			t.Fatalf("connection %d beyond the per-IP cap was served: %d", i+4, resp.StatusCode)
		}
	}
	// Another client is served: health and everything else.
	c2 := dialFrom(t, "127.0.0.12", addr)
	for _, path := range []string{"/healthz", "/readyz", "/api/v1/verify/" + id} {
		if resp, err := c2.get(path); err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s from 127.0.0.12: %v %v", path, resp, err)
		}
	}
	// Further clients take the places left under the total cap (the test's
	// own HTTP client may hold one), until a connection lands in the
	// reserve: it answers health probes and nothing else, and closes after
	// its answer.
	reserve := false
	for i := 13; i < 20 && !reserve; i++ {
		from := fmt.Sprintf("127.0.0.%d", i)
		resp, err := dialFrom(t, from, addr).get("/api/v1/verify/" + id)
		switch {
		case err != nil:
			t.Fatalf("%s: %v", from, err)
		case resp.StatusCode == 503:
			reserve = true
			if !resp.Close || resp.Header.Get("Content-Type") != "application/problem+json" || resp.Header.Get("Retry-After") == "" {
				t.Errorf("over the total cap: %v, want a problem with Retry-After and Connection: close", resp.Header)
			}
		case resp.StatusCode != 200:
			t.Fatalf("%s: %d", from, resp.StatusCode)
		}
	}
	if !reserve {
		t.Fatal("7 clients were all served with a total cap of 6")
	}
	for _, tc := range []struct {
		path string
		want int
	}{{"/healthz", 200}, {"/readyz", 200}, {"/api/v1/verify/" + id, 503}, {"/v/" + id, 503}} {
		resp, err := dialFrom(t, "127.0.0.20", addr).get(tc.path)
		if err != nil || resp.StatusCode != tc.want || !resp.Close {
			t.Errorf("%s over the total cap: %v %v, want %d and Connection: close", tc.path, resp, err, tc.want)
		}
	}
	// Closed connections give their places back.
	for _, c := range held {
		_ = c.c.Close()
	}
	served := false
	for range 100 {
		if c, err := tryDialFrom(t, "127.0.0.11", addr); err == nil {
			if resp, err := c.get("/api/v1/verify/" + id); err == nil && resp.StatusCode == 200 {
				served = true
				break
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !served {
		t.Error("127.0.0.11 is not served again after closing its connections")
	}
	// The refusals are counted (the 5 above, and any while 127.0.0.11's
	// places were being given back).
	metrics := string(ts.do("GET", "/metrics", "", nil).Body)
	m := regexp.MustCompile(`certd_connections_refused_total\{cap="per_ip"\} (\d+)`).FindStringSubmatch(metrics)
	if n, _ := strconv.Atoi(append(m, "", "0")[1]); n < 5 || !strings.Contains(metrics, "certd_connections_open ") {
		t.Errorf("/metrics counts %d connections refused per IP, want at least 5; or lacks certd_connections_open", n)
	}
	if strings.Contains(ts.Logs.String(), `"level":"ERROR"`) {
		t.Errorf("errors logged:\n%s", ts.Logs)
	}
}

// The connection and render flags, with their CERTD_* twins, are validated.
func TestConnectionFlags(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	cfg, err := ParseConfig(nil, env(nil), io.Discard)
	if err != nil || cfg.MaxConns != DefaultMaxConns || cfg.MaxConnsPerIP != DefaultMaxConnsPerIP || cfg.IdleTimeout != 30*time.Second || cfg.RenderRate != 5 {
		t.Fatalf("defaults: %+v %v", cfg, err)
	}
	cfg, err = ParseConfig([]string{"--max-conns-per-ip", "8"}, env(map[string]string{
		"CERTD_MAX_CONNS": "100", "CERTD_MAX_CONNS_PER_IP": "10", "CERTD_IDLE_TIMEOUT": "1m", "CERTD_RENDER_RATE": "0.5",
	}), io.Discard)
	if err != nil || cfg.MaxConns != 100 || cfg.MaxConnsPerIP != 8 || cfg.IdleTimeout != time.Minute || cfg.RenderRate != 0.5 {
		t.Fatalf("environment and flags: %+v %v", cfg, err)
	}
	for _, tc := range []struct {
		args    []string
		wantErr string
	}{
		{[]string{"--max-conns", "0"}, "--max-conns"},
		{[]string{"--max-conns", "many"}, "--max-conns"},
		{[]string{"--max-conns-per-ip", "-1"}, "--max-conns-per-ip"},
		{[]string{"--max-conns", "10", "--max-conns-per-ip", "11"}, "--max-conns-per-ip: 11 must not exceed --max-conns (10)"},
		{[]string{"--idle-timeout", "0s"}, "--idle-timeout"},
		{[]string{"--idle-timeout", "1h"}, "--idle-timeout"},
		{[]string{"--render-rate", "0"}, "--render-rate"},
		{[]string{"--render-rate", "fast"}, "--render-rate"},
	} {
		if _, err := ParseConfig(tc.args, env(nil), io.Discard); err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("%v: %v, want an error naming %s", tc.args, err, tc.wantErr)
		}
	}
}

// A trusted proxy carries many clients: it is held to the total cap only.
func TestConnLimiterTrustedProxy(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := newConnLimiter(ln, 4, 1, []netip.Prefix{netip.MustParsePrefix("127.0.0.21/32")})
	l.reserve = 0
	t.Cleanup(func() { _ = l.Close() })
	accepted := make(chan net.Conn, 16)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	for i := range 4 {
		dialFrom(t, "127.0.0.21", ln.Addr().String())
		select {
		case <-accepted:
		case <-time.After(10 * time.Second):
			t.Fatalf("connection %d of the proxy, over the per-IP cap of 1, was not accepted", i)
		}
	}
	if l.open() != 4 {
		t.Errorf("open = %v, want 4", l.open())
	}
	// The total cap holds for the proxy too: a fifth connection is reset.
	c, err := tryDialFrom(t, "127.0.0.21", ln.Addr().String())
	if err == nil {
		_ = c.c.SetReadDeadline(time.Now().Add(10 * time.Second))
		var ne net.Error
		if _, err := c.br.ReadByte(); err == nil || errors.As(err, &ne) && ne.Timeout() {
			t.Error("a connection over the total cap was kept open")
		}
	}
	if l.open() != 4 || len(accepted) != 0 {
		t.Errorf("over the total cap: %v open, %d more accepted", l.open(), len(accepted))
	}
}
