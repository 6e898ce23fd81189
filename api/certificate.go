package api

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v5"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/issuer"
)

// certificateResource is a certificate as the API shows it.
type certificateResource struct {
	ID             string            `json:"id"`
	Number         string            `json:"number"`
	Revision       int               `json:"revision,omitempty"`
	Issuer         string            `json:"issuer"`
	Scheme         string            `json:"scheme"`
	Standard       string            `json:"standard,omitempty"`
	Category       string            `json:"category,omitempty"`
	Level          int               `json:"level,omitempty"`
	Scope          string            `json:"scope,omitempty"`
	ScopeEn        string            `json:"scopeEn,omitempty"`
	Sites          []cert.Site       `json:"sites,omitempty"`
	AssessmentBody string            `json:"assessmentBody,omitempty"`
	DecisionDate   string            `json:"decisionDate,omitempty"`
	OriginalDate   string            `json:"originalDate,omitempty"`
	Audit          *cert.Audit       `json:"audit,omitempty"`
	Organization   cert.Organization `json:"organization"`
	Status         cert.Status       `json:"status"`
	StatusReason   string            `json:"statusReason,omitempty"`
	Surveillance   cert.Surveillance `json:"surveillance"`
	ValidFrom      string            `json:"validFrom"`
	ValidUntil     string            `json:"validUntil"`
	Supersedes     string            `json:"supersedes,omitempty"`
	SupersededBy   string            `json:"supersededBy,omitempty"`
	// Confidential is the certificate's own flag, OrganizationConfidential
	// its organization's at the issuer, ConfidentialEffective either.
	Confidential             bool             `json:"confidential"`
	OrganizationConfidential bool             `json:"organizationConfidential"`
	ConfidentialEffective    bool             `json:"confidentialEffective"`
	Version                  int64            `json:"version"`
	Kid                      string           `json:"kid"`
	Credential               string           `json:"credential"`
	CreatedAt                time.Time        `json:"createdAt"`
	Links                    certificateLinks `json:"links"`
}

type certificateLinks struct {
	Verify     string `json:"verify"`
	QR         string `json:"qr"`
	PDF        string `json:"pdf"`
	Credential string `json:"credential"`
	Events     string `json:"events"`
}

// resource describes c; orgs is the set of its issuer's confidential
// organizations.
func (s *Server) resource(c *cert.Certificate, orgs map[string]bool) certificateResource {
	st := s.cfg.Issuing.StatusOf(c)
	loc := c.Location()
	verify := cert.VerifyURL(s.cfg.PublicURL, c.ID)
	orgConf := orgs[c.Organization.USCC]
	reason := ""
	if st.Status != cert.StatusActive {
		reason = st.Reason
	}
	return certificateResource{
		ID: c.ID, Number: c.Number, Revision: c.Revision, Issuer: c.Issuer, Scheme: c.Scheme,
		Standard: c.Standard, Category: c.Category, Level: c.Level, Scope: c.Scope, ScopeEn: c.ScopeEn,
		Sites: c.Sites, AssessmentBody: c.AssessmentBody, DecisionDate: c.DecisionDate, OriginalDate: c.OriginalDate, Audit: c.Audit,
		Organization: c.Organization, Status: st.Status, StatusReason: reason, Surveillance: st.Surveillance,
		ValidFrom: c.ValidFrom.In(loc).Format(time.RFC3339), ValidUntil: c.ValidUntil.In(loc).Format(time.RFC3339),
		Supersedes: c.Supersedes, SupersededBy: c.SupersededBy, Version: c.Version, Kid: c.Kid,
		Confidential: c.Confidential, OrganizationConfidential: orgConf, ConfidentialEffective: c.Confidential || orgConf,
		Credential: c.Credential, CreatedAt: c.CreatedAt.UTC(),
		Links: certificateLinks{
			Verify: verify, QR: verify + "/qr.png", PDF: verify + "/certificate.pdf",
			Credential: verify + "/credential.jwt", Events: s.cfg.PublicURL + "/api/v1/certificates/" + c.ID + "/events",
		},
	}
}

// writeResource answers the certificate resource of crt.
func (s *Server) writeResource(c *echo.Context, status int, crt *cert.Certificate) error {
	orgs, err := s.cfg.Issuing.ConfidentialOrganizations(c.Request().Context(), crt.Issuer)
	if err != nil {
		return err
	}
	res := s.resource(crt, orgs)
	return writeJSON(c, status, res.appendJSON)
}

func setETag(c *echo.Context, crt *cert.Certificate) {
	c.Response().Header().Set("ETag", strconv.Quote(strconv.FormatInt(crt.Version, 10)))
}

func (s *Server) createCertificate(c *echo.Context) error {
	var req issuer.Request
	if err := decodeJSON(c, &req, maxBody); err != nil {
		return err
	}
	key := c.Request().Header.Get("Idempotency-Key")
	if len(key) > 200 {
		return errBadRequest("Idempotency-Key must be at most 200 characters.")
	}
	if strings.HasPrefix(key, issuer.SuccessorKeyPrefix) {
		return errBadRequest("Idempotency-Key must not start with " + strconv.Quote(issuer.SuccessorKeyPrefix) + " (reserved for renewals and revisions).")
	}
	crt, replayed, err := s.cfg.Issuing.Issue(c.Request().Context(), principal(c), req, key)
	if err != nil {
		return err
	}
	if replayed {
		c.Response().Header().Set("Idempotent-Replayed", "true")
	} else {
		s.metrics.issued.Inc()
	}
	c.Response().Header().Set("Location", s.cfg.PublicURL+"/api/v1/certificates/"+crt.ID)
	setETag(c, crt)
	return s.writeResource(c, http.StatusCreated, crt)
}

type batchRequest struct {
	Certificates []issuer.Request `json:"certificates"`
}

type batchResult struct {
	Index       int                  `json:"index"`
	Status      int                  `json:"status"`
	Certificate *certificateResource `json:"certificate,omitempty"`
	Problem     *Problem             `json:"problem,omitempty"`
}

func (s *Server) createBatch(c *echo.Context) error {
	var req batchRequest
	if err := decodeJSON(c, &req, maxBatchBody); err != nil {
		return err
	}
	results, err := s.cfg.Issuing.IssueBatch(c.Request().Context(), principal(c), req.Certificates)
	if err != nil {
		return err
	}
	out := make([]batchResult, len(results))
	flags := s.orgFlags(c.Request().Context())
	for i, r := range results {
		if r.Err != nil {
			p, internal := problemFor(r.Err)
			if internal {
				s.log.Error("batch item failed", "request_id", requestID(c), "index", i, "error", r.Err.Error())
			}
			prefixFields(&p, fmt.Sprintf("certificates[%d].", i))
			out[i] = batchResult{Index: i, Status: p.Status, Problem: &p}
			continue
		}
		s.metrics.issued.Inc()
		orgs, err := flags.of(r.Certificate.Issuer)
		if err != nil {
			return err
		}
		res := s.resource(r.Certificate, orgs)
		out[i] = batchResult{Index: i, Status: http.StatusCreated, Certificate: &res}
	}
	return writeJSON(c, http.StatusOK, func(b []byte) []byte {
		return appendBatchResults(slices.Grow(b, 3500*len(out)), out) // about 3 KB a certificate
	})
}

func prefixFields(p *Problem, prefix string) {
	for i := range p.Errors {
		p.Errors[i].Field = prefix + p.Errors[i].Field
	}
}

func (s *Server) getCertificate(c *echo.Context) error {
	crt, err := s.cfg.Issuing.Certificate(c.Request().Context(), principal(c), c.Param("id"))
	if err != nil {
		return err
	}
	setETag(c, crt)
	return s.writeResource(c, http.StatusOK, crt)
}

func (s *Server) listCertificates(c *echo.Context) error {
	q := issuer.Query{
		Issuer: c.QueryParam("issuer"), Scheme: c.QueryParam("scheme"),
		USCC: c.QueryParam("uscc"), Number: c.QueryParam("number"), Cursor: c.QueryParam("cursor"),
	}
	if l := c.QueryParam("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 1000 {
			return cert.Invalid("limit", "must be an integer from 1 to 1000")
		}
		q.Limit = n
	}
	items, next, err := s.cfg.Issuing.List(c.Request().Context(), principal(c), q)
	if err != nil {
		return err
	}
	out := struct {
		Items []certificateResource `json:"items"`
		Next  string                `json:"next,omitempty"`
	}{Items: make([]certificateResource, len(items)), Next: next}
	flags := s.orgFlags(c.Request().Context())
	for i, it := range items {
		orgs, err := flags.of(it.Issuer)
		if err != nil {
			return err
		}
		out.Items[i] = s.resource(it, orgs)
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) certificateEvents(c *echo.Context) error {
	crt, err := s.cfg.Issuing.Certificate(c.Request().Context(), principal(c), c.Param("id"))
	if err != nil {
		return err
	}
	st := s.cfg.Issuing.StatusOf(crt)
	setETag(c, crt)
	return c.JSON(http.StatusOK, struct {
		ID      string        `json:"id"`
		Status  cert.Status   `json:"status"`
		Events  []cert.Event  `json:"events"`
		History []cert.Change `json:"history"`
	}{crt.ID, st.Status, crt.Events, st.Changes})
}

func (s *Server) certificateAction(c *echo.Context) error {
	var req issuer.ActionRequest
	if err := decodeJSON(c, &req, maxBody); err != nil {
		return err
	}
	ifMatch, err := parseIfMatch(c.Request().Header.Get("If-Match"))
	if err != nil {
		return err
	}
	crt, err := s.cfg.Issuing.Act(c.Request().Context(), principal(c), c.Param("id"), c.Param("action"), req, ifMatch)
	if err != nil {
		return err
	}
	setETag(c, crt)
	if strings.EqualFold(crt.ID, strings.TrimSpace(c.Param("id"))) {
		return s.writeResource(c, http.StatusOK, crt)
	}
	// renew and revise answer with the certificate they created (a retry
	// of the same request with the same one).
	c.Response().Header().Set("Location", s.cfg.PublicURL+"/api/v1/certificates/"+crt.ID)
	return s.writeResource(c, http.StatusCreated, crt)
}

// parseIfMatch reads the If-Match header of a lifecycle action: the ETag
// certd sent ("3", also accepted marked weak or without its quotes), or
// "*" and no header, which ask for no check (0). Anything else is refused
// rather than read loosely: "3 with one quote, +3 and 03 are not ETags of
// version 3.
func parseIfMatch(h string) (int64, error) {
	h = strings.TrimSpace(h)
	if h == "" || h == "*" {
		return 0, nil
	}
	bad := errBadRequest(`If-Match must be the certificate's ETag, e.g. "3".`)
	v := strings.TrimPrefix(h, "W/")
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		v = v[1 : len(v)-1]
	} else if v != h {
		return 0, bad // W/ without a quoted tag
	}
	if v == "" || v[0] == '0' || strings.Trim(v, "0123456789") != "" {
		return 0, bad
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, bad
	}
	return n, nil
}

// orgFlagCache reads the confidential organizations of each issuer once
// per request.
type orgFlagCache struct {
	ctx context.Context
	iss Issuing
	m   map[string]map[string]bool
}

func (s *Server) orgFlags(ctx context.Context) *orgFlagCache {
	return &orgFlagCache{ctx: ctx, iss: s.cfg.Issuing, m: map[string]map[string]bool{}}
}

// of returns the set of issuer's confidential organizations.
func (f *orgFlagCache) of(issuer string) (map[string]bool, error) {
	if orgs, ok := f.m[issuer]; ok {
		return orgs, nil
	}
	orgs, err := f.iss.ConfidentialOrganizations(f.ctx, issuer)
	if err != nil {
		return nil, err
	}
	f.m[issuer] = orgs
	return orgs, nil
}

// hidden reports whether c is left out of public listings: its own flag
// or its organization's.
func (f *orgFlagCache) hidden(c *cert.Certificate) (bool, error) {
	if c.Confidential {
		return true, nil
	}
	orgs, err := f.of(c.Issuer)
	return orgs[c.Organization.USCC], err
}
