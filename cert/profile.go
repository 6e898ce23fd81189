package cert

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
)

// Accreditation is one accreditation of an issuer: the accreditation body
// and the number it gave (CNAS, CNAS C123-M).
type Accreditation struct {
	Body   string `json:"body"`
	Number string `json:"number"`
}

// Signatory is the person who signs the printed certificates.
type Signatory struct {
	Name  string `json:"name"`
	Title string `json:"title,omitempty"`
}

// Image kinds of an issuer.
const (
	ImageLogo = "logo"
	ImageSeal = "seal"
)

// ImageRef names a stored image of an issuer by the SHA-256 of its PNG
// bytes (lower-case hex), so a replaced image never changes under a reader.
type ImageRef struct {
	SHA256 string `json:"sha256"`
	Width  int    `json:"width"`
	Height int    `json:"height"`
	Size   int    `json:"size"`
}

// Image is a stored image: PNG bytes, addressed by issuer and SHA-256.
type Image struct {
	Issuer string
	SHA256 string
	PNG    []byte
}

// IssuerEventType names a change to an issuer.
type IssuerEventType string

// Issuer event types.
const (
	IssuerCreated        IssuerEventType = "created"
	IssuerProfileUpdated IssuerEventType = "profile_updated"
	IssuerImagePut       IssuerEventType = "image_put"
	IssuerImageDeleted   IssuerEventType = "image_deleted"
	// IssuerWebhookDisabled: certd turned one of the issuer's webhooks
	// off (the receiver answered 410 Gone, or failed for 3 days).
	IssuerWebhookDisabled IssuerEventType = "webhook_disabled"
)

// IssuerEvent is one entry of an issuer's audit trail: who changed what
// when. Fields lists the JSON names of the changed fields ("logo" or
// "seal" for images).
type IssuerEvent struct {
	Seq    int             `json:"seq"`
	Type   IssuerEventType `json:"type"`
	At     time.Time       `json:"at"`
	Actor  string          `json:"actor"`
	Fields []string        `json:"fields,omitempty"`
	// Detail says more in a sentence (which webhook, and why).
	Detail string `json:"detail,omitempty"`
}

// AppendEvent adds e to the issuer's trail with the next sequence number.
func (is *Issuer) AppendEvent(e IssuerEvent) {
	e.Seq = len(is.Events) + 1
	is.Events = append(is.Events, e)
}

// UnmarshalJSON reads an issuer, moving the single accreditation of
// records written before Accreditation was a list into the list.
func (is *Issuer) UnmarshalJSON(b []byte) error {
	type plain Issuer
	var v struct {
		plain
		AccreditationBody   string `json:"accreditationBody"`
		AccreditationNumber string `json:"accreditationNumber"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*is = Issuer(v.plain)
	is.MigrateAccreditation(v.AccreditationBody, v.AccreditationNumber)
	return nil
}

// MigrateAccreditation adds the accreditation of an old record (one body
// and number) when the issuer has no accreditation list yet.
func (is *Issuer) MigrateAccreditation(body, number string) {
	if len(is.Accreditation) == 0 && (body != "" || number != "") {
		is.Accreditation = []Accreditation{{Body: body, Number: number}}
	}
}

// Profile is the part of an issuer that its administrators edit (PATCH
// /api/v1/issuers/{id}); JSON names are those of the API.
type Profile struct {
	Name           string            `json:"name"`
	NameZh         string            `json:"nameZh,omitempty"`
	Address        string            `json:"address,omitempty"`
	AddressEn      string            `json:"addressEn,omitempty"`
	Website        string            `json:"website,omitempty"`
	Email          string            `json:"email,omitempty"`
	Phone          string            `json:"phone,omitempty"`
	Accreditation  []Accreditation   `json:"accreditation,omitempty"`
	ApprovalNumber string            `json:"approvalNumber,omitempty"`
	Signatory      *Signatory        `json:"signatory,omitempty"`
	TimeZone       string            `json:"timeZone"`
	NumberPatterns map[string]string `json:"numberPatterns,omitempty"`
	// Reminders are the lead times in effect (the defaults when the
	// issuer sets none); null in a patch restores the defaults.
	Reminders *Reminders `json:"reminders,omitempty"`
}

// Texts lists the profile's printed texts by field, for the check that
// the PDF can print them.
func (p Profile) Texts() []FieldText {
	out := []FieldText{{"name", p.Name}, {"nameZh", p.NameZh}, {"address", p.Address}, {"addressEn", p.AddressEn}, {"approvalNumber", p.ApprovalNumber}}
	for i, a := range p.Accreditation {
		out = append(out, FieldText{fmt.Sprintf("accreditation[%d].body", i), a.Body}, FieldText{fmt.Sprintf("accreditation[%d].number", i), a.Number})
	}
	if p.Signatory != nil {
		out = append(out, FieldText{"signatory.name", p.Signatory.Name}, FieldText{"signatory.title", p.Signatory.Title})
	}
	return out
}

// Profile returns a copy of the editable part of the issuer.
func (is *Issuer) Profile() Profile {
	p := Profile{
		Name: is.Name, NameZh: is.NameZh, Address: is.Address, AddressEn: is.AddressEn,
		Website: is.Website, Email: is.Email, Phone: is.Phone,
		Accreditation: slices.Clone(is.Accreditation), ApprovalNumber: is.ApprovalNumber,
		TimeZone: is.TimeZone,
	}
	r := is.RemindersOf()
	p.Reminders = &r
	if is.Signatory != nil {
		s := *is.Signatory
		p.Signatory = &s
	}
	if len(is.NumberPatterns) > 0 {
		p.NumberPatterns = make(map[string]string, len(is.NumberPatterns))
		for k, v := range is.NumberPatterns {
			p.NumberPatterns[k] = v
		}
	}
	return p
}

// SetProfile replaces the editable part of the issuer with p.
func (is *Issuer) SetProfile(p Profile) {
	is.Name, is.NameZh, is.Address, is.AddressEn = p.Name, p.NameZh, p.Address, p.AddressEn
	is.Website, is.Email, is.Phone = p.Website, p.Email, p.Phone
	is.Accreditation, is.ApprovalNumber, is.Signatory = p.Accreditation, p.ApprovalNumber, p.Signatory
	is.TimeZone, is.NumberPatterns = p.TimeZone, p.NumberPatterns
	// Lead times equal to the defaults are stored as none, so the issuer
	// follows the defaults.
	is.Reminders = nil
	if p.Reminders != nil && !p.Reminders.Equal(DefaultReminders()) {
		r := p.Reminders.Clone()
		is.Reminders = &r
	}
}

// ChangedFields lists the JSON names of the fields that differ between a
// and b, sorted.
func ChangedFields(a, b Profile) []string {
	ma, mb := profileMap(a), profileMap(b)
	var out []string
	for k := range mergeKeys(ma, mb) {
		if !bytes.Equal(ma[k], mb[k]) {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

func profileMap(p Profile) map[string]json.RawMessage {
	b, _ := json.Marshal(p)
	var m map[string]json.RawMessage
	_ = json.Unmarshal(b, &m)
	return m
}

func mergeKeys(a, b map[string]json.RawMessage) map[string]bool {
	out := map[string]bool{}
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}

// MergePatch applies an RFC 7396 JSON merge patch to a profile. Unknown
// members are refused with a field error; null removes a member (the
// field takes its empty value, or its default for timeZone).
func (p Profile) MergePatch(patch []byte) (Profile, error) {
	var pm any
	if err := json.Unmarshal(patch, &pm); err != nil {
		return p, Invalid("body", "must be a JSON object (a JSON merge patch, RFC 7396)")
	}
	if _, ok := pm.(map[string]any); !ok {
		return p, Invalid("body", "must be a JSON object (a JSON merge patch, RFC 7396)")
	}
	var cur any
	b, _ := json.Marshal(p)
	_ = json.Unmarshal(b, &cur)
	merged, _ := json.Marshal(mergePatch(cur, pm))
	dec := json.NewDecoder(bytes.NewReader(merged))
	dec.DisallowUnknownFields()
	var out Profile
	if err := dec.Decode(&out); err != nil {
		return p, patchError(err)
	}
	if out.TimeZone == "" {
		out.TimeZone = "Asia/Shanghai"
	}
	return out, nil
}

// mergePatch is RFC 7396 section 2.
func mergePatch(target, patch any) any {
	pm, ok := patch.(map[string]any)
	if !ok {
		return patch
	}
	tm, ok := target.(map[string]any)
	if !ok {
		tm = map[string]any{}
	}
	for k, v := range pm {
		if v == nil {
			delete(tm, k)
			continue
		}
		tm[k] = mergePatch(tm[k], v)
	}
	return tm
}

func patchError(err error) error {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		name = strings.Trim(name, `"`)
		return Invalid(name, "cannot be changed here: the profile fields are name, nameZh, address, addressEn, website, email, phone, accreditation, approvalNumber, signatory, timeZone, numberPatterns and reminders (with the members surveillanceOpen, surveillanceCloseDays and expiryDays)")
	}
	if te := (*json.UnmarshalTypeError)(nil); errors.As(err, &te) && te.Field != "" {
		return Invalid(te.Field, "has the wrong JSON type ("+te.Value+")")
	}
	return Invalid("body", "does not fit the issuer profile: "+msg)
}

// Validate checks a profile. schemes, when not nil, are the schemes that
// numberPatterns may name.
func (p *Profile) Validate(schemes Schemes) *ValidationError {
	var v ValidationError
	text := func(field, s string, max int, required bool) {
		switch {
		case required && strings.TrimSpace(s) == "":
			v.Add(field, "is required")
		case !utf8.ValidString(s):
			v.Add(field, "must be valid UTF-8")
		case utf8.RuneCountInString(s) > max:
			v.Add(field, fmt.Sprintf("must be at most %d characters", max))
		case CheckText(s, SingleLine) != nil:
			v.Add(field, CheckText(s, SingleLine).Error())
		case s != strings.TrimSpace(s):
			v.Add(field, "must not start or end with white space")
		}
	}
	text("name", p.Name, 200, true)
	text("nameZh", p.NameZh, 200, false)
	text("address", p.Address, 500, false)
	text("addressEn", p.AddressEn, 500, false)
	text("website", p.Website, 500, false)
	if p.Website != "" {
		if u, err := url.Parse(p.Website); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
			v.Add("website", "must be an absolute http or https URL, e.g. https://www.example.cn")
		}
	}
	text("email", p.Email, 254, false)
	if p.Email != "" {
		if a, err := mail.ParseAddress(p.Email); err != nil || a.Address != p.Email {
			v.Add("email", "must be a bare e-mail address, e.g. cert@example.cn")
		}
	}
	text("phone", p.Phone, 40, false)
	if strings.Trim(p.Phone, "0123456789+-() ext.") != "" {
		v.Add("phone", "must hold digits, spaces and + - ( ) only, e.g. +86 10 1234 5678")
	}
	if len(p.Accreditation) > 10 {
		v.Add("accreditation", "must list at most 10 accreditations")
	}
	for i, a := range p.Accreditation {
		text(fmt.Sprintf("accreditation[%d].body", i), a.Body, 100, true)
		text(fmt.Sprintf("accreditation[%d].number", i), a.Number, 100, true)
	}
	text("approvalNumber", p.ApprovalNumber, 100, false)
	if p.Signatory != nil {
		text("signatory.name", p.Signatory.Name, 100, true)
		text("signatory.title", p.Signatory.Title, 100, false)
	}
	if _, err := LoadLocation(p.TimeZone); err != nil || p.TimeZone == "" {
		v.Add("timeZone", "must be an IANA time zone such as Asia/Shanghai")
	}
	if p.Reminders != nil {
		p.Reminders.validate("reminders.", &v)
	}
	keys := make([]string, 0, len(p.NumberPatterns))
	for k := range p.NumberPatterns {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		field := "numberPatterns." + k
		if schemes != nil && schemes[k] == nil {
			v.Add(field, fmt.Sprintf("unknown scheme %q: must be one of %q", k, schemes.IDs()))
			continue
		}
		if err := CheckNumberPatternOutput(p.NumberPatterns[k], "PREFIX"); err != nil {
			v.Add(field, err.Error())
		}
	}
	return &v
}

// String is the accreditation as printed: "CNAS C123-M" (the body is not
// repeated when the number starts with it).
func (a Accreditation) String() string {
	if strings.HasPrefix(a.Number, a.Body) {
		return a.Number
	}
	return strings.TrimSpace(a.Body + " " + a.Number)
}

// AccreditationText joins accreditations as printed, separated by "; ".
func AccreditationText(list []Accreditation) string {
	parts := make([]string, 0, len(list))
	for _, a := range list {
		if s := a.String(); s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, "; ")
}
