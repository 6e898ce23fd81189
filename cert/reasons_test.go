package cert_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/certd/certd/cert"
)

func TestCheckReasonCode(t *testing.T) {
	iso, itss := builtin(t, "iso17021"), builtin(t, "itss")
	for _, tc := range []struct {
		name   string
		scheme *cert.Scheme
		action string
		code   string
		want   []string // in the message; nil: no error
	}{
		{"ok/suspend", iso, cert.CodedSuspend, "0113", nil},
		{"ok/withdraw 0120", iso, cert.CodedWithdraw, "0120", nil},
		{"ok/itss without code", itss, cert.CodedSuspend, "", nil},
		{"ok/itss revise", itss, cert.CodedRevise, "0301", nil},
		{"fail/not in list", iso, cert.CodedSuspend, "0120", []string{"must be one of", "0111 (", "0199 ("}},
		{"fail/withdrawal code for cancel", itss, cert.CodedCancel, "0101", []string{"0201 (", "0299 ("}},
		{"fail/missing where required", iso, cert.CodedWithdraw, "", []string{"is required for withdraw", "0101 (", "0120 ("}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.scheme.CheckReasonCode(tc.action, tc.code)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("got %v, want no error", err)
				}
				return
			}
			var ve *cert.ValidationError
			if !errors.Is(err, cert.ErrInvalid) || !errors.As(err, &ve) || len(ve.Fields) != 1 || ve.Fields[0].Field != "reasonCode" {
				t.Fatalf("got %v, want a validation error of reasonCode", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("got %q, want it to contain %q", err, w)
				}
			}
		})
	}
}

func TestSchemeReasonCodesValidate(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edit  func(r *cert.ReasonCodes)
		field string
	}{
		{"fail/lower case code", func(r *cert.ReasonCodes) { r.Suspension = []cert.ReasonCode{{Code: "a1", Label: "x", LabelEn: "x"}} }, "reasonCodes.suspension[0].code"},
		{"fail/duplicate", func(r *cert.ReasonCodes) { r.Change = append(r.Change, r.Change[0]) }, "reasonCodes.change[4].code"},
		{"fail/no label", func(r *cert.ReasonCodes) { r.Withdrawal = []cert.ReasonCode{{Code: "0120", Label: "撤销"}} }, "reasonCodes.withdrawal[0]"},
		{"fail/superseded not a withdrawal", func(r *cert.ReasonCodes) { r.Superseded = "0111" }, "reasonCodes.superseded"},
		{"fail/limit of a withdrawing scheme", func(r *cert.ReasonCodes) { r.SuspensionLimit = "0201" }, "reasonCodes.suspensionLimit"},
		{"fail/unknown action", func(r *cert.ReasonCodes) { r.Required = []string{"renew"} }, "reasonCodes.required[0]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := *builtin(t, "iso17021")
			r := *s.ReasonCodes
			tc.edit(&r)
			s.ReasonCodes = &r
			err := s.Validate()
			var ve *cert.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("got %v, want a validation error", err)
			}
			found := false
			for _, f := range ve.Fields {
				found = found || f.Field == tc.field
			}
			if !found {
				t.Errorf("got %v, want field %s", err, tc.field)
			}
		})
	}
	for _, s := range cert.BuiltinSchemes() {
		if err := s.Validate(); err != nil {
			t.Errorf("builtin %s: %v", s.ID, err)
		}
	}
}

// Derived changes carry the scheme's own codes; recorded actions carry
// theirs; a certificate recorded before codes existed keeps working.
func TestStatusAtReasonCodes(t *testing.T) {
	iso := builtin(t, "iso17021")
	loc := mustLoc(t, beijing)
	code := func(ch cert.Change) string {
		if ch.Code == nil {
			return ""
		}
		return ch.Code.Code
	}

	// Not audited in the first year: overdue suspension (0111), withdrawn
	// six months later by the suspension limit (0101).
	c := newCert(t, iso, beijing, "2026-11-27")
	st := cert.StatusAt(c, iso, at(t, loc, "2028-06-01"))
	if len(st.Changes) != 2 || code(st.Changes[0]) != "0111" || st.Changes[1].Status != cert.StatusWithdrawn || code(st.Changes[1]) != "0101" {
		t.Fatalf("changes %+v: want suspended 0111 then withdrawn 0101", st.Changes)
	}
	if st.Changes[0].Code.Label != "获证组织未按规定接受监督审核" || st.Changes[0].Code.LabelEn == "" {
		t.Errorf("label %+v", st.Changes[0].Code)
	}

	// A suspension with a code, then a withdrawal with a code that the
	// scheme no longer lists: the code stays, without a label.
	c = newCert(t, iso, beijing, "2026-11-27")
	c.Append(cert.Event{Type: cert.EventSuspended, At: at(t, loc, "2027-01-05"), Reason: "client asked", ReasonCode: "0113"})
	c.Append(cert.Event{Type: cert.EventWithdrawn, At: at(t, loc, "2027-02-05"), Reason: "old code", ReasonCode: "0999"})
	st = cert.StatusAt(c, iso, at(t, loc, "2027-03-01"))
	if len(st.Changes) != 2 || code(st.Changes[0]) != "0113" || st.Changes[0].Code.LabelEn != "suspended at the request of the certified organization" {
		t.Fatalf("changes %+v", st.Changes)
	}
	if got := st.Changes[1].Code; got == nil || got.Code != "0999" || got.Label != "" {
		t.Errorf("unknown code: got %+v, want the code without label", got)
	}

	// Recorded without codes: no code, same status as before.
	c = newCert(t, iso, beijing, "2026-11-27")
	c.Append(cert.Event{Type: cert.EventWithdrawn, At: at(t, loc, "2027-02-05"), Reason: "legacy"})
	st = cert.StatusAt(c, iso, at(t, loc, "2027-03-01"))
	if st.Status != cert.StatusWithdrawn || len(st.Changes) != 1 || st.Changes[0].Code != nil {
		t.Errorf("legacy: got %s %+v", st.Status, st.Changes)
	}
	// And under a scheme without codes, derived changes have none.
	bare := *iso
	bare.ReasonCodes = nil
	st = cert.StatusAt(newCert(t, &bare, beijing, "2026-11-27"), &bare, at(t, loc, "2028-06-01"))
	if len(st.Changes) != 2 || st.Changes[0].Code != nil || st.Changes[1].Code != nil {
		t.Errorf("no codes: got %+v", st.Changes)
	}
}
