package cert

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Audit is the record of the audit behind a certification decision (on a
// certificate: the initial or recertification audit; on a surveillance
// event: that audit), as regulators' reports ask for it (CNCA 审核结果信息表).
// Every field is optional. It is shown to the certification body only:
// never in the credential, the public verdict or the public page.
type Audit struct {
	// Type is one of AuditTypes.
	Type string `json:"type,omitempty"`
	// Mode is the CNCA audit mode code: FS01 on site, FS02 remote, FS03
	// combined.
	Mode string `json:"mode,omitempty"`
	// FirstDay and LastDay are the audit's first and last day (DateLayout).
	FirstDay string `json:"firstDay,omitempty"`
	LastDay  string `json:"lastDay,omitempty"`
	// Team lists the auditors with their roles.
	Team []AuditMember `json:"team,omitempty"`
	// PersonDays is the on-site effort in person-days (e.g. 2.5).
	PersonDays float64 `json:"personDays,omitempty"`
	// DecisionDate is the date of the certification decision (DateLayout);
	// DecisionMakers are the names of those who made it.
	DecisionDate   string   `json:"decisionDate,omitempty"`
	DecisionMakers []string `json:"decisionMakers,omitempty"`
	// TechnicalAreas are IAF sector codes (see CheckTechnicalArea).
	TechnicalAreas []string `json:"technicalAreas,omitempty"`
	// Employees is the number of employees the certification covers.
	Employees int `json:"employees,omitempty"`
}

// AuditMember is one member of an audit team.
type AuditMember struct {
	Name string `json:"name"`
	// Role is one of AuditRoles.
	Role string `json:"role"`
}

// Audit types, modes and team roles.
var (
	AuditTypes = []string{"initial", "surveillance", "recertification", "special"}
	AuditModes = []string{"FS01", "FS02", "FS03"}
	AuditRoles = []string{"leader", "auditor", "technical_expert", "observer", "trainee", "interpreter"}
)

// Limits of an audit record.
const (
	maxAuditTeam      = 50
	maxAuditMakers    = 20
	maxAuditAreas     = 39
	maxAuditName      = 100
	maxAuditEmployees = 10_000_000
	maxPersonDays     = 10_000
)

// CheckTechnicalArea checks a technical area code: an IAF sector number
// of two digits, 01 to 39, optionally followed by a dot and a finer
// sub-code of one to six letters or digits (the NACE class or the
// accreditation body's refinement), e.g. "28", "19.1", "33.02".
func CheckTechnicalArea(code string) error {
	sector, sub, dotted := strings.Cut(code, ".")
	n, err := strconv.Atoi(sector)
	ok := err == nil && len(sector) == 2 && n >= 1 && n <= 39
	if ok && dotted {
		ok = len(sub) >= 1 && len(sub) <= 6 && strings.Trim(sub, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") == ""
	}
	if !ok {
		return fmt.Errorf("%q is not an IAF sector code: must be two digits 01 to 39, optionally followed by a dot and a sub-code of up to 6 letters or digits, e.g. 28 or 19.1", code)
	}
	return nil
}

// Validate checks an audit record; dates are calendar dates in loc. Field
// names are relative; callers prefix them ("audit.").
func (a *Audit) Validate(loc *time.Location) *ValidationError {
	var v ValidationError
	if a.Type != "" && !slices.Contains(AuditTypes, a.Type) {
		v.Add("type", fmt.Sprintf("must be one of %s", strings.Join(AuditTypes, ", ")))
	}
	if a.Mode != "" && !slices.Contains(AuditModes, a.Mode) {
		v.Add("mode", "must be one of FS01 (on site), FS02 (remote), FS03 (combined)")
	}
	days := map[string]time.Time{}
	for _, f := range []struct{ name, value string }{{"firstDay", a.FirstDay}, {"lastDay", a.LastDay}, {"decisionDate", a.DecisionDate}} {
		if f.value == "" {
			continue
		}
		d, err := ParseDate(f.value, loc)
		if err != nil {
			v.Add(f.name, "must be a date YYYY-MM-DD")
			continue
		}
		days[f.name] = d
	}
	first, okF := days["firstDay"]
	last, okL := days["lastDay"]
	if okF && okL && last.Before(first) {
		v.Add("lastDay", "must not be before firstDay")
	}
	if d, ok := days["decisionDate"]; ok && okL && d.Before(last) {
		v.Add("decisionDate", "must not be before lastDay (the decision follows the audit)")
	}
	if len(a.Team) > maxAuditTeam {
		v.Add("team", fmt.Sprintf("must list at most %d members", maxAuditTeam))
	}
	leaders := 0
	for i, m := range a.Team {
		f := fmt.Sprintf("team[%d].", i)
		checkAuditName(&v, f+"name", m.Name)
		switch {
		case !slices.Contains(AuditRoles, m.Role):
			v.Add(f+"role", fmt.Sprintf("must be one of %s", strings.Join(AuditRoles, ", ")))
		case m.Role == "leader":
			leaders++
			if leaders == 2 {
				v.Add(f+"role", "an audit team has at most one leader")
			}
		}
	}
	if math.IsNaN(a.PersonDays) || a.PersonDays < 0 || a.PersonDays > maxPersonDays || math.Round(a.PersonDays*100) != a.PersonDays*100 {
		v.Add("personDays", fmt.Sprintf("must be a number of person-days from 0 to %d with at most two decimals, e.g. 2.5", maxPersonDays))
	}
	if len(a.DecisionMakers) > maxAuditMakers {
		v.Add("decisionMakers", fmt.Sprintf("must list at most %d names", maxAuditMakers))
	}
	for i, name := range a.DecisionMakers {
		checkAuditName(&v, fmt.Sprintf("decisionMakers[%d]", i), name)
	}
	if len(a.TechnicalAreas) > maxAuditAreas {
		v.Add("technicalAreas", fmt.Sprintf("must list at most %d codes", maxAuditAreas))
	}
	for i, code := range a.TechnicalAreas {
		if err := CheckTechnicalArea(code); err != nil {
			v.Add(fmt.Sprintf("technicalAreas[%d]", i), err.Error())
		} else if slices.Index(a.TechnicalAreas, code) < i {
			v.Add(fmt.Sprintf("technicalAreas[%d]", i), fmt.Sprintf("%q is listed twice", code))
		}
	}
	if a.Employees < 0 || a.Employees > maxAuditEmployees {
		v.Add("employees", fmt.Sprintf("must be a number of employees from 0 to %d", maxAuditEmployees))
	}
	return &v
}

func checkAuditName(v *ValidationError, field, name string) {
	switch err := CheckText(name, SingleLine); {
	case err != nil:
		v.Add(field, err.Error())
	case strings.TrimSpace(name) == "":
		v.Add(field, "is required: a person's name")
	case utf8.RuneCountInString(name) > maxAuditName:
		v.Add(field, fmt.Sprintf("must be at most %d characters", maxAuditName))
	}
}

// Leader returns the name of the team leader, or "".
func (a *Audit) Leader() string {
	for _, m := range a.Team {
		if m.Role == "leader" {
			return m.Name
		}
	}
	return ""
}
