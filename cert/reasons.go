package cert

import (
	"fmt"
	"slices"
	"strings"
)

// ReasonCode is one coded reason of a scheme, as regulators ask for them
// (CNCA: suspension reasons 0111-0199, withdrawal reasons 0101-0199), with
// its label in Chinese and English.
type ReasonCode struct {
	Code    string `json:"code"`
	Label   string `json:"label"`
	LabelEn string `json:"labelEn"`
}

// Lifecycle actions that take a coded reason. They are the names of the
// issuer's actions; cert names them only to say which list serves which.
const (
	CodedSuspend  = "suspend"
	CodedWithdraw = "withdraw"
	CodedCancel   = "cancel"
	CodedRevise   = "revise"
)

// ReasonCodes is the coded reasons of a scheme: one list per kind of
// change, which actions must give a code, and the codes that changes
// certd makes by itself carry.
type ReasonCodes struct {
	Suspension   []ReasonCode `json:"suspension,omitempty"`
	Withdrawal   []ReasonCode `json:"withdrawal,omitempty"`
	Cancellation []ReasonCode `json:"cancellation,omitempty"`
	// Change lists the types of change a revision records.
	Change []ReasonCode `json:"change,omitempty"`
	// Required lists the actions (suspend, withdraw, cancel, revise) that
	// must give a reasonCode.
	Required []string `json:"required,omitempty"`
	// Overdue is the code of the change a surveillance window that closed
	// without a passed audit makes (from the suspension list, or from the
	// withdrawal or cancellation list when missedWindow says so).
	Overdue string `json:"overdue,omitempty"`
	// SurveillanceFailed is the suspension code of a failed audit.
	SurveillanceFailed string `json:"surveillanceFailed,omitempty"`
	// SuspensionLimit is the code of the withdrawal or cancellation that
	// ends a suspension held longer than maxSuspensionMonths.
	SuspensionLimit string `json:"suspensionLimit,omitempty"`
	// Superseded is the withdrawal code of a certificate replaced by its
	// renewal (CNCA 0120, 因换发新证而撤销旧证书).
	Superseded string `json:"superseded,omitempty"`
}

// list returns the codes an action chooses from.
func (r *ReasonCodes) list(action string) []ReasonCode {
	switch action {
	case CodedSuspend:
		return r.Suspension
	case CodedWithdraw:
		return r.Withdrawal
	case CodedCancel:
		return r.Cancellation
	case CodedRevise:
		return r.Change
	}
	return nil
}

// listFor returns the list that codes a change to status.
func (r *ReasonCodes) listFor(status Status) []ReasonCode {
	switch status {
	case StatusSuspended:
		return r.Suspension
	case StatusWithdrawn:
		return r.Withdrawal
	case StatusCancelled:
		return r.Cancellation
	}
	return nil
}

func validCode(code string) bool {
	if code == "" || len(code) > 16 {
		return false
	}
	for _, r := range code {
		if (r < '0' || r > '9') && (r < 'A' || r > 'Z') {
			return false
		}
	}
	return true
}

// validate checks the codes; field names are JSON names under
// "reasonCodes.".
func (r *ReasonCodes) validate(s *Scheme, v *ValidationError) {
	for _, l := range []struct {
		name  string
		codes []ReasonCode
	}{{"suspension", r.Suspension}, {"withdrawal", r.Withdrawal}, {"cancellation", r.Cancellation}, {"change", r.Change}} {
		seen := map[string]bool{}
		for i, c := range l.codes {
			f := fmt.Sprintf("reasonCodes.%s[%d]", l.name, i)
			if !validCode(c.Code) {
				v.Add(f+".code", "must be 1-16 characters of 0-9 and A-Z, e.g. 0111")
			} else if seen[c.Code] {
				v.Add(f+".code", fmt.Sprintf("duplicate code %q", c.Code))
			}
			seen[c.Code] = true
			if strings.TrimSpace(c.Label) == "" || strings.TrimSpace(c.LabelEn) == "" {
				v.Add(f, "must have a label (zh) and a labelEn")
			}
		}
	}
	for i, a := range r.Required {
		switch a {
		case CodedSuspend, CodedWithdraw, CodedCancel, CodedRevise:
			if len(r.list(a)) == 0 {
				v.Add(fmt.Sprintf("reasonCodes.required[%d]", i), fmt.Sprintf("%s requires a code but its list is empty", a))
			}
		default:
			v.Add(fmt.Sprintf("reasonCodes.required[%d]", i), `must be "suspend", "withdraw", "cancel" or "revise"`)
		}
	}
	auto := func(field, code string, list []ReasonCode, listName string) {
		if code != "" && !slices.ContainsFunc(list, func(c ReasonCode) bool { return c.Code == code }) {
			v.Add("reasonCodes."+field, fmt.Sprintf("must be a code of reasonCodes.%s", listName))
		}
	}
	overdue := s.missedWindow()
	auto("overdue", r.Overdue, r.listFor(overdue), map[Status]string{StatusSuspended: "suspension", StatusWithdrawn: "withdrawal", StatusCancelled: "cancellation"}[overdue])
	auto("surveillanceFailed", r.SurveillanceFailed, r.Suspension, "suspension")
	if r.SuspensionLimit != "" {
		if s.AfterSuspension == StatusCancelled {
			auto("suspensionLimit", r.SuspensionLimit, r.Cancellation, "cancellation")
		} else {
			auto("suspensionLimit", r.SuspensionLimit, r.Withdrawal, "withdrawal")
		}
	}
	auto("superseded", r.Superseded, r.Withdrawal, "withdrawal")
}

// CheckReasonCode validates the reasonCode of an action (suspend, withdraw,
// cancel, revise) against the scheme: a code must be in the action's list,
// and an action the scheme names in required must give one. Other actions
// take no code. The error names the field and lists the allowed codes.
func (s *Scheme) CheckReasonCode(action, code string) error {
	var list []ReasonCode
	required := false
	if r := s.ReasonCodes; r != nil {
		list = r.list(action)
		required = slices.Contains(r.Required, action)
	}
	if code == "" {
		if required {
			return Invalid("reasonCode", fmt.Sprintf("is required for %s under scheme %s: one of %s", action, s.ID, describeCodes(list)))
		}
		return nil
	}
	if len(list) == 0 {
		return Invalid("reasonCode", fmt.Sprintf("scheme %s has no reason codes for %s: omit the field", s.ID, action))
	}
	if !slices.ContainsFunc(list, func(c ReasonCode) bool { return c.Code == code }) {
		return Invalid("reasonCode", fmt.Sprintf("must be one of %s for %s under scheme %s", describeCodes(list), action, s.ID))
	}
	return nil
}

func describeCodes(list []ReasonCode) string {
	parts := make([]string, len(list))
	for i, c := range list {
		parts[i] = c.Code + " (" + c.LabelEn + ")"
	}
	return strings.Join(parts, ", ")
}

// Reason returns the coded reason code of a change to status, with its
// labels; a code the scheme no longer defines comes back without labels,
// so that old records keep their code. It returns nil for "".
func (s *Scheme) Reason(status Status, code string) *ReasonCode {
	if code == "" {
		return nil
	}
	if s != nil && s.ReasonCodes != nil {
		lists := [][]ReasonCode{s.ReasonCodes.listFor(status)}
		lists = append(lists, s.ReasonCodes.Suspension, s.ReasonCodes.Withdrawal, s.ReasonCodes.Cancellation, s.ReasonCodes.Change)
		for _, l := range lists {
			if i := slices.IndexFunc(l, func(c ReasonCode) bool { return c.Code == code }); i >= 0 {
				return &l[i] // shared with the scheme: read only
			}
		}
	}
	return &ReasonCode{Code: code}
}

// noCodes stands for the codes of a scheme that defines none.
var noCodes ReasonCodes

// codes returns the scheme's ReasonCodes, empty when it has none.
func (s *Scheme) codes() *ReasonCodes {
	if s == nil || s.ReasonCodes == nil {
		return &noCodes
	}
	return s.ReasonCodes
}

// cncaSuspension, cncaWithdrawal and the cancellation list are the coded
// reasons of the built-in schemes. 0120 is CNCA's withdrawal for a
// certificate replaced by a new one; the other labels follow the causes
// certd records and are meant to be checked against the CNCA code table in
// force (a schemes file replaces them without a rebuild).
var (
	cncaSuspension = []ReasonCode{
		{"0111", "获证组织未按规定接受监督审核", "the certified organization did not undergo surveillance in time"},
		{"0112", "监督审核结论为不通过", "the surveillance audit failed"},
		{"0113", "获证组织主动申请暂停", "suspended at the request of the certified organization"},
		{"0114", "获证组织存在不符合认证要求的情况", "the certified organization does not meet the certification requirements"},
		{"0115", "获证组织未按规定使用认证证书和标志", "misuse of the certificate or certification mark"},
		{"0199", "其他原因", "other reason"},
	}
	cncaWithdrawal = []ReasonCode{
		{"0101", "暂停期满未采取有效纠正措施", "the suspension ended without effective corrective action"},
		{"0102", "获证组织主动申请撤销", "withdrawn at the request of the certified organization"},
		{"0103", "获证组织出现严重不符合", "major nonconformity of the certified organization"},
		{"0104", "获证组织被注销或吊销营业执照", "the organization's business licence was cancelled or revoked"},
		{"0120", "因换发新证而撤销旧证书", "the certificate was replaced by a new one"},
		{"0199", "其他原因", "other reason"},
	}
	cncaCancellation = []ReasonCode{
		{"0201", "暂停期满未通过监督审核", "the suspension ended without a passed surveillance audit"},
		{"0202", "获证组织主动申请注销", "cancelled at the request of the certified organization"},
		{"0299", "其他原因", "other reason"},
	}
	changeTypes = []ReasonCode{
		{"0301", "认证范围变更", "change of scope"},
		{"0302", "获证组织名称或地址变更", "change of the organization's name or address"},
		{"0303", "级别变更", "change of level"},
		{"0399", "其他变更", "other change"},
	}
)
