package cert

import (
	"net/mail"
	"strings"
	"time"
)

// DateLayout is the layout of calendar dates in requests and responses.
const DateLayout = "2006-01-02"

// Organization is the certified subject.
type Organization struct {
	Name    string `json:"name"`
	NameEn  string `json:"nameEn,omitempty"`
	USCC    string `json:"uscc"`
	Address string `json:"address,omitempty"`
	Country string `json:"country,omitempty"`
	// Email is the organization's contact address for notifications (its
	// certificate on issuance, reminders, status changes): one addr-spec,
	// the domain in lower case (NormalizeEmail). It is private: never in
	// the credential, a verdict, a public page, a search result, a PDF or
	// a report (Public leaves it out).
	Email string `json:"email,omitempty"`
}

// MaxEmailLength is the longest organization.email accepted, in bytes.
const MaxEmailLength = 254

// Public returns o without what only the issuer may see (Email), for
// verdicts, public pages and search results.
func (o Organization) Public() Organization {
	o.Email = ""
	return o
}

// NormalizeEmail trims an e-mail address and lower-cases its domain (the
// local part is case-sensitive by RFC 5321 and left as it is).
func NormalizeEmail(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '@'); i >= 0 {
		return s[:i+1] + strings.ToLower(s[i+1:])
	}
	return s
}

// CheckEmail says why s is not an acceptable organization.email: one
// bare addr-spec (no display name, no angle brackets, no list) of at most
// MaxEmailLength bytes, with a domain that has a dot.
func CheckEmail(s string) string {
	const accepted = "must be one e-mail address such as cert@example.cn (at most 254 bytes, no display name)"
	if len(s) > MaxEmailLength {
		return accepted
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return accepted
	}
	at := strings.LastIndexByte(s, '@')
	domain := s[at+1:]
	if at <= 0 || !strings.Contains(domain, ".") || strings.HasPrefix(domain, "[") || strings.HasSuffix(domain, ".") {
		return accepted
	}
	return ""
}

// Validate checks an organization. Field names are relative; callers prefix
// them ("organization.").
func (o *Organization) Validate() *ValidationError {
	var v ValidationError
	// Text that breaks CheckText is refused first, with the character named,
	// and its field is not judged further.
	bad := map[string]bool{}
	for _, f := range []FieldText{{"name", o.Name}, {"nameEn", o.NameEn}, {"uscc", o.USCC}, {"address", o.Address}, {"country", o.Country}, {"email", o.Email}} {
		if err := CheckText(f.Text, SingleLine); err != nil {
			v.Add(f.Field, err.Error())
			bad[f.Field] = true
		}
	}
	switch {
	case bad["name"]:
	case strings.TrimSpace(o.Name) == "":
		v.Add("name", "is required: the legal name as on the business licence")
	case len([]rune(o.Name)) > 200:
		v.Add("name", "must be at most 200 characters")
	}
	if !bad["nameEn"] && len([]rune(o.NameEn)) > 300 {
		v.Add("nameEn", "must be at most 300 characters")
	}
	switch {
	case bad["uscc"] || bad["country"]:
	case o.Country == "" || o.Country == "CN":
		if err := ValidateUSCC(o.USCC); err != nil {
			v.Add("uscc", err.Error())
		}
	case len(o.USCC) > 64:
		v.Add("uscc", "must be at most 64 characters")
	}
	if !bad["address"] && len([]rune(o.Address)) > 500 {
		v.Add("address", "must be at most 500 characters")
	}
	if !bad["email"] && o.Email != "" {
		if msg := CheckEmail(o.Email); msg != "" {
			v.Add("email", msg)
		}
	}
	if !bad["country"] && o.Country != "" && (len(o.Country) != 2 || strings.ToUpper(o.Country) != o.Country) {
		v.Add("country", "must be an ISO 3166-1 alpha-2 code in upper case, e.g. CN")
	}
	return &v
}

// Certificate is one issued certificate (one revision of it). Its status is
// derived by StatusAt from Events and the scheme; it is never stored alone.
type Certificate struct {
	ID             string       `json:"id"`
	Number         string       `json:"number"`
	BaseNumber     string       `json:"baseNumber,omitempty"`
	Revision       int          `json:"revision,omitempty"`
	Issuer         string       `json:"issuer"`
	Scheme         string       `json:"scheme"`
	Standard       string       `json:"standard,omitempty"`
	Category       string       `json:"category,omitempty"`
	Level          int          `json:"level,omitempty"`
	Scope          string       `json:"scope,omitempty"`
	ScopeEn        string       `json:"scopeEn,omitempty"`
	Sites          []Site       `json:"sites,omitempty"`
	AssessmentBody string       `json:"assessmentBody,omitempty"`
	Organization   Organization `json:"organization"`
	// DecisionDate and OriginalDate are calendar dates (DateLayout).
	DecisionDate string `json:"decisionDate,omitempty"`
	OriginalDate string `json:"originalDate,omitempty"`
	// ValidFrom is the start of the issue date in the issuer's time zone;
	// ValidUntil is exclusive.
	ValidFrom  time.Time `json:"validFrom"`
	ValidUntil time.Time `json:"validUntil"`
	TimeZone   string    `json:"timeZone"`
	// Credential is the signed compact JWS, Kid the key that signed it.
	Credential string `json:"credential"`
	Kid        string `json:"kid"`
	// StatusList and StatusIndex locate the certificate in the issuer's
	// revocation and suspension lists (same list number and index in both).
	StatusList  int `json:"statusList"`
	StatusIndex int `json:"statusIndex"`
	// Supersedes and SupersededBy link renewals and revisions.
	Supersedes   string  `json:"supersedes,omitempty"`
	SupersededBy string  `json:"supersededBy,omitempty"`
	Events       []Event `json:"events"`
	// Confidential is set when the client has not agreed to publication:
	// the certificate verifies by its id and QR code but is left out of
	// public search and of registry uploads (IAF CertSearch).
	Confidential bool `json:"confidential,omitempty"`
	// Audit records the audit behind the certification decision
	// (optional); it is never published.
	Audit *Audit `json:"audit,omitempty"`
	// IdempotencyKey and RequestHash make a retried create return the
	// first result; the key is unique per issuer when set, and the hash
	// tells a retry from a different request under the same key.
	IdempotencyKey string    `json:"idempotencyKey,omitempty"`
	RequestHash    string    `json:"requestHash,omitempty"`
	CreatedAt      time.Time `json:"createdAt"`
	// Version increases by one on every stored change.
	Version int64 `json:"version"`
}

// Location returns the certificate's time zone (that of its issuer).
func (c *Certificate) Location() *time.Location {
	if l, err := LoadLocation(c.TimeZone); err == nil {
		return l
	}
	return time.UTC
}

// ValidUntilInclusive is the last valid day, as printed.
func (c *Certificate) ValidUntilInclusive() time.Time {
	return c.ValidUntil.In(c.Location()).AddDate(0, 0, -1)
}

// ValidityPeriod returns the start of day in loc and that start plus months
// with time.AddDate semantics, so 2028-02-29 + 36 months = 2031-03-01.
func ValidityPeriod(day time.Time, loc *time.Location, months int) (from, until time.Time) {
	y, m, d := day.In(loc).Date()
	from = time.Date(y, m, d, 0, 0, 0, 0, loc)
	return from, from.AddDate(0, months, 0)
}

// ParseDate parses a calendar date in loc.
func ParseDate(s string, loc *time.Location) (time.Time, error) {
	return time.ParseInLocation(DateLayout, s, loc)
}

// EventType names what happened to a certificate.
type EventType string

// Event types. Time-derived changes (a missed surveillance window) are
// recorded with the system actor as EventStatusChanged.
const (
	EventIssued             EventType = "issued"
	EventSurveillancePassed EventType = "surveillance_passed"
	EventSurveillanceFailed EventType = "surveillance_failed"
	EventSuspended          EventType = "suspended"
	EventReinstated         EventType = "reinstated"
	EventWithdrawn          EventType = "withdrawn"
	EventCancelled          EventType = "cancelled"
	EventRenewed            EventType = "renewed"
	EventRevised            EventType = "revised"
	// EventStatusChanged records a change that StatusAt derived from time
	// and the scheme (Status and Reason say which). It is a record, not an
	// input: StatusAt ignores it.
	EventStatusChanged EventType = "status_changed"
)

// SystemActor is the actor of time-derived events.
const SystemActor = "system"

// Event is one entry of a certificate's append-only audit trail.
type Event struct {
	Seq  int       `json:"seq"`
	Type EventType `json:"type"`
	// At is when the event takes effect (the audit date for surveillance,
	// the start of the new certificate for a renewal).
	At         time.Time `json:"at"`
	RecordedAt time.Time `json:"recordedAt"`
	Actor      string    `json:"actor"`
	Reason     string    `json:"reason,omitempty"`
	// ReasonCode is the scheme's coded reason (ReasonCodes), when given.
	ReasonCode string `json:"reasonCode,omitempty"`
	// Until ends a suspension automatically (optional).
	Until *time.Time `json:"until,omitempty"`
	// AuditRef identifies a surveillance audit report.
	AuditRef string `json:"auditRef,omitempty"`
	// Audit records a surveillance audit (optional); never published.
	Audit *Audit `json:"audit,omitempty"`
	// Related is the id of the certificate a renewal or revision created
	// (on the old certificate), or the one it replaces (on the new one).
	Related string `json:"related,omitempty"`
	// Status is the derived status an EventStatusChanged records.
	Status Status `json:"status,omitempty"`
}

// Derived reports whether e records a time-derived change.
func (e *Event) Derived() bool { return e.Type == EventStatusChanged }

// Append adds e with the next sequence number.
func (c *Certificate) Append(e Event) {
	e.Seq = len(c.Events) + 1
	c.Events = append(c.Events, e)
}
