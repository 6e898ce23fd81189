// Package importfile reads the import files of bulk issuance (CSV with a
// header row naming the columns) into issue requests, checking every row
// with the server's own rules (issuer.Request.Check) and reporting every
// problem by row and column before anything is issued. certctl and the
// console both read files with it, so that a file accepted by one is
// accepted by the other, and a row has the same Idempotency-Key in both:
// re-importing a file issues nothing twice.
//
// It imports cert and issuer (the request type) and the standard library.
package importfile

import (
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/issuer"
)

// Column documents one column of an import CSV and the request field it
// fills.
type Column struct {
	Name     string
	Field    string // JSON field of the request; "" for row_id
	Required bool   // the header must have it
	Doc      string
}

// Columns are the columns of an import CSV, in the order of the sample
// file. The help text and the README are generated from this table.
var Columns = []Column{
	{"row_id", "", false, "your reference of the row (e.g. the audit file number); unique in the file; part of the Idempotency-Key; copied to the result"},
	{"issuer", "issuer", false, "issuer id; required with an admin key (or give --issuer), may be empty with an issuer key"},
	{"scheme", "scheme", true, "itss or iso17021 (or a scheme of --schemes-file)"},
	{"number", "number", false, "certificate number; empty: assigned from the issuer's pattern; unique per issuer in the file"},
	{"standard", "standard", false, "e.g. GB/T 28827.1-2022"},
	{"category", "category", false, "itss: 运行维护, 咨询设计, 数据中心 or 云计算; iso17021: empty"},
	{"level", "level", false, "itss: 1 to 4; iso17021: empty"},
	{"scope", "scope", true, "certified scope (Chinese); required"},
	{"scope_en", "scopeEn", false, "certified scope in English"},
	{"sites", "sites", false, "names of the certified sites, separated by |"},
	{"site_addresses", "sites[].address", false, "addresses of the sites, separated by |, in the order of sites (may be empty)"},
	{"site_scopes", "sites[].scope", false, "scope at each site, separated by |, in the order of sites (may be empty)"},
	{"assessment_body", "assessmentBody", false, "who audited, when not the issuer"},
	{"decision_date", "decisionDate", false, "certification decision date, YYYY-MM-DD"},
	{"valid_from", "validFrom", false, "first day of validity, YYYY-MM-DD; empty: the day it is issued; past dates import existing certificates"},
	{"original_date", "originalDate", false, "original certification date, YYYY-MM-DD (renewed certificates)"},
	{"org_name", "organization.name", true, "legal name of the organization, as on its business licence; required"},
	{"org_name_en", "organization.nameEn", false, "English name"},
	{"uscc", "organization.uscc", false, "unified social credit code, 18 characters with its GB 32100 check character; required when country is CN"},
	{"address", "organization.address", false, "address"},
	{"country", "organization.country", false, "ISO 3166-1 alpha-2 code; empty: CN"},
	{"organization_email", "organization.email", false, "contact e-mail of the organization for notifications (private: never published)"},
	{"audit_type", "audit.type", false, "audit record (optional, for regulators' reports): initial, surveillance, recertification or special"},
	{"audit_mode", "audit.mode", false, "FS01 on site, FS02 remote, FS03 combined"},
	{"audit_first_day", "audit.firstDay", false, "first day of the audit, YYYY-MM-DD"},
	{"audit_last_day", "audit.lastDay", false, "last day of the audit, YYYY-MM-DD"},
	{"audit_team", "audit.team", false, "members as name:role, separated by |; roles leader (one), auditor, technical_expert, observer, trainee, interpreter"},
	{"audit_person_days", "audit.personDays", false, "on-site person-days, e.g. 2.5"},
	{"audit_decision_date", "audit.decisionDate", false, "date of the certification decision, YYYY-MM-DD"},
	{"audit_decision_makers", "audit.decisionMakers", false, "names of the decision makers, separated by |"},
	{"technical_areas", "audit.technicalAreas", false, "IAF sector codes 01 to 39 (optionally .sub-code), separated by |, e.g. 28|19.1"},
	{"employees", "audit.employees", false, "number of employees the certification covers"},
}

// ColumnsHelp is the column table of "certctl issue -h".
func ColumnsHelp() string {
	var b strings.Builder
	b.WriteString("CSV columns (a header row names them, in any order; UTF-8, comma-, semicolon- or\ntab-separated; row numbers in messages count the header as row 1):\n")
	for _, c := range Columns {
		fmt.Fprintf(&b, "  %-16s %s\n", c.Name, c.Doc)
	}
	return b.String()
}

// ColumnOf maps a request field name (as certd and validate name it) to
// its CSV column.
func ColumnOf(field string) string {
	base := field
	if i := strings.IndexByte(base, '['); i >= 0 {
		base = base[:i]
	}
	for _, c := range Columns {
		if c.Field != "" && c.Field == base {
			return c.Name
		}
	}
	return field
}

// Row is one data row of an import.
type Row struct {
	// Line is the spreadsheet row number (the header is row 1).
	Line  int
	RowID string
	Req   issuer.Request
	// Key is the Idempotency-Key of the row.
	Key string
}

// RowError is one problem of one row.
type RowError struct {
	Row     int    `json:"row"`
	Column  string `json:"column,omitempty"`
	Message string `json:"message"`
}

func (e RowError) String() string {
	if e.Column == "" {
		return fmt.Sprintf("row %d: %s", e.Row, e.Message)
	}
	return fmt.Sprintf("row %d, column %s: %s", e.Row, e.Column, e.Message)
}

// Check is what validation knows beyond the file.
type Check struct {
	Schemes       cert.Schemes
	Now           time.Time
	DefaultIssuer string
	// Issuers, when not nil, lists the issuers that exist (the API key is an
	// admin key, which must name one on every row).
	Issuers map[string]bool
}

// File is a read and validated import file.
type File struct {
	// Rows are the valid rows.
	Rows []Row
	// Errs holds every problem of every bad row, in file order.
	Errs []RowError
	// Bad is the number of bad rows.
	Bad int
}

// Read reads and validates an import file. It returns the valid rows,
// every row error (all of them, not the first) and a file-level error when
// the file cannot be read as a CSV of known columns.
func Read(r io.Reader, chk Check) (*File, error) {
	data, err := io.ReadAll(io.LimitReader(r, 512<<20))
	if err != nil {
		return nil, err
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if !utf8.Valid(data) {
		line := 1 + bytes.Count(data[:firstInvalidUTF8(data)], []byte("\n"))
		return nil, fmt.Errorf("line %d is not UTF-8: save the sheet as \"CSV UTF-8\" (Excel) or convert it, e.g. iconv -f GBK -t UTF-8", line)
	}
	cr := csv.NewReader(bytes.NewReader(data))
	cr.Comma = detectDelimiter(data)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err == io.EOF {
		return nil, errors.New("the file is empty: it needs a header row naming the columns")
	}
	if err != nil {
		return nil, fmt.Errorf("header: %v", err)
	}
	cols, err := headerColumns(header)
	if err != nil {
		return nil, err
	}
	var (
		rows     []Row
		errs     []RowError
		numbers  = map[string]int{} // issuer \x00 number -> row
		rowIDs   = map[string]int{}
		keys     = map[string]int{}
		rowIndex = 1
		bad      int
	)
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		rowIndex++
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				errs = append(errs, RowError{Row: rowIndex, Message: fmt.Sprintf("cannot be read (line %d: %v)", pe.Line, pe.Err)})
				bad++
				continue
			}
			return nil, err
		}
		if blank(rec) {
			continue
		}
		if len(rec) != len(header) {
			errs = append(errs, RowError{Row: rowIndex, Message: fmt.Sprintf("has %d cells but the header has %d columns", len(rec), len(header))})
			bad++
			continue
		}
		row, rerrs := buildRow(rowIndex, rec, cols, chk)
		// Duplicates are looked for on bad rows too, so that one run
		// reports every problem of the file.
		if row.RowID != "" {
			if first, dup := rowIDs[row.RowID]; dup {
				rerrs = append(rerrs, RowError{Row: rowIndex, Column: "row_id", Message: fmt.Sprintf("%q is also the row_id of row %d: row ids must be unique in the file", row.RowID, first)})
			} else {
				rowIDs[row.RowID] = rowIndex
			}
		}
		if row.Req.Number != "" {
			k := row.Req.Issuer + "\x00" + row.Req.Number
			if first, dup := numbers[k]; dup {
				rerrs = append(rerrs, RowError{Row: rowIndex, Column: "number", Message: fmt.Sprintf("%q is also the number of row %d: a number is used once per issuer", row.Req.Number, first)})
			} else {
				numbers[k] = rowIndex
			}
		}
		if first, dup := keys[row.Key]; dup {
			rerrs = append(rerrs, RowError{Row: rowIndex, Message: fmt.Sprintf("repeats row %d exactly: it would be issued once; if two certificates are meant, give each row its own row_id", first)})
		} else {
			keys[row.Key] = rowIndex
		}
		if len(rerrs) > 0 {
			errs = append(errs, rerrs...)
			bad++
			continue
		}
		rows = append(rows, row)
	}
	if len(rows) == 0 && len(errs) == 0 {
		return nil, errors.New("the file has a header but no rows")
	}
	return &File{Rows: rows, Errs: errs, Bad: bad}, nil
}

func firstInvalidUTF8(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return len(b)
}

// detectDelimiter picks the separator of the header line: a comma, or a
// semicolon or tab as some spreadsheet locales write.
func detectDelimiter(data []byte) rune {
	line, _, _ := bytes.Cut(data, []byte("\n"))
	best, n := ',', bytes.Count(line, []byte(","))
	for _, d := range []rune{';', '\t'} {
		if c := bytes.Count(line, []byte(string(d))); c > n {
			best, n = d, c
		}
	}
	return best
}

func blank(rec []string) bool {
	for _, c := range rec {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

// headerColumns maps each cell of the header to its column; unknown or
// repeated names and missing required columns are errors.
func headerColumns(header []string) ([]*Column, error) {
	cols := make([]*Column, len(header))
	seen := map[string]bool{}
	var problems []string
	for i, h := range header {
		name := normalizeColumn(h)
		j := slices.IndexFunc(Columns, func(c Column) bool { return c.Name == name })
		switch {
		case j < 0:
			problems = append(problems, fmt.Sprintf("column %d %q is not a known column", i+1, h))
		case seen[name]:
			problems = append(problems, fmt.Sprintf("column %q appears twice", name))
		default:
			cols[i] = &Columns[j]
			seen[name] = true
		}
	}
	for _, c := range Columns {
		if c.Required && !seen[c.Name] {
			problems = append(problems, fmt.Sprintf("required column %q is missing", c.Name))
		}
	}
	if len(problems) > 0 {
		names := make([]string, len(Columns))
		for i, c := range Columns {
			names[i] = c.Name
		}
		return nil, fmt.Errorf("header (row 1): %s; the columns are: %s (see certctl issue -h)", strings.Join(problems, "; "), strings.Join(names, ", "))
	}
	return cols, nil
}

func normalizeColumn(h string) string {
	h = strings.ToLower(strings.TrimSpace(h))
	return strings.NewReplacer(" ", "_", "-", "_").Replace(h)
}

// buildRow turns one record into a request and checks it.
func buildRow(rowIndex int, rec []string, cols []*Column, chk Check) (Row, []RowError) {
	row := Row{Line: rowIndex}
	req := &row.Req
	var errs []RowError
	var siteAddresses, siteScopes []string
	for i, col := range cols {
		v := strings.TrimSpace(rec[i])
		switch col.Name {
		case "row_id":
			row.RowID = v
		case "issuer":
			req.Issuer = v
		case "scheme":
			req.Scheme = v
		case "number":
			req.Number = v
		case "standard":
			req.Standard = v
		case "category":
			req.Category = v
		case "level":
			if v != "" {
				n, err := strconv.Atoi(v)
				if err != nil {
					errs = append(errs, RowError{rowIndex, "level", fmt.Sprintf("%q is not a whole number", v)})
				}
				req.Level = n
			}
		case "scope":
			req.Scope = v
		case "scope_en":
			req.ScopeEn = v
		case "sites":
			for _, s := range strings.Split(v, "|") {
				if s = strings.TrimSpace(s); s != "" {
					req.Sites = append(req.Sites, cert.Site{Name: s})
				}
			}
		case "site_addresses":
			siteAddresses = splitList(v)
		case "site_scopes":
			siteScopes = splitList(v)
		case "assessment_body":
			req.AssessmentBody = v
		case "decision_date":
			req.DecisionDate = v
		case "valid_from":
			req.ValidFrom = v
		case "original_date":
			req.OriginalDate = v
		case "org_name":
			req.Organization.Name = v
		case "org_name_en":
			req.Organization.NameEn = v
		case "uscc":
			req.Organization.USCC = v
		case "address":
			req.Organization.Address = v
		case "country":
			req.Organization.Country = v
		case "organization_email":
			req.Organization.Email = cert.NormalizeEmail(v)
		default:
			if strings.HasPrefix(col.Field, "audit.") && v != "" {
				if req.Audit == nil {
					req.Audit = &cert.Audit{}
				}
				if e := setAudit(req.Audit, col.Name, v); e != "" {
					errs = append(errs, RowError{rowIndex, col.Name, e})
				}
			}
		}
	}
	for _, f := range []struct {
		name   string
		values []string
		set    func(*cert.Site, string)
	}{
		{"site_addresses", siteAddresses, func(s *cert.Site, v string) { s.Address = v }},
		{"site_scopes", siteScopes, func(s *cert.Site, v string) { s.Scope = v }},
	} {
		if len(f.values) > len(req.Sites) {
			errs = append(errs, RowError{rowIndex, f.name, fmt.Sprintf("has %d entries but sites names %d sites: give one entry per site, in the same order", len(f.values), len(req.Sites))})
			continue
		}
		for i, v := range f.values {
			f.set(&req.Sites[i], v)
		}
	}
	if req.Issuer == "" {
		req.Issuer = chk.DefaultIssuer
	}
	if len(row.RowID) > 100 {
		errs = append(errs, RowError{rowIndex, "row_id", "must be at most 100 characters"})
	}
	if chk.Issuers != nil {
		switch {
		case req.Issuer == "":
			errs = append(errs, RowError{rowIndex, "issuer", "is required with an admin API key (or pass --issuer for every row)"})
		case !chk.Issuers[req.Issuer]:
			errs = append(errs, RowError{rowIndex, "issuer", fmt.Sprintf("no issuer %q exists on the server: one of %q", req.Issuer, slices.Sorted(maps.Keys(chk.Issuers)))})
		}
	}
	levelBad := len(errs) > 0 && slices.ContainsFunc(errs, func(e RowError) bool { return e.Column == "level" })
	for _, f := range ValidateRequest(req, chk.Schemes, chk.Now).Fields {
		col := ColumnOf(f.Field)
		if col == "level" && levelBad {
			continue
		}
		errs = append(errs, RowError{rowIndex, col, f.Message})
	}
	row.Key = idempotencyKey(row)
	return row, errs
}

// idempotencyKey derives the Idempotency-Key of a row from what the row
// asks for, not from where it stands: the request (issuer included, as it
// is sent) and the row_id, hashed with SHA-256. The same row in a re-run of
// the file, after an interruption, after rows were added, removed or
// sorted, or under another file name, has the same key, so certd answers
// with the certificate it already issued; two rows that differ in any cell
// have different keys, and Read refuses two identical rows. A row edited
// between runs is a new request: certd issues it as a new certificate.
func idempotencyKey(r Row) string {
	body, _ := json.Marshal(r.Req) // a struct of strings and ints: cannot fail
	h := sha256.New()
	h.Write([]byte("certctl-csv/v1\x00"))
	h.Write(body)
	h.Write([]byte{0})
	h.Write([]byte(r.RowID))
	return "certctl-csv-" + hex.EncodeToString(h.Sum(nil))
}

// splitList splits a |-separated cell, keeping empty entries in the
// middle (a site without an address) but not a wholly empty cell.
func splitList(v string) []string {
	if strings.TrimSpace(v) == "" {
		return nil
	}
	parts := strings.Split(v, "|")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return parts
}

// ValidateRequest applies locally the rules certd applies to an issue
// request (the same code: issuer.Request.Check), plus the shape of an
// issuer id, so that mistakes are reported before anything is sent.
func ValidateRequest(r *issuer.Request, schemes cert.Schemes, now time.Time) *cert.ValidationError {
	v := r.Check(schemes, now)
	if r.Issuer != "" && !IssuerIDShape(r.Issuer) {
		v.Add("issuer", "must be an issuer id: lower-case letters, digits and '-', e.g. default")
	}
	return v
}

// IssuerIDShape reports whether s has the shape of an issuer id.
func IssuerIDShape(s string) bool {
	if s == "" || len(s) > 64 || s[0] == '-' {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

// setAudit fills the audit field of column name from cell v, returning a
// message when v cannot be read; the record's own rules are checked with
// the rest of the request.
func setAudit(a *cert.Audit, name, v string) string {
	switch name {
	case "audit_type":
		a.Type = v
	case "audit_mode":
		a.Mode = strings.ToUpper(v)
	case "audit_first_day":
		a.FirstDay = v
	case "audit_last_day":
		a.LastDay = v
	case "audit_decision_date":
		a.DecisionDate = v
	case "audit_team":
		for _, m := range splitList(v) {
			name, role, ok := strings.Cut(m, ":")
			if !ok {
				return fmt.Sprintf("%q is not name:role (e.g. 张三:leader)", m)
			}
			a.Team = append(a.Team, cert.AuditMember{Name: strings.TrimSpace(name), Role: strings.TrimSpace(role)})
		}
	case "audit_person_days":
		d, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return fmt.Sprintf("%q is not a number of person-days (e.g. 2.5)", v)
		}
		a.PersonDays = d
	case "audit_decision_makers":
		a.DecisionMakers = splitList(v)
	case "technical_areas":
		a.TechnicalAreas = splitList(v)
	case "employees":
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Sprintf("%q is not a whole number", v)
		}
		a.Employees = n
	}
	return ""
}
