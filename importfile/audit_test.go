package importfile

import (
	"reflect"
	"strings"
	"testing"

	"github.com/certd/certd/cert"
)

// The audit columns fill the request's audit record; a bad cell is named
// by its column, whether it does not parse or breaks the record's rules.
func TestReadAuditColumns(t *testing.T) {
	head := "row_id,scheme,scope,org_name,uscc,audit_type,audit_mode,audit_first_day,audit_last_day,audit_team,audit_person_days,audit_decision_date,audit_decision_makers,technical_areas,employees\n"
	ok := "r1,iso17021,软件开发,审核示例有限公司,91110108MA0123456G,initial,fs03,2026-11-02,2026-11-04,张组长:leader|李审核:auditor,2.5,2026-11-20,王决定|赵决定,33|19.1,86\n"
	plain := "r2,iso17021,软件开发,无审核信息有限公司,91110108MA0123456G,,,,,,,,,,\n"
	bad := "r3,iso17021,软件开发,审核示例有限公司,91110108MA0123456G,annual,FS01,,,张组长,two,,,40,x\n"
	f, err := Read(strings.NewReader(head+ok+plain+bad), testCheck(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Rows) != 2 {
		t.Fatalf("rows %+v, errors %+v", f.Rows, f.Errs)
	}
	want := &cert.Audit{Type: "initial", Mode: "FS03", FirstDay: "2026-11-02", LastDay: "2026-11-04",
		Team: []cert.AuditMember{{Name: "张组长", Role: "leader"}, {Name: "李审核", Role: "auditor"}}, PersonDays: 2.5,
		DecisionDate: "2026-11-20", DecisionMakers: []string{"王决定", "赵决定"}, TechnicalAreas: []string{"33", "19.1"}, Employees: 86}
	if !reflect.DeepEqual(f.Rows[0].Req.Audit, want) {
		t.Errorf("audit %+v, want %+v", f.Rows[0].Req.Audit, want)
	}
	if f.Rows[1].Req.Audit != nil {
		t.Errorf("empty audit cells: %+v, want no record", f.Rows[1].Req.Audit)
	}
	cols := map[string]bool{}
	for _, e := range f.Errs {
		if e.Row != 4 {
			t.Errorf("error on row %d: %+v", e.Row, e)
		}
		cols[e.Column] = true
	}
	for _, c := range []string{"audit_type", "audit_team", "audit_person_days", "technical_areas", "employees"} {
		if !cols[c] {
			t.Errorf("no error for column %s: %+v", c, f.Errs)
		}
	}
}
