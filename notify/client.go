package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/certd/certd/cert"
)

// ErrRefused is the cause of a delivery that was not attempted because the
// receiver's URL or address is not allowed (plain http, a private,
// loopback or link-local address).
var ErrRefused = errors.New("receiver refused")

// DefaultTimeout bounds one delivery attempt: connect, TLS, request and
// the bounded read of the response.
const DefaultTimeout = 10 * time.Second

// maxResponse bounds what is read of a receiver's answer; it is kept only
// for the delivery log.
const maxResponse = 4 << 10

// ClientOptions configures a Client.
type ClientOptions struct {
	// AllowHTTP allows http:// receivers; otherwise only https://.
	AllowHTTP bool
	// AllowPrivate allows receivers on loopback, private, link-local and
	// other non-public addresses.
	AllowPrivate bool
	// Timeout of one attempt; 0 means DefaultTimeout.
	Timeout time.Duration
	// Lookup resolves a host name; nil means net.DefaultResolver.
	Lookup func(ctx context.Context, host string) ([]netip.Addr, error)
}

// Client posts deliveries to receivers. It resolves the receiver's host
// itself, checks every address before it dials, and dials the checked
// address (so a DNS answer that changes between a check and the dial
// cannot slip through); the socket's Control hook checks again right
// before connect. It never follows redirects and ignores proxy settings.
type Client struct {
	opts ClientOptions
	http *http.Client
	// connecting, when set, sees every address a socket is about to
	// connect to (tests).
	connecting func(netip.AddrPort)
}

// NewClient returns a client with the options.
func NewClient(opts ClientOptions) *Client {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.Lookup == nil {
		opts.Lookup = func(ctx context.Context, host string) ([]netip.Addr, error) {
			return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		}
	}
	c := &Client{opts: opts}
	tr := &http.Transport{
		Proxy:                 nil,
		DialContext:           c.dial,
		ForceAttemptHTTP2:     true,
		MaxIdleConnsPerHost:   2,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   opts.Timeout,
		ResponseHeaderTimeout: opts.Timeout,
	}
	c.http = &http.Client{
		Transport: tr,
		Timeout:   opts.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	return c
}

// CheckURL says whether the URL may receive webhooks under the options:
// absolute, http(s) as allowed, a host, no user information. The address
// is checked later, at each delivery. The error matches cert.ErrInvalid.
func (c *Client) CheckURL(raw string) error {
	return CheckURL(raw, c.opts.AllowHTTP)
}

// CheckURL is Client.CheckURL for a given AllowHTTP.
func CheckURL(raw string, allowHTTP bool) error {
	u, err := url.Parse(raw)
	accepted := "must be an absolute https:// URL with a host"
	if allowHTTP {
		accepted = "must be an absolute http:// or https:// URL with a host"
	}
	if err != nil || u.Host == "" || u.Hostname() == "" || u.Opaque != "" {
		return cert.Invalid("url", accepted)
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && allowHTTP:
	default:
		return cert.Invalid("url", accepted)
	}
	if u.User != nil {
		return cert.Invalid("url", "must not carry user information")
	}
	if u.Fragment != "" {
		return cert.Invalid("url", "must not have a fragment")
	}
	return nil
}

// Response is what a receiver answered.
type Response struct {
	// Status is the HTTP status code.
	Status int
	// Body is the start of the answer, at most 4 KiB.
	Body []byte
}

// Post sends body with the headers to the URL. An error wrapping
// ErrRefused means nothing was sent; other errors are failed attempts.
func (c *Client) Post(ctx context.Context, rawURL string, h http.Header, body []byte) (*Response, error) {
	if err := c.CheckURL(rawURL); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrRefused, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rawURL, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrRefused, err)
	}
	for k, v := range h {
		req.Header[k] = v
	}
	req.Header.Set("User-Agent", "certd-webhooks/1")
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return &Response{Status: resp.StatusCode}, nil
	}
	return &Response{Status: resp.StatusCode, Body: b}, nil
}

// dial resolves the host, keeps the allowed addresses and dials them in
// turn by address.
func (c *Client) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	var addrs []netip.Addr
	if ip, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		addrs = []netip.Addr{ip}
	} else {
		addrs, err = c.opts.Lookup(ctx, host)
		if err != nil {
			return nil, fmt.Errorf("resolve %s: %w", host, err)
		}
	}
	var allowed []netip.Addr
	for _, a := range addrs {
		if c.opts.AllowPrivate || Public(a) {
			allowed = append(allowed, a)
		}
	}
	if len(allowed) == 0 {
		return nil, fmt.Errorf("%w: %s has no public address", ErrRefused, host)
	}
	d := &net.Dialer{Control: c.control}
	var last error
	for _, a := range allowed {
		conn, err := d.DialContext(ctx, network, net.JoinHostPort(a.Unmap().String(), port))
		if err == nil {
			return conn, nil
		}
		last = err
	}
	return nil, last
}

// control runs on every socket right before connect: the last check of
// the address actually dialled.
func (c *Client) control(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: address %q", ErrRefused, address)
	}
	if !c.opts.AllowPrivate && !Public(ap.Addr()) {
		return fmt.Errorf("%w: %s is not a public address", ErrRefused, ap.Addr())
	}
	if c.connecting != nil {
		c.connecting(ap)
	}
	return nil
}

// nonPublic lists the ranges no receiver may use unless private receivers
// are allowed.
var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // this network, unspecified
	netip.MustParsePrefix("10.0.0.0/8"),      // private
	netip.MustParsePrefix("100.64.0.0/10"),   // carrier-grade NAT
	netip.MustParsePrefix("127.0.0.0/8"),     // loopback
	netip.MustParsePrefix("169.254.0.0/16"),  // link-local, cloud metadata
	netip.MustParsePrefix("172.16.0.0/12"),   // private
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("192.168.0.0/16"),  // private
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("224.0.0.0/4"),     // multicast
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, broadcast
	netip.MustParsePrefix("::/128"),          // unspecified
	netip.MustParsePrefix("::1/128"),         // loopback
	netip.MustParsePrefix("64:ff9b::/96"),    // NAT64 (embeds an IPv4 address)
	netip.MustParsePrefix("64:ff9b:1::/48"),  // local-use NAT64
	netip.MustParsePrefix("fc00::/7"),        // unique local
	netip.MustParsePrefix("fe80::/10"),       // link-local
	netip.MustParsePrefix("fec0::/10"),       // site-local (deprecated)
	netip.MustParsePrefix("ff00::/8"),        // multicast
	netip.MustParsePrefix("2001:db8::/32"),   // documentation
	netip.MustParsePrefix("2002::/16"),       // 6to4 (embeds an IPv4 address)
	netip.MustParsePrefix("2001::/32"),       // Teredo (embeds an IPv4 address)
	netip.MustParsePrefix("::ffff:0:0/96"),   // IPv4-mapped, after Unmap never hit
	netip.MustParsePrefix("::/96"),           // IPv4-compatible (deprecated)
	netip.MustParsePrefix("100::/64"),        // discard-only
	netip.MustParsePrefix("2001:10::/28"),    // ORCHID
	netip.MustParsePrefix("192.88.99.0/24"),  // 6to4 relay anycast
	netip.MustParsePrefix("198.51.100.0/24"), // documentation
	netip.MustParsePrefix("203.0.113.0/24"),  // documentation
	netip.MustParsePrefix("192.0.2.0/24"),    // documentation
}

// Public reports whether a may receive webhooks without AllowPrivate: a
// valid unicast address outside every loopback, private, link-local,
// shared, reserved and documentation range. An IPv4-mapped IPv6 address
// is judged by its IPv4 address; a zone makes it non-public.
func Public(a netip.Addr) bool {
	if !a.IsValid() || a.Zone() != "" {
		return false
	}
	a = a.Unmap()
	for _, p := range nonPublic {
		if p.Contains(a) {
			return false
		}
	}
	return a.IsGlobalUnicast()
}
