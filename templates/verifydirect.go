package templates

import (
	"bytes"
	"html"
	"strings"
)

// The verification page of a registered certificate is the page every QR
// code leads to. html/template spends a reflective call on each of the
// page's actions and escapers; writeVerifyDirect writes the same bytes as
// verify.html from the view, with the fixed texts of each language
// escaped once (as the templates receive them) and each value escaped as
// html/template escapes it in its context (text, a quoted attribute, a
// URL attribute). Values it cannot write exactly as html/template would
// (a URL that html/template would filter or normalize) send the page to
// the template; a test holds the two to the same bytes for hostile
// values.

// directTexts are the escaped fixed texts of verify.html, by language.
var directTexts = func() map[string]map[string]string {
	keys := []string{"verify.todo", "cert.successor", "cert.predecessor", "cert.heading", "cert.website",
		"fraud.heading", "fraud.address", "fraud.lookalike", "fraud.compare", "fraud.mismatch",
		"surv.heading", "checks.heading", "hist.heading", "links.heading",
		"watch.heading", "watch.what", "watch.email", "watch.button", "watch.hint", "foot.checked"}
	out := map[string]map[string]string{}
	for _, lang := range Languages {
		m := map[string]string{}
		for _, k := range keys {
			m[k] = html.EscapeString(translate(lang, k))
		}
		out[lang] = m
	}
	return out
}()

// textEscaper escapes a string as html/template does in text and in a
// quoted attribute value.
var textEscaper = strings.NewReplacer("\x00", "\uFFFD", `"`, "&#34;", `&`, "&amp;", `'`, "&#39;", `+`, "&#43;", `<`, "&lt;", `>`, "&gt;")

type direct struct{ b *bytes.Buffer }

func (d direct) s(s string)    { d.b.WriteString(s) }
func (d direct) text(s string) { _, _ = textEscaper.WriteString(d.b, s) }

// url writes a URL attribute value; false when html/template would write
// it otherwise than as it is (it would filter or percent-encode it):
// only a path of this site or an http(s) URL of plain characters is
// written here.
func (d direct) url(u string) bool {
	if !plainURL(u) {
		return false
	}
	d.b.WriteString(u)
	return true
}

// link writes the paragraph of a related certificate: its URL, the
// escaped label and its number; false as url.
func (d direct) link(href, label, number string) bool {
	d.s("<p><a href=\"")
	if !d.url(href) {
		return false
	}
	d.s("\">")
	d.s(label)
	d.s(": ")
	d.text(number)
	d.s("</a></p>")
	return true
}

func plainURL(u string) bool {
	rest, ok := strings.CutPrefix(u, "/")
	if !ok {
		if rest, ok = strings.CutPrefix(u, "https://"); !ok {
			if rest, ok = strings.CutPrefix(u, "http://"); !ok {
				return false
			}
		}
	}
	for i := 0; i < len(rest); i++ {
		switch c := rest[i]; {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '/', c == '.', c == '-', c == '_', c == '~', c == '?', c == '=', c == ':':
		default:
			return false
		}
	}
	return true
}

// writeVerifyDirect writes the page of a registered certificate into b;
// false (b then holds a part of it) when the template must write it.
func writeVerifyDirect(b *bytes.Buffer, v *verifyView) bool {
	if !v.Found || v.Cert == nil {
		return false
	}
	t, ok := directTexts[v.P.Lang]
	if !ok {
		return false
	}
	d := direct{b}
	c := v.Cert
	d.s(string(v.P.Head))
	d.s(string(v.P.Top))
	d.s("\n<main class=\"wrap\">\n<h1>")
	d.text(v.P.Title)
	d.s("</h1>\n\n<section class=\"verdict ")
	d.text(v.Badge.Class)
	d.s("\" aria-labelledby=\"verdict-word\">\n")
	d.s(string(v.Banner))
	d.s("<div class=\"todo\">\n<h2>")
	d.s(t["verify.todo"])
	d.s("</h2>\n<ul>")
	d.s(string(v.ActionItems))
	d.s("</ul>\n")
	if c.Successor != "" && !d.link(c.SuccessorURL, t["cert.successor"], c.Successor) {
		return false
	}
	if c.Predecessor != "" && !d.link(c.PredecessorURL, t["cert.predecessor"], c.Predecessor) {
		return false
	}
	d.s("\n</div>\n</section>\n\n")

	d.s("\n<section class=\"card\" aria-labelledby=\"cert-heading\">\n<h2 id=\"cert-heading\">")
	d.s(t["cert.heading"])
	d.s("</h2>\n")
	if c.LogoURL != "" {
		d.s("<img class=\"logo\" src=\"")
		if !d.url(c.LogoURL) {
			return false
		}
		d.s("\" alt=\"\" width=\"160\">")
	}
	d.s("\n")
	d.s(string(c.Head))
	d.s("<dl>\n")
	d.s(string(c.Rows))
	d.s("</dl>\n")
	if c.Website != "" {
		d.s("<p><a href=\"")
		if !d.url(c.Website) {
			return false
		}
		d.s("\" rel=\"noopener noreferrer\">")
		d.s(t["cert.website"])
		d.s("</a></p>")
	}
	d.s("\n</section>\n\n<section class=\"card fraud\" aria-labelledby=\"fraud-heading\">\n<h2 id=\"fraud-heading\">")
	d.s(t["fraud.heading"])
	d.s("</h2>\n<p>")
	d.s(t["fraud.address"])
	d.s("<strong class=\"address mono\">")
	d.text(v.P.Host)
	d.s("</strong></p>\n<p>")
	d.s(t["fraud.lookalike"])
	d.s("</p>\n<p>")
	d.s(t["fraud.compare"])
	d.s(" <strong>")
	d.text(c.Name)
	d.s("</strong></p>\n<p>")
	d.s(t["fraud.mismatch"])
	d.s("</p>\n<dl>\n")
	d.s(string(c.SignerRows))
	d.s("</dl>\n</section>\n\n\n")

	if v.Surv != "" {
		d.s("<section class=\"card\" aria-labelledby=\"surv-heading\">\n<h2 id=\"surv-heading\">")
		d.s(t["surv.heading"])
		d.s(" ")
		d.s(string(v.SurvBadgeHTML))
		d.s("</h2>\n")
		d.s(string(v.SurvBody))
		d.s("\n</section>")
	}
	d.s("\n\n<section class=\"card\" aria-labelledby=\"checks-heading\">\n<h2 id=\"checks-heading\">")
	d.s(t["checks.heading"])
	d.s("</h2>\n<ul class=\"plain checks\">")
	d.s(string(v.CheckRows))
	d.s("</ul>\n</section>\n\n<section class=\"card\" aria-labelledby=\"hist-heading\">\n<h2 id=\"hist-heading\">")
	d.s(t["hist.heading"])
	d.s("</h2>\n<ol class=\"plain history\">")
	d.s(string(v.HistoryRows))
	d.s("</ol>\n</section>\n\n<section class=\"card links\" aria-labelledby=\"links-heading\">\n<h2 id=\"links-heading\">")
	d.s(t["links.heading"])
	d.s("</h2>\n<ul>\n")
	d.s(string(v.LinkItems))
	d.s("</ul>\n</section>\n")
	if v.WatchAction != "" {
		d.s("\n<section class=\"card\" aria-labelledby=\"watch-heading\">\n<h2 id=\"watch-heading\">")
		d.s(t["watch.heading"])
		d.s("</h2>\n<p>")
		d.s(t["watch.what"])
		d.s("</p>\n<form class=\"search\" method=\"post\" action=\"")
		if !d.url(v.WatchAction) {
			return false
		}
		d.s("\">\n<label for=\"watch-email\">")
		d.s(t["watch.email"])
		d.s("</label>\n<input type=\"email\" id=\"watch-email\" name=\"email\" required maxlength=\"254\" autocomplete=\"email\" inputmode=\"email\">\n<button type=\"submit\">")
		d.s(t["watch.button"])
		d.s("</button>\n</form>\n<p class=\"hint\">")
		d.s(t["watch.hint"])
		d.s("</p>\n</section>")
	}
	d.s("\n\n\n<p class=\"hint\">")
	d.s(t["foot.checked"])
	d.text(v.CheckedAt)
	d.s("</p>\n</main>\n")
	d.s(string(v.P.Foot))
	d.s("\n")
	return true
}
