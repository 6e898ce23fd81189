package console

import (
	"errors"
	"net/http"

	"github.com/certd/certd/accounts"
	"github.com/certd/certd/cert"
)

func (c *Console) loginPage(w http.ResponseWriter, r *http.Request) {
	lang := pickLang(r)
	c.render(w, r, http.StatusOK, "login", lang, map[string]any{"Next": safeNext(r.URL.Query().Get("next"))})
}

// login signs in. Every failure re-shows the form with one message that
// does not say whether the email exists.
func (c *Console) login(w http.ResponseWriter, r *http.Request) {
	lang := pickLang(r)
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	email, next := r.PostFormValue("email"), safeNext(r.PostFormValue("next"))
	in, err := c.acc.SignIn(r.Context(), accounts.SignInRequest{
		Email: email, Password: r.PostFormValue("password"), Code: r.PostFormValue("totp"), IP: clientIP(r),
	})
	switch {
	case err == nil:
		c.setCookie(w, in.Cookie)
		http.Redirect(w, r, next, http.StatusSeeOther)
	case errors.Is(err, accounts.ErrCodeRequired):
		c.render(w, r, http.StatusOK, "login", lang, map[string]any{"Next": next, "Email": email, "AskCode": true, "Error": err.Error()})
	case errors.Is(err, accounts.ErrThrottled):
		w.Header().Set("Retry-After", "900")
		c.render(w, r, http.StatusTooManyRequests, "login", lang, map[string]any{"Next": next, "Email": email, "Error": err.Error()})
	case errors.Is(err, accounts.ErrSignIn):
		c.render(w, r, http.StatusUnauthorized, "login", lang, map[string]any{"Next": next, "Email": email, "AskCode": r.PostFormValue("totp") != "", "Error": err.Error()})
	default:
		c.fail(w, r, lang, err)
	}
}

func (c *Console) logout(q *request) error {
	if q.r.PostFormValue("everywhere") != "" {
		if err := c.acc.SignOutEverywhere(q.r.Context(), q.user); err != nil {
			return err
		}
	} else if err := c.acc.SignOut(q.r.Context(), cookieValue(q.r, cookieName)); err != nil {
		return err
	}
	c.clearCookie(q.w)
	return seeOther(q.w, q.r, prefix+"/login")
}

func (c *Console) setupPage(w http.ResponseWriter, r *http.Request) {
	c.render(w, r, http.StatusOK, "setup", pickLang(r), map[string]any{"Token": r.PathValue("token")})
}

// setup redeems a setup or invitation link, then signs the new user in.
func (c *Console) setup(w http.ResponseWriter, r *http.Request) {
	lang := pickLang(r)
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	token := r.PathValue("token")
	email, password := r.PostFormValue("email"), r.PostFormValue("password")
	u, err := c.acc.Redeem(r.Context(), accounts.RedeemRequest{
		Secret: token, Email: email, DisplayName: r.PostFormValue("displayName"), Password: password, IP: clientIP(r),
	})
	var v *cert.ValidationError
	switch {
	case errors.As(err, &v):
		c.render(w, r, http.StatusUnprocessableEntity, "setup", lang, map[string]any{"Token": token, "Email": email, "DisplayName": r.PostFormValue("displayName"), "Errors": v.Fields})
		return
	case errors.Is(err, accounts.ErrLinkInvalid):
		c.errorPage(w, r, lang, http.StatusGone, err.Error())
		return
	case err != nil:
		c.fail(w, r, lang, err)
		return
	}
	in, err := c.acc.SignIn(r.Context(), accounts.SignInRequest{Email: u.Email, Password: password, IP: clientIP(r)})
	if err != nil {
		http.Redirect(w, r, prefix+"/login", http.StatusSeeOther)
		return
	}
	c.setCookie(w, in.Cookie)
	http.Redirect(w, r, prefix+"/", http.StatusSeeOther)
}
