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
	// AccreditationBody and AccreditationNumber identify the accreditation
	// under which the issuer certifies (e.g. CNAS, CNAS C123-M).
	AccreditationBody   string `json:"accreditationBody,omitempty"`
	AccreditationNumber string `json:"accreditationNumber,omitempty"`
	Contact             string `json:"contact,omitempty"`
	TimeZone            string `json:"timeZone"`
	NumberPattern       string `json:"numberPattern"`
	NumberPrefix        string `json:"numberPrefix"`
	KeyType             string `json:"keyType"`
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

// Validate checks an issuer after Normalize.
func (is *Issuer) Validate() error {
	var v ValidationError
	if !validSlug(is.ID) {
		v.Add("id", "must be 1-64 characters of a-z, 0-9 and '-', starting with a letter or digit")
	}
	for _, f := range []FieldText{{"name", is.Name}, {"nameZh", is.NameZh}, {"accreditationBody", is.AccreditationBody}, {"accreditationNumber", is.AccreditationNumber}} {
		if err := CheckText(f.Text, SingleLine); err != nil {
			v.Add(f.Field, err.Error())
		}
	}
	if strings.TrimSpace(is.Name) == "" {
		v.Add("name", "is required (the legal name in English)")
	}
	if _, err := LoadLocation(is.TimeZone); err != nil {
		v.Add("timeZone", "must be an IANA time zone such as Asia/Shanghai")
	}
	if err := CheckNumberPattern(is.NumberPattern); err != nil {
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
