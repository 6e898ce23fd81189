package main

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certd/certd/cert"
)

func testCheck(t testing.TB) csvCheck {
	t.Helper()
	s, err := cert.NewSchemes(cert.BuiltinSchemes())
	if err != nil {
		t.Fatal(err)
	}
	return csvCheck{Schemes: s, Now: time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)}
}

func readString(t testing.TB, chk csvCheck, content string) (*csvFile, error) {
	t.Helper()
	return readCSV(strings.NewReader(content), chk)
}

const csvHeader = "row_id,issuer,scheme,number,category,level,scope,org_name,uscc\n"

func TestSampleCSVIsValid(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(moduleRoot(t), "testdata", "certificates.csv"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := readString(t, testCheck(t), string(b))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Errs) > 0 || len(f.Rows) != 5 {
		t.Fatalf("testdata/certificates.csv: %d rows, errors %v; want 5 valid rows", len(f.Rows), f.Errs)
	}
	sites := f.Rows[2].Req.Sites
	if len(sites) != 2 || sites[1].Name != "东莞市松山湖数据中心" {
		t.Errorf("sites of row 4 = %q, want two sites split at |", sites)
	}
}

func TestCSVReportsEveryBadRow(t *testing.T) {
	content := csvHeader +
		"1,default,itss,N-1,运行维护,3,运维,甲公司," + uscc(t, 1)[:17] + "X\n" + // invalid check char
		"2,default,itsx,N-2,运行维护,3,运维,乙公司," + uscc(t, 2) + "\n" + // unknown scheme
		"3,default,itss,N-3,运行维护,3,运维,," + uscc(t, 3) + "\n" + // no organization name
		"4,default,itss,N-4,运行维护,5,运维,丁公司," + uscc(t, 4) + "\n" + // level out of range
		"5,default,itss,N-1,运行维护,3,运维,戊公司," + uscc(t, 5) + "\n" + // duplicate number
		"6,default,itss,N-6,运行维护,3,运维,己公司," + uscc(t, 6) + "\n" + // good
		"7,default,itss,N-7,运行维护,x,运维,庚公司," + uscc(t, 7) + "\n" + // level not a number
		"8,default,itss,N-8,运行维护,3,运维,辛公司," + uscc(t, 8) + ",extra\n" // too many cells
	f, err := readString(t, testCheck(t), content)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		row    int
		column string
		reason string
	}{
		{2, "uscc", "check character"},
		{3, "scheme", `unknown scheme "itsx"`},
		{4, "org_name", "is required"},
		{5, "level", "from 1 to 4"},
		{6, "number", `"N-1" is also the number of row 2`},
		{8, "level", "not a whole number"},
		{9, "", "has 10 cells but the header has 9 columns"},
	}
	if len(f.Errs) != len(want) {
		t.Fatalf("got %d errors %v, want %d", len(f.Errs), f.Errs, len(want))
	}
	for i, w := range want {
		e := f.Errs[i]
		if e.Row != w.row || e.Column != w.column || !strings.Contains(e.Message, w.reason) {
			t.Errorf("error %d = %s; want row %d, column %q, reason containing %q", i, e, w.row, w.column, w.reason)
		}
	}
	if f.Bad != 7 || len(f.Rows) != 1 {
		t.Errorf("bad = %d, valid rows = %d; want 7 and 1", f.Bad, len(f.Rows))
	}
}

func TestCSVFileErrors(t *testing.T) {
	for _, tc := range []struct {
		name, content, want string
	}{
		{"fail/empty", "", "empty"},
		{"fail/no rows", csvHeader, "no rows"},
		{"fail/unknown column", "scheme,scope,org_name,uscc,colour\n", `"colour" is not a known column`},
		{"fail/missing required", "scheme,org_name\n", `required column "scope" is missing`},
		{"fail/twice", "scheme,scope,org_name,org_name\n", `"org_name" appears twice`},
		{"fail/not utf-8", csvHeader + "1,default,itss,,运行维护,3,\xd4\xcb\xce\xac,x,y\n", "line 2 is not UTF-8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := readString(t, testCheck(t), tc.content)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestCSVFormats(t *testing.T) {
	row := "1,default,itss,,运行维护,3,运维,甲公司," + uscc(t, 1) + "\n"
	for _, tc := range []struct{ name, content string }{
		{"ok/bom", "\xef\xbb\xbf" + csvHeader + row},
		{"ok/semicolon", strings.ReplaceAll(csvHeader+row, ",", ";")},
		{"ok/tab", strings.ReplaceAll(csvHeader+row, ",", "\t")},
		{"ok/crlf and blank lines", strings.ReplaceAll(csvHeader+row, "\n", "\r\n") + ",,,,,,,,\r\n\r\n"},
		{"ok/header case and spaces", "Row ID,Issuer,SCHEME,Number,Category,Level,Scope,Org-Name,USCC\n" + row},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := readString(t, testCheck(t), tc.content)
			if err != nil {
				t.Fatal(err)
			}
			if len(f.Errs) > 0 || len(f.Rows) != 1 {
				t.Fatalf("rows %d, errors %v", len(f.Rows), f.Errs)
			}
			if r := f.Rows[0]; r.Req.Organization.Name != "甲公司" || r.Req.Level != 3 || r.RowID != "1" {
				t.Errorf("row read as %+v", r)
			}
		})
	}
}

// TestIdempotencyKeys: the key of a row depends on what it asks for, not
// on where it stands; different rows never share one.
func TestIdempotencyKeys(t *testing.T) {
	chk := testCheck(t)
	rowA := "A,default,itss,,运行维护,3,运维,甲公司," + uscc(t, 1) + "\n"
	rowB := "B,default,itss,,运行维护,3,运维,乙公司," + uscc(t, 2) + "\n"
	keys := func(content string) map[string]string {
		f, err := readString(t, chk, content)
		if err != nil || len(f.Errs) > 0 {
			t.Fatalf("%v %v", err, f.Errs)
		}
		out := map[string]string{}
		for _, r := range f.Rows {
			out[r.RowID] = r.Key
		}
		return out
	}
	first := keys(csvHeader + rowA + rowB)
	if first["A"] == first["B"] {
		t.Fatal("two different rows share a key")
	}
	reordered := keys("uscc,org_name,scope,level,category,number,scheme,issuer,row_id\n" +
		reverseCells(rowB) + reverseCells(rowA))
	if reordered["A"] != first["A"] || reordered["B"] != first["B"] {
		t.Error("moving rows and columns changed their keys: a re-run would issue them again")
	}
	if len(first["A"]) > 200 {
		t.Errorf("key %q is longer than certd accepts", first["A"])
	}
	// Same content, different row_id: two certificates are meant.
	sameContent := keys(csvHeader + rowA + strings.Replace(rowA, "A,", "A2,", 1))
	if sameContent["A"] == sameContent["A2"] {
		t.Error("rows with different row_id share a key")
	}
	// A changed cell is a new request.
	changed := keys(csvHeader + strings.Replace(rowA, ",3,", ",2,", 1))
	if changed["A"] == first["A"] {
		t.Error("a row with another level kept its key")
	}
	// The same row twice without row ids would be issued once: refused.
	noID := strings.Replace(rowA, "A,", ",", 1)
	f, err := readString(t, chk, csvHeader+noID+noID)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Errs) != 1 || f.Errs[0].Row != 3 || !strings.Contains(f.Errs[0].Message, "repeats row 2") {
		t.Errorf("identical rows: errors %v, want row 3 repeats row 2", f.Errs)
	}
}

func reverseCells(line string) string {
	cells := strings.Split(strings.TrimSuffix(line, "\n"), ",")
	for i, j := 0, len(cells)-1; i < j; i, j = i+1, j-1 {
		cells[i], cells[j] = cells[j], cells[i]
	}
	return strings.Join(cells, ",") + "\n"
}

// TestCSVBadRowsSendNothing runs certctl against a real certd with a file
// holding one bad row of each kind: every bad row is reported with row,
// column and reason, the exit status is 1, and certd issued nothing.
func TestCSVBadRowsSendNothing(t *testing.T) {
	s := startServer(t)
	content := "row_id,issuer,scheme,number,standard,category,level,scope,org_name,uscc\n" +
		"1,default,itss,N-1,GB/T 28827.1-2022,运行维护,3,运维服务,甲公司," + uscc(t, 1)[:17] + "X\n" +
		"2,default,itsx,N-2,GB/T 28827.1-2022,运行维护,3,运维服务,乙公司," + uscc(t, 2) + "\n" +
		"3,default,itss,N-3,GB/T 28827.1-2022,运行维护,3,运维服务,," + uscc(t, 3) + "\n" +
		"4,default,itss,N-4,GB/T 28827.1-2022,运行维护,7,运维服务,丁公司," + uscc(t, 4) + "\n" +
		"5,default,itss,N-1,GB/T 28827.1-2022,运行维护,3,运维服务,戊公司," + uscc(t, 5) + "\n" +
		"6,default,itss,N-6,GB/T 28827.1-2022,运行维护,3,运维服务,己公司," + uscc(t, 6) + "\n"
	file := writeFile(t, "bad.csv", content)
	for _, token := range []string{s.IssuerKey, s.Admin} {
		r := cli(t, s.as(token), "issue", "--csv", file)
		if r.code != exitFailure {
			t.Fatalf("exit %d, want 1; stderr:\n%s", r.code, r.stderr)
		}
		for _, want := range []string{
			"5 of 6 rows are invalid; nothing was sent",
			"row 2, column uscc: check character is 'X'",
			`row 3, column scheme: unknown scheme "itsx"`,
			"row 4, column org_name: is required",
			"row 5, column level: must be an integer from 1 to 4",
			`row 6, column number: "N-1" is also the number of row 2`,
		} {
			if !strings.Contains(r.stderr, want) {
				t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
			}
		}
		if strings.Contains(r.stderr, "row 7") {
			t.Errorf("the good row 7 was reported:\n%s", r.stderr)
		}
		if _, err := os.Stat(file + ".result.csv"); err == nil {
			t.Error("a result CSV was written although nothing was sent")
		}
	}
	if all := s.allCertificates(t); len(all) != 0 {
		t.Fatalf("certd holds %d certificates, want 0", len(all))
	}
	if n := s.issuedCount(t); n != 0 {
		t.Fatalf("certd issued %d certificates, want 0", n)
	}
	// An admin key must name an existing issuer on every row.
	noIssuer := writeFile(t, "noissuer.csv", "scheme,category,level,scope,org_name,uscc,issuer\n"+
		"itss,运行维护,3,运维服务,甲公司,"+uscc(t, 1)+",\n"+
		"itss,运行维护,3,运维服务,乙公司,"+uscc(t, 2)+",nosuch\n")
	r := cli(t, s.as(s.Admin), "issue", "--csv", noIssuer)
	if r.code != exitFailure || !strings.Contains(r.stderr, "row 2, column issuer: is required with an admin API key") ||
		!strings.Contains(r.stderr, `row 3, column issuer: no issuer "nosuch" exists`) {
		t.Errorf("admin key without issuers: exit %d\n%s", r.code, r.stderr)
	}
	if status, _ := s.api(t, http.MethodGet, "/api/v1/certificates?limit=1", s.Admin, nil); status != http.StatusOK {
		t.Fatalf("list: %d", status)
	}
}

// TestCSVImportSmall runs a small import in-process: the result CSV, the
// summary, and a re-run that finds every row already issued.
func TestCSVImportSmall(t *testing.T) {
	s := startServer(t)
	file := filepath.Join(moduleRoot(t), "testdata", "certificates.csv")
	resultPath := filepath.Join(t.TempDir(), "r.csv")
	r := cli(t, s.as(s.IssuerKey), "issue", "--csv", file, "--result", resultPath)
	if r.code != exitOK || !strings.Contains(r.stdout, "5 rows: 5 created, 0 already issued") {
		t.Fatalf("first run: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	first, _ := os.ReadFile(resultPath)
	r = cli(t, s.as(s.IssuerKey), "issue", "--csv", file, "--result", resultPath, "--output", "json")
	if r.code != exitOK || !strings.Contains(r.stdout, `"existing": 5`) {
		t.Fatalf("second run: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	second, _ := os.ReadFile(resultPath)
	if strings.ReplaceAll(string(first), ",created,", ",existing,") != string(second) {
		t.Errorf("the re-run found other certificates:\n%s\n%s", first, second)
	}
	if !strings.Contains(string(first), ",ITSS-YW-2026-0877,created,,AUD-2026-0877") {
		t.Errorf("result lacks the row with its own number:\n%s", first)
	}
	if all := s.allCertificates(t); len(all) != 5 {
		t.Errorf("certd holds %d certificates, want 5", len(all))
	}
	// A server-side failure is reported in the result, the others issued.
	clash := writeFile(t, "clash.csv", "scheme,number,category,level,scope,org_name,uscc\n"+
		"itss,ITSS-YW-2026-0877,运行维护,3,运维服务,甲公司,"+uscc(t, 1)+"\n"+
		"itss,,运行维护,3,运维服务,乙公司,"+uscc(t, 2)+"\n")
	r = cli(t, s.as(s.IssuerKey), "issue", "--csv", clash)
	if r.code != exitFailure || !strings.Contains(r.stdout, "2 rows: 1 created, 0 already issued by an earlier run, 1 failed") {
		t.Fatalf("clash: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	res, _ := os.ReadFile(clash + ".result.csv")
	if !strings.Contains(string(res), "2,,,failed,") || !strings.Contains(string(res), "number: ") || !strings.Contains(string(res), "HTTP 409") {
		t.Errorf("result of a failed row:\n%s", res)
	}
}

// TestCSVInvisibleCharacters checks that certctl holds every row to the
// server's text rule (issuer.Request.Check, cert.CheckText): bidi
// controls, zero-width and control characters are reported with their
// row, column and code point before anything is sent.
func TestCSVInvisibleCharacters(t *testing.T) {
	content := csvHeader +
		"1,default,itss,N-1,运行维护,3,运维,甲\u202E公司," + uscc(t, 1) + "\n" +
		"2,default,itss,N-2,运行维护,3,运维,乙\u200B公司," + uscc(t, 2) + "\n" +
		"3,default,itss,N-3,运行维护,3,运维\u2066,丙公司," + uscc(t, 3) + "\n" +
		"4,default,itss,N-4\uFEFF,运行维护,3,运维,丁公司," + uscc(t, 4) + "\n" +
		"5,default,itss,N-5,运行维护,3,运维,戊公司\u0007," + uscc(t, 5) + "\n" +
		"6,default,itss,N-6,运行维护,3,运维,己公司," + uscc(t, 6) + "\n"
	f, err := readString(t, testCheck(t), content)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		row            int
		column, reason string
	}{
		{2, "org_name", "U+202E"},
		{3, "org_name", "U+200B"},
		{4, "scope", "U+2066"},
		{5, "number", "U+FEFF"},
		{6, "org_name", "U+0007"},
	}
	if len(f.Errs) != len(want) || len(f.Rows) != 1 {
		t.Fatalf("got %d errors %v and %d valid rows, want %d errors and 1 valid row", len(f.Errs), f.Errs, len(f.Rows), len(want))
	}
	for i, w := range want {
		e := f.Errs[i]
		if e.Row != w.row || e.Column != w.column || !strings.Contains(e.Message, w.reason) {
			t.Errorf("error %d = %s; want row %d, column %q, reason containing %q", i, e, w.row, w.column, w.reason)
		}
	}
}
