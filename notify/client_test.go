package notify

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/certd/certd/cert"
)

func TestPublic(t *testing.T) {
	cases := map[string]bool{
		"8.8.8.8":                 true,
		"1.1.1.1":                 true,
		"2606:4700:4700::1111":    true,
		"::ffff:8.8.8.8":          true,
		"127.0.0.1":               false,
		"127.255.0.9":             false,
		"10.0.0.1":                false,
		"10.255.255.255":          false,
		"172.16.0.1":              false,
		"172.31.255.254":          false,
		"172.32.0.1":              true,
		"192.168.1.1":             false,
		"169.254.169.254":         false,
		"100.64.0.1":              false,
		"100.127.255.255":         false,
		"100.128.0.1":             true,
		"0.0.0.0":                 false,
		"224.0.0.1":               false,
		"255.255.255.255":         false,
		"::":                      false,
		"::1":                     false,
		"fc00::1":                 false,
		"fd12:3456::1":            false,
		"fe80::1":                 false,
		"ff02::1":                 false,
		"::ffff:127.0.0.1":        false,
		"::ffff:10.0.0.1":         false,
		"::ffff:192.168.0.1":      false,
		"::ffff:169.254.169.254":  false,
		"64:ff9b::a00:1":          false,
		"2002:a00:1::1":           false,
		"2001:db8::1":             false,
		"fe80::1%eth0":            false,
		"2001:4860:4860::8888%x1": false,
	}
	for s, want := range cases {
		if got := Public(netip.MustParseAddr(s)); got != want {
			t.Errorf("Public(%s) = %v, want %v", s, got, want)
		}
	}
}

func TestCheckURL(t *testing.T) {
	ok := []string{"https://crm.example.com/hooks/certd", "https://crm.example.com:8443/h?x=1"}
	bad := []string{"", "crm.example.com/h", "ftp://crm.example.com/h", "http://crm.example.com/h",
		"https:///h", "https://user:pw@crm.example.com/h", "https://crm.example.com/h#frag", "mailto:a@b"}
	for _, u := range ok {
		if err := CheckURL(u, false); err != nil {
			t.Errorf("CheckURL(%q) = %v, want nil", u, err)
		}
	}
	for _, u := range bad {
		err := CheckURL(u, false)
		if !errors.Is(err, cert.ErrInvalid) || !strings.Contains(err.Error(), "url") {
			t.Errorf("CheckURL(%q) = %v, want an invalid url", u, err)
		}
	}
	if err := CheckURL("http://crm.example.com/h", true); err != nil {
		t.Errorf("http with AllowHTTP: %v", err)
	}
}

// attempts records what reached the connect stage of a client.
type attempts struct {
	mu    sync.Mutex
	addrs []netip.AddrPort
}

func (a *attempts) record(ap netip.AddrPort) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.addrs = append(a.addrs, ap)
}

func (a *attempts) list() []netip.AddrPort {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]netip.AddrPort(nil), a.addrs...)
}

// stubLookup answers every name with the addresses and counts the calls;
// nothing goes to a DNS server.
func stubLookup(calls *atomic.Int32, addrs ...string) func(context.Context, string) ([]netip.Addr, error) {
	return func(_ context.Context, host string) ([]netip.Addr, error) {
		calls.Add(1)
		var out []netip.Addr
		for _, a := range addrs {
			out = append(out, netip.MustParseAddr(a))
		}
		return out, nil
	}
}

// TestClientRefusesPrivateBeforeDialing proves that no socket is even
// connected towards a private, link-local or shared address: the names
// resolve through a stub, the refusal happens before the dial, and the
// connect hook sees nothing.
func TestClientRefusesPrivateBeforeDialing(t *testing.T) {
	for _, addr := range []string{"10.0.0.1", "172.16.5.4", "172.31.0.1", "192.168.1.1", "169.254.169.254",
		"100.64.0.1", "::ffff:10.0.0.1", "fd00::1", "fe80::1", "127.0.0.1", "::1", "0.0.0.0", "224.0.0.1"} {
		t.Run(addr, func(t *testing.T) {
			var calls atomic.Int32
			var seen attempts
			c := NewClient(ClientOptions{Lookup: stubLookup(&calls, addr)})
			c.connecting = seen.record
			_, err := c.Post(context.Background(), "https://receiver.example/hook", nil, []byte("{}"))
			if !errors.Is(err, ErrRefused) {
				t.Errorf("Post = %v, want ErrRefused", err)
			}
			if calls.Load() != 1 {
				t.Errorf("lookups = %d, want 1", calls.Load())
			}
			if got := seen.list(); len(got) != 0 {
				t.Errorf("connect attempted to %v", got)
			}
		})
	}
}

// TestControlRefusesPrivate: the last check, on the socket right before
// connect, refuses what the dial's own check would have.
func TestControlRefusesPrivate(t *testing.T) {
	c := NewClient(ClientOptions{})
	var seen attempts
	c.connecting = seen.record
	for _, a := range []string{"10.0.0.1:443", "[::ffff:192.168.0.1]:443", "[fd00::1]:443", "127.0.0.1:80", "[::1]:443", "[fe80::1%eth0]:443"} {
		if err := c.control("tcp", a, nil); !errors.Is(err, ErrRefused) {
			t.Errorf("control(%s) = %v, want ErrRefused", a, err)
		}
	}
	if err := c.control("tcp", "8.8.8.8:443", nil); err != nil {
		t.Errorf("control(8.8.8.8:443) = %v", err)
	}
	if got := seen.list(); len(got) != 1 || got[0].String() != "8.8.8.8:443" {
		t.Errorf("connecting saw %v, want only 8.8.8.8:443", got)
	}
}

// receiver is an HTTP server on 127.0.0.1 that counts what it receives.
func receiver(t *testing.T, h http.HandlerFunc) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		h(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func TestClientRefusesLoopback(t *testing.T) {
	srv, hits := receiver(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	_, p, _ := strings.Cut(srv.Listener.Addr().String(), ":")
	var calls atomic.Int32
	var seen attempts
	c := NewClient(ClientOptions{AllowHTTP: true, Lookup: stubLookup(&calls, "127.0.0.1")})
	c.connecting = seen.record
	for _, u := range []string{
		srv.URL + "/hook",                      // 127.0.0.1 literal
		"http://[::1]:" + p + "/hook",          // IPv6 loopback literal
		"http://[::ffff:127.0.0.1]:" + p + "/", // IPv4-mapped loopback
		"http://receiver.test:" + p + "/hook",  // a name resolving to loopback
	} {
		if _, err := c.Post(context.Background(), u, nil, []byte("{}")); !errors.Is(err, ErrRefused) {
			t.Errorf("Post %s = %v, want ErrRefused", u, err)
		}
	}
	if hits.Load() != 0 {
		t.Errorf("receiver got %d requests, want 0", hits.Load())
	}
	if got := seen.list(); len(got) != 0 {
		t.Errorf("connect attempted to %v", got)
	}
	if calls.Load() != 1 {
		t.Errorf("lookups = %d, want 1 (for receiver.test only)", calls.Load())
	}

	// The same name with private receivers allowed reaches the server:
	// the refusal above was the address check, not a broken lookup.
	allowed := NewClient(ClientOptions{AllowHTTP: true, AllowPrivate: true, Lookup: stubLookup(&calls, "127.0.0.1")})
	resp, err := allowed.Post(context.Background(), "http://receiver.test:"+p+"/hook", nil, []byte("{}"))
	if err != nil || resp.Status != http.StatusNoContent {
		t.Fatalf("allowed Post = %+v, %v; want 204", resp, err)
	}
	if hits.Load() != 1 {
		t.Errorf("receiver got %d requests, want 1", hits.Load())
	}
}

func TestClientRefusesPlainHTTP(t *testing.T) {
	srv, hits := receiver(t, func(w http.ResponseWriter, r *http.Request) {})
	c := NewClient(ClientOptions{AllowPrivate: true})
	if _, err := c.Post(context.Background(), srv.URL, nil, nil); !errors.Is(err, ErrRefused) {
		t.Errorf("Post http = %v, want ErrRefused", err)
	}
	if hits.Load() != 0 {
		t.Errorf("receiver got %d requests", hits.Load())
	}
}

func TestClientDoesNotFollowRedirects(t *testing.T) {
	var followed atomic.Int32
	srv, _ := receiver(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/elsewhere" {
			followed.Add(1)
			return
		}
		http.Redirect(w, r, "/elsewhere", http.StatusTemporaryRedirect)
	})
	c := NewClient(ClientOptions{AllowHTTP: true, AllowPrivate: true})
	resp, err := c.Post(context.Background(), srv.URL+"/hook", nil, []byte("{}"))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != http.StatusTemporaryRedirect {
		t.Errorf("status = %d, want 307", resp.Status)
	}
	if followed.Load() != 0 {
		t.Error("the redirect was followed")
	}
}

func TestClientBoundsResponseAndTime(t *testing.T) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	srv, _ := receiver(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			select {
			case <-release:
			case <-r.Context().Done():
			}
			return
		}
		w.Write([]byte(strings.Repeat("x", 1<<20)))
	})
	c := NewClient(ClientOptions{AllowHTTP: true, AllowPrivate: true, Timeout: 50 * time.Millisecond})
	resp, err := c.Post(context.Background(), srv.URL+"/big", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Body) != maxResponse {
		t.Errorf("body kept = %d bytes, want %d", len(resp.Body), maxResponse)
	}
	if _, err := c.Post(context.Background(), srv.URL+"/slow", nil, nil); err == nil {
		t.Error("a receiver that never answers gave no error")
	}
	if d := NewClient(ClientOptions{}).opts.Timeout; d != 10*time.Second {
		t.Errorf("default timeout = %v, want 10s", d)
	}
}

// FuzzCheckURL: whatever a client sends as a webhook URL, an accepted one
// is an absolute https URL with a host and no user information.
func FuzzCheckURL(f *testing.F) {
	for _, s := range []string{"https://crm.example.cn/h", "http://x", "https://u:p@x/", "https://[::1]:8443/x?y#z", "https:x", "//x/y", "https://%zz"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		if CheckURL(raw, false) != nil {
			return
		}
		u, err := url.Parse(raw)
		if err != nil || u.Scheme != "https" || u.Hostname() == "" || u.User != nil {
			t.Errorf("CheckURL accepted %q (%v)", raw, err)
		}
	})
}
