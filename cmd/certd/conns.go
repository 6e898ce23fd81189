package main

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"sync"

	"github.com/certd/certd/api"
)

// Connection caps (issue: 21,000 idle keep-alive connections exhausted the
// file descriptors and health probes timed out).
const (
	// DefaultMaxConns caps the open connections in total.
	DefaultMaxConns = 4096
	// DefaultMaxConnsPerIP caps the open connections of one client.
	DefaultMaxConnsPerIP = 256
	// healthReserve is how many connections beyond MaxConns are accepted
	// to answer health probes (and only them) when the cap is reached.
	healthReserve = 16
)

// connLimiter is a net.Listener that caps open connections in total and
// per client (an IPv4 address, or the /64 of an IPv6 one): a connection
// over a cap is closed at once, before a byte is read. When the total cap
// is reached, up to healthReserve more connections are accepted as reserve
// connections, which serve the health endpoints only (serveWithinCaps), so
// that a load balancer still learns how the instance is. Peers inside
// exempt (the trusted proxies, which carry many clients) are held to the
// total cap only.
type connLimiter struct {
	net.Listener
	max, perClient, reserve int
	exempt                  []netip.Prefix

	// refused counts a refused connection (set before Serve).
	refused func(perIP bool)

	mu       sync.Mutex
	regular  int
	reserved int
	byClient map[string]int
}

func newConnLimiter(ln net.Listener, max, perClient int, exempt []netip.Prefix) *connLimiter {
	return &connLimiter{
		Listener: ln, max: max, perClient: perClient, reserve: healthReserve, exempt: exempt,
		byClient: map[string]int{}, refused: func(bool) {},
	}
}

// open is the number of connections open now.
func (l *connLimiter) open() float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return float64(l.regular + l.reserved)
}

// Accept returns the next connection within the caps, closing those over
// them.
func (l *connLimiter) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if lc := l.admit(c); lc != nil {
			return lc, nil
		}
		// A reset rather than a close: the refused connection leaves
		// nothing behind (no TIME_WAIT on this side).
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetLinger(0)
		}
		_ = c.Close()
	}
}

func (l *connLimiter) admit(c net.Conn) *limitedConn {
	key, exempt := "", false
	if ap, err := netip.ParseAddrPort(c.RemoteAddr().String()); err == nil {
		addr := ap.Addr().Unmap()
		key = api.ClientKey(addr)
		for _, p := range l.exempt {
			exempt = exempt || p.Contains(addr)
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if !exempt && l.byClient[key] >= l.perClient {
		l.refused(true)
		return nil
	}
	lc := &limitedConn{Conn: c, l: l, key: key}
	switch {
	case l.regular < l.max:
		l.regular++
	case l.reserved < l.reserve:
		l.reserved++
		lc.reserve = true
	default:
		l.refused(false)
		return nil
	}
	l.byClient[key]++
	return lc
}

func (l *connLimiter) release(c *limitedConn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if c.reserve {
		l.reserved--
	} else {
		l.regular--
	}
	if l.byClient[c.key]--; l.byClient[c.key] <= 0 {
		delete(l.byClient, c.key)
	}
}

// limitedConn gives its place back when it is closed.
type limitedConn struct {
	net.Conn
	l       *connLimiter
	key     string
	reserve bool
	once    sync.Once
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.l.release(c) })
	return err
}

type reserveConnKey struct{}

// connContext marks the requests of reserve connections (http.Server's
// ConnContext).
func connContext(ctx context.Context, c net.Conn) context.Context {
	if lc, ok := c.(*limitedConn); ok && lc.reserve {
		return context.WithValue(ctx, reserveConnKey{}, true)
	}
	return ctx
}

// serveWithinCaps serves the requests of reserve connections with
// healthOnly and all others with h.
func serveWithinCaps(h, healthOnly http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Context().Value(reserveConnKey{}) != nil {
			healthOnly.ServeHTTP(w, r)
			return
		}
		h.ServeHTTP(w, r)
	})
}
