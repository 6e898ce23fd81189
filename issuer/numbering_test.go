package issuer_test

import (
	"context"
	"testing"

	"github.com/certd/certd/cert"
)

// TestNumbersPerScheme: the default patterns give each scheme its prefix;
// ITSS numbers continue the sequence the issuer always used, so no new
// number repeats one already issued; a pattern that renders like another
// shares its counter.
func TestNumbersPerScheme(t *testing.T) {
	e := newEnv(t, "2026-11-27")
	ctx := context.Background()
	// 41 ITSS numbers of 2026 were handed out before per-scheme patterns.
	if _, err := e.st.NextSequence(ctx, "number/cb/2026", 41); err != nil {
		t.Fatal(err)
	}
	// Until then every scheme took the issuer's one pattern.
	if c := e.issue(t, "iso17021", ""); c.Number != "ITSS-2026-000042" {
		t.Errorf("iso17021 number under the single pattern = %s, want ITSS-2026-000042", c.Number)
	}
	is, err := e.st.Issuer(ctx, "cb")
	if err != nil {
		t.Fatal(err)
	}
	is.NumberPatterns = mustSchemes().DefaultNumberPatterns()
	if err := e.st.UpdateIssuer(ctx, is); err != nil {
		t.Fatal(err)
	}
	if c := e.issue(t, "itss", ""); c.Number != "ITSS-2026-000043" {
		t.Errorf("itss number = %s, want ITSS-2026-000043 (the old sequence continued)", c.Number)
	}
	if c := e.issue(t, "iso17021", ""); c.Number != "QMS-2026-000001" {
		t.Errorf("iso17021 number = %s, want QMS-2026-000001", c.Number)
	}

	is, err = e.st.Issuer(ctx, "cb")
	if err != nil {
		t.Fatal(err)
	}
	// Another width renders the same text: it must share the counter.
	is.NumberPatterns = map[string]string{"itss": "ITSS-{YYYY}-{SEQ:4}", "iso17021": "ISO/{YY}/{SEQ}"}
	if err := e.st.UpdateIssuer(ctx, is); err != nil {
		t.Fatal(err)
	}
	if c := e.issue(t, "itss", ""); c.Number != "ITSS-2026-0044" {
		t.Errorf("itss number with {SEQ:4} = %s, want ITSS-2026-0044", c.Number)
	}
	if c := e.issue(t, "iso17021", ""); c.Number != "ISO/26/1" {
		t.Errorf("iso17021 number with ISO/{YY}/{SEQ} = %s, want ISO/26/1", c.Number)
	}
}

func TestNumberCounter(t *testing.T) {
	is := &cert.Issuer{ID: "cb", NumberPattern: cert.DefaultNumberPattern, NumberPrefix: "ITSS"}
	at := bj(t, "2026-11-27")
	for _, tc := range []struct{ pattern, want string }{
		{"ITSS-{YYYY}-{SEQ:6}", "number/cb/2026"},
		{"{PREFIX}-{YYYY}-{SEQ}", "number/cb/2026"},
		{"QMS-{YYYY}-{SEQ:6}", "number/cb/n/QMS-2026-{SEQ}"},
		{"QMS-{MM}-{SEQ}", "number/cb/n/QMS-11-{SEQ}"},
	} {
		if got := cert.NumberCounter(is, tc.pattern, at); got != tc.want {
			t.Errorf("NumberCounter(%s) = %s, want %s", tc.pattern, got, tc.want)
		}
	}
}
