package console

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/issuer"
)

// actionForm shows the form of one lifecycle action, with the version it
// is based on, what will change, and a confirmation for irreversible ones.
func (c *Console) actionForm(q *request) error {
	crt, action, err := c.actionTarget(q)
	if err != nil {
		return err
	}
	return c.page(q, http.StatusOK, "action", map[string]any{"C": crt, "St": c.iss.StatusOf(crt), "Action": action,
		"Irreversible": irreversible[action], "Form": map[string]string{}})
}

func (c *Console) actionTarget(q *request) (*cert.Certificate, string, error) {
	action := q.r.PathValue("action")
	if _, ok := actionNames[action]; !ok {
		return nil, "", cert.ErrNotFound
	}
	crt, err := c.iss.Certificate(q.r.Context(), q.principal(), q.r.PathValue("id"))
	if err != nil {
		return nil, "", err
	}
	if !q.principal().CanWrite(crt.Issuer) {
		return nil, "", errors.Join(errors.New("a viewer cannot change certificates"), cert.ErrForbidden)
	}
	return crt, action, nil
}

// actionRequest reads the form fields, named as the REST API's JSON.
func actionRequest(r *http.Request) issuer.ActionRequest {
	f := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	req := issuer.ActionRequest{Reason: f("reason"), Date: f("date"), Result: f("result"), AuditRef: f("auditRef"),
		Until: f("until"), ValidFrom: f("validFrom"), Number: f("number"), DecisionDate: f("decisionDate"),
		Audit: auditFromForm(auditForm(r))}
	opt := func(k string) *string {
		if _, ok := r.PostForm[k]; !ok || f(k) == "" {
			return nil
		}
		v := f(k)
		return &v
	}
	req.Scope, req.ScopeEn, req.Category = opt("scope"), opt("scopeEn"), opt("category")
	if v := f("level"); v != "" {
		if n, err := strconv.Atoi(v); err == nil {
			req.Level = &n
		}
	}
	if name, nameEn, addr, email := opt("organization.name"), opt("organization.nameEn"), opt("organization.address"), opt("organization.email"); name != nil || nameEn != nil || addr != nil || email != nil {
		req.Organization = &issuer.OrganizationChange{Name: name, NameEn: nameEn, Address: addr, Email: email}
	}
	return req
}

// act applies a lifecycle action with If-Match semantics: the form
// carries the version it was shown at, and a certificate changed since
// gives the conflict page instead of overwriting the other clerk's work.
func (c *Console) act(q *request) error {
	crt, action, err := c.actionTarget(q)
	if err != nil {
		return err
	}
	form := map[string]string{}
	for k := range q.r.PostForm {
		form[k] = q.r.PostFormValue(k)
	}
	again := func(status int, errs []cert.FieldError) error {
		return c.page(q, status, "action", map[string]any{"C": crt, "St": c.iss.StatusOf(crt), "Action": action,
			"Irreversible": irreversible[action], "Errors": errs, "Form": form})
	}
	version, _ := strconv.ParseInt(q.r.PostFormValue("version"), 10, 64)
	if version < 1 {
		return again(http.StatusUnprocessableEntity, []cert.FieldError{{Field: "version", Message: "is missing: reload the page"}})
	}
	if irreversible[action] && q.r.PostFormValue("confirm") != "yes" {
		return again(http.StatusUnprocessableEntity, []cert.FieldError{{Field: "confirm", Message: tr(messages, q.lang, "confirm.irreversible")}})
	}
	next, err := c.iss.Act(q.r.Context(), q.principal(), crt.ID, action, actionRequest(q.r), version)
	var v *cert.ValidationError
	switch {
	case errors.Is(err, cert.ErrPrecondition):
		current, gerr := c.iss.Certificate(q.r.Context(), q.principal(), crt.ID)
		if gerr != nil {
			return gerr
		}
		return c.page(q, http.StatusConflict, "conflict", map[string]any{"C": current, "St": c.iss.StatusOf(current), "Action": action, "Version": version})
	case errors.As(err, &v):
		return again(http.StatusUnprocessableEntity, v.Fields)
	case errors.Is(err, cert.ErrTransition), errors.Is(err, cert.ErrInvalid):
		return again(http.StatusUnprocessableEntity, []cert.FieldError{{Field: action, Message: err.Error()}})
	case err != nil:
		return err
	}
	c.dash.invalidate(crt.Issuer)
	return seeOther(q.w, q.r, prefix+"/certificates/"+next.ID)
}
