package api

import (
	"net/netip"
	"testing"
	"time"
)

// The rate limiter counts the clients that ClientKey names: two addresses
// share a bucket exactly when their keys are equal.
func TestRateLimiterClientsAsClientKey(t *testing.T) {
	addrs := []string{"192.0.2.1", "::ffff:192.0.2.1", "192.0.2.2", "2001:db8:1:2::1",
		"2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:3::1", "fe80::1%eth0", "fe80::2%eth1", "::", "0.0.0.0", "not an address"}
	now := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	for _, a := range addrs {
		for _, b := range addrs {
			l := newRateLimiter(1, 1)
			l.allow(a, now)
			shared := !l.allow(b, now)
			same := a == b
			if pa, err := netip.ParseAddr(a); err == nil {
				if pb, err := netip.ParseAddr(b); err == nil {
					same = ClientKey(pa) == ClientKey(pb)
				}
			}
			if shared != same {
				t.Errorf("%s then %s: one bucket = %v, ClientKey says %v", a, b, shared, same)
			}
		}
	}
}

// A request id sent by the client is kept when it is a short token.
func TestRequestIDToken(t *testing.T) {
	for id, want := range map[string]bool{
		"client-req-7": true, "a.b_c:d-E9": true, "": false, "x y": false, "é": false,
		string(make([]byte, 64)): false, "<script>": false,
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa":  true,
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa": false,
	} {
		if got := requestIDToken(id); got != want {
			t.Errorf("requestIDToken(%q) = %v, want %v", id, got, want)
		}
	}
	if a, b := newRequestID(), newRequestID(); len(a) != 24 || a == b || !requestIDToken(a) {
		t.Errorf("new ids %q, %q: want two different tokens of 24 characters", a, b)
	}
}
