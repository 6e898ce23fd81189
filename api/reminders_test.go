package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/issuer"
)

// TestIssuerReminders: the lead times of reminders are a profile field of
// PATCH /api/v1/issuers/{id}: validated with problems naming the field,
// merged member by member, stored, and restored to the defaults by null.
func TestIssuerReminders(t *testing.T) {
	a := newTestAPI(t, "2026-11-27")
	_, admin, err := a.svc.CreateAPIKey(context.Background(), cert.Principal{Role: cert.RoleAdmin, KeyID: "root"}, issuer.APIKeyRequest{Role: cert.RoleAdmin, Name: "ops"})
	if err != nil {
		t.Fatal(err)
	}
	const merge = "application/merge-patch+json"
	reminders := func(body []byte) cert.Reminders {
		t.Helper()
		var v struct{ Reminders *cert.Reminders }
		if err := json.Unmarshal(body, &v); err != nil || v.Reminders == nil {
			t.Fatalf("no reminders in %s (%v)", body, err)
		}
		return *v.Reminders
	}
	r := a.raw("GET", "/api/v1/issuers/cb", admin, "", nil)
	if got := reminders(r.body); !got.Equal(cert.DefaultReminders()) {
		t.Errorf("GET before any change: reminders %+v, want the defaults %+v", got, cert.DefaultReminders())
	}
	for _, tc := range []struct{ name, body, field string }{
		{"fail/zero", `{"reminders": {"expiryDays": [0]}}`, "reminders.expiryDays[0]"},
		{"fail/over-a-year", `{"reminders": {"surveillanceCloseDays": [30, 366]}}`, "reminders.surveillanceCloseDays[1]"},
		{"fail/six", `{"reminders": {"expiryDays": [1, 2, 3, 4, 5, 6]}}`, "reminders.expiryDays"},
		{"fail/duplicate", `{"reminders": {"expiryDays": [90, 30, 90]}}`, "reminders.expiryDays[2]"},
		{"fail/type", `{"reminders": {"expiryDays": "90"}}`, "reminders.expiryDays"},
		{"fail/unknown", `{"reminders": {"weekly": true}}`, "weekly"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := a.raw("PATCH", "/api/v1/issuers/cb", admin, merge, []byte(tc.body))
			if r.code != http.StatusUnprocessableEntity {
				t.Fatalf("PATCH %s: %d %s, want 422", tc.body, r.code, r.body)
			}
			if !strings.Contains(string(r.body), `"field":"`+tc.field+`"`) {
				t.Errorf("problem does not name %s: %s", tc.field, r.body)
			}
		})
	}

	r = a.raw("PATCH", "/api/v1/issuers/cb", admin, merge, []byte(`{"reminders": {"expiryDays": [120, 60]}}`))
	want := cert.Reminders{SurveillanceOpen: true, SurveillanceCloseDays: []int{30}, ExpiryDays: []int{120, 60}}
	if r.code != http.StatusOK || !reminders(r.body).Equal(want) {
		t.Fatalf("PATCH expiryDays: %d %s, want 200 with %+v (other members kept)", r.code, r.body, want)
	}
	is, err := a.store.Issuer(context.Background(), "cb")
	if err != nil {
		t.Fatal(err)
	}
	if is.Reminders == nil || !is.Reminders.Equal(want) {
		t.Errorf("stored reminders %+v, want %+v", is.Reminders, want)
	}
	var ev struct{ Events []cert.IssuerEvent }
	if r := a.raw("GET", "/api/v1/issuers/cb/events", admin, "", nil); json.Unmarshal(r.body, &ev) != nil || len(ev.Events) == 0 || strings.Join(ev.Events[len(ev.Events)-1].Fields, ",") != "reminders" {
		t.Errorf("events %s: the last should change the field reminders", r.body)
	}

	r = a.raw("PATCH", "/api/v1/issuers/cb", admin, merge, []byte(`{"reminders": {"surveillanceOpen": false, "surveillanceCloseDays": []}}`))
	want = cert.Reminders{ExpiryDays: []int{120, 60}}
	if r.code != http.StatusOK || !reminders(r.body).Equal(want) {
		t.Fatalf("PATCH none for surveillance: %d %s, want %+v", r.code, r.body, want)
	}

	r = a.raw("PATCH", "/api/v1/issuers/cb", admin, merge, []byte(`{"reminders": null}`))
	if r.code != http.StatusOK || !reminders(r.body).Equal(cert.DefaultReminders()) {
		t.Fatalf("PATCH null: %d %s, want the defaults", r.code, r.body)
	}
	if is, err := a.store.Issuer(context.Background(), "cb"); err != nil || is.Reminders != nil {
		t.Errorf("after null the issuer stores %+v (%v), want none (the defaults apply)", is.Reminders, err)
	}
}
