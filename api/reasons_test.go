package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/certd/certd/api"
	"github.com/certd/certd/cert"
)

// wantFieldProblem checks a 422 whose errors name field with a message
// that contains each of has.
func wantOneFieldProblem(t testing.TB, r response, field string, has ...string) {
	t.Helper()
	wantProblem(t, r, http.StatusUnprocessableEntity, "invalid-input", field)
	var p struct {
		Errors []struct{ Field, Message string }
	}
	r.decode(t, &p)
	if len(p.Errors) != 1 || p.Errors[0].Field != field {
		t.Fatalf("errors = %+v, want one naming %s", p.Errors, field)
	}
	for _, h := range has {
		if !strings.Contains(p.Errors[0].Message, h) {
			t.Errorf("message %q, want it to contain %q", p.Errors[0].Message, h)
		}
	}
}

func TestAPIReasonCodeValidated(t *testing.T) {
	a := newTestAPI(t, "2026-11-27")
	iso := a.issue("iso17021")
	path := "/api/v1/certificates/" + iso.ID + "/"

	// Not in the scheme: 422 naming the field and listing the codes.
	wantOneFieldProblem(t, a.do(http.MethodPost, path+"suspend", map[string]any{"reason": "x", "reasonCode": "0120"}),
		"reasonCode", "must be one of", "0111 (", "0113 (", "0199 (")
	// Missing where the scheme requires one.
	wantOneFieldProblem(t, a.do(http.MethodPost, path+"withdraw", map[string]any{"reason": "x"}),
		"reasonCode", "is required for withdraw", "0120 (")
	// An action that takes no code.
	wantOneFieldProblem(t, a.do(http.MethodPost, path+"renew", map[string]any{"reason": "x", "reasonCode": "0120"}), "reasonCode", "records its code by itself")
	// ITSS does not require codes: a suspension without one still works.
	itss := a.issue("itss")
	a.act(itss.ID, "suspend", map[string]any{"reason": "客户申请"}, http.StatusOK)

	// A valid code is stored on the event and shown on the page as the
	// label in the reader's language.
	a.act(iso.ID, "suspend", map[string]any{"reason": "客户申请暂停", "reasonCode": "0113"}, http.StatusOK)
	r := a.do(http.MethodGet, "/api/v1/certificates/"+iso.ID+"/events", nil)
	if r.code != http.StatusOK || !strings.Contains(string(r.body), `"reasonCode":"0113"`) {
		t.Errorf("events: HTTP %d %s, want reasonCode 0113", r.code, r.body)
	}
	v := a.verify(iso.ID)
	if last := v.History[len(v.History)-1]; last.Code == nil || last.Code.Code != "0113" || last.Code.Label != "获证组织主动申请暂停" {
		t.Errorf("verdict history %+v, want code 0113 with its label", v.History)
	}
	for lang, want := range map[string]string{"zh-CN": "代码 0113：获证组织主动申请暂停", "en": "code 0113: suspended at the request of the certified organization"} {
		r := a.do(http.MethodGet, "/v/"+iso.ID+"?lang="+lang, nil)
		if r.code != http.StatusOK || !strings.Contains(string(r.body), want) {
			t.Errorf("page %s: HTTP %d, want %q in it", lang, r.code, want)
		}
	}
}

// A renewal withdraws the old certificate with the scheme's code for a
// replaced certificate (CNCA 0120), with no code from the client.
func TestAPIRenewalCode(t *testing.T) {
	a := newTestAPI(t, "2026-11-27")
	old := a.issue("iso17021")
	a.audit(old.ID, "2027-09-15")
	a.audit(old.ID, "2028-09-20")
	a.clock.Set(bj(t, "2029-06-01 10:00:00"))
	a.act(old.ID, "renew", map[string]any{"reason": "recertification audit passed"}, http.StatusCreated)
	a.clock.Set(bj(t, "2029-11-27")) // the renewal takes effect when the old certificate ends
	v := a.verify(old.ID)
	last := v.History[len(v.History)-1]
	if v.Status != cert.StatusSuperseded || last.Code == nil || last.Code.Code != "0120" || last.Code.Label != "因换发新证而撤销旧证书" {
		t.Errorf("status %s, history %+v: want superseded with code 0120", v.Status, v.History)
	}
}

func TestAPISchemes(t *testing.T) {
	a := newTestAPI(t, "2026-11-27")
	r := a.do(http.MethodGet, "/api/v1/schemes", nil) // public: no token
	if r.code != http.StatusOK {
		t.Fatalf("HTTP %d %s", r.code, r.body)
	}
	var got struct{ Schemes []cert.Scheme }
	r.decode(t, &got)
	if len(got.Schemes) != 2 || got.Schemes[0].ID != "iso17021" || got.Schemes[1].ID != "itss" {
		t.Fatalf("schemes %+v, want iso17021 and itss", got.Schemes)
	}
	rc := got.Schemes[0].ReasonCodes
	if rc == nil || rc.Superseded != "0120" || strings.Join(rc.Required, ",") != "suspend,withdraw,cancel" || len(rc.Suspension) == 0 {
		t.Errorf("iso17021 reason codes %+v", rc)
	}
	_ = api.Problem{}
}
