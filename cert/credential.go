package cert

import (
	"strconv"
	"time"
)

// CredentialType is the VC type of a certificate credential.
const CredentialType = "ConformityCertificate"

// Credential is the payload of a certificate's vc+jwt (DESIGN.md section 5):
// a W3C Verifiable Credential 2.0 with the JWT claims iss, jti, iat and exp.
type Credential struct {
	Context           []string          `json:"@context"`
	ID                string            `json:"id"`
	Type              []string          `json:"type"`
	Issuer            CredentialIssuer  `json:"issuer"`
	ValidFrom         string            `json:"validFrom"`
	ValidUntil        string            `json:"validUntil"`
	CredentialSubject CredentialSubject `json:"credentialSubject"`
	CredentialStatus  []StatusEntry     `json:"credentialStatus"`
	Iss               string            `json:"iss"`
	Jti               string            `json:"jti"`
	Iat               int64             `json:"iat"`
	Exp               int64             `json:"exp"`
}

// CredentialIssuer names the issuer inside a credential.
type CredentialIssuer struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Accreditation is the issuer's accreditation and approval as they
	// were when it signed; absent when the issuer had none.
	Accreditation *CredentialAccreditation `json:"accreditation,omitempty"`
}

// CredentialAccreditation is what a credential says of its issuer's
// standing: the accreditations (body and number) and the regulator's
// approval number.
type CredentialAccreditation struct {
	Accreditations []Accreditation `json:"accreditations,omitempty"`
	ApprovalNumber string          `json:"approvalNumber,omitempty"`
}

// CredentialSubject is the certified organization and what it holds.
type CredentialSubject struct {
	Type        string                `json:"type"`
	Name        string                `json:"name"`
	NameEn      string                `json:"nameEn,omitempty"`
	USCC        string                `json:"uscc"`
	Address     string                `json:"address,omitempty"`
	Sites       []Site                `json:"sites,omitempty"`
	Certificate CredentialCertificate `json:"certificate"`
}

// CredentialCertificate is what the subject holds.
type CredentialCertificate struct {
	Number         string `json:"number"`
	Scheme         string `json:"scheme"`
	Standard       string `json:"standard,omitempty"`
	Category       string `json:"category,omitempty"`
	Level          int    `json:"level,omitempty"`
	Scope          string `json:"scope,omitempty"`
	AssessmentBody string `json:"assessmentBody,omitempty"`
}

// StatusEntry is a BitstringStatusListEntry.
type StatusEntry struct {
	Type                 string `json:"type"`
	StatusPurpose        string `json:"statusPurpose"`
	StatusListIndex      string `json:"statusListIndex"`
	StatusListCredential string `json:"statusListCredential"`
}

// Status purposes.
const (
	PurposeRevocation = "revocation"
	PurposeSuspension = "suspension"
)

// IssuerURL is the identifier of an issuer in credentials.
func IssuerURL(publicURL, issuer string) string { return publicURL + "/issuers/" + issuer }

// VerifyURL is the public verification URL of a certificate.
func VerifyURL(publicURL, id string) string { return publicURL + "/v/" + id }

// StatusListURL is the URL of one status list.
func StatusListURL(publicURL, issuer, purpose string, list int) string {
	return publicURL + "/status/" + issuer + "/" + purpose + "/" + strconv.Itoa(list)
}

// NewCredential builds the credential payload of c, issued by is, at iat.
func NewCredential(c *Certificate, is *Issuer, publicURL string, iat time.Time) Credential {
	issuerURL := IssuerURL(publicURL, is.ID)
	id := VerifyURL(publicURL, c.ID)
	idx := strconv.Itoa(c.StatusIndex)
	name := is.DisplayName()
	var acc *CredentialAccreditation
	if len(is.Accreditation) > 0 || is.ApprovalNumber != "" {
		acc = &CredentialAccreditation{Accreditations: is.Accreditation, ApprovalNumber: is.ApprovalNumber}
	}
	return Credential{
		Context:    []string{"https://www.w3.org/ns/credentials/v2"},
		ID:         id,
		Type:       []string{"VerifiableCredential", CredentialType},
		Issuer:     CredentialIssuer{ID: issuerURL, Name: name, Accreditation: acc},
		ValidFrom:  c.ValidFrom.Format(time.RFC3339),
		ValidUntil: c.ValidUntil.Format(time.RFC3339),
		CredentialSubject: CredentialSubject{
			Type: "Organization", Name: c.Organization.Name, NameEn: c.Organization.NameEn,
			USCC: c.Organization.USCC, Address: c.Organization.Address, Sites: c.Sites,
			Certificate: CredentialCertificate{
				Number: c.Number, Scheme: c.Scheme, Standard: c.Standard, Category: c.Category,
				Level: c.Level, Scope: c.Scope, AssessmentBody: c.AssessmentBody,
			},
		},
		CredentialStatus: []StatusEntry{
			{Type: "BitstringStatusListEntry", StatusPurpose: PurposeRevocation, StatusListIndex: idx,
				StatusListCredential: StatusListURL(publicURL, is.ID, PurposeRevocation, c.StatusList)},
			{Type: "BitstringStatusListEntry", StatusPurpose: PurposeSuspension, StatusListIndex: idx,
				StatusListCredential: StatusListURL(publicURL, is.ID, PurposeSuspension, c.StatusList)},
		},
		Iss: issuerURL,
		Jti: id,
		Iat: iat.Unix(),
		Exp: c.ValidUntil.Unix(),
	}
}

// StatusListSize is the number of entries of one status list (2^17, the
// minimum the Bitstring Status List specification recommends).
const StatusListSize = 1 << 17

// DisplayName is the name of the issuer that credentials carry: the
// Chinese name when it has one, else the English name.
func (is *Issuer) DisplayName() string {
	if is.NameZh != "" {
		return is.NameZh
	}
	return is.Name
}
