package api_test

import (
	"net/netip"
	"testing"

	"github.com/certd/certd/api"
)

// Per-client limits count an IPv4 address, and an IPv6 /64 (one
// subscriber's network) as one client.
func TestClientKey(t *testing.T) {
	for _, tc := range []struct{ a, b string }{
		{"192.0.2.1", "192.0.2.1"},
		{"::ffff:192.0.2.1", "192.0.2.1"},
		{"2001:db8:1:2::1", "2001:db8:1:2:ffff:ffff:ffff:ffff"},
	} {
		if ka, kb := api.ClientKey(netip.MustParseAddr(tc.a)), api.ClientKey(netip.MustParseAddr(tc.b)); ka != kb {
			t.Errorf("%s → %s, %s → %s: want one client", tc.a, ka, tc.b, kb)
		}
	}
	for _, tc := range []struct{ a, b string }{
		{"192.0.2.1", "192.0.2.2"},
		{"2001:db8:1:2::1", "2001:db8:1:3::1"},
	} {
		if api.ClientKey(netip.MustParseAddr(tc.a)) == api.ClientKey(netip.MustParseAddr(tc.b)) {
			t.Errorf("%s and %s: want two clients", tc.a, tc.b)
		}
	}
}
