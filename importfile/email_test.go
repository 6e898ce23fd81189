package importfile

import (
	"strings"
	"testing"
)

// TestOrganizationEmailColumn: the organization_email column fills
// organization.email (domain in lower case); a bad address is a row error
// naming the column.
func TestOrganizationEmailColumn(t *testing.T) {
	const header = "row_id,issuer,scheme,number,category,level,scope,org_name,uscc,organization_email\n"
	f, err := Read(strings.NewReader(header+
		"1,default,itss,N-1,运行维护,3,运维,甲公司,91110108MA0123456G,Cert.Office@Example.CN\n"+
		"2,default,itss,N-2,运行维护,3,运维,乙公司,91110108MA0123456G,\n"+
		"3,default,itss,N-3,运行维护,3,运维,丙公司,91110108MA0123456G,not an address\n"), testCheck(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Rows) != 2 || f.Rows[0].Req.Organization.Email != "Cert.Office@example.cn" || f.Rows[1].Req.Organization.Email != "" {
		t.Fatalf("rows %+v", f.Rows)
	}
	if len(f.Errs) != 1 || f.Errs[0].Row != 4 || f.Errs[0].Column != "organization_email" || !strings.Contains(f.Errs[0].Message, "e-mail address") {
		t.Errorf("errors %+v", f.Errs)
	}
}
