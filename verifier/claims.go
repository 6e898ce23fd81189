package verifier

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/keys"
)

// ClockSkew is the tolerance on iat, nbf, exp and the validity dates.
const ClockSkew = 2 * time.Minute

// credentialContext is the first @context of every W3C VC 2.0 credential.
const credentialContext = "https://www.w3.org/ns/credentials/v2"

// Claims are the checked claims of a verified certificate credential.
type Claims struct {
	cert.Credential
	// Nbf is the optional nbf claim; certd never writes one, but a token
	// that carries one is not valid before it.
	Nbf *int64
	// Service is the public URL of the certd that issued the credential,
	// IssuerID the issuer's id there, CertificateID the certificate's id
	// (canonical form), all read from iss and jti.
	Service, IssuerID, CertificateID string
}

// claimsPayload is a credential payload as presented: the pointer members
// tell whether a claim is there at all.
type claimsPayload struct {
	cert.Credential
	Exp *int64          `json:"exp"`
	Iat *int64          `json:"iat"`
	Nbf *int64          `json:"nbf"`
	VC  json.RawMessage `json:"vc"`
	VP  json.RawMessage `json:"vp"`
}

// issuerURLShape is the identifier of a certd issuer: {public-url}/issuers/{id}.
var issuerURLShape = regexp.MustCompile(`^(https?://[^/?#]+(?:/[^?#]*)?)/issuers/([a-z0-9][a-z0-9-]{0,63})$`)

// ParseClaims reads and checks the claims of a verified credential payload
// by the rules of DESIGN.md section 5: a JSON object read strictly (every
// member once at any depth, members spelt exactly); no vc or vp claim; exp,
// iat, iss and jti present; iss equal to issuer.id, the identifier of a
// certd issuer; jti equal to id, a verification URL of the same service
// naming a certificate id; the credential types and @context; validFrom
// and validUntil RFC 3339 date-times, exp equal to validUntil. The times
// against now are CheckIssued's and Expired's. It is the one claim check
// of certd and certctl; the error is a reason a person can read.
func ParseClaims(payload []byte) (*Claims, error) {
	var p claimsPayload
	if err := keys.UnmarshalStrict(payload, &p); err != nil {
		return nil, fmt.Errorf("payload: %v", err)
	}
	switch {
	case p.VC != nil:
		return nil, errors.New(`the payload must not carry a "vc" claim`)
	case p.VP != nil:
		return nil, errors.New(`the payload must not carry a "vp" claim`)
	case p.Exp == nil:
		return nil, errors.New(`the payload lacks the required "exp" claim`)
	case p.Iat == nil:
		return nil, errors.New(`the payload lacks the required "iat" claim`)
	case p.Iss == "":
		return nil, errors.New(`the payload lacks the required "iss" claim`)
	case p.Jti == "":
		return nil, errors.New(`the payload lacks the required "jti" claim`)
	}
	c := &Claims{Credential: p.Credential, Nbf: p.Nbf}
	c.Exp, c.Iat = *p.Exp, *p.Iat
	m := issuerURLShape.FindStringSubmatch(c.Iss)
	switch {
	case c.Iss != c.Issuer.ID:
		return nil, fmt.Errorf("iss (%s) must equal issuer.id (%s)", truncate(c.Iss, 100), truncate(c.Issuer.ID, 100))
	case m == nil:
		return nil, fmt.Errorf("iss %q is not the identifier of a certd issuer ({public-url}/issuers/{id})", truncate(c.Iss, 100))
	case c.Jti != c.ID:
		return nil, errors.New("jti must equal id")
	case !slices.Contains(c.Type, "VerifiableCredential") || !slices.Contains(c.Type, cert.CredentialType):
		return nil, fmt.Errorf("type must include VerifiableCredential and %s", cert.CredentialType)
	case len(c.Context) == 0 || c.Context[0] != credentialContext:
		return nil, errors.New("@context must start with " + credentialContext)
	}
	c.Service, c.IssuerID = m[1], m[2]
	id, ok := strings.CutPrefix(c.ID, c.Service+"/v/")
	if !ok {
		return nil, fmt.Errorf("id %q is not a verification URL of the issuer's service %s", truncate(c.ID, 100), c.Service)
	}
	if c.CertificateID, ok = cert.NormalizeID(id); !ok || c.CertificateID != id {
		return nil, fmt.Errorf("id %q does not end with a certificate id", truncate(c.ID, 100))
	}
	until, err := time.Parse(time.RFC3339, c.ValidUntil)
	if err != nil {
		return nil, errors.New("validUntil is not an RFC 3339 date-time")
	}
	if _, err := time.Parse(time.RFC3339, c.ValidFrom); err != nil {
		return nil, errors.New("validFrom is not an RFC 3339 date-time")
	}
	if until.Unix() != c.Exp {
		return nil, errors.New("exp must equal validUntil")
	}
	return c, nil
}

// CheckIssued refuses a credential that is not yet in force at now: iat
// or nbf later than now plus ClockSkew.
func (c *Claims) CheckIssued(now time.Time) error {
	switch {
	case time.Unix(c.Iat, 0).After(now.Add(ClockSkew)):
		return errors.New("iat lies in the future")
	case c.Nbf != nil && time.Unix(*c.Nbf, 0).After(now.Add(ClockSkew)):
		return fmt.Errorf("nbf lies in the future: the credential is not valid before %s", time.Unix(*c.Nbf, 0).UTC().Format(time.RFC3339))
	}
	return nil
}

// Expired tells whether exp has passed at now, less ClockSkew.
func (c *Claims) Expired(now time.Time) bool {
	return !time.Unix(c.Exp, 0).After(now.Add(-ClockSkew))
}
