package templates

import (
	"html/template"
	"strings"
)

// markup writes the values of the verification page in Go, in blocks
// that the template places (the verdict's box, the certificate's fields,
// the checks, the history...). html/template spends most of a render on
// reflection, about a microsecond per value; the page shows some eighty
// values, and writing them here makes it four times cheaper to render. Every value goes through escaper, which escapes the
// characters that matter in text and in quoted attribute values (those of
// html.EscapeString); tag writes only constant markup of this package.
// Links stay in the templates, where html/template filters URLs.
type markup struct{ b strings.Builder }

var escaper = strings.NewReplacer(`&`, "&amp;", `'`, "&#39;", `<`, "&lt;", `>`, "&gt;", `"`, "&#34;")

// tag writes constant markup.
func (m *markup) tag(s string) { m.b.WriteString(s) }

// text writes a value, escaped.
func (m *markup) text(s string) { _, _ = escaper.WriteString(&m.b, s) }

func (m *markup) html() template.HTML { return template.HTML(m.b.String()) }

// fieldRows is the <dl> content of the certificate's details.
func fieldRows(fields []field) template.HTML {
	var m markup
	m.b.Grow(128 * len(fields))
	for _, f := range fields {
		m.tag("<div><dt>")
		m.text(f.Label)
		m.tag("</dt><dd")
		if f.Class != "" {
			m.tag(` class="`)
			m.text(f.Class)
			m.tag(`"`)
		}
		m.tag(">")
		m.text(f.Value)
		if f.Sub != "" {
			m.tag(`<span class="sub">`)
			m.text(f.Sub)
			m.tag("</span>")
		}
		m.tag("</dd></div>\n")
	}
	return m.html()
}

// checkRows is the list of checks.
func checkRows(checks []checkView) template.HTML {
	var m markup
	m.b.Grow(128 * len(checks))
	for _, c := range checks {
		m.tag("<li><span>")
		m.text(c.Name)
		if c.OK {
			m.tag(`</span><span class="res ok"><span aria-hidden="true">✓</span> `)
		} else {
			m.tag(`</span><span class="res bad"><span aria-hidden="true">✕</span> `)
		}
		m.text(c.Word)
		m.tag("</span></li>\n")
	}
	return m.html()
}

// historyRows is the list of status changes; auto labels the derived ones.
func historyRows(history []historyView, auto string) template.HTML {
	var m markup
	m.b.Grow(192 * len(history))
	for _, h := range history {
		m.tag("<li><time>")
		m.text(h.Date)
		m.tag(`</time>`)
		m.tag(string(badgeHTML(h.Badge)))
		m.tag(`<span class="why">`)
		m.text(h.Reason)
		if h.Auto {
			m.tag(" · ")
			m.text(auto)
		}
		m.tag("</span></li>\n")
	}
	return m.html()
}

// banner is the inside of the verdict's box: its date, icon and word, and
// what it means.
func banner(label string, b Badge, headline string) template.HTML {
	var m markup
	m.b.Grow(160 + len(label) + len(headline))
	m.tag(`<p class="label">`)
	m.text(label)
	m.tag(`</p>` + "\n" + `<p class="word" id="verdict-word"><span class="icon" aria-hidden="true">`)
	m.text(b.Icon)
	m.tag(`</span><span data-verdict>`)
	m.text(b.Word)
	m.tag(`</span></p>` + "\n" + `<p class="headline">`)
	m.text(headline)
	m.tag("</p>\n")
	return m.html()
}

// listItems is one <li> for each item.
func listItems(items []string) template.HTML {
	var m markup
	for _, it := range items {
		m.tag("<li>")
		m.text(it)
		m.tag("</li>")
	}
	return m.html()
}

// paragraphs is one <p> for each text that is not empty.
func paragraphs(texts ...string) template.HTML {
	var m markup
	for _, t := range texts {
		if t != "" {
			m.tag("<p>")
			m.text(t)
			m.tag("</p>\n")
		}
	}
	return m.html()
}

// badgeHTML is a status badge: icon and word on the badge's colour.
func badgeHTML(b Badge) template.HTML {
	var m markup
	m.tag(`<span class="badge `)
	m.text(b.Class)
	m.tag(`"><span aria-hidden="true">`)
	m.text(b.Icon)
	m.tag(`</span>`)
	m.text(b.Word)
	m.tag(`</span>`)
	return m.html()
}

// orgHead is the organization's name and English name.
func orgHead(name, nameEn string) template.HTML {
	var m markup
	m.tag(`<p class="org" data-org>`)
	m.text(name)
	m.tag("</p>\n")
	if nameEn != "" {
		m.tag(`<p class="org-en" lang="en">`)
		m.text(nameEn)
		m.tag("</p>\n")
	}
	return m.html()
}

// link is one link of a page to a resource of this site.
type link struct{ URL, Text string }

// linkItems is one <li><a> for each link with a URL. A URL must be a path
// on this site (it starts with "/"): anything else is written as "#", as
// html/template does with a URL it does not trust.
func linkItems(links []link) template.HTML {
	var m markup
	for _, l := range links {
		if l.URL == "" {
			continue
		}
		u := l.URL
		if !strings.HasPrefix(u, "/") || strings.HasPrefix(u, "//") {
			u = "#"
		}
		m.tag(`<li><a href="`)
		m.text(u)
		m.tag(`">`)
		m.text(l.Text)
		m.tag("</a></li>\n")
	}
	return m.html()
}
