package profile

import (
	"errors"
	"testing"

	"github.com/certd/certd/cert"
)

// A console administrator is bound to its issuer; an admin API key acts
// for every issuer; nobody else changes a profile.
func TestCanChange(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    cert.Principal
		id   string
		want error
	}{
		{"ok/admin-key", cert.Principal{Role: cert.RoleAdmin}, "b", nil},
		{"ok/console-admin-own", cert.Principal{Role: cert.RoleAdmin, Issuer: "a", User: true}, "a", nil},
		{"fail/console-admin-other", cert.Principal{Role: cert.RoleAdmin, Issuer: "a", User: true}, "b", cert.ErrNotFound},
		{"fail/issuer-key-own", cert.Principal{Role: cert.RoleIssuer, Issuer: "a"}, "a", cert.ErrForbidden},
		{"fail/issuer-key-other", cert.Principal{Role: cert.RoleIssuer, Issuer: "a"}, "b", cert.ErrNotFound},
		{"fail/console-viewer-own", cert.Principal{Role: cert.RoleViewer, Issuer: "a", User: true}, "a", cert.ErrForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := canChange(tc.p, tc.id)
			if (tc.want == nil) != (err == nil) || (tc.want != nil && !errors.Is(err, tc.want)) {
				t.Errorf("canChange = %v, want %v", err, tc.want)
			}
		})
	}
}
