package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/certd/certd/cert"
)

// FuzzSchemesFile: a schemes file is refused with an error or loaded into
// schemes that each pass Validate, keep the built-in ones, write back to a
// file that loads to the same schemes, and derive a status at any time of
// a certificate's life without panicking.
func FuzzSchemesFile(f *testing.F) {
	builtin, err := json.Marshal(map[string]any{"schemes": cert.BuiltinSchemes()})
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{
		string(builtin),
		`{"schemes": [{"id": "itss", "name": "ITSS", "validityMonths": 36, "surveillance": [{"open": 10, "close": 12}], "maxSuspensionMonths": 2, "afterSuspension": "withdrawn", "renewalWindowMonths": 3, "levels": {"min": 1, "max": 4}}]}`,
		`{"schemes": [{"id": "cmmi", "name": "CMMI", "validityMonths": 36, "missedWindow": "withdrawn", "surveillance": [{"open": 0, "close": 18}], "maxSuspensionCauses": ["action"]}]}`,
		`{"schemes": [{"id": "x", "name": "X", "validityMonths": 1, "surveillance": [{"open": 0, "close": 1}, {"open": 1, "close": 1}]}]}`,
		`{"schemes": [{"id": "x", "name": "X", "validityMonths": 120, "maxSuspensionMonths": 9223372036854775807, "afterSuspension": "cancelled"}]}`,
		`{"schemes": null}`, `{"schemes": [null]}`, `{}`, `[]`, `{"schemes": [{"levels": {"min": 1, "max": 2147483648}}]}`,
	} {
		f.Add([]byte(s))
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, file []byte) {
		path := filepath.Join(dir, "schemes.json")
		if err := os.WriteFile(path, file, 0o600); err != nil {
			t.Fatal(err)
		}
		schemes, err := loadSchemes(path)
		if err != nil {
			return
		}
		for _, id := range []string{"itss", "iso17021"} {
			if schemes[id] == nil {
				t.Fatalf("built-in scheme %s is gone", id)
			}
		}
		var defs []cert.Scheme
		for _, id := range schemes.IDs() {
			s := schemes[id]
			if s.ID != id {
				t.Fatalf("scheme %q filed under %q", s.ID, id)
			}
			if err := s.Validate(); err != nil {
				t.Fatalf("loaded scheme %s does not validate: %v", id, err)
			}
			defs = append(defs, *s)
			derive(t, s)
		}
		again, err := json.Marshal(map[string]any{"schemes": defs})
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, again, 0o600); err != nil {
			t.Fatal(err)
		}
		back, err := loadSchemes(path)
		if err != nil {
			t.Fatalf("the loaded schemes, written back, do not load: %v\n%s", err, again)
		}
		if !reflect.DeepEqual(back, schemes) {
			t.Fatalf("the loaded schemes, written back, load differently:\n%s", again)
		}
	})
}

// derive walks a certificate of scheme s through its validity and beyond,
// with a suspension, and checks that a status comes out at every step.
func derive(t *testing.T, s *cert.Scheme) {
	t.Helper()
	loc, err := cert.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	from, until := cert.ValidityPeriod(time.Date(2026, 11, 27, 0, 0, 0, 0, loc), loc, s.ValidityMonths)
	c := &cert.Certificate{ID: cert.NewID(), Number: "T-1", Issuer: "test", Scheme: s.ID, ValidFrom: from, ValidUntil: until, TimeZone: "Asia/Shanghai"}
	c.Append(cert.Event{Type: cert.EventIssued, At: from, RecordedAt: from, Actor: "apikey:test"})
	susp := from.AddDate(0, 1, 0)
	c.Append(cert.Event{Type: cert.EventSuspended, At: susp, RecordedAt: susp, Actor: "apikey:test", Reason: "fuzz"})
	for m := 0; m <= s.ValidityMonths+s.MaxSuspensionMonths%240+2; m += 1 + s.ValidityMonths/12 {
		if st := cert.StatusAt(c, s, from.AddDate(0, m, 3)); st.Status == "" {
			t.Fatalf("scheme %s: no status %d months into validity", s.ID, m)
		}
	}
}
