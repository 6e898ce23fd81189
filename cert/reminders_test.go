package cert

import (
	"strings"
	"testing"
)

func TestRemindersValidate(t *testing.T) {
	for _, tc := range []struct {
		name  string
		r     Reminders
		field string
	}{
		{"ok/defaults", DefaultReminders(), ""},
		{"ok/none", Reminders{}, ""},
		{"ok/bounds", Reminders{SurveillanceCloseDays: []int{1, 365}, ExpiryDays: []int{5, 4, 3, 2, 1}}, ""},
		{"fail/zero", Reminders{ExpiryDays: []int{0}}, "reminders.expiryDays[0]"},
		{"fail/negative", Reminders{SurveillanceCloseDays: []int{-30}}, "reminders.surveillanceCloseDays[0]"},
		{"fail/366", Reminders{ExpiryDays: []int{90, 366}}, "reminders.expiryDays[1]"},
		{"fail/six", Reminders{SurveillanceCloseDays: []int{1, 2, 3, 4, 5, 6}}, "reminders.surveillanceCloseDays"},
		{"fail/duplicate", Reminders{ExpiryDays: []int{30, 90, 30}}, "reminders.expiryDays[2]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var v ValidationError
			tc.r.validate("reminders.", &v)
			if tc.field == "" {
				if err := v.Err(); err != nil {
					t.Fatalf("validate: %v, want none", err)
				}
				return
			}
			var fields []string
			for _, f := range v.Fields {
				fields = append(fields, f.Field)
				if f.Field == tc.field && f.Message != "" {
					return
				}
			}
			t.Errorf("errors name %s, want %s", strings.Join(fields, ", "), tc.field)
		})
	}
}

// An issuer without lead times shows the defaults in its profile; a
// profile with the defaults stores none, so the issuer keeps following
// the defaults; other lead times are stored as a copy.
func TestProfileReminders(t *testing.T) {
	is := &Issuer{ID: "cb", Name: "CB", TimeZone: "Asia/Shanghai"}
	p := is.Profile()
	if p.Reminders == nil || !p.Reminders.Equal(DefaultReminders()) {
		t.Fatalf("profile reminders %+v, want the defaults", p.Reminders)
	}
	is.SetProfile(p)
	if is.Reminders != nil {
		t.Errorf("after SetProfile with the defaults: %+v, want nil", is.Reminders)
	}
	p.Reminders = &Reminders{ExpiryDays: []int{60}}
	is.SetProfile(p)
	p.Reminders.ExpiryDays[0] = 1
	if is.Reminders == nil || !is.Reminders.Equal(Reminders{ExpiryDays: []int{60}}) {
		t.Errorf("stored %+v, want a copy of expiryDays [60]", is.Reminders)
	}
	if got := is.RemindersOf(); got.SurveillanceOpen || len(got.SurveillanceCloseDays) != 0 {
		t.Errorf("RemindersOf = %+v, want what was set", got)
	}
}
