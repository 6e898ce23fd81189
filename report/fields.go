package report

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/certd/certd/cert"
)

// Context is what a report knows beside its entries: the issuer, and
// when the reports of past months were submitted (which places audits
// recorded after that in a later report; nil: every audit in its month).
type Context struct {
	Issuer    *cert.Issuer
	Submitted Submitted
}

// field gives a column's value for an entry; dates are returned as times
// and formatted by the column.
type field func(e *Entry, x *Context) (string, *time.Time)

func str(f func(e *Entry, x *Context) string) field {
	return func(e *Entry, x *Context) (string, *time.Time) { return f(e, x), nil }
}

func date(f func(e *Entry) time.Time) field {
	return func(e *Entry, _ *Context) (string, *time.Time) {
		t := f(e)
		if t.IsZero() {
			return "", nil
		}
		t = t.In(e.Cert.Location())
		return "", &t
	}
}

func day(f func(c *cert.Certificate) string) field {
	return func(e *Entry, _ *Context) (string, *time.Time) {
		s := f(e.Cert)
		if s == "" {
			return "", nil
		}
		t, err := cert.ParseDate(s, e.Cert.Location())
		if err != nil {
			return s, nil
		}
		return "", &t
	}
}

// fields is every field a column may name; README documents them.
var fields = map[string]field{
	// number is upper case without spaces, as registries match it.
	"number":               str(func(e *Entry, _ *Context) string { return normalizeNumber(e.Cert.Number) }),
	"id":                   str(func(e *Entry, _ *Context) string { return e.Cert.ID }),
	"organization.name":    str(func(e *Entry, _ *Context) string { return e.Cert.Organization.Name }),
	"organization.nameEn":  str(func(e *Entry, _ *Context) string { return e.Cert.Organization.NameEn }),
	"organization.uscc":    str(func(e *Entry, _ *Context) string { return strings.ToUpper(e.Cert.Organization.USCC) }),
	"organization.address": str(func(e *Entry, _ *Context) string { return e.Cert.Organization.Address }),
	"organization.country": str(func(e *Entry, _ *Context) string { return cmpOr(e.Cert.Organization.Country, "CN") }),
	"scheme":               str(func(e *Entry, _ *Context) string { return e.Cert.Scheme }),
	"scheme.name":          str(func(e *Entry, _ *Context) string { return schemeName(e, false) }),
	"scheme.nameZh":        str(func(e *Entry, _ *Context) string { return schemeName(e, true) }),
	"standard":             str(func(e *Entry, _ *Context) string { return e.Cert.Standard }),
	"category":             str(func(e *Entry, _ *Context) string { return e.Cert.Category }),
	"level":                str(func(e *Entry, _ *Context) string { return level(e.Cert.Level) }),
	"scope":                str(func(e *Entry, _ *Context) string { return e.Cert.Scope }),
	"scopeEn":              str(func(e *Entry, _ *Context) string { return e.Cert.ScopeEn }),
	"sites": str(func(e *Entry, _ *Context) string {
		names := make([]string, len(e.Cert.Sites))
		for i, site := range e.Cert.Sites {
			names[i] = site.Name
		}
		return strings.Join(names, "; ")
	}),
	"assessmentBody": str(func(e *Entry, _ *Context) string { return e.Cert.AssessmentBody }),
	"validFrom":      date(func(e *Entry) time.Time { return e.Cert.ValidFrom }),
	"validUntil":     date(func(e *Entry) time.Time { return e.Cert.ValidUntilInclusive() }),
	"originalDate": day(func(c *cert.Certificate) string {
		return cmpOr(c.OriginalDate, c.ValidFrom.In(c.Location()).Format(cert.DateLayout))
	}),
	"decisionDate": day(func(c *cert.Certificate) string { return c.DecisionDate }),
	"status":       str(func(e *Entry, _ *Context) string { return string(e.Status) }),
	"change":       str(func(e *Entry, _ *Context) string { return e.Change }),
	"changeDate":   date(func(e *Entry) time.Time { return e.At }),
	"reasonCode":   str(func(e *Entry, _ *Context) string { return codeOf(e, func(c *cert.ReasonCode) string { return c.Code }) }),
	"reasonLabel": str(func(e *Entry, _ *Context) string {
		return codeOf(e, func(c *cert.ReasonCode) string { return c.Label })
	}),
	"reasonLabelEn": str(func(e *Entry, _ *Context) string {
		return codeOf(e, func(c *cert.ReasonCode) string { return c.LabelEn })
	}),
	"auditType":     str(func(e *Entry, _ *Context) string { return auditType(e) }),
	"auditDate":     date(func(e *Entry) time.Time { return auditAt(e) }),
	"auditResult":   str(func(e *Entry, _ *Context) string { return auditResult(e) }),
	"auditMode":     str(func(e *Entry, _ *Context) string { return recordOf(e, func(a *cert.Audit) string { return a.Mode }) }),
	"auditFirstDay": auditDay(func(a *cert.Audit) string { return a.FirstDay }),
	"auditLastDay":  auditDay(func(a *cert.Audit) string { return a.LastDay }),
	"auditTeamLeader": str(func(e *Entry, _ *Context) string {
		return recordOf(e, (*cert.Audit).Leader)
	}),
	"auditTeamMembers": str(func(e *Entry, _ *Context) string {
		return recordOf(e, func(a *cert.Audit) string {
			var names []string
			for _, m := range a.Team {
				if m.Role != "leader" {
					names = append(names, m.Name)
				}
			}
			return strings.Join(names, "; ")
		})
	}),
	"auditTeam": str(func(e *Entry, _ *Context) string {
		return recordOf(e, func(a *cert.Audit) string {
			out := make([]string, len(a.Team))
			for i, m := range a.Team {
				out[i] = m.Name + " (" + m.Role + ")"
			}
			return strings.Join(out, "; ")
		})
	}),
	"auditPersonDays": str(func(e *Entry, _ *Context) string {
		return recordOf(e, func(a *cert.Audit) string {
			if a.PersonDays == 0 {
				return ""
			}
			return strconv.FormatFloat(a.PersonDays, 'f', -1, 64)
		})
	}),
	// The decision of an issue or renewal is the certificate's when its
	// record does not give it.
	"auditDecisionDate": func(e *Entry, x *Context) (string, *time.Time) {
		s, t := auditDay(func(a *cert.Audit) string { return a.DecisionDate })(e, x)
		if s == "" && t == nil && e.Change == "audit" {
			return day(func(c *cert.Certificate) string { return c.DecisionDate })(e, x)
		}
		return s, t
	},
	"auditDecisionMakers": str(func(e *Entry, _ *Context) string {
		return recordOf(e, func(a *cert.Audit) string { return strings.Join(a.DecisionMakers, "; ") })
	}),
	"technicalAreas": str(func(e *Entry, _ *Context) string {
		return recordOf(e, func(a *cert.Audit) string { return strings.Join(a.TechnicalAreas, "; ") })
	}),
	"employees": str(func(e *Entry, _ *Context) string {
		return recordOf(e, func(a *cert.Audit) string { return level(a.Employees) })
	}),
	"issuer.approvalNumber": str(func(_ *Entry, x *Context) string {
		return issuerOf(x, func(i *cert.Issuer) string { return i.ApprovalNumber })
	}),
	"auditRef":      str(func(e *Entry, _ *Context) string { return auditOf(e, func(a *cert.Event) string { return a.AuditRef }) }),
	"issuer.id":     str(func(e *Entry, x *Context) string { return e.Cert.Issuer }),
	"issuer.name":   str(func(_ *Entry, x *Context) string { return issuerOf(x, func(i *cert.Issuer) string { return i.Name }) }),
	"issuer.nameZh": str(func(_ *Entry, x *Context) string { return issuerOf(x, func(i *cert.Issuer) string { return i.NameZh }) }),
	"issuer.accreditationBody": str(func(_ *Entry, x *Context) string {
		return issuerOf(x, func(i *cert.Issuer) string {
			return accreditation(i, func(a cert.Accreditation) string { return a.Body })
		})
	}),
	"issuer.accreditationNumber": str(func(_ *Entry, x *Context) string {
		return issuerOf(x, func(i *cert.Issuer) string {
			return accreditation(i, func(a cert.Accreditation) string { return a.Number })
		})
	}),
}

// accreditation joins one part of each of the issuer's accreditations.
func accreditation(i *cert.Issuer, part func(cert.Accreditation) string) string {
	out := make([]string, len(i.Accreditation))
	for k, a := range i.Accreditation {
		out[k] = part(a)
	}
	return strings.Join(out, "; ")
}

func knownField(name string) bool { _, ok := fields[name]; return ok }

// FieldNames lists the fields a column may name, sorted.
func FieldNames() []string {
	out := make([]string, 0, len(fields))
	for k := range fields {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// normalizeNumber writes a certificate number as registries match it:
// upper case, without spaces.
func normalizeNumber(n string) string {
	return strings.ToUpper(strings.Join(strings.Fields(n), ""))
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func level(l int) string {
	if l == 0 {
		return ""
	}
	return strconv.Itoa(l)
}

func schemeName(e *Entry, zh bool) string {
	if e.Scheme == nil {
		return e.Cert.Scheme
	}
	if zh {
		return cmpOr(e.Scheme.NameZh, e.Scheme.Name)
	}
	return e.Scheme.Name
}

func codeOf(e *Entry, f func(*cert.ReasonCode) string) string {
	if e.Code == nil {
		return ""
	}
	return f(e.Code)
}

// recordOf applies f to the entry's audit record, "" without one.
func recordOf(e *Entry, f func(*cert.Audit) string) string {
	if a := e.record(); a != nil {
		return f(a)
	}
	return ""
}

// auditDay is a calendar date of the entry's audit record.
func auditDay(f func(*cert.Audit) string) field {
	return func(e *Entry, _ *Context) (string, *time.Time) {
		s := recordOf(e, f)
		if s == "" {
			return "", nil
		}
		t, err := cert.ParseDate(s, e.Cert.Location())
		if err != nil {
			return s, nil
		}
		return "", &t
	}
}

// auditType is the type the record names, else what the row is: a
// surveillance audit, or the audit of an issue (initial) or a renewal
// (recertification).
func auditType(e *Entry) string {
	if t := recordOf(e, func(a *cert.Audit) string { return a.Type }); t != "" {
		return t
	}
	switch {
	case e.Audit != nil:
		return "surveillance"
	case e.Change != "audit":
		return ""
	case e.Cert.Supersedes != "":
		return "recertification"
	}
	return "initial"
}

func auditOf(e *Entry, f func(*cert.Event) string) string {
	if e.Audit == nil {
		return ""
	}
	return f(e.Audit)
}

// auditAt is the date of the row's audit: a surveillance audit's date,
// else the last day its record gives.
func auditAt(e *Entry) time.Time {
	if e.Audit != nil {
		return e.Audit.At
	}
	if e.Change == "audit" && e.Record != nil && e.Record.LastDay != "" {
		if t, err := cert.ParseDate(e.Record.LastDay, e.Cert.Location()); err == nil {
			return t
		}
	}
	return time.Time{}
}

// auditResult is the outcome of the row's audit; an issue or renewal
// follows a passed one.
func auditResult(e *Entry) string {
	switch {
	case e.Audit != nil && e.Audit.Type == cert.EventSurveillancePassed:
		return "passed"
	case e.Audit != nil:
		return "failed"
	case e.Change == "audit":
		return "passed"
	}
	return ""
}

func issuerOf(x *Context, f func(*cert.Issuer) string) string {
	if x == nil || x.Issuer == nil {
		return ""
	}
	return f(x.Issuer)
}

// value computes the cell of column c for entry e.
func (c *Column) value(e *Entry, x *Context) string {
	if c.Field == "" {
		return c.Value
	}
	var v string
	for _, name := range strings.Split(c.Field, "|") {
		s, t := fields[name](e, x)
		if t != nil {
			s = t.Format(cmpOr(c.Format, cert.DateLayout))
		}
		if s != "" {
			v = s
			break
		}
	}
	if c.Map != nil {
		if m, ok := c.Map[v]; ok {
			return m
		}
		if m, ok := c.Map["*"]; ok {
			return m
		}
	}
	return v
}
