package templates

import "github.com/certd/certd/cert"

// LandingPageData is what the landing page shows.
type LandingPageData struct {
	Lang      string
	PublicURL string
	// Issuers are the certification bodies registered here.
	Issuers []*cert.Issuer
}

// LandingPage renders the landing page.
func LandingPage(d LandingPageData) ([]byte, error) {
	v := newLandingView(d)
	return execute(v.P.Lang, "landing.html", v)
}

type landingView struct {
	P       page
	Issuers []issuerView
	JWKS    string
	OpenAPI string
}

type issuerView struct {
	Name, Accreditation, JWKS string
}

func newLandingView(d LandingPageData) *landingView {
	lang := PickLanguage(d.Lang, "")
	v := &landingView{
		P:       newPage(lang, translate(lang, "home.title"), d.PublicURL, nil),
		JWKS:    publicPath(d.PublicURL, "/.well-known/jwks.json"),
		OpenAPI: publicPath(d.PublicURL, "/openapi.json"),
	}
	for _, is := range d.Issuers {
		iv := issuerView{Name: issuerName(lang, is.Name, is.NameZh), JWKS: publicPath(d.PublicURL, "/issuers/"+is.ID+"/jwks.json")}
		iv.Accreditation = cert.AccreditationText(is.Accreditation)
		v.Issuers = append(v.Issuers, iv)
	}
	return v
}
