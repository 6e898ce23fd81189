package report_test

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/report"
)

func schemes(tb testing.TB) cert.Schemes {
	tb.Helper()
	s, err := cert.NewSchemes(cert.BuiltinSchemes())
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// certificates makes n certificates of November 2026's issuer: created
// over 2024-2026, and changed (suspended with a code) changes of them in
// the month.
func certificates(tb testing.TB, n, changes int) []*cert.Certificate {
	tb.Helper()
	loc, err := cert.LoadLocation("Asia/Shanghai")
	if err != nil {
		tb.Fatal(err)
	}
	start := time.Date(2024, 1, 1, 9, 0, 0, 0, loc)
	step := time.Date(2026, 11, 30, 0, 0, 0, 0, loc).Sub(start) / time.Duration(n)
	out := make([]*cert.Certificate, n)
	for i := range out {
		created := start.Add(time.Duration(i) * step)
		from, until := cert.ValidityPeriod(created, loc, 36)
		c := &cert.Certificate{
			ID: cert.NewID(), Number: fmt.Sprintf("itss-%d-%06d", created.Year(), i), Issuer: "cb", Scheme: "iso17021",
			Standard: "ISO 9001:2015", Scope: "软件开发",
			Organization: cert.Organization{Name: fmt.Sprintf("示例%06d有限公司", i), USCC: "91110108MA0123456G", Address: "北京市海淀区"},
			ValidFrom:    from, ValidUntil: until, TimeZone: "Asia/Shanghai", CreatedAt: created,
		}
		c.Append(cert.Event{Type: cert.EventIssued, At: created, RecordedAt: created})
		// Audits on time, so that most certificates stay active.
		for m := 6; m < 30; m += 12 {
			if at := from.AddDate(0, m, 0); at.Before(time.Date(2026, 11, 1, 0, 0, 0, 0, loc)) {
				c.Append(cert.Event{Type: cert.EventSurveillancePassed, At: at, RecordedAt: at})
			}
		}
		out[i] = c
	}
	for i := range changes {
		c := out[i*(n/changes)]
		at := time.Date(2026, 11, 1+i%28, 10, 0, 0, 0, loc)
		if c.ValidUntil.After(at) {
			c.Append(cert.Event{Type: cert.EventSuspended, At: at, RecordedAt: at, Reason: "客户申请", ReasonCode: "0113"})
		}
	}
	return out
}

func TestBuildNormalizesNumbers(t *testing.T) {
	ts, err := report.LoadTemplates("")
	if err != nil {
		t.Fatal(err)
	}
	certs := certificates(t, 300, 10)
	certs[len(certs)-1].Number = "itss 2026 x1"
	p, _ := report.ParsePeriod("2026-11", certs[0].Location())
	r := report.Build(ts["cnca"], certs, schemes(t), &report.Context{}, p)
	var buf bytes.Buffer
	if err := r.WriteCSV(&buf, 0); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "\nITSS2026X1,") || strings.Contains(buf.String(), "itss") {
		t.Errorf("numbers must be upper case without spaces:\n%s", buf.String())
	}
}

// BenchmarkCNCAWorkbook is the figure of the issue: the monthly CNCA
// workbook of an issuer with 100,000 certificates and 5,000 changes in
// the month (run it once: -bench CNCAWorkbook -benchtime 1x).
func BenchmarkCNCAWorkbook(b *testing.B) {
	ts, err := report.LoadTemplates("")
	if err != nil {
		b.Fatal(err)
	}
	certs := certificates(b, 100_000, 5_000)
	sc := schemes(b)
	p, _ := report.ParsePeriod("2026-11", certs[0].Location())
	b.ResetTimer()
	for b.Loop() {
		r := report.Build(ts["cnca"], certs, sc, &report.Context{}, p)
		if err := r.WriteXLSX(io.Discard); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(len(r.Sheets[0].Rows)), "rows")
	}
}

func TestPeriod(t *testing.T) {
	loc, err := cert.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	p, err := report.ParsePeriod("2026-12", loc)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Deadline(10); !got.Equal(time.Date(2027, 1, 11, 0, 0, 0, 0, loc)) {
		t.Errorf("deadline %v, want the end of 2027-01-10 in Beijing", got)
	}
	// The month is the issuer's: 2026-11-30 16:00 UTC is December in Beijing.
	if got := report.PeriodOf(time.Date(2026, 11, 30, 16, 0, 0, 0, time.UTC), loc).Month; got != "2026-12" {
		t.Errorf("period of 2026-11-30T16:00Z = %s, want 2026-12", got)
	}
	for _, bad := range []string{"2026-13", "2026-1", "202611", "2026-11-01", ""} {
		if _, err := report.ParsePeriod(bad, loc); err == nil || !strings.Contains(err.Error(), "period") {
			t.Errorf("ParsePeriod(%q) = %v, want an error naming period", bad, err)
		}
	}
}

func TestParseTemplateRefuses(t *testing.T) {
	for name, tc := range map[string]struct{ json, field string }{
		"unknown member": {`{"id":"cnca","sheets":[],"colums":[]}`, "colums"},
		"no sheets":      {`{"id":"cnca","sheets":[]}`, "sheets"},
		"bad sheet name": {`{"id":"cnca","sheets":[{"name":"a/b","rows":"changes","columns":[{"header":"h","field":"number"}]}]}`, "sheets[0].name"},
		"bad rows":       {`{"id":"cnca","sheets":[{"name":"a","rows":"x","columns":[{"header":"h","field":"number"}]}]}`, "sheets[0].rows"},
		"no header":      {`{"id":"cnca","sheets":[{"name":"a","rows":"changes","columns":[{"field":"number"}]}]}`, "sheets[0].columns[0].header"},
		"nothing fills":  {`{"id":"cnca","sheets":[{"name":"a","rows":"changes","columns":[{"header":"h"}]}]}`, "sheets[0].columns[0]"},
		"unknown field":  {`{"id":"cnca","sheets":[{"name":"a","rows":"changes","columns":[{"header":"h","field":"number|nope"}]}]}`, "sheets[0].columns[0].field"},
	} {
		if _, err := report.ParseTemplate([]byte(tc.json)); err == nil || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%s: got %v, want an error naming %s", name, err, tc.field)
		}
	}
}
