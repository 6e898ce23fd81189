package storetest

import (
	"testing"

	"github.com/certd/certd/cert"
)

// TestNewCertificate checks that the helper every subtest relies on makes
// valid certificates whose unique values differ from call to call.
func TestNewCertificate(t *testing.T) {
	a, b := NewCertificate(t, "issuer-a"), NewCertificate(t, "issuer-a")
	for _, c := range []*cert.Certificate{a, b} {
		if _, ok := cert.NormalizeID(c.ID); !ok || len(c.ID) != cert.IDLength {
			t.Errorf("ID %q is not a certificate id", c.ID)
		}
		if err := cert.CheckNumber(c.Number); err != nil {
			t.Errorf("Number %q: %v", c.Number, err)
		}
		if v := c.Organization.Validate(); v.Err() != nil {
			t.Errorf("Organization: %v", v)
		}
		if got := c.ValidUntil.Sub(c.ValidFrom).Hours() / 24; got < 3*365 || got > 3*366 {
			t.Errorf("validity %.0f days, want three years", got)
		}
		if c.Issuer != "issuer-a" || c.Version != 0 || len(c.Events) != 1 {
			t.Errorf("issuer %q, version %d, %d events; want issuer-a, 0, 1", c.Issuer, c.Version, len(c.Events))
		}
	}
	if a.ID == b.ID || a.Number == b.Number || a.Organization.USCC == b.Organization.USCC ||
		(a.StatusList == b.StatusList && a.StatusIndex == b.StatusIndex) {
		t.Errorf("two certificates share a unique value: %s and %s", describe(a), describe(b))
	}
	if !b.CreatedAt.After(a.CreatedAt) {
		t.Errorf("CreatedAt %s then %s, want increasing", a.CreatedAt, b.CreatedAt)
	}
}

// TestSameCert checks that the comparison the suite relies on sees a
// change in a nested field and ignores the time zone of an instant.
func TestSameCert(t *testing.T) {
	a := NewCertificate(t, "issuer-a")
	b := clone(a)
	b.ValidFrom = b.ValidFrom.UTC()
	if d := fieldDiff(normCert(*a), normCert(*b)); d != "" {
		t.Errorf("same instants in two zones reported as different:\n%s", d)
	}
	b.Events[0].Reason = "changed"
	if d := fieldDiff(normCert(*a), normCert(*b)); d == "" {
		t.Error("a changed event reason was not reported")
	}
	if a.Events[0].Reason == "changed" {
		t.Error("clone shares the events of the original")
	}
}
