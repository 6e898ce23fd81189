package console_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/certd/certd/cert"
)

// TestProfileReminders: the issuer profile page shows the lead times of
// reminders in effect and saves them through the profile's validation.
func TestProfileReminders(t *testing.T) {
	e := newEnv(t)
	b := e.signUp(t, "a", "admin@a.cn", cert.RoleAdmin)
	code, page, _ := b.get("/console/settings/profile")
	if code != http.StatusOK || !strings.Contains(page, `name="reminders.expiryDays" type="text" inputmode="numeric" value="180, 90, 30"`) || !strings.Contains(page, `name="reminders.surveillanceOpen" type="checkbox" value="1" checked`) {
		t.Fatalf("profile page %d does not show the default lead times:\n%.2000s", code, page)
	}
	tok := b.csrf("/console/settings/profile")
	form := url.Values{"csrf": {tok}, "version": {"1"}, "name": {"China Example Certification Center"}, "timeZone": {"Asia/Shanghai"},
		"reminders": {"1"}, "reminders.surveillanceCloseDays": {"60，14"}, "reminders.expiryDays": {"120, 30"}}
	if code, body, _ := b.post("/console/settings/profile", form); code != http.StatusSeeOther {
		t.Fatalf("save lead times: %d\n%.800s", code, body)
	}
	is, err := e.iss.Issuer(context.Background(), "a")
	if err != nil {
		t.Fatal(err)
	}
	want := cert.Reminders{SurveillanceCloseDays: []int{60, 14}, ExpiryDays: []int{120, 30}}
	if is.Reminders == nil || !is.Reminders.Equal(want) {
		t.Errorf("stored reminders %+v, want %+v (the unchecked box turns the opening reminder off)", is.Reminders, want)
	}
	form.Set("version", "2")
	for _, tc := range []struct{ name, field, value, want string }{
		{"fail/word", "reminders.expiryDays", "soon", "reminders.expiryDays"},
		{"fail/range", "reminders.expiryDays", "400", "reminders.expiryDays[0]"},
		{"fail/duplicate", "reminders.surveillanceCloseDays", "30, 30", "reminders.surveillanceCloseDays[1]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := url.Values{}
			for k, v := range form {
				f[k] = v
			}
			f.Set(tc.field, tc.value)
			if code, body, _ := b.post("/console/settings/profile", f); code != http.StatusUnprocessableEntity || !strings.Contains(body, tc.want) {
				t.Errorf("%s = %q: %d, want 422 naming %s\n%.800s", tc.field, tc.value, code, tc.want, body)
			}
		})
	}
}
