package templates

import (
	"bytes"
	"embed"
	"fmt"
	"html"
	"html/template"
	"io/fs"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
)

//go:embed html/*.html
var htmlFS embed.FS

// messageUse is how a template asks for a fixed text: {{t .Lang "key"}}
// (or $.Lang inside a range).
var messageUse = regexp.MustCompile(`{{t \$?\.Lang "([^"]+)"}}`)

// pages holds the HTML templates of each language, parsed once at start: a
// template that does not parse stops the program before it serves
// anything. The fixed texts are put in the template source before parsing
// (escaped), so rendering a page evaluates only what changes; a "t" left
// in another form fails the parse, there being no such function.
var pages = func() map[string]*template.Template {
	files, err := fs.Glob(htmlFS, "html/*.html")
	if err != nil {
		panic(err)
	}
	out := map[string]*template.Template{}
	for _, lang := range Languages {
		set := template.New("")
		for _, f := range files {
			src, err := fs.ReadFile(htmlFS, f)
			if err != nil {
				panic(err)
			}
			text := messageUse.ReplaceAllStringFunc(string(src), func(use string) string {
				return html.EscapeString(translate(lang, messageUse.FindStringSubmatch(use)[1]))
			})
			template.Must(set.New(path.Base(f)).Parse(text))
		}
		out[lang] = set
	}
	return out
}()

// pageFiles lists the files of html/ that are whole pages, executed by
// their name; partialFiles those that only define templates the pages
// use. A test checks that every file of html/ is one or the other.
var (
	pageFiles    = []string{"verify.html", "search.html", "landing.html", "verifyfile.html", "error.html", "matches.html", "watch.html"}
	partialFiles = []string{"layout.html"}
)

// Languages the pages speak; the first is the default.
var Languages = []string{"zh-CN", "en"}

// PickLanguage chooses the page language: an explicit ?lang= wins, then
// the supported language Accept-Language prefers (by q-value, then order),
// then Chinese.
func PickLanguage(explicit, acceptLanguage string) string {
	if l := matchLanguage(explicit); l != "" {
		return l
	}
	best, bestQ := "", 0.0
	for _, part := range strings.Split(acceptLanguage, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				continue
			}
			q = f
		}
		if l := matchLanguage(strings.TrimSpace(tag)); l != "" && q > bestQ {
			best, bestQ = l, q
		}
	}
	if best != "" {
		return best
	}
	return Languages[0]
}

func matchLanguage(tag string) string {
	tag = strings.ToLower(tag)
	switch {
	case tag == "":
		return ""
	case tag == "zh" || strings.HasPrefix(tag, "zh-") || strings.HasPrefix(tag, "zh_"):
		return "zh-CN"
	case tag == "en" || strings.HasPrefix(tag, "en-") || strings.HasPrefix(tag, "en_"):
		return "en"
	}
	return ""
}

// page is what every page template gets, besides its own content.
type page struct {
	Lang      string
	Title     string
	PublicURL string
	// Host is the address readers must see in the address bar.
	Host string
	// Home is the landing page's path ("/" unless the public URL has a
	// path prefix); other paths are relative to it.
	Home string
	// Query is the text of the search box.
	Query string
	// Head, Top and Foot are the rendered start, header and footer of
	// the page.
	Head, Top, Foot template.HTML
	// Other is the same page in the other language: a reference of its
	// query alone, which keeps the page's path whatever it is.
	Other     string
	OtherLang string
	OtherName string
}

// plainPages keeps the page of each language, title and public URL
// without a query (a closed set, as for fixedParts): most pages are
// such, and building one costs a query encoding and three lookups.
var plainPages sync.Map // pageKey → page

type pageKey struct{ lang, title, publicURL string }

func newPage(lang, title, publicURL string, query url.Values) page {
	lang = PickLanguage(lang, "")
	if len(query) > 0 {
		return buildPage(lang, title, publicURL, query)
	}
	k := pageKey{lang, title, publicURL}
	if p, ok := plainPages.Load(k); ok {
		return p.(page)
	}
	p := buildPage(lang, title, publicURL, nil)
	plainPages.Store(k, p)
	return p
}

func buildPage(lang, title, publicURL string, query url.Values) page {
	other := "en"
	if lang == "en" {
		other = "zh-CN"
	}
	q := url.Values{}
	for k, v := range query {
		q[k] = slices.Clone(v)
	}
	q.Set("lang", other)
	p := page{
		Lang: lang, Title: title, PublicURL: strings.TrimRight(publicURL, "/"), Host: hostOf(publicURL),
		Home:  publicPath(publicURL, "/"),
		Other: "?" + q.Encode(), OtherLang: other, OtherName: translate(other, "lang.name"),
	}
	p.Head, p.Foot = fixed(headTemplate, p), fixed(footTemplate, p)
	if len(query) == 0 {
		p.Top = fixed(topTemplate, p)
	} else {
		p.Top = part(topTemplate, p) // a header per query: not kept
	}
	return p
}

// base is what the pages take from a public URL: its host, and its path
// prefix (certd behind a proxy under a path), parsed once per URL.
type base struct{ host, prefix string }

var bases sync.Map // public URL → base

func baseOf(publicURL string) base {
	if b, ok := bases.Load(publicURL); ok {
		return b.(base)
	}
	b := base{host: publicURL}
	if u, err := url.Parse(publicURL); err == nil {
		if u.Host != "" {
			b.host = u.Host
		}
		b.prefix = strings.TrimRight(u.Path, "/")
	}
	bases.Store(publicURL, b)
	return b
}

// hostOf returns the host (and port) of the public URL.
func hostOf(publicURL string) string { return baseOf(publicURL).host }

// publicPath returns path below the public URL as a reader's browser
// sees it: the public URL's own path prefix (behind a proxy) included.
func publicPath(publicURL, path string) string { return baseOf(publicURL).prefix + path }

// headTemplate, topTemplate and footTemplate are the start of every page
// (up to <body>: the stylesheet, the language, the title), its header and
// its footer. They are the same for every page of a language, title and
// public URL (the header, unless the page has a query to keep), so they
// are rendered once (fixed) and placed as markup.
const (
	headTemplate = "head"
	topTemplate  = "top"
	footTemplate = "foot"
)

var fixedParts sync.Map // template NUL lang NUL title NUL public URL → template.HTML

func fixed(name string, p page) template.HTML {
	key := name + "\x00" + p.Lang + "\x00" + p.Title + "\x00" + p.PublicURL
	if f, ok := fixedParts.Load(key); ok {
		return f.(template.HTML)
	}
	f := part(name, p)
	fixedParts.Store(key, f)
	return f
}

// part renders the partial template name of p.
func part(name string, p page) template.HTML {
	var buf bytes.Buffer
	if err := pages[p.Lang].ExecuteTemplate(&buf, name, p); err != nil {
		panic(fmt.Sprintf("render %s: %v", name, err)) // a template bug, caught by every page test
	}
	return template.HTML(buf.String())
}

// buffers are reused by execute: a page is some 10 KiB, and a fresh
// buffer would be allocated, zeroed and grown for every render.
var buffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// execute runs the page template name of lang and returns the page.
func execute(lang, name string, data any) ([]byte, error) {
	var out []byte
	err := renderPage(lang, name, data, func(page []byte) error {
		out = bytes.Clone(page)
		return nil
	})
	return out, err
}

// renderPage runs the page template name of lang into a pooled buffer and
// passes the page to write, which must not keep it.
func renderPage(lang, name string, data any, write func(page []byte) error) error {
	buf := buffers.Get().(*bytes.Buffer)
	defer buffers.Put(buf)
	buf.Reset()
	if err := pages[PickLanguage(lang, "")].ExecuteTemplate(buf, name, data); err != nil {
		return fmt.Errorf("render %s: %w", name, err)
	}
	return write(buf.Bytes())
}
