package api

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v5"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/store"
	"github.com/certd/certd/templates"
)

// Searching finds certificates for the public search (store.Searcher).
type Searching interface {
	Search(ctx context.Context, q store.SearchQuery) ([]*cert.Certificate, string, error)
	CountSearch(ctx context.Context, text string, upTo int) (int, error)
}

// searchCountCap is how far the search page counts: beyond it, the page
// says "more than" this many.
const searchCountCap = 100

// Bounds of the search text, in characters.
const (
	minSearchText = 2
	maxSearchText = 100
)

// searchItem is one certificate in GET /api/v1/search.
type searchItem struct {
	ID           string             `json:"id"`
	Number       string             `json:"number"`
	Organization searchOrganization `json:"organization"`
	Issuer       cert.VerdictIssuer `json:"issuer"`
	Scheme       searchScheme       `json:"scheme"`
	Status       cert.Status        `json:"status"`
	// ValidFrom and ValidUntil are calendar dates; ValidUntil is the last
	// valid day, as printed.
	ValidFrom  string      `json:"validFrom"`
	ValidUntil string      `json:"validUntil"`
	Links      searchLinks `json:"links"`
}

type searchOrganization struct {
	Name   string `json:"name"`
	NameEn string `json:"nameEn,omitempty"`
	USCC   string `json:"uscc"`
}

type searchScheme struct {
	ID     string `json:"id"`
	Name   string `json:"name,omitempty"`
	NameZh string `json:"nameZh,omitempty"`
}

type searchLinks struct {
	Verify string `json:"verify"`
	PDF    string `json:"pdf"`
}

// checkSearchText validates the search text (already trimmed). One
// character outside ASCII (a Chinese character) is enough: the stores'
// search index answers it from the postings of that character.
func checkSearchText(q string) error {
	switch n := utf8.RuneCountInString(q); {
	case n < minSearchText && !(n == 1 && q[0] >= utf8.RuneSelf):
		return cert.Invalid("q", "must have at least 2 characters, or one Chinese character: a certificate number, a USCC (18 characters) or a part of an organization name")
	case n > maxSearchText:
		return cert.Invalid("q", "must have at most 100 characters")
	case !utf8.ValidString(q) || strings.ContainsRune(q, 0):
		return cert.Invalid("q", "must be UTF-8 text")
	case !store.HasSearchWord(q):
		return cert.Invalid("q", store.SearchWordMessage)
	}
	return nil
}

// search runs one page of a search and describes the certificates found.
func (s *Server) search(c *echo.Context, q, cursor string, limit int) ([]searchItem, []templates.SearchResult, string, error) {
	if s.cfg.Search == nil {
		return nil, nil, "", newHTTPError(http.StatusServiceUnavailable, "unavailable", "Search unavailable", "Search is not configured on this server.")
	}
	ctx := c.Request().Context()
	found, next, err := s.cfg.Search.Search(ctx, store.SearchQuery{Text: q, Cursor: cursor, Limit: limit})
	if err != nil {
		return nil, nil, "", err // a bad cursor names the field "cursor"
	}
	// Confidential certificates verify by id and QR code only; a page may
	// come back shorter than the limit, and the cursor still goes on.
	// So are those of an organization its issuer marked confidential.
	flags := s.orgFlags(ctx)
	var ferr error
	found = slices.DeleteFunc(found, func(c *cert.Certificate) bool {
		hide, err := flags.hidden(c)
		ferr = cmp.Or(ferr, err)
		return hide || err != nil
	})
	if ferr != nil {
		return nil, nil, "", ferr
	}
	schemes := s.cfg.Issuing.Schemes()
	issuers := map[string]cert.VerdictIssuer{}
	items := make([]searchItem, len(found))
	results := make([]templates.SearchResult, len(found))
	for i, crt := range found {
		vi, ok := issuers[crt.Issuer]
		if !ok {
			vi = cert.VerdictIssuer{ID: crt.Issuer, URL: cert.IssuerURL(s.cfg.PublicURL, crt.Issuer)}
			if is, err := s.issuer(ctx, crt.Issuer); err == nil {
				vi.Name, vi.NameZh = is.Name, is.NameZh
			} else if !errors.Is(err, cert.ErrNotFound) {
				return nil, nil, "", err
			}
			issuers[crt.Issuer] = vi
		}
		sc := schemes[crt.Scheme]
		from := crt.ValidFrom.In(crt.Location()).Format(cert.DateLayout)
		until := crt.ValidUntilInclusive().Format(cert.DateLayout)
		status := s.cfg.Issuing.StatusOf(crt).Status
		items[i] = searchItem{
			ID: crt.ID, Number: crt.Number,
			Organization: searchOrganization{Name: crt.Organization.Name, NameEn: crt.Organization.NameEn, USCC: crt.Organization.USCC},
			Issuer:       vi, Scheme: searchScheme{ID: crt.Scheme}, Status: status, ValidFrom: from, ValidUntil: until,
			Links: searchLinks{Verify: cert.VerifyURL(s.cfg.PublicURL, crt.ID), PDF: cert.VerifyURL(s.cfg.PublicURL, crt.ID) + "/certificate.pdf"},
		}
		if sc != nil {
			items[i].Scheme.Name, items[i].Scheme.NameZh = sc.Name, sc.NameZh
		}
		results[i] = templates.SearchResult{
			ID: crt.ID, Number: crt.Number, Organization: crt.Organization.Public(), Issuer: vi,
			Scheme: sc, SchemeID: crt.Scheme, Status: status, ValidFrom: from, ValidUntil: until,
		}
	}
	return items, results, next, nil
}

// searchAPI is GET /api/v1/search?q=&limit=&cursor=.
func (s *Server) searchAPI(c *echo.Context) error {
	q := strings.TrimSpace(c.QueryParam("q"))
	if err := checkSearchText(q); err != nil {
		return err
	}
	limit := store.SearchDefaultLimit
	if l := c.QueryParam("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > store.SearchMaxLimit {
			return cert.Invalid("limit", "must be an integer from 1 to 50")
		}
		limit = n
	}
	items, _, next, err := s.search(c, q, c.QueryParam("cursor"), limit)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, struct {
		Items []searchItem `json:"items"`
		Next  string       `json:"next,omitempty"`
	}{items, next})
}

// searchPage is GET /search?q=&cursor=&lang=: the same search for people.
// A certificate id, or a verification link, leads straight to its page.
func (s *Server) searchPage(c *echo.Context) error {
	lang := pageLang(c)
	raw := c.QueryParam("q")
	q := strings.TrimSpace(raw)
	d := templates.SearchPageData{Lang: lang, PublicURL: s.cfg.PublicURL, Query: q, Cursor: c.QueryParam("cursor")}
	status := http.StatusOK
	if id, ok := idIn(q); ok {
		if _, err := s.existing(c, id); err == nil {
			return c.Redirect(http.StatusSeeOther, s.publicPath("/v/"+id)+"?lang="+url.QueryEscape(lang))
		}
	}
	switch err := checkSearchText(q); {
	case raw == "":
		// The empty form: no search can run while the store does not
		// answer, and the page says so rather than offer one.
		if err := s.cfg.Store.Ping(c.Request().Context()); err != nil {
			return fmt.Errorf("ping the store: %w: %w", cert.ErrUnavailable, err)
		}
	case err != nil && utf8.RuneCountInString(q) < minSearchText:
		d.Problem, status = templates.SearchTooShort, http.StatusUnprocessableEntity
	case err != nil && utf8.RuneCountInString(q) <= maxSearchText && utf8.ValidString(q) && !store.HasSearchWord(q):
		d.Problem, status = templates.SearchNoWord, http.StatusUnprocessableEntity
	case err != nil:
		d.Problem, status = templates.SearchTooLong, http.StatusUnprocessableEntity
	default:
		_, results, next, err := s.search(c, q, d.Cursor, store.SearchDefaultLimit)
		if err != nil {
			return err
		}
		n, err := s.cfg.Search.CountSearch(c.Request().Context(), q, searchCountCap)
		if err != nil {
			return err
		}
		d.Searched, d.Results, d.Next = true, results, next
		d.Count, d.CountMore = min(n, searchCountCap), n > searchCountCap
	}
	page, err := templates.SearchPage(d)
	if err != nil {
		return err
	}
	return writePage(c, status, lang, page)
}

// idIn finds a certificate id in a search text: the id itself, or a
// verification link that ends with /v/{id}.
func idIn(q string) (string, bool) {
	if i := strings.LastIndex(strings.ToLower(q), "/v/"); i >= 0 {
		q = q[i+3:]
		if j := strings.IndexAny(q, "/?#"); j >= 0 {
			q = q[:j]
		}
	}
	return cert.NormalizeID(q)
}
