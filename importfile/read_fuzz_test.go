package importfile

import (
	"bytes"
	"encoding/csv"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/certd/certd/cert"
)

const csvHeader = "row_id,issuer,scheme,number,category,level,scope,org_name,uscc\n"

func testCheck(t testing.TB) Check {
	t.Helper()
	s, err := cert.NewSchemes(cert.BuiltinSchemes())
	if err != nil {
		t.Fatal(err)
	}
	return Check{Schemes: s, Now: time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)}
}

// FuzzReadCSV: any file is refused with an error or read into valid rows
// and row errors, never a panic; every row it calls valid passes the
// request validation again, the rows keep file order, and no two valid
// rows share an Idempotency-Key.
func FuzzReadCSV(f *testing.F) {
	sample, err := os.ReadFile(filepath.Join("..", "testdata", "certificates.csv"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(sample)
	f.Add([]byte(csvHeader + "1,default,itss,N-1,运行维护,3,运维,甲公司,91110108MA0123456G\n"))
	f.Add([]byte(strings.ReplaceAll(csvHeader, ",", ";") + "1;;itss;;运行维护;x;运维;乙公司;\n"))
	f.Add([]byte("\xef\xbb\xbf" + strings.ReplaceAll(csvHeader, ",", "\t") + "\"a\"b\t\n"))
	f.Add([]byte("scheme,scope,org_name\nitss,\"unterminated\n"))
	f.Add([]byte("scheme,scope,org_name,org_name\n"))
	f.Add([]byte("\xff\xfe"))
	f.Add([]byte{})
	chk := testCheck(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Read(bytes.NewReader(data), chk)
		if err != nil {
			if file != nil {
				t.Fatalf("readCSV returned both a file and %v", err)
			}
			return
		}
		if len(file.Rows) == 0 && len(file.Errs) == 0 {
			t.Fatal("readCSV accepted a file without rows or errors")
		}
		if file.Bad > 0 == (len(file.Errs) == 0) {
			t.Fatalf("%d bad rows but %d errors", file.Bad, len(file.Errs))
		}
		keys := map[string]bool{}
		for i, r := range file.Rows {
			if r.Line < 2 || (i > 0 && r.Line <= file.Rows[i-1].Line) {
				t.Fatalf("row numbers out of order: %d after %v", r.Line, file.Rows[:i])
			}
			if v := ValidateRequest(&r.Req, chk.Schemes, chk.Now); len(v.Fields) > 0 {
				t.Fatalf("row %d was read as valid but validation says %v", r.Line, v.Fields)
			}
			if keys[r.Key] {
				t.Fatalf("row %d repeats the Idempotency-Key of an earlier row", r.Line)
			}
			keys[r.Key] = true
		}
		for _, e := range file.Errs {
			if e.Row < 2 {
				t.Fatalf("an error names row %d: %v", e.Row, e)
			}
		}
	})
}

// FuzzCSVCells: cells written by a spreadsheet (encoding/csv, with any of
// the three delimiters) read back as the same values, trimmed: what the
// operator typed is what certd is asked to issue.
func FuzzCSVCells(f *testing.F) {
	f.Add("甲公司", "信息系统运行维护服务", "a|b", "N-1", uint8(0))
	f.Add(" \"quoted\", name ", "scope; with; semicolons", " | ", "", uint8(1))
	f.Add("tab\tname", "line\nbreak", "x", "N\t2", uint8(2))
	f.Add("=cmd|' /C calc'!A0", "+1", "-2", "@3", uint8(0))
	chk := testCheck(f)
	f.Fuzz(func(t *testing.T, name, scope, sites, number string, delim uint8) {
		if strings.ContainsRune(name+scope+sites+number, '\r') {
			return // encoding/csv reads \r\n inside quotes as \n, by design
		}
		var buf bytes.Buffer
		w := csv.NewWriter(&buf)
		w.Comma = []rune{',', ';', '\t'}[delim%3]
		_ = w.Write([]string{"row_id", "issuer", "scheme", "number", "category", "level", "scope", "org_name", "uscc", "sites"})
		_ = w.Write([]string{"1", "default", "itss", number, "运行维护", "3", scope, name, "91110108MA0123456G", sites})
		w.Flush()
		file, err := Read(&buf, chk)
		if err != nil {
			if utf8.ValidString(name) && utf8.ValidString(scope) && utf8.ValidString(sites) && utf8.ValidString(number) {
				t.Fatalf("a one-row file written by encoding/csv is refused whole: %v", err)
			}
			return
		}
		if len(file.Rows) != 1 {
			return // a row error (e.g. an empty name): reported, not issued
		}
		req := file.Rows[0].Req
		var wantSites, gotSites []string
		for _, s := range strings.Split(strings.TrimSpace(sites), "|") {
			if s = strings.TrimSpace(s); s != "" {
				wantSites = append(wantSites, s)
			}
		}
		for _, s := range req.Sites {
			gotSites = append(gotSites, s.Name)
		}
		switch {
		case req.Organization.Name != strings.TrimSpace(name):
			t.Fatalf("org_name %q read as %q", name, req.Organization.Name)
		case req.Scope != strings.TrimSpace(scope):
			t.Fatalf("scope %q read as %q", scope, req.Scope)
		case req.Number != strings.TrimSpace(number):
			t.Fatalf("number %q read as %q", number, req.Number)
		case !slices.Equal(gotSites, wantSites):
			t.Fatalf("sites %q read as %q, want %q", sites, gotSites, wantSites)
		}
	})
}
