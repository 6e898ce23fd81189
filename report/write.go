package report

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"

	"github.com/xuri/excelize/v2"

	"github.com/certd/certd/cert"
)

// Report is a template filled for one period: per sheet, its rows of
// cells in column order, and the entries they came from.
type Report struct {
	Template *Template
	Period   Period
	Sheets   []SheetRows
}

// SheetRows is one filled sheet.
type SheetRows struct {
	Sheet   *Sheet
	Entries []Entry
	Rows    [][]string
}

// Build fills template t for period p from the certificates of one issuer
// (every certificate that may have changed in p; others are skipped).
func Build(t *Template, certs []*cert.Certificate, schemes cert.Schemes, x *Context, p Period) *Report {
	r := &Report{Template: t, Period: p}
	var changes, audits, current []Entry
	for i := range t.Sheets {
		s := &t.Sheets[i]
		var es []Entry
		switch s.Rows {
		case RowsChanges:
			if changes == nil {
				changes = Changes(certs, schemes, p)
			}
			es = changes
		case RowsAudits:
			if audits == nil {
				var sub Submitted
				if x != nil {
					sub = x.Submitted
				}
				audits = Audits(certs, schemes, p, sub)
			}
			es = audits
		case RowsCertificates:
			if current == nil {
				current = Current(certs, schemes, p)
			}
			es = current
		}
		rows := make([][]string, len(es))
		for j := range es {
			row := make([]string, len(s.Columns))
			for k := range s.Columns {
				row[k] = s.Columns[k].value(&es[j], x)
			}
			rows[j] = row
		}
		r.Sheets = append(r.Sheets, SheetRows{Sheet: s, Entries: es, Rows: rows})
	}
	return r
}

// Formats a report is written in.
const (
	FormatXLSX = "xlsx"
	FormatCSV  = "csv"
	FormatJSON = "json"
)

// ContentType returns the media type of a format.
func ContentType(format string) string {
	switch format {
	case FormatXLSX:
		return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	case FormatCSV:
		return "text/csv; charset=utf-8"
	}
	return "application/json"
}

// WriteXLSX writes the workbook: one sheet per template sheet, in order,
// the header row, then the rows; every cell is text, so that codes such
// as 01 keep their leading zero.
func (r *Report) WriteXLSX(w io.Writer) error {
	f := excelize.NewFile()
	defer f.Close()
	for i, s := range r.Sheets {
		if i == 0 {
			if err := f.SetSheetName(f.GetSheetName(0), s.Sheet.Name); err != nil {
				return fmt.Errorf("sheet %s: %w", s.Sheet.Name, err)
			}
		} else if _, err := f.NewSheet(s.Sheet.Name); err != nil {
			return fmt.Errorf("sheet %s: %w", s.Sheet.Name, err)
		}
		if err := streamSheet(f, s.Sheet.Name, len(s.Sheet.Columns), r.Template.Header(i), s.Rows); err != nil {
			return err
		}
	}
	// The first sheet is the active one already; SetActiveSheet would
	// parse the streamed sheets back.
	_, err := f.WriteTo(w)
	return err
}

// WriteCSV writes sheet i (a CSV file holds one sheet): the header row,
// then the rows.
func (r *Report) WriteCSV(w io.Writer, i int) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(r.Template.Header(i)); err != nil {
		return err
	}
	if err := cw.WriteAll(r.Sheets[i].Rows); err != nil {
		return err
	}
	return cw.Error()
}

// jsonRow keeps the template's column order in JSON.
type jsonRow struct {
	keys   []string
	values []string
}

func (r jsonRow) MarshalJSON() ([]byte, error) {
	b := []byte{'{'}
	for i, k := range r.keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = cert.AppendJSONString(b, k)
		b = append(b, ':')
		b = cert.AppendJSONString(b, r.values[i])
	}
	return append(b, '}'), nil
}

type jsonSheet struct {
	Name    string      `json:"name"`
	Rows    []jsonRow   `json:"rows,omitempty"`
	Batches [][]jsonRow `json:"batches,omitempty"`
}

// WriteJSON writes every sheet as a list of objects keyed by the columns'
// keys (their headers when they have none), in column order; a template
// with a batch size splits each list into batches of at most that many.
func (r *Report) WriteJSON(w io.Writer) error {
	out := struct {
		Report string      `json:"report"`
		Period string      `json:"period"`
		Sheets []jsonSheet `json:"sheets"`
	}{Report: r.Template.ID, Period: r.Period.Month, Sheets: []jsonSheet{}}
	for _, s := range r.Sheets {
		keys := make([]string, len(s.Sheet.Columns))
		for k, c := range s.Sheet.Columns {
			keys[k] = cmpOr(c.Key, c.Header)
		}
		rows := make([]jsonRow, len(s.Rows))
		for j, row := range s.Rows {
			rows[j] = jsonRow{keys: keys, values: row}
		}
		js := jsonSheet{Name: s.Sheet.Name}
		if n := r.Template.BatchSize; n > 0 {
			js.Batches = [][]jsonRow{}
			for len(rows) > 0 {
				k := min(n, len(rows))
				js.Batches = append(js.Batches, rows[:k])
				rows = rows[k:]
			}
		} else {
			js.Rows = rows
		}
		out.Sheets = append(out.Sheets, js)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", " ")
	enc.SetEscapeHTML(false)
	return enc.Encode(out)
}
