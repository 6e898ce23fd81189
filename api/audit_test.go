package api_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"image"
	"image/png"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/issuer"
	"github.com/certd/certd/templates/qrtest"
)

// leaderName is a name that appears only in audit records, so that its
// presence anywhere public is a leak.
const leaderName = "审核组长甲某"

func auditBody() map[string]any {
	return map[string]any{
		"type": "initial", "mode": "FS03", "firstDay": "2026-11-02", "lastDay": "2026-11-04",
		"team":       []map[string]any{{"name": leaderName, "role": "leader"}, {"name": "Li Si", "role": "technical_expert"}},
		"personDays": 2.5, "decisionDate": "2026-11-20", "decisionMakers": []string{"王决定", "赵决定"},
		"technicalAreas": []string{"33", "19.1"}, "employees": 120,
	}
}

// issueWith issues a certificate of the report API's issuer with extra
// fields in the body.
func (a *testAPI) issueWith(day, name, uscc string, extra map[string]any) resource {
	a.t.Helper()
	a.clock.Set(bj(a.t, day).Add(9 * time.Hour))
	body := map[string]any{
		"scheme": "iso17021", "standard": "GB/T 19001-2016", "scope": "软件开发", "validFrom": day,
		"organization": map[string]any{"name": name, "uscc": uscc, "address": "北京市海淀区"},
	}
	for k, v := range extra {
		body[k] = v
	}
	r := a.do(http.MethodPost, "/api/v1/certificates", body)
	if r.code != http.StatusCreated {
		a.t.Fatalf("issue: HTTP %d %s", r.code, r.body)
	}
	var c resource
	r.decode(a.t, &c)
	return c
}

// Audit records on issue, surveillance, renewal and revision: stored and
// shown in the authenticated resource and events, never in the verdict,
// the public page or the credential.
func TestAPIAuditRecords(t *testing.T) {
	a, _ := newReportAPI(t, "2026-11-20")
	c := a.issueWith("2026-11-20", "审核示例有限公司", "91110108MA0123456G", map[string]any{"audit": auditBody()})

	var got struct {
		Audit *cert.Audit `json:"audit"`
	}
	a.authed(http.MethodGet, "/api/v1/certificates/"+c.ID, nil).decode(t, &got)
	if got.Audit == nil || got.Audit.Mode != "FS03" || got.Audit.PersonDays != 2.5 || got.Audit.Leader() != leaderName ||
		len(got.Audit.TechnicalAreas) != 2 || got.Audit.Employees != 120 || got.Audit.DecisionMakers[1] != "赵决定" {
		t.Fatalf("resource audit = %+v", got.Audit)
	}

	surv := map[string]any{"type": "surveillance", "mode": "FS02", "firstDay": "2027-10-11", "lastDay": "2027-10-11",
		"team": []map[string]any{{"name": "监督组长", "role": "leader"}}, "personDays": 1, "employees": 130}
	a.actOn("2027-10-12", c.ID, "surveillance", map[string]any{"reason": "年度监督", "date": "2027-10-11", "result": "passed", "audit": surv}, http.StatusOK)
	r := a.authed(http.MethodGet, "/api/v1/certificates/"+c.ID+"/events", nil)
	var events struct{ Events []cert.Event }
	r.decode(t, &events)
	last := events.Events[len(events.Events)-1]
	if last.Type != cert.EventSurveillancePassed || last.Audit == nil || last.Audit.Mode != "FS02" || last.Audit.Employees != 130 {
		t.Errorf("surveillance event = %+v", last)
	}

	// Public: the verdict, the page (zh and en) and the credential.
	for _, path := range []string{"/api/v1/verify/" + c.ID, "/v/" + c.ID, "/v/" + c.ID + "?lang=en", "/v/" + c.ID + "/credential.jwt"} {
		r := a.do(http.MethodGet, path, nil)
		body := string(r.body)
		if path == "/v/"+c.ID+"/credential.jwt" {
			parts := strings.Split(body, ".")
			payload, err := base64.RawURLEncoding.DecodeString(parts[1])
			if err != nil {
				t.Fatal(err)
			}
			body = string(payload)
		}
		for _, secret := range []string{leaderName, "王决定", "监督组长", "FS03", "personDays"} {
			if r.code != http.StatusOK || strings.Contains(body, secret) {
				t.Errorf("%s: HTTP %d, must not show %q", path, r.code, secret)
			}
		}
	}

	// A revision keeps the record unless it brings one; a renewal takes
	// the one it brings.
	r = a.actOn("2027-10-13", c.ID, "revise", map[string]any{"reason": "范围变更", "reasonCode": "0301", "scope": "软件开发和运维"}, http.StatusCreated)
	var rev struct {
		ID    string      `json:"id"`
		Audit *cert.Audit `json:"audit"`
	}
	r.decode(t, &rev)
	if rev.Audit == nil || rev.Audit.Leader() != leaderName {
		t.Errorf("revision audit = %+v, want the certificate's", rev.Audit)
	}
	a.actOn("2028-10-12", rev.ID, "surveillance", map[string]any{"reason": "第二次监督", "date": "2028-10-11", "result": "passed"}, http.StatusOK)
	rec := map[string]any{"type": "recertification", "mode": "FS01", "lastDay": "2029-09-01", "employees": 150}
	r = a.actOn("2029-09-02", rev.ID, "renew", map[string]any{"reason": "再认证", "audit": rec}, http.StatusCreated)
	var ren struct {
		Audit *cert.Audit `json:"audit"`
	}
	r.decode(t, &ren)
	if ren.Audit == nil || ren.Audit.Type != "recertification" || ren.Audit.Employees != 150 {
		t.Errorf("renewal audit = %+v", ren.Audit)
	}
}

// Every audit field is validated: 422 naming the field and what is
// allowed, on issue, in a batch and on surveillance.
func TestAPIAuditValidated(t *testing.T) {
	a, _ := newReportAPI(t, "2026-11-20")
	cases := []struct {
		name  string
		audit map[string]any
		field string
		has   string
	}{
		{"type", map[string]any{"type": "annual"}, "audit.type", "initial, surveillance, recertification, special"},
		{"mode", map[string]any{"mode": "onsite"}, "audit.mode", "FS01 (on site), FS02 (remote), FS03 (combined)"},
		{"firstDay", map[string]any{"firstDay": "2026-13-01"}, "audit.firstDay", "YYYY-MM-DD"},
		{"lastDay before firstDay", map[string]any{"firstDay": "2026-11-04", "lastDay": "2026-11-02"}, "audit.lastDay", "not be before firstDay"},
		{"decision before audit", map[string]any{"lastDay": "2026-11-04", "decisionDate": "2026-11-03"}, "audit.decisionDate", "not be before lastDay"},
		{"role", map[string]any{"team": []map[string]any{{"name": "甲", "role": "boss"}}}, "audit.team[0].role", "leader, auditor, technical_expert, observer"},
		{"two leaders", map[string]any{"team": []map[string]any{{"name": "甲", "role": "leader"}, {"name": "乙", "role": "leader"}}}, "audit.team[1].role", "at most one leader"},
		{"name required", map[string]any{"team": []map[string]any{{"name": " ", "role": "auditor"}}}, "audit.team[0].name", "is required"},
		{"name text", map[string]any{"team": []map[string]any{{"name": "甲\u202e", "role": "auditor"}}}, "audit.team[0].name", "U+202E"},
		{"personDays negative", map[string]any{"personDays": -1}, "audit.personDays", "at most two decimals"},
		{"personDays precision", map[string]any{"personDays": 1.125}, "audit.personDays", "e.g. 2.5"},
		{"maker text", map[string]any{"decisionMakers": []string{"王\x07"}}, "audit.decisionMakers[0]", ""},
		{"area 40", map[string]any{"technicalAreas": []string{"40"}}, "audit.technicalAreas[0]", "01 to 39"},
		{"area one digit", map[string]any{"technicalAreas": []string{"28", "7"}}, "audit.technicalAreas[1]", "two digits"},
		{"area twice", map[string]any{"technicalAreas": []string{"28", "28"}}, "audit.technicalAreas[1]", "twice"},
		{"employees", map[string]any{"employees": -3}, "audit.employees", "from 0 to"},
	}
	for _, tc := range cases {
		t.Run("fail/"+tc.name, func(t *testing.T) {
			body := map[string]any{
				"scheme": "iso17021", "standard": "GB/T 19001-2016", "scope": "软件开发",
				"organization": map[string]any{"name": "校验示例有限公司", "uscc": "91110108MA0123456G"}, "audit": tc.audit,
			}
			wantFieldProblem(t, a.do(http.MethodPost, "/api/v1/certificates", body), tc.field, tc.has)
		})
	}
	t.Run("fail/batch item", func(t *testing.T) {
		body := map[string]any{"certificates": []map[string]any{{
			"scheme": "iso17021", "scope": "软件开发", "organization": map[string]any{"name": "批量示例有限公司", "uscc": "91110108MA0123456G"},
			"audit": map[string]any{"mode": "FS9"},
		}}}
		r := a.do(http.MethodPost, "/api/v1/certificates/batch", body)
		if r.code != http.StatusOK || !strings.Contains(string(r.body), `"field":"certificates[0].audit.mode"`) {
			t.Errorf("batch: HTTP %d %s", r.code, r.body)
		}
	})
	t.Run("fail/surveillance", func(t *testing.T) {
		c := a.issueWith("2026-11-20", "监督校验有限公司", "91110108MA0123456G", nil)
		a.clock.Set(bj(t, "2027-10-12").Add(9 * time.Hour))
		r := a.act(c.ID, "surveillance", map[string]any{"reason": "r", "date": "2027-10-11", "result": "passed",
			"audit": map[string]any{"technicalAreas": []string{"00"}}}, http.StatusUnprocessableEntity)
		wantFieldProblem(t, r, "audit.technicalAreas[0]", "IAF sector code")
	})
}

// usccFor makes a valid USCC (with its GB 32100 check character) from a
// number.
func usccFor(t testing.TB, n int) string {
	t.Helper()
	first := fmt.Sprintf("91110108MA%07d", n)
	c, err := cert.USCCCheckChar(first)
	if err != nil {
		t.Fatal(err)
	}
	return first + string(c)
}

// The per-organization confidential flag: every certificate of that
// organization from that issuer, present and future, is out of public
// search and of IAF records, and still verifies by id and QR page.
func TestAPIOrganizationConfidential(t *testing.T) {
	a, _ := newReportAPI(t, "2026-11-02")
	secretOrg, openOrg := usccFor(t, 1), usccFor(t, 2)
	first := a.issueWith("2026-11-02", "保密集团有限公司", secretOrg, nil)
	open := a.issueWith("2026-11-03", "公开集团有限公司", openOrg, nil)

	r := a.authed(http.MethodPut, "/api/v1/organizations/"+secretOrg+"/confidential", map[string]any{"confidential": true})
	if r.code != http.StatusOK || !strings.Contains(string(r.body), `"confidential":true`) || !strings.Contains(string(r.body), `"issuer":"cb"`) {
		t.Fatalf("PUT: HTTP %d %s", r.code, r.body)
	}
	later := a.issueWith("2026-11-05", "保密集团有限公司", secretOrg, nil)

	flags := func(id string) (own, org, eff bool) {
		var res struct{ Confidential, OrganizationConfidential, ConfidentialEffective bool }
		a.authed(http.MethodGet, "/api/v1/certificates/"+id, nil).decode(t, &res)
		return res.Confidential, res.OrganizationConfidential, res.ConfidentialEffective
	}
	for _, id := range []string{first.ID, later.ID} {
		if own, org, eff := flags(id); own || !org || !eff {
			t.Errorf("%s: confidential=%v organizationConfidential=%v effective=%v, want false true true", id, own, org, eff)
		}
	}
	if own, org, eff := flags(open.ID); own || org || eff {
		t.Errorf("open: %v %v %v, want all false", own, org, eff)
	}
	var list struct {
		Items []struct {
			ID                    string
			ConfidentialEffective bool
		}
	}
	a.authed(http.MethodGet, "/api/v1/certificates", nil).decode(t, &list)
	for _, it := range list.Items {
		if it.ConfidentialEffective != (it.ID != open.ID) {
			t.Errorf("list: %s confidentialEffective=%v", it.ID, it.ConfidentialEffective)
		}
	}

	search := func(q string) string {
		r := a.do(http.MethodGet, "/api/v1/search?q="+q, nil)
		if r.code != http.StatusOK {
			t.Fatalf("search %s: HTTP %d %s", q, r.code, r.body)
		}
		return string(r.body)
	}
	for _, q := range []string{"集团有限公司", secretOrg, first.Number, later.Number} {
		body := search(q)
		if strings.Contains(body, first.ID) || strings.Contains(body, later.ID) {
			t.Errorf("search %q shows a certificate of the confidential organization: %s", q, body)
		}
	}
	if !strings.Contains(search("集团有限公司"), open.ID) {
		t.Error("search lost the public certificate")
	}
	r = a.authed(http.MethodGet, "/api/v1/reports/iafcertsearch/2026-11?format=json", nil)
	if body := string(r.body); r.code != http.StatusOK || strings.Contains(body, secretOrg) || !strings.Contains(body, open.Number) {
		t.Errorf("IAF records: HTTP %d, want %s and not %s: %s", r.code, open.Number, secretOrg, body)
	}
	if r := a.authed(http.MethodGet, "/api/v1/reports/cnca/2026-11?format=csv", nil); !strings.Contains(string(r.body), later.Number) {
		t.Errorf("the CNCA report must hold every certificate: %s", r.body)
	}
	for _, c := range []resource{first, later} {
		if v := a.verify(c.ID); v.Verdict != cert.VerdictValid {
			t.Errorf("verdict %s, want valid", v.Verdict)
		}
		a.verifyByQR(t, c.ID, "保密集团有限公司")
	}

	// Cleared: public again.
	a.authed(http.MethodPut, "/api/v1/organizations/"+secretOrg+"/confidential", map[string]any{"confidential": false})
	if !strings.Contains(search(secretOrg), later.ID) {
		t.Error("after clearing, the organization's certificates must be found again")
	}

	// Who may set it, and what is checked.
	wantFieldProblem(t, a.authed(http.MethodPut, "/api/v1/organizations/"+secretOrg+"/confidential", map[string]any{}), "confidential", "true or false")
	ctx := context.Background()
	admin := cert.Principal{Role: cert.RoleAdmin, KeyID: "test"}
	_, viewer, err := a.svc.CreateAPIKey(ctx, admin, issuer.APIKeyRequest{Issuer: "cb", Role: cert.RoleViewer, Name: "viewer"})
	if err != nil {
		t.Fatal(err)
	}
	if r := a.do(http.MethodPut, "/api/v1/organizations/"+secretOrg+"/confidential", map[string]any{"confidential": true}, "Authorization", "Bearer "+viewer); r.code != http.StatusForbidden {
		t.Errorf("viewer: HTTP %d, want 403", r.code)
	}
	_, adminToken, err := a.svc.CreateAPIKey(ctx, admin, issuer.APIKeyRequest{Role: cert.RoleAdmin, Name: "admin"})
	if err != nil {
		t.Fatal(err)
	}
	wantFieldProblem(t, a.do(http.MethodPut, "/api/v1/organizations/"+secretOrg+"/confidential", map[string]any{"confidential": true}, "Authorization", "Bearer "+adminToken), "issuer", "admin key")
	if r := a.do(http.MethodPut, "/api/v1/organizations/"+secretOrg+"/confidential?issuer=cb", map[string]any{"confidential": true}, "Authorization", "Bearer "+adminToken); r.code != http.StatusOK {
		t.Errorf("admin with ?issuer=: HTTP %d %s", r.code, r.body)
	}
	if strings.Contains(search(secretOrg), later.ID) {
		t.Error("the admin's mark did not apply")
	}
}

// verifyByQR decodes the certificate's QR code and checks that the page
// it leads to shows the organization and verifies.
func (a *testAPI) verifyByQR(t *testing.T, id, orgName string) {
	t.Helper()
	r := a.do(http.MethodGet, "/v/"+id+"/qr.png", nil)
	img, err := png.Decode(bytes.NewReader(r.body))
	if r.code != http.StatusOK || err != nil {
		t.Fatalf("qr.png: HTTP %d, %v", r.code, err)
	}
	r = a.do(http.MethodGet, "/v/"+id+"/qr.svg", nil)
	raster, _ := qrtest.RasterizeSVG(t, r.body, 8)
	u, err := url.Parse(decodeQR(t, img, qrtest.Downscale(img, 2), raster))
	// Upper case: QR alphanumeric mode; /V/{id} is served as /v/{id}.
	if err != nil || !strings.EqualFold(u.Path, "/v/"+id) {
		t.Fatalf("QR code holds %v (%v), want the page of %s", u, err, id)
	}
	if r := a.do(http.MethodGet, u.Path, nil); r.code != http.StatusOK || !strings.Contains(string(r.body), orgName) {
		t.Errorf("QR page: HTTP %d", r.code)
	}
	var v cert.Verdict
	a.do(http.MethodGet, u.Path, nil, "Accept", "application/json").decode(t, &v)
	if v.Verdict != cert.VerdictValid {
		t.Errorf("QR page verdict %s, want valid", v.Verdict)
	}
}

// softTB ends the goroutine of a failed decoding instead of the test.
type softTB struct {
	testing.TB
	failed bool
}

func (s *softTB) Helper() {}
func (s *softTB) Fatalf(string, ...any) {
	s.failed = true
	runtime.Goexit()
}

// decodeQR returns the text of the first of imgs that decodes: the
// independent decoder misses an image now and then (about one in 300 for
// a random id), and the renditions of one code (the PNG, the PNG at half
// size, the SVG drawn as pixels) never all miss together.
func decodeQR(t *testing.T, imgs ...image.Image) string {
	t.Helper()
	for _, img := range imgs {
		s := &softTB{TB: t}
		var text string
		done := make(chan struct{})
		go func() {
			defer close(done)
			text = qrtest.Decode(s, img).GetText()
		}()
		<-done
		if !s.failed {
			return text
		}
	}
	t.Fatal("no rendition of the QR code decodes")
	return ""
}

// An audit recorded after the report of its month was submitted is
// outstanding for the next report (in its audit sheets), not in the one
// already submitted; recorded before the submission, it is in its own
// month's report.
func TestAPIReportLateAudit(t *testing.T) {
	a, _ := newReportAPI(t, "2026-11-02")
	c := a.issueOn("2026-11-02", "iso17021", "迟报示例有限公司", "2026-11-02")
	// Dated 2026-11-27, recorded 2026-12-03: November is not submitted
	// yet, so it is November's.
	a.actOn("2026-12-03", c.ID, "surveillance", map[string]any{"reason": "监督", "date": "2026-11-27", "result": "passed", "auditRef": "on-time"}, http.StatusOK)
	csv := func(month string) string {
		r := a.authed(http.MethodGet, "/api/v1/reports/cnca/"+month+"?format=csv&sheet=2", nil)
		if r.code != http.StatusOK {
			t.Fatalf("%s: HTTP %d %s", month, r.code, r.body)
		}
		return string(r.body)
	}
	if !strings.Contains(csv("2026-11"), "on-time") {
		t.Fatal("an audit recorded before the submission belongs to its month")
	}
	a.clock.Set(bj(t, "2026-12-05 10:00:00"))
	if r := a.authed(http.MethodPost, "/api/v1/reports/cnca/2026-11/submitted", nil); r.code != http.StatusCreated {
		t.Fatalf("mark: HTTP %d %s", r.code, r.body)
	}
	// Dated 2026-11-28, recorded 2026-12-07, after November was submitted.
	a.actOn("2026-12-07", c.ID, "surveillance", map[string]any{"reason": "补录", "date": "2026-11-28", "result": "passed", "auditRef": "late"}, http.StatusOK)
	type period struct {
		Period      string
		Outstanding int
	}
	var out struct{ Periods []period }
	a.authed(http.MethodGet, "/api/v1/reports/cnca", nil).decode(t, &out)
	got := map[string]int{}
	for _, p := range out.Periods {
		got[p.Period] = p.Outstanding
	}
	if got["2026-11"] != 0 || got["2026-12"] != 1 {
		t.Errorf("outstanding %v, want none in 2026-11 and the late audit in 2026-12", got)
	}
	nov, dec := csv("2026-11"), csv("2026-12")
	if strings.Contains(nov, "late") || !strings.Contains(nov, "on-time") {
		t.Errorf("November's audits:\n%s", nov)
	}
	// December's report holds it, with its own audit date.
	if !strings.Contains(dec, "2026-11-28") || !strings.Contains(dec, "late") || strings.Contains(dec, "on-time") {
		t.Errorf("December's audits:\n%s", dec)
	}
	a.clock.Set(bj(t, "2027-01-05 10:00:00"))
	if r := a.authed(http.MethodPost, "/api/v1/reports/cnca/2026-12/submitted", nil); r.code != http.StatusCreated || !strings.Contains(string(r.body), `"entries":1`) {
		t.Fatalf("mark December: HTTP %d %s", r.code, r.body)
	}
	out.Periods = nil
	a.authed(http.MethodGet, "/api/v1/reports/cnca", nil).decode(t, &out)
	for _, p := range out.Periods {
		if p.Outstanding != 0 {
			t.Errorf("after both submissions: %+v outstanding", p)
		}
	}
}
