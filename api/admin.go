package api

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v5"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/issuer"
)

// issuerResource is an issuer as the API shows it (never its status key
// nor its audit trail, which has its own route).
type issuerResource struct {
	ID             string               `json:"id"`
	Name           string               `json:"name"`
	NameZh         string               `json:"nameZh,omitempty"`
	Address        string               `json:"address,omitempty"`
	AddressEn      string               `json:"addressEn,omitempty"`
	Website        string               `json:"website,omitempty"`
	Email          string               `json:"email,omitempty"`
	Phone          string               `json:"phone,omitempty"`
	Accreditation  []cert.Accreditation `json:"accreditation"`
	ApprovalNumber string               `json:"approvalNumber,omitempty"`
	Signatory      *cert.Signatory      `json:"signatory,omitempty"`
	Contact        string               `json:"contact,omitempty"`
	TimeZone       string               `json:"timeZone"`
	NumberPattern  string               `json:"numberPattern"`
	NumberPrefix   string               `json:"numberPrefix"`
	// NumberPatterns is the pattern in effect for every scheme.
	NumberPatterns map[string]string `json:"numberPatterns"`
	KeyType        string            `json:"keyType"`
	Logo           *imageResource    `json:"logo,omitempty"`
	Seal           *imageResource    `json:"seal,omitempty"`
	URL            string            `json:"url"`
	JWKS           string            `json:"jwks"`
	Version        int64             `json:"version"`
	CreatedAt      time.Time         `json:"createdAt"`

	// Reminders are the lead times of reminders in effect.
	Reminders cert.Reminders `json:"reminders"`
}

// imageResource is an issuer's logo or seal.
type imageResource struct {
	URL    string `json:"url"`
	SHA256 string `json:"sha256"`
	Width  int    `json:"width"`
	Height int    `json:"height"`
	Size   int    `json:"size"`
}

func (s *Server) issuerResource(is *cert.Issuer) issuerResource {
	url := cert.IssuerURL(s.cfg.PublicURL, is.ID)
	r := issuerResource{
		ID: is.ID, Name: is.Name, NameZh: is.NameZh, Address: is.Address, AddressEn: is.AddressEn,
		Website: is.Website, Email: is.Email, Phone: is.Phone, Accreditation: is.Accreditation,
		ApprovalNumber: is.ApprovalNumber, Signatory: is.Signatory, Contact: is.Contact,
		TimeZone: is.TimeZone, NumberPattern: is.NumberPattern, NumberPrefix: is.NumberPrefix,
		NumberPatterns: map[string]string{}, KeyType: is.KeyType,
		Reminders: is.RemindersOf(),
		URL:       url, JWKS: url + "/jwks.json", Version: is.Version, CreatedAt: is.CreatedAt.UTC(),
	}
	if r.Accreditation == nil {
		r.Accreditation = []cert.Accreditation{}
	}
	for id, scheme := range s.cfg.Issuing.Schemes() {
		r.NumberPatterns[id] = is.NumberPatternFor(scheme)
	}
	image := func(ref *cert.ImageRef, kind string) *imageResource {
		if ref == nil {
			return nil
		}
		return &imageResource{URL: url + "/" + kind + ".png", SHA256: ref.SHA256, Width: ref.Width, Height: ref.Height, Size: ref.Size}
	}
	r.Logo, r.Seal = image(is.Logo, cert.ImageLogo), image(is.Seal, cert.ImageSeal)
	return r
}

func (s *Server) createIssuer(c *echo.Context) error {
	var req issuer.IssuerRequest
	if err := decodeJSON(c, &req, maxBody); err != nil {
		return err
	}
	is, err := s.cfg.Issuing.CreateIssuer(c.Request().Context(), principal(c), req)
	if err != nil {
		return err
	}
	s.log.Info("issuer created", "request_id", requestID(c), "issuer", is.ID, "actor", principal(c).Actor())
	return c.JSON(http.StatusCreated, s.issuerResource(is))
}

func (s *Server) listIssuers(c *echo.Context) error {
	all, err := s.cfg.Issuing.Issuers(c.Request().Context())
	if err != nil {
		return err
	}
	out := struct {
		Items []issuerResource `json:"items"`
	}{Items: make([]issuerResource, len(all))}
	for i, is := range all {
		out.Items[i] = s.issuerResource(is)
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) createAPIKey(c *echo.Context) error {
	var req issuer.APIKeyRequest
	if err := decodeJSON(c, &req, maxBody); err != nil {
		return err
	}
	k, token, err := s.cfg.Issuing.CreateAPIKey(c.Request().Context(), principal(c), req)
	if err != nil {
		return err
	}
	s.log.Info("API key created", "request_id", requestID(c), "key_id", k.ID, "role", string(k.Role), "issuer", k.Issuer, "actor", principal(c).Actor())
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusCreated, struct {
		ID        string    `json:"id"`
		Issuer    string    `json:"issuer,omitempty"`
		Role      cert.Role `json:"role"`
		Name      string    `json:"name,omitempty"`
		Token     string    `json:"token"`
		CreatedAt time.Time `json:"createdAt"`
	}{k.ID, k.Issuer, k.Role, k.Name, token, k.CreatedAt.UTC()})
}

func (s *Server) revokeAPIKey(c *echo.Context) error {
	if err := s.cfg.Issuing.RevokeAPIKey(c.Request().Context(), principal(c), c.Param("id")); err != nil {
		return err
	}
	s.log.Info("API key revoked", "request_id", requestID(c), "key_id", c.Param("id"), "actor", principal(c).Actor())
	return c.NoContent(http.StatusNoContent)
}

// apiKeyResource is an API key as the API lists it: never its token, never
// the token's hash.
type apiKeyResource struct {
	ID         string     `json:"id"`
	Name       string     `json:"name,omitempty"`
	Role       cert.Role  `json:"role"`
	Issuer     string     `json:"issuer,omitempty"`
	CreatedAt  time.Time  `json:"createdAt"`
	LastUsedAt *time.Time `json:"lastUsedAt"`
	Revoked    bool       `json:"revoked"`
	RevokedAt  *time.Time `json:"revokedAt,omitempty"`
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func (s *Server) listAPIKeys(c *echo.Context) error {
	all, err := s.cfg.Issuing.APIKeys(c.Request().Context(), principal(c))
	if err != nil {
		return err
	}
	out := struct {
		Items []apiKeyResource `json:"items"`
	}{Items: make([]apiKeyResource, len(all))}
	for i, k := range all {
		out.Items[i] = apiKeyResource{
			ID: k.ID, Name: k.Name, Role: k.Role, Issuer: k.Issuer, CreatedAt: k.CreatedAt.UTC(),
			LastUsedAt: utc(k.LastUsedAt), Revoked: k.RevokedAt != nil, RevokedAt: utc(k.RevokedAt),
		}
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, out)
}
