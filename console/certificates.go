package console

import (
	"bytes"
	"encoding/csv"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/importfile"
	"github.com/certd/certd/issuer"
	"github.com/certd/certd/report"
)

// listFilter is the certificate list's query: every field is a query
// parameter of the same name, so a filtered list is a bookmark.
type listFilter struct {
	Status, Scheme, Standard, Surveillance, Text, From, To, Sort string
	Page                                                         int
}

const pageSize = 50

func parseFilter(v url.Values) listFilter {
	f := listFilter{Status: v.Get("status"), Scheme: v.Get("scheme"), Standard: v.Get("standard"),
		Surveillance: v.Get("surveillance"), Text: strings.TrimSpace(v.Get("q")), From: v.Get("from"), To: v.Get("to"), Sort: v.Get("sort")}
	f.Page, _ = strconv.Atoi(v.Get("page"))
	f.Page = max(f.Page, 1)
	return f
}

func (f listFilter) match(r row) bool {
	c := r.C
	switch {
	case f.Status != "" && string(r.St.Status) != f.Status,
		f.Scheme != "" && c.Scheme != f.Scheme,
		f.Standard != "" && !strings.Contains(strings.ToLower(c.Standard), strings.ToLower(f.Standard)),
		f.Surveillance != "" && string(r.St.Surveillance.State) != f.Surveillance,
		f.From != "" && c.ValidFrom.Format(cert.DateLayout) < f.From,
		f.To != "" && c.ValidFrom.Format(cert.DateLayout) > f.To:
		return false
	}
	if f.Text == "" {
		return true
	}
	t := strings.ToLower(f.Text)
	return strings.EqualFold(c.Number, f.Text) || strings.EqualFold(c.Organization.USCC, f.Text) ||
		strings.Contains(strings.ToLower(c.Organization.Name), t) || strings.Contains(strings.ToLower(c.Organization.NameEn), t) ||
		strings.Contains(strings.ToLower(c.Number), t)
}

// query returns the filter as a query string, with page set to p.
func (f listFilter) query(p int) string {
	v := url.Values{}
	for k, s := range map[string]string{"status": f.Status, "scheme": f.Scheme, "standard": f.Standard, "surveillance": f.Surveillance,
		"q": f.Text, "from": f.From, "to": f.To, "sort": f.Sort} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if p > 1 {
		v.Set("page", strconv.Itoa(p))
	}
	return v.Encode()
}

// filtered reads the issuer's certificates that match f, sorted.
func (c *Console) filtered(q *request, f listFilter) ([]row, error) {
	var rows []row
	err := c.each(q.r.Context(), q.principal(), issuer.Query{Scheme: f.Scheme}, func(crt *cert.Certificate) bool {
		r := row{C: crt, St: c.iss.StatusOf(crt)}
		if f.match(r) {
			rows = append(rows, r)
		}
		return true
	})
	switch f.Sort {
	case "number":
		slices.SortStableFunc(rows, func(a, b row) int { return strings.Compare(a.C.Number, b.C.Number) })
	case "validUntil":
		slices.SortStableFunc(rows, func(a, b row) int { return a.C.ValidUntil.Compare(b.C.ValidUntil) })
	case "organization":
		slices.SortStableFunc(rows, func(a, b row) int { return strings.Compare(a.C.Organization.Name, b.C.Organization.Name) })
	default: // newest first
		slices.Reverse(rows)
	}
	return rows, err
}

func (c *Console) certificates(q *request) error {
	f := parseFilter(q.r.URL.Query())
	rows, err := c.filtered(q, f)
	if err != nil {
		return err
	}
	switch q.r.URL.Query().Get("format") {
	case "csv":
		return writeCSV(q.w, rows)
	case "xlsx":
		return writeXLSX(q.w, rows)
	}
	start := (f.Page - 1) * pageSize
	pageRows := rows[min(start, len(rows)):min(start+pageSize, len(rows))]
	data := map[string]any{"F": f, "Rows": pageRows, "Count": len(rows), "Schemes": c.iss.Schemes().IDs(),
		"Statuses":      []string{"active", "suspended", "withdrawn", "cancelled", "expired", "superseded"},
		"Surveillances": []string{"not_due", "due", "done", "overdue", "none"},
		"CSV":           "?" + f.query(0) + "&format=csv",
		"XLSX":          "?" + f.query(0) + "&format=xlsx"}
	if start+pageSize < len(rows) {
		data["Next"] = "?" + f.query(f.Page+1)
	}
	if f.Page > 1 {
		data["Prev"] = "?" + f.query(f.Page-1)
	}
	return c.page(q, http.StatusOK, "certificates", data)
}

// exportHeader and exportRow are the columns of the CSV and XLSX exports.
var exportHeader = []string{"id", "number", "scheme", "standard", "category", "level", "organization.name", "organization.nameEn", "organization.uscc", "status", "surveillance", "validFrom", "validUntil"}

func exportRow(r row) []string {
	c := r.C
	level := ""
	if c.Level > 0 {
		level = strconv.Itoa(c.Level)
	}
	rec := []string{c.ID, c.Number, c.Scheme, c.Standard, c.Category, level, c.Organization.Name, c.Organization.NameEn,
		c.Organization.USCC, string(r.St.Status), string(r.St.Surveillance.State), c.ValidFrom.Format(cert.DateLayout),
		c.ValidUntil.AddDate(0, 0, -1).Format(cert.DateLayout)}
	for i := range rec {
		rec[i] = importfile.SafeCell(rec[i])
	}
	return rec
}

func writeCSV(w http.ResponseWriter, rows []row) error {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="certificates.csv"`)
	_, _ = w.Write([]byte("\ufeff")) // so that spreadsheet programs read UTF-8
	cw := csv.NewWriter(w)
	_ = cw.Write(exportHeader)
	for _, r := range rows {
		if err := cw.Write(exportRow(r)); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// writeXLSX exports the rows as a workbook of text cells.
func writeXLSX(w http.ResponseWriter, rows []row) error {
	out := make([][]string, len(rows))
	for i, r := range rows {
		out[i] = exportRow(r)
	}
	var buf bytes.Buffer
	if err := report.WriteTable(&buf, "certificates", exportHeader, out); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	w.Header().Set("Content-Disposition", `attachment; filename="certificates.xlsx"`)
	_, err := w.Write(buf.Bytes())
	return err
}

func (c *Console) certificate(q *request) error {
	crt, err := c.iss.Certificate(q.r.Context(), q.principal(), q.r.PathValue("id"))
	if err != nil {
		return err
	}
	orgs, err := c.iss.ConfidentialOrganizations(q.r.Context(), crt.Issuer)
	if err != nil {
		return err
	}
	return c.page(q, http.StatusOK, "certificate", map[string]any{"C": crt, "St": c.iss.StatusOf(crt), "Actions": c.actionsFor(q, crt),
		"OrgConfidential": orgs[crt.Organization.USCC]})
}

// confidentialValue reads the posted flag: "true" or "false".
func confidentialValue(q *request) (bool, error) {
	switch q.r.PostFormValue("confidential") {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, cert.Invalid("confidential", "must be true or false")
}

// setConfidential sets or clears a certificate's own confidential flag.
func (c *Console) setConfidential(q *request) error {
	on, err := confidentialValue(q)
	if err != nil {
		return err
	}
	crt, err := c.iss.SetConfidential(q.r.Context(), q.principal(), q.r.PathValue("id"), on)
	if err != nil {
		return err
	}
	return seeOther(q.w, q.r, prefix+"/certificates/"+crt.ID)
}

// setOrganizationConfidential sets or clears the flag of an organization
// of the user's issuer, then shows the certificate it was set from.
func (c *Console) setOrganizationConfidential(q *request) error {
	on, err := confidentialValue(q)
	if err != nil {
		return err
	}
	if err := c.iss.SetOrganizationConfidential(q.r.Context(), q.principal(), q.user.Issuer, q.r.PathValue("uscc"), on); err != nil {
		return err
	}
	back := prefix + "/certificates"
	if id, ok := cert.NormalizeID(q.r.PostFormValue("certificate")); ok {
		back += "/" + id
	}
	return seeOther(q.w, q.r, back)
}

// actionsFor lists the lifecycle actions a writer may take now.
func (c *Console) actionsFor(q *request, crt *cert.Certificate) []string {
	if !q.principal().CanWrite(crt.Issuer) {
		return nil
	}
	st := c.iss.StatusOf(crt)
	switch st.Status {
	case cert.StatusActive:
		return []string{"surveillance", "suspend", "withdraw", "cancel", "renew", "revise"}
	case cert.StatusSuspended:
		return []string{"surveillance", "reinstate", "withdraw", "cancel", "renew"}
	}
	return nil
}

var errNoSuchAction = errors.New("no such action")
