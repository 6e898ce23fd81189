package cert

import (
	"fmt"
	"strings"
	"sync"
	"time"
)

// Key types an issuer may sign with.
const (
	KeyTypeEd25519 = "Ed25519"
	KeyTypeES256   = "ES256"
)

// DefaultNumberPattern is used when an issuer names none.
const DefaultNumberPattern = "{PREFIX}-{YYYY}-{SEQ:6}"

// Issuer is a certification body.
type Issuer struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	NameZh string `json:"nameZh,omitempty"`
	// Address, AddressEn, Website, Email and Phone are the contact
	// details printed and shown on the verification page.
	Address   string `json:"address,omitempty"`
	AddressEn string `json:"addressEn,omitempty"`
	Website   string `json:"website,omitempty"`
	Email     string `json:"email,omitempty"`
	Phone     string `json:"phone,omitempty"`
	// Accreditation lists the accreditations under which the issuer
	// certifies (e.g. CNAS, CNAS C123-M).
	Accreditation []Accreditation `json:"accreditation,omitempty"`
	// ApprovalNumber is the approval of the regulator (CNCA-R-2002-001).
	ApprovalNumber string     `json:"approvalNumber,omitempty"`
	Signatory      *Signatory `json:"signatory,omitempty"`
	Contact        string     `json:"contact,omitempty"`
	TimeZone       string     `json:"timeZone"`
	// NumberPattern and NumberPrefix are the pattern of every scheme
	// without an entry in NumberPatterns (see NumberPatternFor).
	NumberPattern string `json:"numberPattern"`
	NumberPrefix  string `json:"numberPrefix"`
	// NumberPatterns maps a scheme id to its certificate number pattern.
	NumberPatterns map[string]string `json:"numberPatterns,omitempty"`
	KeyType        string            `json:"keyType"`
	// Reminders holds the lead times of reminders; nil uses
	// DefaultReminders.
	Reminders *Reminders `json:"reminders,omitempty"`
	// Logo and Seal locate the issuer's images (nil when it has none).
	Logo *ImageRef `json:"logo,omitempty"`
	Seal *ImageRef `json:"seal,omitempty"`
	// Events is the append-only audit trail of changes to the issuer.
	Events []IssuerEvent `json:"events,omitempty"`
	// Version increases by one on every stored change (0 for issuers
	// stored before versions existed).
	Version int64 `json:"version"`
	// StatusKey seeds the permutation that spreads status-list indexes; it
	// is random per issuer and never shown.
	StatusKey []byte    `json:"statusKey,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
}

// Normalize fills defaults.
func (is *Issuer) Normalize() {
	if is.TimeZone == "" {
		is.TimeZone = "Asia/Shanghai"
	}
	if is.NumberPattern == "" {
		is.NumberPattern = DefaultNumberPattern
	}
	if is.NumberPrefix == "" {
		is.NumberPrefix = strings.ToUpper(is.ID)
	}
	if is.KeyType == "" {
		is.KeyType = KeyTypeEd25519
	}
}

// Validate checks an issuer after Normalize: its id, key type and
// number pattern, and its profile (Profile.Validate, schemes unchecked).
func (is *Issuer) Validate() error {
	var v ValidationError
	if !validSlug(is.ID) {
		v.Add("id", "must be 1-64 characters of a-z, 0-9 and '-', starting with a letter or digit")
	}
	p := is.Profile()
	v.Fields = append(v.Fields, p.Validate(nil).Fields...)
	if err := CheckNumberPatternOutput(is.NumberPattern, is.NumberPrefix); err != nil {
		v.Add("numberPattern", err.Error())
	}
	if is.KeyType != KeyTypeEd25519 && is.KeyType != KeyTypeES256 {
		v.Add("keyType", `must be "Ed25519" (default) or "ES256"`)
	}
	return v.Err()
}

// Location returns the issuer's time zone.
func (is *Issuer) Location() *time.Location {
	loc, err := LoadLocation(is.TimeZone)
	if err != nil {
		return time.UTC
	}
	return loc
}

var locations sync.Map

// LoadLocation is time.LoadLocation with a cache: certd resolves the same few
// zones on every request.
func LoadLocation(name string) (*time.Location, error) {
	if l, ok := locations.Load(name); ok {
		return l.(*time.Location), nil
	}
	l, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("time zone %q: %w", name, err)
	}
	locations.Store(name, l)
	return l, nil
}

func validSlug(s string) bool {
	if len(s) == 0 || len(s) > 64 || s[0] == '-' {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}
