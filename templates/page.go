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
	pageFiles    = []string{"verify.html", "search.html", "landing.html"}
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
	// Other is the same page in the other language.
	Other     string
	OtherLang string
	OtherName string
}

func newPage(lang, title, publicURL, path string, query url.Values) page {
	lang = PickLanguage(lang, "")
	other := "en"
	if lang == "en" {
		other = "zh-CN"
	}
	q := url.Values{}
	for k, v := range query {
		q[k] = slices.Clone(v)
	}
	q.Set("lang", other)
	return page{
		Lang: lang, Title: title, PublicURL: strings.TrimRight(publicURL, "/"), Host: hostOf(publicURL),
		Home:  publicPath(publicURL, "/"),
		Other: publicPath(publicURL, path) + "?" + q.Encode(), OtherLang: other, OtherName: translate(other, "lang.name"),
	}
}

// hostOf returns the host (and port) of the public URL.
func hostOf(publicURL string) string {
	if u, err := url.Parse(publicURL); err == nil && u.Host != "" {
		return u.Host
	}
	return publicURL
}

// publicPath returns path below the public URL as a reader's browser
// sees it: the public URL's own path prefix (behind a proxy) included.
func publicPath(publicURL, path string) string {
	if u, err := url.Parse(publicURL); err == nil {
		return strings.TrimRight(u.Path, "/") + path
	}
	return path
}

// execute runs the page template name of lang into a buffer.
func execute(lang, name string, data any) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(16 << 10)
	if err := pages[PickLanguage(lang, "")].ExecuteTemplate(&buf, name, data); err != nil {
		return nil, fmt.Errorf("render %s: %w", name, err)
	}
	return buf.Bytes(), nil
}
