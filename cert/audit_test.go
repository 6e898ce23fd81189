package cert

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestCheckTechnicalArea(t *testing.T) {
	for _, ok := range []string{"01", "09", "28", "39", "19.1", "33.02", "28.a", "17.ABC123"} {
		if err := CheckTechnicalArea(ok); err != nil {
			t.Errorf("ok/%s: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "0", "1", "00", "40", "99", "280", "28.", "28.1234567", "28.1.2", "28-1", " 28", "IAF28", "２８"} {
		if err := CheckTechnicalArea(bad); err == nil || !strings.Contains(err.Error(), "01 to 39") {
			t.Errorf("fail/%q: got %v", bad, err)
		}
	}
}

func TestAuditValidate(t *testing.T) {
	full := Audit{Type: "initial", Mode: "FS01", FirstDay: "2026-11-02", LastDay: "2026-11-04",
		Team: []AuditMember{{Name: "张三", Role: "leader"}, {Name: "Li", Role: "observer"}}, PersonDays: 2.25,
		DecisionDate: "2026-11-04", DecisionMakers: []string{"王五"}, TechnicalAreas: []string{"33"}, Employees: 10}
	if v := full.Validate(time.UTC); len(v.Fields) != 0 {
		t.Fatalf("ok/full: %+v", v.Fields)
	}
	if v := (&Audit{}).Validate(time.UTC); len(v.Fields) != 0 {
		t.Fatalf("ok/empty: %+v", v.Fields)
	}
	for _, tc := range []struct {
		name  string
		edit  func(a *Audit)
		field string
	}{
		{"type", func(a *Audit) { a.Type = "Initial" }, "type"},
		{"mode", func(a *Audit) { a.Mode = "fs01" }, "mode"},
		{"day", func(a *Audit) { a.FirstDay = "2026-02-30" }, "firstDay"},
		{"order", func(a *Audit) { a.LastDay = "2026-11-01" }, "lastDay"},
		{"decision", func(a *Audit) { a.DecisionDate = "2026-11-03" }, "decisionDate"},
		{"role", func(a *Audit) { a.Team[1].Role = "" }, "team[1].role"},
		{"leaders", func(a *Audit) { a.Team[1].Role = "leader" }, "team[1].role"},
		{"name", func(a *Audit) { a.Team[0].Name = strings.Repeat("名", 101) }, "team[0].name"},
		{"nan", func(a *Audit) { a.PersonDays = math.NaN() }, "personDays"},
		{"inf", func(a *Audit) { a.PersonDays = math.Inf(1) }, "personDays"},
		{"decimals", func(a *Audit) { a.PersonDays = 0.001 }, "personDays"},
		{"maker", func(a *Audit) { a.DecisionMakers = []string{""} }, "decisionMakers[0]"},
		{"area", func(a *Audit) { a.TechnicalAreas = []string{"33", "0"} }, "technicalAreas[1]"},
		{"employees", func(a *Audit) { a.Employees = maxAuditEmployees + 1 }, "employees"},
	} {
		a := full
		a.Team = append([]AuditMember(nil), full.Team...)
		tc.edit(&a)
		v := a.Validate(time.UTC)
		if len(v.Fields) != 1 || v.Fields[0].Field != tc.field {
			t.Errorf("fail/%s: got %+v, want one error on %s", tc.name, v.Fields, tc.field)
		}
	}
}
