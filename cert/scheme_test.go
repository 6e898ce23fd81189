package cert_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/certd/certd/cert"
)

func TestBuiltinSchemes(t *testing.T) {
	schemes, err := cert.NewSchemes(cert.BuiltinSchemes())
	if err != nil {
		t.Fatalf("built-in schemes do not validate: %v", err)
	}
	for _, tc := range []struct {
		id        string
		validity  int
		windows   []cert.Window
		maxSusp   int
		after     cert.Status
		levels    bool
		nCategory int
	}{
		{"itss", 36, []cert.Window{{Open: 9, Close: 12}, {Open: 21, Close: 24}}, 3, cert.StatusCancelled, true, 4},
		{"iso17021", 36, []cert.Window{{Open: 0, Close: 12}, {Open: 12, Close: 24}}, 6, cert.StatusWithdrawn, false, 0},
	} {
		s := schemes[tc.id]
		if s == nil {
			t.Fatalf("no built-in scheme %s", tc.id)
		}
		if s.ValidityMonths != tc.validity || s.MaxSuspensionMonths != tc.maxSusp || s.AfterSuspension != tc.after ||
			s.MissedWindow != cert.StatusSuspended || s.RenewalWindowMonths != 6 {
			t.Errorf("%s: validity %d, missed %s, max suspension %d then %s, renewal %d; want %d, suspended, %d then %s, 6",
				tc.id, s.ValidityMonths, s.MissedWindow, s.MaxSuspensionMonths, s.AfterSuspension, s.RenewalWindowMonths, tc.validity, tc.maxSusp, tc.after)
		}
		if len(s.Surveillance) != len(tc.windows) {
			t.Fatalf("%s: windows %v, want %v", tc.id, s.Surveillance, tc.windows)
		}
		for i := range tc.windows {
			if s.Surveillance[i] != tc.windows[i] {
				t.Errorf("%s: window %d = %v, want %v", tc.id, i, s.Surveillance[i], tc.windows[i])
			}
		}
		if (s.Levels != nil) != tc.levels || len(s.Categories) != tc.nCategory {
			t.Errorf("%s: levels %v, categories %v", tc.id, s.Levels, s.Categories)
		}
	}
	if err := schemes["itss"].CheckLevel(5); err == nil {
		t.Error("itss accepts level 5")
	}
	if err := schemes["itss"].CheckCategory("数据中心"); err != nil {
		t.Errorf("itss rejects 数据中心: %v", err)
	}
	if err := schemes["iso17021"].CheckLevel(1); err == nil {
		t.Error("iso17021 accepts a level")
	}
}

func TestSchemeValidateNamesTheField(t *testing.T) {
	base := func() cert.Scheme {
		return cert.Scheme{ID: "x", Name: "X", ValidityMonths: 36, Surveillance: []cert.Window{{Open: 9, Close: 12}}}
	}
	for _, tc := range []struct {
		name  string
		edit  func(*cert.Scheme)
		field string
	}{
		{"fail/window past validity", func(s *cert.Scheme) { s.Surveillance = append(s.Surveillance, cert.Window{Open: 30, Close: 40}) }, "surveillance[1]"},
		{"fail/windows overlap", func(s *cert.Scheme) { s.Surveillance = append(s.Surveillance, cert.Window{Open: 11, Close: 20}) }, "surveillance[1]"},
		{"fail/missed window", func(s *cert.Scheme) { s.MissedWindow = "expired" }, "missedWindow"},
		{"fail/after suspension", func(s *cert.Scheme) { s.MaxSuspensionMonths = 3; s.AfterSuspension = "suspended" }, "afterSuspension"},
		{"fail/after suspension without limit", func(s *cert.Scheme) { s.AfterSuspension = cert.StatusWithdrawn }, "afterSuspension"},
		{"fail/cause", func(s *cert.Scheme) {
			s.MaxSuspensionMonths, s.AfterSuspension = 3, cert.StatusCancelled
			s.MaxSuspensionCauses = []cert.SuspensionCause{cert.CauseAction, "late"}
		}, "maxSuspensionCauses[1]"},
		{"fail/renewal window", func(s *cert.Scheme) { s.RenewalWindowMonths = 40 }, "renewalWindowMonths"},
		{"fail/levels", func(s *cert.Scheme) { s.Levels = &cert.LevelRange{Min: 3, Max: 1} }, "levels"},
		{"fail/categoriesEn", func(s *cert.Scheme) { s.Categories = []string{"a", "b"}; s.CategoriesEn = []string{"A"} }, "categoriesEn"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := base()
			tc.edit(&s)
			err := s.Validate()
			var ve *cert.ValidationError
			if !errors.As(err, &ve) || !errors.Is(err, cert.ErrInvalid) {
				t.Fatalf("Validate() = %v, want a ValidationError", err)
			}
			if len(ve.Fields) != 1 || ve.Fields[0].Field != tc.field {
				t.Errorf("fields = %v, want one error on %s", ve.Fields, tc.field)
			}
		})
	}
	t.Run("fail/index of the scheme in the list", func(t *testing.T) {
		bad := base()
		bad.ID = "y"
		bad.Surveillance = append(bad.Surveillance, cert.Window{Open: 30, Close: 40})
		_, err := cert.NewSchemes([]cert.Scheme{base(), bad})
		if err == nil || !strings.HasPrefix(err.Error(), "schemes[1].surveillance[1]: ") {
			t.Errorf("NewSchemes() = %v, want an error on schemes[1].surveillance[1]", err)
		}
	})
}

func TestRenewalOpens(t *testing.T) {
	itss := builtin(t, "itss")
	loc := mustLoc(t, beijing)
	c := newCert(t, itss, beijing, "2028-02-29")
	// Expiry 2031-03-01; 6 months before is 2030-09-01.
	if got, want := itss.RenewalOpens(c), time.Date(2030, 9, 1, 0, 0, 0, 0, loc); !got.Equal(want) {
		t.Errorf("RenewalOpens = %s, want %s", got, want)
	}
	anytime := *itss
	anytime.RenewalWindowMonths = 0
	if got := anytime.RenewalOpens(c); !got.Equal(c.ValidFrom) {
		t.Errorf("with no window: RenewalOpens = %s, want the start of validity %s", got, c.ValidFrom)
	}
}
