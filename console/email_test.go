package console_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/certd/certd/cert"
)

// TestIssueWithOrganizationEmail: the issue form takes the organization's
// contact e-mail, a bad one is refused by field, and the certificate page
// shows it to staff.
func TestIssueWithOrganizationEmail(t *testing.T) {
	e := newEnv(t)
	clerk := e.signUp(t, "a", "clerk@a.cn", cert.RoleAdmin)
	if _, body, _ := clerk.get("/console/certificates/new"); !strings.Contains(body, `name="organization.email"`) {
		t.Fatal("the issue form has no organization.email field")
	}
	form := url.Values{"csrf": {clerk.csrf("/console/certificates/new")}, "scheme": {"itss"}, "standard": {"GB/T 28827.1-2022"},
		"category": {"运行维护"}, "level": {"3"}, "scope": {"信息系统运行维护服务"}, "organization.name": {"北京示例科技有限公司"},
		"organization.uscc": {"91110108MA0123456G"}, "organization.email": {"cert office@example.cn"},
		"idempotencyKey": {"console-email-1"}, "step": {"issue"}}
	code, body, _ := clerk.post("/console/certificates/new", form)
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, "organization.email") {
		t.Fatalf("bad e-mail: %d", code)
	}
	form.Set("organization.email", "Cert.Office@Example.CN")
	code, _, h := clerk.post("/console/certificates/new", form)
	if code != http.StatusSeeOther {
		t.Fatalf("issue: %d", code)
	}
	id := strings.TrimPrefix(h.Get("Location"), "/console/certificates/")
	crt, err := e.iss.Certificate(context.Background(), cert.Principal{Role: cert.RoleAdmin}, id)
	if err != nil {
		t.Fatal(err)
	}
	if crt.Organization.Email != "Cert.Office@example.cn" {
		t.Errorf("organization.email %q", crt.Organization.Email)
	}
	if _, body, _ := clerk.get(h.Get("Location")); !strings.Contains(body, "Cert.Office@example.cn") {
		t.Error("the certificate page does not show the e-mail")
	}
}
