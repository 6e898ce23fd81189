package console_test

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certd/certd/accounts"
	"github.com/certd/certd/cert"
	"github.com/certd/certd/console"
	"github.com/certd/certd/deadlines"
	"github.com/certd/certd/issuer"
	"github.com/certd/certd/keys"
	"github.com/certd/certd/report"
	"github.com/certd/certd/store/bolt"
)

// newReportEnv is newEnv with the organization flags and the report
// deadlines wired, as cmd/certd wires them.
func newReportEnv(t *testing.T) (*env, *bolt.Store) {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "certd.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	raw := make([]byte, 32)
	kek, err := keys.ParseKEK([]byte(base64.StdEncoding.EncodeToString(raw)))
	if err != nil {
		t.Fatal(err)
	}
	c := &clock{t: time.Date(2026, 11, 20, 2, 0, 0, 0, time.UTC)}
	ks := keys.NewService(st, kek, c.Now)
	schemes, err := cert.NewSchemes(cert.BuiltinSchemes())
	if err != nil {
		t.Fatal(err)
	}
	iss := issuer.New(issuer.Config{Store: st, Signer: ks, Rings: ks, Schemes: schemes, PublicURL: "http://certd.test", Now: c.Now, Organizations: st})
	if _, err := iss.CreateIssuer(t.Context(), cert.Principal{Role: cert.RoleAdmin, KeyID: "bootstrap"}, issuer.IssuerRequest{ID: "a", Name: "CB a", TimeZone: "Asia/Shanghai", NumberPrefix: "ITSS"}); err != nil {
		t.Fatal(err)
	}
	ts, err := report.LoadTemplates("")
	if err != nil {
		t.Fatal(err)
	}
	dl := deadlines.New(deadlines.Config{Templates: ts, Schemes: schemes, Certificates: iss, Submissions: st, Now: c.Now})
	acc := accounts.New(accounts.Config{Store: st, Now: c.Now, Password: accounts.PasswordParams{Memory: 64, Time: 1, Threads: 1}})
	con, err := console.New(console.Config{Accounts: acc, Issuing: iss, APIKeys: iss, SigningKeys: ks, PublicURL: "http://certd.test", Now: c.Now,
		DashboardTTL: -1, ReportDeadlines: dl.Outstanding})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(con)
	t.Cleanup(srv.Close)
	return &env{srv: srv, acc: acc, iss: iss, clock: c, con: con}, st
}

func issueForm(csrf, key string) url.Values {
	return url.Values{"csrf": {csrf}, "scheme": {"iso17021"}, "standard": {"GB/T 19001-2016"},
		"scope": {"软件开发"}, "organization.name": {"审核示例有限公司"}, "organization.uscc": {"91110108MA0123456G"},
		"idempotencyKey": {key}, "step": {"issue"}}
}

// The issue and surveillance forms take the audit record; a bad field is
// shown by its API name.
func TestConsoleAuditForms(t *testing.T) {
	e, _ := newReportEnv(t)
	clerk := e.signUp(t, "a", "clerk@a.cn", cert.RoleAdmin)
	if _, body, _ := clerk.get("/console/certificates/new"); !strings.Contains(body, `name="audit.mode"`) || !strings.Contains(body, "<details") {
		t.Fatal("the issue form has no audit details")
	}
	form := issueForm(clerk.csrf("/console/certificates/new"), "console-audit-1")
	form.Set("audit.mode", "FS09")
	if code, body, _ := clerk.post("/console/certificates/new", form); code != http.StatusUnprocessableEntity || !strings.Contains(body, "audit.mode") || !strings.Contains(body, "FS01") {
		t.Fatalf("bad mode: %d", code)
	}
	for k, v := range map[string]string{"audit.type": "initial", "audit.mode": "FS03", "audit.firstDay": "2026-11-16", "audit.lastDay": "2026-11-18",
		"audit.team": "张组长 | leader\n李审核 | auditor", "audit.personDays": "2.5", "audit.decisionDate": "2026-11-19",
		"audit.decisionMakers": "王决定，赵决定", "audit.technicalAreas": "33, 19.1", "audit.employees": "86"} {
		form.Set(k, v)
	}
	code, _, h := clerk.post("/console/certificates/new", form)
	if code != http.StatusSeeOther {
		t.Fatalf("issue: %d", code)
	}
	page := h.Get("Location")
	id := strings.TrimPrefix(page, "/console/certificates/")
	crt, err := e.iss.Certificate(context.Background(), cert.Principal{Role: cert.RoleAdmin}, id)
	if err != nil {
		t.Fatal(err)
	}
	a := crt.Audit
	if a == nil || a.Mode != "FS03" || a.PersonDays != 2.5 || a.Leader() != "张组长" || len(a.Team) != 2 || a.Team[1].Role != "auditor" ||
		strings.Join(a.DecisionMakers, "/") != "王决定/赵决定" || strings.Join(a.TechnicalAreas, "/") != "33/19.1" || a.Employees != 86 {
		t.Fatalf("stored audit %+v", a)
	}
	if _, body, _ := clerk.get(page); !strings.Contains(body, "张组长 (leader)") || !strings.Contains(body, "FS03") {
		t.Error("the certificate page does not show the audit record")
	}

	if _, body, _ := clerk.get(page + "/surveillance"); !strings.Contains(body, `name="audit.team"`) {
		t.Fatal("the surveillance form has no audit details")
	}
	csrf := clerk.csrf(page + "/surveillance")
	sv := url.Values{"csrf": {csrf}, "version": {"1"}, "date": {"2026-11-20"}, "result": {"passed"}, "reason": {"监督"},
		"audit.mode": {"FS02"}, "audit.technicalAreas": {"40"}}
	if code, body, _ := clerk.post(page+"/surveillance", sv); code != http.StatusUnprocessableEntity || !strings.Contains(body, "audit.technicalAreas[0]") {
		t.Fatalf("bad area: %d", code)
	}
	sv.Set("audit.technicalAreas", "33")
	sv.Set("audit.employees", "90")
	if code, _, _ := clerk.post(page+"/surveillance", sv); code != http.StatusSeeOther {
		t.Fatalf("surveillance: %d", code)
	}
	crt, _ = e.iss.Certificate(context.Background(), cert.Principal{Role: cert.RoleAdmin}, id)
	if ev := crt.Events[len(crt.Events)-1]; ev.Audit == nil || ev.Audit.Mode != "FS02" || ev.Audit.Employees != 90 {
		t.Errorf("surveillance event %+v", ev)
	}
}

// The certificate page shows and toggles the certificate's own flag and
// its organization's.
func TestConsoleConfidentialToggles(t *testing.T) {
	e, _ := newReportEnv(t)
	clerk := e.signUp(t, "a", "clerk@a.cn", cert.RoleAdmin)
	code, _, h := clerk.post("/console/certificates/new", issueForm(clerk.csrf("/console/certificates/new"), "console-conf-1"))
	if code != http.StatusSeeOther {
		t.Fatalf("issue: %d", code)
	}
	page := h.Get("Location")
	id := strings.TrimPrefix(page, "/console/certificates/")
	ctx := context.Background()
	admin := cert.Principal{Role: cert.RoleAdmin}

	_, body, _ := clerk.get(page)
	if !strings.Contains(body, `id="toggle-own"`) || !strings.Contains(body, `id="toggle-org"`) || strings.Contains(body, "公开检索与 IAF CertSearch 中不显示") {
		t.Fatal("the page lacks the toggles, or says confidential")
	}
	csrf := clerk.csrf(page)
	if code, _, h := clerk.post(page+"/confidential", url.Values{"csrf": {csrf}, "confidential": {"true"}}); code != http.StatusSeeOther || h.Get("Location") != page {
		t.Fatalf("own flag: %d → %s", code, h.Get("Location"))
	}
	if crt, _ := e.iss.Certificate(ctx, admin, id); !crt.Confidential {
		t.Error("own flag not set")
	}
	code, _, h = clerk.post("/console/organizations/91110108MA0123456G/confidential", url.Values{"csrf": {csrf}, "confidential": {"true"}, "certificate": {id}})
	if code != http.StatusSeeOther || h.Get("Location") != page {
		t.Fatalf("organization flag: %d → %s", code, h.Get("Location"))
	}
	if orgs, _ := e.iss.ConfidentialOrganizations(ctx, "a"); !orgs["91110108MA0123456G"] {
		t.Error("organization flag not set")
	}
	_, body, _ = clerk.get(page)
	if strings.Count(body, "<strong>不公开</strong>") != 2 || !strings.Contains(body, "公开检索与 IAF CertSearch 中不显示") {
		t.Error("the page does not show both flags set")
	}
	// Cleared again; a viewer cannot change either.
	clerk.post(page+"/confidential", url.Values{"csrf": {csrf}, "confidential": {"false"}})
	clerk.post("/console/organizations/91110108MA0123456G/confidential", url.Values{"csrf": {csrf}, "confidential": {"false"}, "certificate": {id}})
	if crt, _ := e.iss.Certificate(ctx, admin, id); crt.Confidential {
		t.Error("own flag not cleared")
	}
	if orgs, _ := e.iss.ConfidentialOrganizations(ctx, "a"); orgs["91110108MA0123456G"] {
		t.Error("organization flag not cleared")
	}
	viewer := e.signUp(t, "a", "viewer@a.cn", cert.RoleViewer)
	vcsrf := viewer.csrf(page)
	if code, _, _ := viewer.post(page+"/confidential", url.Values{"csrf": {vcsrf}, "confidential": {"true"}}); code != http.StatusForbidden {
		t.Errorf("viewer own flag: %d, want 403", code)
	}
	if code, _, _ := viewer.post("/console/organizations/91110108MA0123456G/confidential", url.Values{"csrf": {vcsrf}, "confidential": {"true"}}); code != http.StatusForbidden {
		t.Errorf("viewer organization flag: %d, want 403", code)
	}
}

// The dashboard lists each report's outstanding periods with the
// deadline, highlighted when it is near or past.
func TestConsoleReportDeadlines(t *testing.T) {
	e, _ := newReportEnv(t)
	clerk := e.signUp(t, "a", "clerk@a.cn", cert.RoleAdmin)
	if _, body, _ := clerk.get("/console/"); !strings.Contains(body, "没有待报送的报告") {
		t.Error("no report due yet: the dashboard must say so")
	}
	if code, _, _ := clerk.post("/console/certificates/new", issueForm(clerk.csrf("/console/certificates/new"), "console-dl-1")); code != http.StatusSeeOther {
		t.Fatalf("issue: %d", code)
	}
	_, body, _ := clerk.get("/console/")
	if !strings.Contains(body, `id="reports-due"`) || !strings.Contains(body, "<td>2026-11</td>") || !strings.Contains(body, "2026-12-10") || strings.Contains(body, `class="badge w-`) {
		t.Fatalf("dashboard before the warning window: %s", body)
	}
	e.clock.Add(16 * 24 * time.Hour) // 2026-12-06, Beijing: within 5 days of the 10th
	clerk = e.signUp(t, "a", "clerk2@a.cn", cert.RoleIssuer)
	_, body, _ = clerk.get("/console/")
	if !strings.Contains(body, `class="badge w-due_soon"`) || !strings.Contains(body, "即将到期") || !strings.Contains(body, `class="warn-due_soon"`) {
		t.Errorf("dashboard within 5 days: no due-soon highlight")
	}
	e.clock.Add(5 * 24 * time.Hour) // 2026-12-11: overdue
	clerk = e.signUp(t, "a", "clerk3@a.cn", cert.RoleIssuer)
	_, body, _ = clerk.get("/console/?lang=en")
	if !strings.Contains(body, `class="badge w-overdue"`) || !strings.Contains(body, "Overdue") {
		t.Errorf("dashboard after the deadline: no overdue highlight")
	}
}
