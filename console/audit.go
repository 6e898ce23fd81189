package console

import (
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/certd/certd/cert"
)

// auditFields are the form fields of an audit record, by the REST API's
// names: the team one member a line ("name | role"), names and codes
// separated by commas, semicolons or new lines.
var auditFields = []string{"audit.type", "audit.mode", "audit.firstDay", "audit.lastDay", "audit.team", "audit.personDays",
	"audit.decisionDate", "audit.decisionMakers", "audit.technicalAreas", "audit.employees"}

// splitList splits a list typed by a person.
func splitList(s string) []string {
	var out []string
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || r == '\n' || r == '，' || r == '；' || r == '、' }) {
		if p := strings.TrimSpace(part); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// auditFromForm builds the audit record of a form, nil when every audit
// field is empty. A number that does not parse becomes a value the
// record's validation refuses, so the error names the field.
func auditFromForm(f map[string]string) *cert.Audit {
	empty := true
	for _, k := range auditFields {
		if strings.TrimSpace(f[k]) != "" {
			empty = false
		}
	}
	if empty {
		return nil
	}
	a := &cert.Audit{Type: f["audit.type"], Mode: f["audit.mode"], FirstDay: f["audit.firstDay"], LastDay: f["audit.lastDay"],
		DecisionDate: f["audit.decisionDate"], DecisionMakers: splitList(f["audit.decisionMakers"]), TechnicalAreas: splitList(f["audit.technicalAreas"])}
	for _, line := range strings.Split(f["audit.team"], "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		name, role, _ := strings.Cut(line, "|")
		a.Team = append(a.Team, cert.AuditMember{Name: strings.TrimSpace(name), Role: strings.TrimSpace(role)})
	}
	if v := strings.TrimSpace(f["audit.personDays"]); v != "" {
		d, err := strconv.ParseFloat(v, 64)
		if err != nil {
			d = math.NaN()
		}
		a.PersonDays = d
	}
	if v := strings.TrimSpace(f["audit.employees"]); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			n = -1
		}
		a.Employees = n
	}
	return a
}

// auditForm reads the audit fields of a posted form.
func auditForm(r *http.Request) map[string]string {
	m := make(map[string]string, len(auditFields))
	for _, k := range auditFields {
		m[k] = strings.TrimSpace(r.PostFormValue(k))
	}
	return m
}
