package templates

import "github.com/certd/certd/cert"

// MatchesPageData is the page of a certificate number that several
// issuers use: one link to each certificate, by id.
type MatchesPageData struct {
	Lang      string
	PublicURL string
	Number    string
	Matches   []cert.NumberMatch
}

type matchesView struct {
	P       page
	Number  string
	Matches []matchView
}

type matchView struct {
	Badge          Badge
	Issuer, Number string
	URL            string
}

// MatchesPage renders the page that asks which issuer a number means.
func MatchesPage(d MatchesPageData) ([]byte, error) {
	lang := PickLanguage(d.Lang, "")
	v := &matchesView{P: newPage(lang, translate(lang, "matches.title"), d.PublicURL, nil), Number: d.Number}
	for _, m := range d.Matches {
		v.Matches = append(v.Matches, matchView{
			Badge: statusBadge(lang, m.Status), Issuer: issuerName(lang, m.Issuer.Name, m.Issuer.NameZh),
			Number: m.Number, URL: publicPath(d.PublicURL, "/v/"+m.ID),
		})
	}
	return execute(lang, "matches.html", v)
}
