package templates

import (
	"bytes"
	"embed"
	"html/template"
	"strings"

	"github.com/certd/certd/cert"
)

//go:embed html/*.html
var htmlFS embed.FS

var pages = template.Must(template.New("").Funcs(template.FuncMap{
	"t": func(lang, key string) string { return translate(lang, key) },
}).ParseFS(htmlFS, "html/*.html"))

// Languages the pages speak; the first is the default.
var Languages = []string{"zh-CN", "en"}

// PickLanguage chooses the page language: an explicit ?lang= wins, then the
// first supported language of Accept-Language, then Chinese.
func PickLanguage(explicit, acceptLanguage string) string {
	if l := matchLanguage(explicit); l != "" {
		return l
	}
	for _, part := range strings.Split(acceptLanguage, ",") {
		tag := strings.TrimSpace(strings.SplitN(part, ";", 2)[0])
		if l := matchLanguage(tag); l != "" {
			return l
		}
	}
	return Languages[0]
}

func matchLanguage(tag string) string {
	tag = strings.ToLower(tag)
	switch {
	case tag == "":
		return ""
	case strings.HasPrefix(tag, "zh"):
		return "zh-CN"
	case strings.HasPrefix(tag, "en"):
		return "en"
	}
	return ""
}

// VerifyPageData is what the verification page shows.
type VerifyPageData struct {
	Verdict   cert.Verdict
	Lang      string
	PublicURL string
	// Path is the page's own path, for the language switch links.
	Path string
}

// VerifyPage renders the verification page.
func VerifyPage(d VerifyPageData) ([]byte, error) {
	var buf bytes.Buffer
	if err := pages.ExecuteTemplate(&buf, "verify.html", d); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

var messages = map[string]map[string]string{
	"zh-CN": {
		"title": "证书验证", "valid": "有效", "invalid": "无效", "unknown": "暂时无法确认",
		"organization": "获证组织", "number": "证书编号", "validity": "有效期",
	},
	"en": {
		"title": "Certificate verification", "valid": "Valid", "invalid": "Not valid", "unknown": "Cannot confirm now",
		"organization": "Organization", "number": "Certificate number", "validity": "Validity",
	},
}

func translate(lang, key string) string {
	if m, ok := messages[lang]; ok {
		if s, ok := m[key]; ok {
			return s
		}
	}
	return key
}
