package cert

import (
	"fmt"
	"slices"
	"time"
)

// Window is one surveillance window, in whole months after the start of
// validity: it opens at ValidFrom+Open months and closes (exclusive) at
// ValidFrom+Close months.
type Window struct {
	Open  int `json:"open"`
	Close int `json:"close"`
}

// LevelRange is the inclusive range of levels a scheme grants.
type LevelRange struct {
	Min int `json:"min"`
	Max int `json:"max"`
}

// Scheme holds the rules of one certification scheme. Rules are data: no
// code path depends on a scheme id.
type Scheme struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	NameZh string `json:"nameZh"`
	// Title and TitleZh head the printed certificate.
	Title   string `json:"title"`
	TitleZh string `json:"titleZh"`
	// ValidityMonths is the validity period; ValidUntil is ValidFrom plus
	// this many months with time.AddDate semantics.
	ValidityMonths int `json:"validityMonths"`
	// Surveillance lists the windows in which an audit must pass.
	Surveillance []Window `json:"surveillance"`
	// MissedWindow is what a window that closes without a passed audit
	// does to an active certificate: StatusSuspended (the default when
	// empty, reason surveillance_overdue), or StatusWithdrawn or
	// StatusCancelled at once.
	MissedWindow Status `json:"missedWindow,omitempty"`
	// MaxSuspensionMonths bounds a suspension; when it is reached without a
	// reinstatement, the certificate takes the status AfterSuspension.
	MaxSuspensionMonths int    `json:"maxSuspensionMonths"`
	AfterSuspension     Status `json:"afterSuspension"`
	// MaxSuspensionCauses lists the causes of suspension the limit counts:
	// the clock runs while the certificate is held by at least one of them.
	// Empty means every suspension, whatever its cause.
	MaxSuspensionCauses []SuspensionCause `json:"maxSuspensionCauses,omitempty"`
	// RenewalWindowMonths is how long before expiry a renewal may start;
	// 0 allows a renewal at any time during validity.
	RenewalWindowMonths int `json:"renewalWindowMonths"`
	// Categories, when not empty, lists the allowed categories.
	Categories []string `json:"categories,omitempty"`
	// CategoriesEn gives the English name of each category, same order.
	CategoriesEn []string `json:"categoriesEn,omitempty"`
	// Levels is nil when the scheme grants no levels.
	Levels *LevelRange `json:"levels,omitempty"`
	// NumberPattern is the scheme's own certificate number pattern
	// (ITSS-{YYYY}-{SEQ:6}), which the bootstrap issuer uses; an issuer
	// picks it up through its numberPatterns.
	NumberPattern string `json:"numberPattern,omitempty"`
	// ReasonCodes, when set, lists the coded reasons of suspensions,
	// withdrawals, cancellations and revisions (see reasons.go).
	ReasonCodes *ReasonCodes `json:"reasonCodes,omitempty"`
}

// SuspensionCause is why a certificate is held suspended. Several causes
// can hold one certificate at once; each is ended its own way.
type SuspensionCause string

// Suspension causes.
const (
	// CauseAction is a suspension by the suspend action; a reinstatement
	// or its end date ends it.
	CauseAction SuspensionCause = "action"
	// CauseSurveillanceFailed is a failed surveillance audit; a passed
	// audit or a reinstatement ends it.
	CauseSurveillanceFailed SuspensionCause = "surveillance_failed"
	// CauseSurveillanceOverdue is a window that closed without a passed
	// audit; only a passed audit ends it.
	CauseSurveillanceOverdue SuspensionCause = "surveillance_overdue"
)

// limits reports whether the suspension limit counts time held by cause.
func (s *Scheme) limits(cause SuspensionCause) bool {
	return len(s.MaxSuspensionCauses) == 0 || slices.Contains(s.MaxSuspensionCauses, cause)
}

// missedWindow is MissedWindow with its default.
func (s *Scheme) missedWindow() Status {
	if s.MissedWindow == "" {
		return StatusSuspended
	}
	return s.MissedWindow
}

// RenewalOpens is when a renewal of c may start: RenewalWindowMonths
// before its expiry (AddDate semantics, in the certificate's time zone), or
// the start of validity when the scheme sets no window. Renewal is possible
// until c.ValidUntil.
func (s *Scheme) RenewalOpens(c *Certificate) time.Time {
	if s.RenewalWindowMonths == 0 {
		return c.ValidFrom
	}
	return c.ValidUntil.In(c.Location()).AddDate(0, -s.RenewalWindowMonths, 0)
}

// Validate checks a scheme definition; field names in errors are the JSON
// names, so a mistake in a schemes file is easy to find.
func (s *Scheme) Validate() error {
	var v ValidationError
	if !validSlug(s.ID) {
		v.Add("id", "must be 1-64 characters of a-z, 0-9 and '-'")
	}
	if s.Name == "" {
		v.Add("name", "is required")
	}
	if s.ValidityMonths < 1 || s.ValidityMonths > 120 {
		v.Add("validityMonths", "must be between 1 and 120")
	}
	prev := -1
	for i, w := range s.Surveillance {
		f := fmt.Sprintf("surveillance[%d]", i)
		if w.Open < 0 || w.Close <= w.Open || w.Close > s.ValidityMonths {
			v.Add(f, "must have 0 <= open < close <= validityMonths")
		}
		if w.Open < prev {
			v.Add(f, "windows must be in order and must not overlap")
		}
		prev = w.Close
	}
	switch s.MissedWindow {
	case "", StatusSuspended, StatusWithdrawn, StatusCancelled:
	default:
		v.Add("missedWindow", `must be "suspended" (the default), "withdrawn" or "cancelled"`)
	}
	if s.MaxSuspensionMonths < 0 {
		v.Add("maxSuspensionMonths", "must not be negative")
	}
	if s.MaxSuspensionMonths > 0 && s.AfterSuspension != StatusWithdrawn && s.AfterSuspension != StatusCancelled {
		v.Add("afterSuspension", `must be "withdrawn" or "cancelled"`)
	}
	if s.MaxSuspensionMonths == 0 && s.AfterSuspension != "" {
		v.Add("afterSuspension", "must be empty when maxSuspensionMonths is 0 (suspensions are not limited)")
	}
	for i, c := range s.MaxSuspensionCauses {
		switch c {
		case CauseAction, CauseSurveillanceFailed, CauseSurveillanceOverdue:
		default:
			v.Add(fmt.Sprintf("maxSuspensionCauses[%d]", i), `must be "action", "surveillance_failed" or "surveillance_overdue"`)
		}
	}
	if s.RenewalWindowMonths < 0 || s.RenewalWindowMonths > s.ValidityMonths {
		v.Add("renewalWindowMonths", "must be between 0 and validityMonths")
	}
	if len(s.CategoriesEn) > 0 && len(s.CategoriesEn) != len(s.Categories) {
		v.Add("categoriesEn", "must have one entry per category")
	}
	if s.Levels != nil && (s.Levels.Min < 1 || s.Levels.Max < s.Levels.Min) {
		v.Add("levels", "must have 1 <= min <= max")
	}
	if s.NumberPattern != "" {
		if err := CheckNumberPatternOutput(s.NumberPattern, "PREFIX"); err != nil {
			v.Add("numberPattern", err.Error())
		}
	}
	if s.ReasonCodes != nil {
		s.ReasonCodes.validate(s, &v)
	}
	return v.Err()
}

// CheckCategory validates a category against the scheme.
func (s *Scheme) CheckCategory(category string) error {
	if len(s.Categories) == 0 || slices.Contains(s.Categories, category) {
		return nil
	}
	return fmt.Errorf("must be one of %q for scheme %s", s.Categories, s.ID)
}

// CategoryEn returns the English name of a category, or "".
func (s *Scheme) CategoryEn(category string) string {
	if i := slices.Index(s.Categories, category); i >= 0 && i < len(s.CategoriesEn) {
		return s.CategoriesEn[i]
	}
	return ""
}

// CheckLevel validates a level against the scheme; 0 means no level.
func (s *Scheme) CheckLevel(level int) error {
	if s.Levels == nil {
		if level != 0 {
			return fmt.Errorf("scheme %s has no levels: omit the field", s.ID)
		}
		return nil
	}
	if level < s.Levels.Min || level > s.Levels.Max {
		return fmt.Errorf("must be an integer from %d to %d for scheme %s", s.Levels.Min, s.Levels.Max, s.ID)
	}
	return nil
}

// BuiltinSchemes returns the schemes certd knows without a schemes file.
func BuiltinSchemes() []Scheme {
	return []Scheme{
		{
			ID: "itss", Name: "ITSS conformity certificate", NameZh: "信息技术服务标准符合性证书",
			Title: "Certificate of Conformity: Information Technology Service Standard", TitleZh: "信息技术服务标准符合性证书",
			ValidityMonths: 36,
			Surveillance:   []Window{{Open: 9, Close: 12}, {Open: 21, Close: 24}},
			MissedWindow:   StatusSuspended,
			// Cancelled after 3 months suspended without a passed audit; a
			// suspension the CB decides is not limited.
			MaxSuspensionMonths: 3, AfterSuspension: StatusCancelled,
			MaxSuspensionCauses: []SuspensionCause{CauseSurveillanceOverdue, CauseSurveillanceFailed},
			RenewalWindowMonths: 6,
			Categories:          []string{"运行维护", "咨询设计", "数据中心", "云计算"},
			CategoriesEn:        []string{"Operation and maintenance", "Consulting and design", "Data centre", "Cloud computing"},
			Levels:              &LevelRange{Min: 1, Max: 4},
			NumberPattern:       "ITSS-{YYYY}-{SEQ:6}",
			ReasonCodes: &ReasonCodes{
				Suspension: cncaSuspension, Withdrawal: cncaWithdrawal, Cancellation: cncaCancellation, Change: changeTypes,
				Overdue: "0111", SurveillanceFailed: "0112", SuspensionLimit: "0201", Superseded: "0120",
			},
		},
		{
			ID: "iso17021", Name: "Management system certificate (ISO/IEC 17021-1)", NameZh: "管理体系认证证书",
			Title: "Management System Certificate", TitleZh: "管理体系认证证书",
			ValidityMonths: 36,
			Surveillance:   []Window{{Open: 0, Close: 12}, {Open: 12, Close: 24}},
			MissedWindow:   StatusSuspended,
			// ISO/IEC 17021-1: any suspension longer than 6 months withdraws.
			MaxSuspensionMonths: 6, AfterSuspension: StatusWithdrawn,
			RenewalWindowMonths: 6,
			NumberPattern:       "QMS-{YYYY}-{SEQ:6}",
			ReasonCodes: &ReasonCodes{
				Suspension: cncaSuspension, Withdrawal: cncaWithdrawal, Cancellation: cncaCancellation, Change: changeTypes,
				Required: []string{CodedSuspend, CodedWithdraw, CodedCancel},
				Overdue:  "0111", SurveillanceFailed: "0112", SuspensionLimit: "0101", Superseded: "0120",
			},
		},
	}
}

// Schemes indexes scheme definitions by id.
type Schemes map[string]*Scheme

// NewSchemes validates defs and indexes them; duplicate ids are an error.
func NewSchemes(defs []Scheme) (Schemes, error) {
	out := make(Schemes, len(defs))
	for i := range defs {
		s := defs[i]
		if err := s.Validate(); err != nil {
			if ve, ok := err.(*ValidationError); ok {
				return nil, ve.Prefix(fmt.Sprintf("schemes[%d].", i))
			}
			return nil, err
		}
		if _, dup := out[s.ID]; dup {
			return nil, Invalid(fmt.Sprintf("schemes[%d].id", i), fmt.Sprintf("duplicate scheme id %q", s.ID))
		}
		out[s.ID] = &s
	}
	return out, nil
}

// IDs returns the scheme ids, sorted.
func (s Schemes) IDs() []string {
	ids := make([]string, 0, len(s))
	for id := range s {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}
