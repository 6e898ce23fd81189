package api_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/certd/certd/api"
	"github.com/certd/certd/issuer"
)

type emailResource struct {
	ID           string `json:"id"`
	Organization struct {
		Email string `json:"email"`
	} `json:"organization"`
}

// TestOrganizationEmail: organization.email is accepted on issue, batch
// and revise, kept on renewal, answered in the authenticated resource, and
// in none of the public answers.
func TestOrganizationEmail(t *testing.T) {
	a := newTestAPIWith(t, "2026-11-27", func(_ *issuer.Config, c *api.Config) { c.Search = c.Store.(api.Searching) })
	body := func(email string) map[string]any {
		return map[string]any{
			"scheme": "itss", "standard": "GB/T 28827.1-2022", "scope": "信息系统运行维护服务", "validFrom": "2026-11-27",
			"category": "运行维护", "level": 3,
			"organization": map[string]any{"name": "北京示例科技有限公司", "uscc": "91110108MA0123456G", "email": email},
		}
	}
	r := a.do(http.MethodPost, "/api/v1/certificates", body("张三 <zhang@example.cn>"))
	wantProblem(t, r, http.StatusUnprocessableEntity, "invalid-input", "organization.email")
	if !strings.Contains(string(r.body), `"field":"organization.email"`) {
		t.Errorf("problem does not name the field: %s", r.body)
	}
	r = a.do(http.MethodPost, "/api/v1/certificates", body(strings.Repeat("a", 250)+"@example.cn"))
	wantProblem(t, r, http.StatusUnprocessableEntity, "invalid-input", "254 bytes")

	r = a.do(http.MethodPost, "/api/v1/certificates", body(" Zhang.San@Example.CN "))
	if r.code != http.StatusCreated {
		t.Fatalf("issue: %d %s", r.code, r.body)
	}
	var c emailResource
	r.decode(t, &c)
	if c.Organization.Email != "Zhang.San@example.cn" {
		t.Errorf("issued: organization.email %q, want the domain in lower case", c.Organization.Email)
	}
	var got emailResource
	a.do(http.MethodGet, "/api/v1/certificates/"+c.ID, nil).decode(t, &got)
	if got.Organization.Email != "Zhang.San@example.cn" {
		t.Errorf("GET: organization.email %q", got.Organization.Email)
	}

	for _, path := range []string{"/api/v1/verify/" + c.ID, "/v/" + c.ID, "/api/v1/search?q=91110108MA0123456G", "/search?q=" + url.QueryEscape("北京示例")} {
		for _, accept := range []string{"application/json", "text/html"} {
			r := a.do(http.MethodGet, path, nil, "Accept", accept)
			if r.code != http.StatusOK {
				t.Fatalf("GET %s (%s): %d %s", path, accept, r.code, r.body)
			}
			if strings.Contains(strings.ToLower(string(r.body)), "zhang.san") {
				t.Errorf("GET %s (%s) shows the organization's e-mail", path, accept)
			}
		}
	}
	r = a.do(http.MethodPost, "/api/v1/verify", map[string]any{"credential": a.credential(t, c.ID)})
	if r.code != http.StatusOK || strings.Contains(strings.ToLower(string(r.body)), "zhang.san") {
		t.Errorf("POST /api/v1/verify: %d, shows the e-mail: %v", r.code, strings.Contains(string(r.body), "zhang.san"))
	}

	// A revision changes the address; a renewal keeps it.
	a.clock.Set(bj(t, "2027-03-10 14:30:00"))
	r = a.act(c.ID, "revise", map[string]any{"reason": "new contact", "organization": map[string]any{"email": "cert@Example.cn"}}, http.StatusCreated)
	var rev emailResource
	r.decode(t, &rev)
	if rev.Organization.Email != "cert@example.cn" {
		t.Errorf("revised: organization.email %q", rev.Organization.Email)
	}
	a.audit(rev.ID, "2027-09-15")
	a.audit(rev.ID, "2028-09-20")
	a.clock.Set(bj(t, "2029-06-01 10:00:00"))
	r = a.act(rev.ID, "renew", map[string]any{"reason": "recertified"}, http.StatusCreated)
	var next emailResource
	r.decode(t, &next)
	if next.Organization.Email != "cert@example.cn" {
		t.Errorf("renewed: organization.email %q, want it kept", next.Organization.Email)
	}

	r = a.do(http.MethodPost, "/api/v1/certificates/batch", map[string]any{"certificates": []any{body("batch@Example.cn"), body("not-an-address")}})
	if r.code != http.StatusOK && r.code != http.StatusMultiStatus {
		t.Fatalf("batch: %d %s", r.code, r.body)
	}
	var batch struct {
		Results []struct {
			Status      int           `json:"status"`
			Certificate emailResource `json:"certificate"`
			Problem     *api.Problem  `json:"problem"`
		} `json:"results"`
	}
	r.decode(t, &batch)
	if len(batch.Results) != 2 || batch.Results[0].Certificate.Organization.Email != "batch@example.cn" ||
		batch.Results[1].Problem == nil || len(batch.Results[1].Problem.Errors) == 0 || !strings.HasSuffix(batch.Results[1].Problem.Errors[0].Field, "organization.email") {
		t.Errorf("batch results: %s", r.body)
	}
}

// credential is the compact JWS of a certificate.
func (a *testAPI) credential(t *testing.T, id string) string {
	t.Helper()
	var c struct {
		Credential string `json:"credential"`
	}
	a.do(http.MethodGet, "/api/v1/certificates/"+id, nil).decode(t, &c)
	return c.Credential
}
