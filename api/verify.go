package api

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v5"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/templates"
)

// verdictStatus is the HTTP status of a verdict: 404 for an unknown id,
// 503 when it could not be determined, 200 otherwise (invalid included:
// the verification itself succeeded).
func verdictStatus(v cert.Verdict) int {
	switch {
	case v.Status == cert.StatusNotFound && v.Certificate == nil && len(v.Checks) == 0:
		return http.StatusNotFound
	case v.Verdict == cert.VerdictUnknown:
		return http.StatusServiceUnavailable
	}
	return http.StatusOK
}

// noteVerdict counts a verdict and logs why an unknown one could not be
// determined, with the request id: the one place a verdict's cause is
// seen, since the answer never shows it.
func (s *Server) noteVerdict(c *echo.Context, v cert.Verdict) {
	s.metrics.verdicts.WithLabelValues(v.Verdict).Inc()
	if v.Verdict == cert.VerdictUnknown && v.Cause != nil {
		s.log.Warn("verdict unknown", "request_id", requestID(c), "path", c.Request().URL.Path, "error", v.Cause.Error())
	}
}

func (s *Server) writeVerdict(c *echo.Context, v cert.Verdict) error {
	s.noteVerdict(c, v)
	h := c.Response().Header()
	h.Set("Cache-Control", "no-store")
	if v.Verdict == cert.VerdictUnknown {
		h.Set("Retry-After", "5")
	}
	return writeJSON(c, verdictStatus(v), v.AppendJSON)
}

// verifyByID answers the verdict of a certificate id, or of a printed
// certificate number (URL-escaped: a "/" in a number is sent as %2F). A
// number that several issuers use answers 300 Multiple Choices with
// {"matches": [...]}, one entry per issuer.
func (s *Server) verifyByID(c *echo.Context) error {
	v, matches := s.cfg.Verifying.Resolve(c.Request().Context(), idOrNumber(c))
	if len(matches) > 0 {
		return writeMatches(c, matches)
	}
	return s.writeVerdict(c, v)
}

// idOrNumber is the {id} of a verification path, unescaped: the router
// keeps the escaped form when the path holds an escaped "/" (a number
// such as CNCA/2026/7 is requested as CNCA%2F2026%2F7).
func idOrNumber(c *echo.Context) string {
	p := c.Param("id")
	if strings.Contains(p, "%") {
		if u, err := url.PathUnescape(p); err == nil {
			return u
		}
	}
	return p
}

func writeMatches(c *echo.Context, matches []cert.NumberMatch) error {
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusMultipleChoices, struct {
		Matches []cert.NumberMatch `json:"matches"`
	}{matches})
}

// verifyToken verifies a presented credential: the compact JWS as
// application/vc+jwt or text/plain, or JSON {"credential": "..."}.
func (s *Server) verifyToken(c *echo.Context) error {
	ct := c.Request().Header.Get("Content-Type")
	var token string
	if strings.HasPrefix(ct, "application/json") {
		var body struct {
			Credential string `json:"credential"`
		}
		if err := decodeJSON(c, &body, maxBody); err != nil {
			return err
		}
		if body.Credential == "" {
			return cert.Invalid("credential", "is required: the compact JWS of the certificate credential")
		}
		token = body.Credential
	} else {
		b, err := io.ReadAll(http.MaxBytesReader(c.Response(), c.Request().Body, maxBody))
		if err != nil {
			return jsonError(err, maxBody)
		}
		token = strings.TrimSpace(string(b))
		if token == "" {
			return errBadRequest("Send the credential (compact JWS) as the body with Content-Type application/vc+jwt, or JSON {\"credential\": \"...\"}.")
		}
	}
	return s.writeVerdict(c, s.cfg.Verifying.ByToken(c.Request().Context(), token))
}

func (s *Server) verifyBatch(c *echo.Context) error {
	var body struct {
		Items []string `json:"items"`
	}
	if err := decodeJSON(c, &body, maxBatchBody); err != nil {
		return err
	}
	verdicts, err := s.cfg.Verifying.Batch(c.Request().Context(), body.Items)
	if err != nil {
		return err
	}
	for _, v := range verdicts {
		s.noteVerdict(c, v)
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, struct {
		Results []cert.Verdict `json:"results"`
	}{verdicts})
}

// verifyPage is the page a QR code leads to: HTML for people, the verdict
// as JSON for programs that ask for it.
func (s *Server) verifyPage(c *echo.Context) error {
	ctx := c.Request().Context()
	v, matches := s.cfg.Verifying.Resolve(ctx, idOrNumber(c))
	if len(matches) > 0 {
		if wantsJSON(c.Request()) {
			return writeMatches(c, matches)
		}
		lang := pageLang(c)
		page, err := templates.MatchesPage(templates.MatchesPageData{Lang: lang, PublicURL: s.cfg.PublicURL, Number: idOrNumber(c), Matches: matches})
		if err != nil {
			return err
		}
		return writePage(c, http.StatusMultipleChoices, lang, page)
	}
	if wantsJSON(c.Request()) {
		return s.writeVerdict(c, v)
	}
	id, ok := cert.NormalizeID(c.Param("id"))
	if !ok {
		id = c.Param("id")
		if len(id) > 64 {
			id = id[:64]
		}
	}
	return s.writeVerdictPage(c, v, id)
}

// writeVerdictPage answers the verification page of verdict v; id is the
// certificate id as requested.
func (s *Server) writeVerdictPage(c *echo.Context, v cert.Verdict, id string) error {
	ctx := c.Request().Context()
	s.noteVerdict(c, v)
	lang := pageLang(c)
	d := templates.VerifyPageData{Verdict: v, Lang: lang, PublicURL: s.cfg.PublicURL, ID: id, Watch: s.cfg.Watches != nil}
	if v.Certificate != nil {
		d.Scheme = s.cfg.Issuing.Schemes()[v.Certificate.Scheme]
	}
	if v.Issuer != nil {
		// The issuer adds its accreditation and time zone; without them
		// the page still states the verdict.
		if is, err := s.issuer(ctx, v.Issuer.ID); err == nil {
			d.Issuer = is
		}
	}
	if v.Verdict == cert.VerdictUnknown {
		c.Response().Header().Set("Retry-After", "5")
	}
	return templates.WriteVerifyPage(d, func(page []byte) error {
		return writePage(c, verdictStatus(v), lang, page)
	})
}

func wantsJSON(r *http.Request) bool {
	a := r.Header.Get("Accept")
	return strings.Contains(a, "application/json") && !strings.Contains(a, "text/html")
}

func (s *Server) qrPNG(c *echo.Context) error {
	id, ok := cert.NormalizeID(c.Param("id"))
	if !ok {
		return notRegistered()
	}
	size := templates.DefaultQRSize
	if q := c.QueryParam("size"); q != "" {
		size, _ = strconv.Atoi(q)
	}
	cost, offered := qrSizeCost(size)
	if !offered {
		return cert.Invalid("size", "must be one of "+qrSizeList()+" (pixels)")
	}
	if _, err := s.existing(c, id); err != nil {
		return err
	}
	// A certificate's QR code never changes: encode it once per size.
	key := id + "/" + strconv.Itoa(size)
	png, ok := s.qrs.get(key)
	if !ok {
		if err := s.renderBudget(c, cost); err != nil {
			return err
		}
		release, err := s.renderSlot(c.Request().Context())
		if err != nil {
			return err
		}
		png, err = templates.QRPNG(templates.QRContent(s.cfg.PublicURL, id), size)
		release()
		if err != nil {
			return err
		}
		s.qrs.put(key, png)
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=86400, immutable")
	return c.Blob(http.StatusOK, "image/png", png)
}

func (s *Server) qrSVG(c *echo.Context) error {
	id, ok := cert.NormalizeID(c.Param("id"))
	if !ok {
		return notRegistered()
	}
	if _, err := s.existing(c, id); err != nil {
		return err
	}
	key := id + "/svg"
	svg, ok := s.qrs.get(key)
	if !ok {
		if err := s.renderBudget(c, costQRSVG); err != nil {
			return err
		}
		release, err := s.renderSlot(c.Request().Context())
		if err != nil {
			return err
		}
		svg, err = templates.QRSVG(templates.QRContent(s.cfg.PublicURL, id))
		release()
		if err != nil {
			return err
		}
		s.qrs.put(key, svg)
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=86400, immutable")
	return c.Blob(http.StatusOK, "image/svg+xml", svg)
}

func (s *Server) credentialJWT(c *echo.Context) error {
	id, ok := cert.NormalizeID(c.Param("id"))
	if !ok {
		return notRegistered()
	}
	crt, err := s.existing(c, id)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=300")
	c.Response().Header().Set("Content-Disposition", `inline; filename="credential.jwt"`)
	return c.Blob(http.StatusOK, "application/vc+jwt", []byte(crt.Credential))
}

// existing loads a certificate by id for a public route.
func (s *Server) existing(c *echo.Context, id string) (*cert.Certificate, error) {
	crt, err := s.cfg.Issuing.Certificate(c.Request().Context(), cert.Principal{Role: cert.RoleAdmin}, id)
	if errors.Is(err, cert.ErrNotFound) {
		return nil, notRegistered()
	}
	return crt, err
}

func notRegistered() error {
	return newHTTPError(http.StatusNotFound, "not-found", "No such certificate",
		"No certificate with this id is registered here. If it is printed on a certificate, the document may be forged or mistyped: contact the issuer named on the paper.")
}
