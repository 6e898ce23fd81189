package api

import (
	"bytes"
	"cmp"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v5"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/report"
)

// The routes of reports to regulators and registries (DESIGN.md section
// 13): GET /api/v1/reports/{target} lists the periods with their
// outstanding changes and deadlines, GET .../{period} produces the report,
// POST .../{period}/submitted records what was submitted.

var defaultReports = sync.OnceValues(func() (report.Templates, error) { return report.LoadTemplates("") })

// reportTemplate returns the template of target, or a 404 naming the
// targets.
func (s *Server) reportTemplate(target string) (*report.Template, error) {
	ts := s.cfg.Reports
	if ts == nil {
		var err error
		if ts, err = defaultReports(); err != nil {
			return nil, err
		}
	}
	t, ok := ts[target]
	if !ok {
		return nil, fmt.Errorf("report target %q: the targets are %s: %w", target, strings.Join(report.Targets, ", "), cert.ErrNotFound)
	}
	return t, nil
}

// reportIssuer is the issuer a report is for: the key's own, or for an
// admin key the ?issuer= parameter.
func (s *Server) reportIssuer(c *echo.Context) (*cert.Issuer, error) {
	p := principal(c)
	id := p.Issuer
	if p.Role == cert.RoleAdmin {
		id = c.QueryParam("issuer")
		if id == "" {
			return nil, cert.Invalid("issuer", "is required with an admin key: the id of the issuer whose report this is")
		}
	}
	if !p.CanRead(id) {
		return nil, fmt.Errorf("issuer %s: %w", id, cert.ErrNotFound)
	}
	return s.cfg.Issuing.Issuer(c.Request().Context(), id)
}

// reportPeriods is GET /api/v1/reports/{target}.
func (s *Server) reportPeriods(c *echo.Context) error {
	t, err := s.reportTemplate(c.Param("target"))
	if err != nil {
		return err
	}
	if s.cfg.Submissions == nil {
		return newHTTPError(http.StatusServiceUnavailable, "unavailable", "Reports unavailable", "This server does not keep report submissions.")
	}
	is, err := s.reportIssuer(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	subs, err := s.cfg.Submissions.Submissions(ctx, is.ID, t.ID)
	if err != nil {
		return err
	}
	loc, err := cert.LoadLocation(is.TimeZone)
	if err != nil {
		loc = time.UTC
	}
	// The certificates are counted a page at a time; only the counts of
	// each month are kept.
	tally := report.NewTally(t, s.cfg.Issuing.Schemes(), subs, loc, s.cfg.Now())
	err = s.cfg.Issuing.EachReportCertificates(ctx, is.ID, func(page []*cert.Certificate) error {
		tally.Add(page)
		return nil
	})
	if err != nil {
		return err
	}
	out := struct {
		Target   string               `json:"target"`
		Issuer   string               `json:"issuer"`
		TimeZone string               `json:"timeZone"`
		Periods  []report.PeriodState `json:"periods"`
	}{Target: t.ID, Issuer: is.ID, TimeZone: loc.String(),
		Periods: tally.Periods()}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, out)
}

// reportFormat picks the format from ?format= or the Accept header.
func reportFormat(c *echo.Context) (string, error) {
	switch f := c.QueryParam("format"); f {
	case report.FormatXLSX, report.FormatCSV, report.FormatJSON:
		return f, nil
	case "":
	default:
		return "", cert.Invalid("format", `must be "xlsx", "csv" or "json"`)
	}
	a := c.Request().Header.Get("Accept")
	switch {
	case strings.Contains(a, "spreadsheetml"):
		return report.FormatXLSX, nil
	case strings.Contains(a, "text/csv"):
		return report.FormatCSV, nil
	}
	return report.FormatJSON, nil
}

// buildReport fills the template of the request's target and period.
func (s *Server) buildReport(c *echo.Context) (*report.Report, *cert.Issuer, []*cert.Certificate, error) {
	t, err := s.reportTemplate(c.Param("target"))
	if err != nil {
		return nil, nil, nil, err
	}
	is, err := s.reportIssuer(c)
	if err != nil {
		return nil, nil, nil, err
	}
	loc, err := cert.LoadLocation(is.TimeZone)
	if err != nil {
		loc = time.UTC
	}
	p, err := report.ParsePeriod(c.Param("period"), loc)
	if err != nil {
		return nil, nil, nil, err
	}
	ctx := c.Request().Context()
	certs, err := s.cfg.Issuing.ReportCertificates(ctx, is.ID)
	if err != nil {
		return nil, nil, nil, err
	}
	x := &report.Context{Issuer: is}
	if s.cfg.Submissions != nil {
		subs, err := s.cfg.Submissions.Submissions(ctx, is.ID, t.ID)
		if err != nil {
			return nil, nil, nil, err
		}
		x.Submitted = report.SubmittedOf(subs)
	}
	return report.Build(t, certs, s.cfg.Issuing.Schemes(), x, p), is, certs, nil
}

// getReport is GET /api/v1/reports/{target}/{period}: XLSX, CSV (one
// sheet: ?sheet=N, 1-based, default 1) or JSON.
func (s *Server) getReport(c *echo.Context) error {
	format, err := reportFormat(c)
	if err != nil {
		return err
	}
	sheet := 0
	if v := c.QueryParam("sheet"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 16 {
			return cert.Invalid("sheet", "must be the number of a sheet of the template, from 1")
		}
		sheet = n - 1
	}
	r, _, _, err := s.buildReport(c)
	if err != nil {
		return err
	}
	if sheet >= len(r.Sheets) {
		return cert.Invalid("sheet", fmt.Sprintf("must be from 1 to %d: the template has %d sheets", len(r.Sheets), len(r.Sheets)))
	}
	var buf bytes.Buffer
	switch format {
	case report.FormatXLSX:
		err = r.WriteXLSX(&buf)
	case report.FormatCSV:
		err = r.WriteCSV(&buf, sheet)
	default:
		err = r.WriteJSON(&buf)
	}
	if err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	h := c.Response().Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s-%s.%s"`, r.Template.ID, r.Period.Month, format))
	return c.Blob(http.StatusOK, report.ContentType(format), buf.Bytes())
}

// markSubmitted is POST /api/v1/reports/{target}/{period}/submitted: it
// records the entries the report of the period holds now as submitted.
func (s *Server) markSubmitted(c *echo.Context) error {
	if s.cfg.Submissions == nil {
		return newHTTPError(http.StatusServiceUnavailable, "unavailable", "Reports unavailable", "This server does not keep report submissions.")
	}
	p := principal(c)
	r, is, certs, err := s.buildReport(c)
	if err != nil {
		return err
	}
	if !p.CanWrite(is.ID) {
		return fmt.Errorf("a %s key cannot mark reports as submitted: %w", p.Role, cert.ErrForbidden)
	}
	ctx := c.Request().Context()
	sub := &cert.Submission{ID: cert.NewID(), Issuer: is.ID, Target: r.Template.ID, Period: r.Period.Month, SubmittedAt: s.cfg.Now(), Actor: p.Actor(), Entries: []string{}}
	// What the report holds now, audits placed as the report places them.
	subs, err := s.cfg.Submissions.Submissions(ctx, is.ID, r.Template.ID)
	if err != nil {
		return err
	}
	for _, e := range report.Tracked(r.Template, certs, s.cfg.Issuing.Schemes(), r.Period, report.SubmittedOf(subs)) {
		sub.Entries = append(sub.Entries, e.Key())
	}
	if err := s.cfg.Submissions.CreateSubmission(ctx, sub); err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, struct {
		ID          string    `json:"id"`
		Target      string    `json:"target"`
		Period      string    `json:"period"`
		SubmittedAt time.Time `json:"submittedAt"`
		Entries     int       `json:"entries"`
	}{sub.ID, sub.Target, sub.Period, sub.SubmittedAt, len(sub.Entries)})
}

// setConfidential is PUT /api/v1/certificates/{id}/confidential.
func (s *Server) setConfidential(c *echo.Context) error {
	var body struct {
		Confidential *bool `json:"confidential"`
	}
	if err := decodeJSON(c, &body, 1<<10); err != nil {
		return err
	}
	if body.Confidential == nil {
		return cert.Invalid("confidential", "is required: true or false")
	}
	crt, err := s.cfg.Issuing.SetConfidential(c.Request().Context(), principal(c), c.Param("id"), *body.Confidential)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, struct {
		ID           string `json:"id"`
		Confidential bool   `json:"confidential"`
		Version      int64  `json:"version"`
	}{crt.ID, crt.Confidential, crt.Version})
}

// setOrganizationConfidential is PUT
// /api/v1/organizations/{uscc}/confidential: the flag of an organization
// at an issuer (an admin key names it with "issuer" in the body or
// ?issuer=), for every certificate of that organization from that issuer.
func (s *Server) setOrganizationConfidential(c *echo.Context) error {
	var body struct {
		Confidential *bool  `json:"confidential"`
		Issuer       string `json:"issuer"`
	}
	if err := decodeJSON(c, &body, 1<<10); err != nil {
		return err
	}
	if body.Confidential == nil {
		return cert.Invalid("confidential", "is required: true or false")
	}
	id := cmp.Or(body.Issuer, c.QueryParam("issuer"))
	uscc := c.Param("uscc")
	if err := s.cfg.Issuing.SetOrganizationConfidential(c.Request().Context(), principal(c), id, uscc, *body.Confidential); err != nil {
		return err
	}
	if id == "" {
		id = principal(c).Issuer
	}
	return c.JSON(http.StatusOK, struct {
		Issuer       string `json:"issuer"`
		USCC         string `json:"uscc"`
		Confidential bool   `json:"confidential"`
	}{id, uscc, *body.Confidential})
}
