package report

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/certd/certd/cert"
)

// Column is one column of a sheet: its header, the key of its value in
// the JSON form (the header when empty), and what fills it: Field (the
// first non-empty of fields joined by "|") or the constant Value. Map,
// when set, replaces the field's value by a regulator's code ("*" for any
// other value; without it an unmapped value stays as it is). Format is
// the Go time layout of date fields (default 2006-01-02).
type Column struct {
	Header string            `json:"header"`
	Key    string            `json:"key,omitempty"`
	Field  string            `json:"field,omitempty"`
	Value  string            `json:"value,omitempty"`
	Map    map[string]string `json:"map,omitempty"`
	Format string            `json:"format,omitempty"`
}

// Row sources: what one row of a sheet stands for.
const (
	// RowsChanges is one row per certificate and change in the period:
	// issued, and every change of status (recorded or derived).
	RowsChanges = "changes"
	// RowsAudits is one row per surveillance audit dated in the period.
	RowsAudits = "audits"
	// RowsCertificates is one row per certificate issued or changed in
	// the period, with its status at the end of the period; confidential
	// certificates are left out.
	RowsCertificates = "certificates"
)

// Sheet is one sheet of a report.
type Sheet struct {
	Name    string   `json:"name"`
	Rows    string   `json:"rows"`
	Columns []Column `json:"columns"`
}

// Template describes one report.
type Template struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// DeadlineDay is the day of the month after the period by which the
	// report is due (CNCA: 10); 0 means no deadline.
	DeadlineDay int `json:"deadlineDay,omitempty"`
	// BatchSize splits the rows of the JSON form into batches of at most
	// this many (IAF CertSearch: 100); 0 keeps one list.
	BatchSize int     `json:"batchSize,omitempty"`
	Sheets    []Sheet `json:"sheets"`
}

// Header returns the header row of sheet i.
func (t *Template) Header(i int) []string {
	h := make([]string, len(t.Sheets[i].Columns))
	for j, c := range t.Sheets[i].Columns {
		h[j] = c.Header
	}
	return h
}

// Validate checks a template; field names are JSON paths.
func (t *Template) Validate() error {
	var v cert.ValidationError
	if t.ID == "" {
		v.Add("id", "is required")
	}
	if len(t.Sheets) == 0 {
		v.Add("sheets", "must name at least one sheet")
	}
	if t.DeadlineDay < 0 || t.DeadlineDay > 28 {
		v.Add("deadlineDay", "must be between 0 and 28")
	}
	if t.BatchSize < 0 {
		v.Add("batchSize", "must not be negative")
	}
	names := map[string]bool{}
	for i, s := range t.Sheets {
		f := fmt.Sprintf("sheets[%d]", i)
		// Excel's own limits on sheet names.
		if s.Name == "" || len([]rune(s.Name)) > 31 || strings.ContainsAny(s.Name, `:\/?*[]`) {
			v.Add(f+".name", `must be 1-31 characters without : \ / ? * [ ]`)
		} else if names[s.Name] {
			v.Add(f+".name", "duplicate sheet name")
		}
		names[s.Name] = true
		if !slices.Contains([]string{RowsChanges, RowsAudits, RowsCertificates}, s.Rows) {
			v.Add(f+".rows", `must be "changes", "audits" or "certificates"`)
		}
		if len(s.Columns) == 0 {
			v.Add(f+".columns", "must have at least one column")
		}
		for j, c := range s.Columns {
			cf := fmt.Sprintf("%s.columns[%d]", f, j)
			if c.Header == "" {
				v.Add(cf+".header", "is required")
			}
			if c.Field == "" && c.Value == "" {
				v.Add(cf, "must have a field or a value")
			}
			for _, name := range strings.Split(c.Field, "|") {
				if c.Field != "" && !knownField(name) {
					v.Add(cf+".field", fmt.Sprintf("unknown field %q: the fields are %s", name, strings.Join(FieldNames(), ", ")))
				}
			}
		}
	}
	return v.Err()
}

//go:embed templates/*.json
var builtin embed.FS

// Targets lists the report targets certd knows, in order.
var Targets = []string{"cnca", "iafcertsearch"}

// Templates holds the report templates by target.
type Templates map[string]*Template

// LoadTemplates reads the embedded templates and, when dir is not empty,
// replaces each by the file of the same name (cnca.json,
// iafcertsearch.json) found in dir. Files are read once, at start; a
// changed file takes effect at the next start, without a rebuild.
func LoadTemplates(dir string) (Templates, error) {
	out := Templates{}
	for _, target := range Targets {
		name := target + ".json"
		b, err := fs.ReadFile(builtin, "templates/"+name)
		if err != nil {
			return nil, fmt.Errorf("embedded template %s: %w", name, err)
		}
		src := "embedded " + name
		if dir != "" {
			p := filepath.Join(dir, name)
			switch fb, err := os.ReadFile(p); {
			case err == nil:
				b, src = fb, p
			case !errors.Is(err, fs.ErrNotExist):
				return nil, fmt.Errorf("report template: %w", err)
			}
		}
		t, err := ParseTemplate(b)
		if err != nil {
			return nil, fmt.Errorf("report template %s: %w", src, err)
		}
		if t.ID != target {
			return nil, fmt.Errorf("report template %s: id is %q, want %q (the file name)", src, t.ID, target)
		}
		out[target] = t
	}
	return out, nil
}

// ParseTemplate decodes and validates one template; unknown members are
// an error, so a misspelt key does not silently drop a column.
func ParseTemplate(b []byte) (*Template, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var t Template
	if err := dec.Decode(&t); err != nil {
		return nil, err
	}
	if err := t.Validate(); err != nil {
		return nil, err
	}
	return &t, nil
}
