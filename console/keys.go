package console

import (
	"context"
	"errors"
	"net/http"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/issuer"
)

// APIKeys is what the console needs of the API-key use cases.
type APIKeys interface {
	APIKeys(ctx context.Context, p cert.Principal) ([]*cert.APIKey, error)
	CreateAPIKey(ctx context.Context, p cert.Principal, req issuer.APIKeyRequest) (*cert.APIKey, string, error)
	RevokeAPIKey(ctx context.Context, p cert.Principal, id string) error
}

// SigningKeys is what the console needs of the issuer's key ring; the
// console passes only the signed-in administrator's own issuer.
type SigningKeys interface {
	Keys(ctx context.Context, issuer string) ([]cert.KeyInfo, error)
	Rotate(ctx context.Context, issuer, keyType string) (cert.KeyInfo, error)
	Revoke(ctx context.Context, issuer, kid string) error
}

func (c *Console) keysPage(q *request, status int, extra map[string]any) error {
	if q.user.Role != cert.RoleAdmin || c.apiKeys == nil || c.signing == nil {
		return errors.Join(errors.New("only administrators manage keys"), cert.ErrForbidden)
	}
	ctx := q.r.Context()
	apiKeys, err := c.apiKeys.APIKeys(ctx, q.principal())
	if err != nil {
		return err
	}
	ring, err := c.signing.Keys(ctx, q.user.Issuer)
	if err != nil {
		return err
	}
	data := map[string]any{"APIKeys": apiKeys, "Ring": ring}
	for k, v := range extra {
		data[k] = v
	}
	return c.page(q, status, "keys", data)
}

func (c *Console) keys(q *request) error { return c.keysPage(q, http.StatusOK, nil) }

// keysPost handles the key forms by their "do" field: create-api-key
// (the token is shown once), revoke-api-key, rotate, revoke-signing-key.
// Irreversible ones need the confirmation box.
func (c *Console) keysPost(q *request) error {
	if q.user.Role != cert.RoleAdmin || c.apiKeys == nil || c.signing == nil {
		return errors.Join(errors.New("only administrators manage keys"), cert.ErrForbidden)
	}
	ctx, p := q.r.Context(), q.principal()
	do := q.r.PostFormValue("do")
	if do != "create-api-key" && q.r.PostFormValue("confirm") != "yes" {
		return c.keysPage(q, http.StatusUnprocessableEntity, map[string]any{"Errors": []cert.FieldError{{Field: "confirm", Message: tr(messages, q.lang, "confirm.irreversible")}}})
	}
	var err error
	switch do {
	case "create-api-key":
		var token string
		_, token, err = c.apiKeys.CreateAPIKey(ctx, p, issuer.APIKeyRequest{Issuer: q.user.Issuer, Role: cert.Role(q.r.PostFormValue("role")), Name: q.r.PostFormValue("name")})
		if err == nil {
			return c.keysPage(q, http.StatusOK, map[string]any{"Token": token})
		}
	case "revoke-api-key":
		err = c.apiKeys.RevokeAPIKey(ctx, p, q.r.PostFormValue("id"))
	case "rotate":
		_, err = c.signing.Rotate(ctx, q.user.Issuer, q.r.PostFormValue("keyType"))
	case "revoke-signing-key":
		err = c.signing.Revoke(ctx, q.user.Issuer, q.r.PostFormValue("kid"))
	default:
		err = cert.Invalid("do", "must be create-api-key, revoke-api-key, rotate or revoke-signing-key")
	}
	var v *cert.ValidationError
	switch {
	case errors.As(err, &v):
		return c.keysPage(q, http.StatusUnprocessableEntity, map[string]any{"Errors": v.Fields})
	case err != nil && !errors.Is(err, cert.ErrUnavailable) && !errors.Is(err, cert.ErrNotFound):
		return c.keysPage(q, http.StatusConflict, map[string]any{"Errors": []cert.FieldError{{Field: do, Message: err.Error()}}})
	case err != nil:
		return err
	}
	return seeOther(q.w, q.r, prefix+"/settings/keys")
}
