package console

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/certd/certd/accounts"
	"github.com/certd/certd/cert"
)

func (c *Console) usersPage(q *request, status int, extra map[string]any) error {
	p := q.principal()
	users, err := c.acc.Users(q.r.Context(), p, q.user.Issuer)
	if err != nil {
		return err
	}
	events, err := c.acc.Events(q.r.Context(), p, q.user.Issuer, 50)
	if err != nil {
		return err
	}
	data := map[string]any{"Users": users, "Events": events, "Roles": []string{"admin", "issuer", "viewer"}}
	for k, v := range extra {
		data[k] = v
	}
	return c.page(q, status, "users", data)
}

func (c *Console) users(q *request) error {
	if q.user.Role != cert.RoleAdmin {
		return errors.Join(errors.New("only administrators manage users"), cert.ErrForbidden)
	}
	return c.usersPage(q, http.StatusOK, nil)
}

// invite makes a one-time link for a colleague and shows it once.
func (c *Console) invite(q *request) error {
	link, err := c.acc.Invite(q.r.Context(), q.principal(), accounts.InviteRequest{
		Issuer: q.user.Issuer, Email: q.r.PostFormValue("email"), Role: cert.Role(q.r.PostFormValue("role")),
	})
	var v *cert.ValidationError
	switch {
	case errors.As(err, &v):
		return c.usersPage(q, http.StatusUnprocessableEntity, map[string]any{"Errors": v.Fields})
	case errors.Is(err, cert.ErrAlreadyExists):
		return c.usersPage(q, http.StatusUnprocessableEntity, map[string]any{"Errors": []cert.FieldError{{Field: "email", Message: err.Error()}}})
	case err != nil:
		return err
	}
	return c.usersPage(q, http.StatusOK, map[string]any{"InviteURL": c.cfg.PublicURL + prefix + "/setup/" + link.Secret, "InviteExpires": link.ExpiresAt})
}

// changeUser changes a colleague's role or disables it; the form carries
// the user's version, so two admins cannot overwrite each other.
func (c *Console) changeUser(q *request) error {
	ch := accounts.UserChange{}
	ch.Version, _ = strconv.ParseInt(q.r.PostFormValue("version"), 10, 64)
	if r := q.r.PostFormValue("role"); r != "" {
		role := cert.Role(r)
		ch.Role = &role
	}
	if d := q.r.PostFormValue("disabled"); d != "" {
		b := d == "true"
		ch.Disabled = &b
	}
	_, err := c.acc.ChangeUser(q.r.Context(), q.principal(), q.r.PathValue("id"), ch)
	var v *cert.ValidationError
	switch {
	case errors.As(err, &v):
		return c.usersPage(q, http.StatusUnprocessableEntity, map[string]any{"Errors": v.Fields})
	case errors.Is(err, cert.ErrPrecondition):
		return c.usersPage(q, http.StatusConflict, map[string]any{"Errors": []cert.FieldError{{Field: "version", Message: err.Error()}}})
	case err != nil:
		return err
	}
	return seeOther(q.w, q.r, prefix+"/settings/users")
}
