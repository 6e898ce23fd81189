package console

import (
	"errors"
	"net/http"

	"github.com/certd/certd/accounts"
	"github.com/certd/certd/cert"
)

// security is the signed-in user's own page: second factor, password,
// sign-out everywhere.
func (c *Console) security(q *request) error {
	return c.page(q, http.StatusOK, "security", nil)
}

// securityPost handles the forms of the security page by their "do"
// field: totp-begin, totp-confirm, password.
func (c *Console) securityPost(q *request) error {
	ctx := q.r.Context()
	var v *cert.ValidationError
	switch q.r.PostFormValue("do") {
	case "totp-begin":
		en, err := c.acc.BeginTOTP(ctx, q.user)
		if err != nil {
			return err
		}
		return c.page(q, http.StatusOK, "security", map[string]any{"Enrolment": en})
	case "totp-confirm":
		codes, err := c.acc.ConfirmTOTP(ctx, q.user, q.r.PostFormValue("totp"))
		if errors.As(err, &v) {
			return c.page(q, http.StatusUnprocessableEntity, "security", map[string]any{"Errors": v.Fields, "Pending": true})
		}
		if err != nil {
			return err
		}
		shown := make([]string, len(codes))
		for i, code := range codes {
			shown[i] = accounts.FormatRecoveryCode(code)
		}
		return c.page(q, http.StatusOK, "security", map[string]any{"RecoveryCodes": shown})
	case "password":
		err := c.acc.ChangePassword(ctx, q.user, q.r.PostFormValue("currentPassword"), q.r.PostFormValue("password"))
		if errors.As(err, &v) {
			return c.page(q, http.StatusUnprocessableEntity, "security", map[string]any{"Errors": v.Fields})
		}
		if err != nil {
			return err
		}
		c.clearCookie(q.w)
		return seeOther(q.w, q.r, prefix+"/login")
	}
	return cert.Invalid("do", "must be totp-begin, totp-confirm or password")
}
