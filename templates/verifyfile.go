package templates

import (
	"net/http"
	"net/url"
	"strconv"
)

// Outcomes of a file check that has no certificate to show, for
// VerifyFilePageData.Outcome.
const (
	// FileNoCredential: the file is neither a PDF with a credential.jwt
	// attachment nor a credential.
	FileNoCredential = "none"
	// FileNotGenuine: the credential's signature does not verify here.
	FileNotGenuine = "forged"
)

// VerifyFilePageData is what the "verify a file" page shows: the upload
// form, and the outcome of a check that found no certificate (a genuine
// credential is answered with its verification page instead).
type VerifyFilePageData struct {
	Lang      string
	PublicURL string
	// Outcome is "" (the form alone), FileNoCredential or FileNotGenuine.
	Outcome string
}

type verifyFileView struct {
	P       page
	Lang    string
	Action  string
	Outcome string
	Why     string
}

// VerifyFilePage renders the "verify a file" page.
func VerifyFilePage(d VerifyFilePageData) ([]byte, error) {
	lang := PickLanguage(d.Lang, "")
	v := &verifyFileView{
		P:    newPage(lang, translate(lang, "vf.title"), d.PublicURL, nil),
		Lang: lang, Action: publicPath(d.PublicURL, "/verify") + "?lang=" + url.QueryEscape(lang),
	}
	switch d.Outcome {
	case FileNoCredential:
		v.Outcome, v.Why = translate(lang, "vf.none"), translate(lang, "vf.noneWhy")
	case FileNotGenuine:
		v.Outcome, v.Why = translate(lang, "vf.forged"), translate(lang, "vf.forgedWhy")
	}
	return execute(lang, "verifyfile.html", v)
}

// ErrorPageData is what an error page shows to a person: what happened
// and what to do, by HTTP status, in the page's language.
type ErrorPageData struct {
	Lang      string
	PublicURL string
	Status    int
	// RequestID is quoted for a report.
	RequestID string
}

type errorView struct {
	P         page
	Status    int
	Class     string
	Why       string
	RequestID string
}

// ErrorPage renders the HTML page of an error, for browsers.
func ErrorPage(d ErrorPageData) ([]byte, error) {
	lang := PickLanguage(d.Lang, "")
	key := "err.4xx"
	switch d.Status {
	case http.StatusNotFound, http.StatusServiceUnavailable, http.StatusRequestEntityTooLarge, http.StatusTooManyRequests:
		key = "err." + strconv.Itoa(d.Status)
	default:
		if d.Status >= 500 {
			key = "err.500"
		}
	}
	class := "warn"
	if d.Status >= 500 {
		class = "muted"
	}
	v := &errorView{
		P:      newPage(lang, translate(lang, key), d.PublicURL, nil),
		Status: d.Status, Class: class, Why: translate(lang, key+".why"), RequestID: d.RequestID,
	}
	return execute(lang, "error.html", v)
}
