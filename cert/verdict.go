package cert

import "time"

// Verdict values.
const (
	VerdictValid   = "valid"
	VerdictInvalid = "invalid"
	VerdictUnknown = "unknown"
)

// Check names.
const (
	CheckSignature    = "signature"
	CheckValidity     = "validity"
	CheckRevocation   = "revocation"
	CheckSuspension   = "suspension"
	CheckSurveillance = "surveillance"
)

// Check is one named check of a verification.
type Check struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
}

// VerdictCertificate summarizes the certificate in a verdict.
type VerdictCertificate struct {
	ID             string       `json:"id"`
	Number         string       `json:"number"`
	Scheme         string       `json:"scheme"`
	Standard       string       `json:"standard,omitempty"`
	Category       string       `json:"category,omitempty"`
	Level          int          `json:"level,omitempty"`
	Scope          string       `json:"scope,omitempty"`
	ScopeEn        string       `json:"scopeEn,omitempty"`
	AssessmentBody string       `json:"assessmentBody,omitempty"`
	Organization   Organization `json:"organization"`
	ValidFrom      string       `json:"validFrom"`
	ValidUntil     string       `json:"validUntil"`
	OriginalDate   string       `json:"originalDate,omitempty"`
	Kid            string       `json:"kid,omitempty"`
	SupersededBy   string       `json:"supersededBy,omitempty"`
	Sites          []Site       `json:"sites,omitempty"`
	// Successor is the certificate that replaces this one (renewal or
	// revision), Predecessor the one this replaces.
	Successor   *CertificateLink `json:"successor,omitempty"`
	Predecessor *CertificateLink `json:"predecessor,omitempty"`
}

// NumberMatch is one certificate with a number that several issuers use
// (GET /v/{number}, GET /api/v1/verify/{number}).
type NumberMatch struct {
	Issuer VerdictIssuer `json:"issuer"`
	ID     string        `json:"id"`
	Number string        `json:"number"`
	Status Status        `json:"status"`
}

// CertificateLink names a related certificate with its status now.
type CertificateLink struct {
	ID     string `json:"id"`
	Number string `json:"number"`
	Status Status `json:"status"`
}

// VerdictIssuer names the issuer in a verdict.
type VerdictIssuer struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	NameZh string `json:"nameZh,omitempty"`
	URL    string `json:"url,omitempty"`
	// SignedName and Accreditation are what the credential says of the
	// issuer, as it was at issuance; CurrentName is the issuer's name now
	// when it differs from SignedName (the issuer was renamed since).
	SignedName    string                   `json:"signedName,omitempty"`
	CurrentName   string                   `json:"currentName,omitempty"`
	Accreditation *CredentialAccreditation `json:"accreditation,omitempty"`
}

// Verdict is the answer of a verification (DESIGN.md section 9).
type Verdict struct {
	Verdict      string              `json:"verdict"`
	Status       Status              `json:"status"`
	Reason       string              `json:"reason"`
	Checks       []Check             `json:"checks"`
	Surveillance *Surveillance       `json:"surveillance,omitempty"`
	Certificate  *VerdictCertificate `json:"certificate,omitempty"`
	Issuer       *VerdictIssuer      `json:"issuer,omitempty"`
	History      []Change            `json:"history,omitempty"`
	CheckedAt    time.Time           `json:"checkedAt"`
	// Cause says why an unknown verdict could not be determined (the store
	// or the keys failed), for the log of the request; it may carry
	// internal detail and is never part of the answer.
	Cause error `json:"-"`
	// JSON, when set, keeps the JSON that AppendJSON writes of everything
	// but CheckedAt, made at the first call: whoever sets it promises
	// that every verdict sharing it is the same but for CheckedAt.
	JSON *VerdictJSON `json:"-"`
}
