package console

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/issuer"
)

// issueForm is the form of a new certificate, by the REST API's field
// names (nested with dots).
var issueFields = []string{"scheme", "number", "standard", "category", "level", "scope", "scopeEn", "sites", "assessmentBody",
	"decisionDate", "validFrom", "organization.name", "organization.nameEn", "organization.uscc", "organization.address", "organization.country", "organization.email"}

func formValues(r *http.Request) map[string]string {
	m := make(map[string]string, len(issueFields)+1)
	for _, k := range append(append(issueFields, auditFields...), "idempotencyKey") {
		m[k] = strings.TrimSpace(r.PostFormValue(k))
	}
	return m
}

// issueRequest builds the request from the form; sites are one a line.
func issueRequest(f map[string]string) issuer.Request {
	req := issuer.Request{Scheme: f["scheme"], Number: f["number"], Standard: f["standard"], Category: f["category"],
		Scope: f["scope"], ScopeEn: f["scopeEn"], AssessmentBody: f["assessmentBody"], DecisionDate: f["decisionDate"],
		ValidFrom: f["validFrom"], Organization: cert.Organization{Name: f["organization.name"], NameEn: f["organization.nameEn"],
			USCC: strings.ToUpper(f["organization.uscc"]), Address: f["organization.address"], Country: f["organization.country"],
			Email: f["organization.email"]}}
	req.Level, _ = strconv.Atoi(f["level"])
	req.Audit = auditFromForm(f)
	// One site a line: name | address | scope (address and scope optional).
	for _, line := range strings.Split(f["sites"], "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		parts := strings.SplitN(line, "|", 3)
		site := cert.Site{Name: strings.TrimSpace(parts[0])}
		if len(parts) > 1 {
			site.Address = strings.TrimSpace(parts[1])
		}
		if len(parts) > 2 {
			site.Scope = strings.TrimSpace(parts[2])
		}
		req.Sites = append(req.Sites, site)
	}
	return req
}

func (c *Console) newForm(q *request, status int, f map[string]string, errs []cert.FieldError, preview *issuer.Request) error {
	if f["idempotencyKey"] == "" {
		// A retried or double-clicked submit of this form issues once.
		f["idempotencyKey"] = "console-" + cert.NewID()
	}
	return c.page(q, status, "new", map[string]any{"Form": f, "Errors": errs, "Preview": preview, "Schemes": c.iss.Schemes()})
}

func (c *Console) newCertificate(q *request) error {
	if !q.principal().CanWrite(q.user.Issuer) {
		return errors.Join(errors.New("a viewer cannot issue"), cert.ErrForbidden)
	}
	return c.newForm(q, http.StatusOK, map[string]string{"scheme": "itss", "organization.country": "CN"}, nil, nil)
}

// issue previews (step=preview) or issues (step=issue) a certificate; the
// server checks every field either way.
func (c *Console) issue(q *request) error {
	f := formValues(q.r)
	req := issueRequest(f)
	if v := req.Check(c.iss.Schemes(), c.now()); v != nil && len(v.Fields) > 0 {
		return c.newForm(q, http.StatusUnprocessableEntity, f, v.Fields, nil)
	}
	if q.r.PostFormValue("step") != "issue" {
		return c.newForm(q, http.StatusOK, f, nil, &req)
	}
	crt, _, err := c.iss.Issue(q.r.Context(), q.principal(), req, f["idempotencyKey"])
	var v *cert.ValidationError
	switch {
	case errors.As(err, &v):
		return c.newForm(q, http.StatusUnprocessableEntity, f, v.Fields, nil)
	case errors.Is(err, cert.ErrAlreadyExists), errors.Is(err, cert.ErrIdempotencyMismatch):
		return c.newForm(q, http.StatusUnprocessableEntity, f, []cert.FieldError{{Field: "number", Message: err.Error()}}, nil)
	case err != nil:
		return err
	}
	c.dash.invalidate(crt.Issuer)
	return seeOther(q.w, q.r, prefix+"/certificates/"+crt.ID)
}
