package templates

import (
	"fmt"
	"net/url"

	"github.com/certd/certd/cert"
)

// Reasons a search was not run, for SearchPageData.Problem.
const (
	SearchTooShort = "short"
	SearchTooLong  = "long"
	// SearchNoWord: punctuation alone, without a letter, a digit or a
	// Chinese character.
	SearchNoWord = "noword"
)

// SearchPageData is what the search page shows.
type SearchPageData struct {
	Lang      string
	PublicURL string
	// Query is the text searched for, as typed.
	Query string
	// Problem, when set, says why no search ran (SearchTooShort,
	// SearchTooLong, SearchNoWord).
	Problem string
	// Searched is set when a search ran, even with no result.
	Searched bool
	Results  []SearchResult
	// Cursor is the cursor of this page ("" for the first), Next that of
	// the next page ("" on the last).
	Cursor string
	Next   string
	// Count is how many certificates match in all (not only on this
	// page); CountMore says there are more than Count.
	Count     int
	CountMore bool
}

// SearchResult is one certificate found.
type SearchResult struct {
	ID           string
	Number       string
	Organization cert.Organization
	Issuer       cert.VerdictIssuer
	// Scheme is nil when the scheme is not known here.
	Scheme     *cert.Scheme
	SchemeID   string
	Status     cert.Status
	ValidFrom  string
	ValidUntil string
}

// SearchPage renders the search page.
func SearchPage(d SearchPageData) ([]byte, error) {
	v := newSearchView(d)
	return execute(v.P.Lang, "search.html", v)
}

type searchView struct {
	P        page
	Problem  string
	Searched bool
	Results  []resultView
	Next     string
	First    string
	// Count is "N results" or "more than N results"; "" without results.
	Count string
}

type resultView struct {
	URL, Name, NameEn, Number, USCC, Scheme, Issuer, Validity string
	Badge                                                     Badge
}

func newSearchView(d SearchPageData) *searchView {
	lang := PickLanguage(d.Lang, "")
	q := url.Values{}
	if d.Query != "" {
		q.Set("q", d.Query)
	}
	self := url.Values{}
	for k, v := range q {
		self[k] = v
	}
	if d.Cursor != "" {
		self.Set("cursor", d.Cursor)
	}
	v := &searchView{P: newPage(lang, translate(lang, "search.title"), d.PublicURL, self), Searched: d.Searched}
	v.P.Query = d.Query
	switch d.Problem {
	case SearchTooShort:
		v.Problem = translate(lang, "search.short")
	case SearchTooLong:
		v.Problem = translate(lang, "search.long")
	case SearchNoWord:
		v.Problem = translate(lang, "search.noword")
	}
	page := func(cursor string) string {
		p := url.Values{"q": {d.Query}, "lang": {lang}}
		if cursor != "" {
			p.Set("cursor", cursor)
		}
		return publicPath(d.PublicURL, "/search") + "?" + p.Encode()
	}
	if d.Next != "" {
		v.Next = page(d.Next)
	}
	switch {
	case len(d.Results) == 0:
	case d.CountMore:
		v.Count = fmt.Sprintf(translate(lang, "search.countmore"), d.Count)
	case d.Count == 1:
		v.Count = translate(lang, "search.countone")
	default:
		v.Count = fmt.Sprintf(translate(lang, "search.count"), d.Count)
	}
	if d.Cursor != "" {
		v.First = page("")
	}
	for _, r := range d.Results {
		scheme := r.SchemeID
		if r.Scheme != nil {
			scheme = pick(lang, firstOf(r.Scheme.NameZh, r.Scheme.Name), r.Scheme.Name)
		}
		v.Results = append(v.Results, resultView{
			URL:  publicPath(d.PublicURL, "/v/"+r.ID) + "?lang=" + url.QueryEscape(lang),
			Name: r.Organization.Name, NameEn: r.Organization.NameEn, USCC: r.Organization.USCC,
			Number: r.Number, Scheme: scheme, Issuer: issuerName(lang, r.Issuer.Name, r.Issuer.NameZh),
			Validity: formatDate(lang, r.ValidFrom) + pick(lang, " 至 ", " to ") + formatDate(lang, r.ValidUntil),
			Badge:    statusBadge(lang, r.Status),
		})
	}
	return v
}
