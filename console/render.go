package console

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
	"time"

	"github.com/certd/certd/cert"
)

// pageNames are the page templates; each is parsed with layout.html. The
// test TestTemplatesRegistered checks that every file is one of them.
var pageNames = []string{"login", "setup", "error", "dashboard", "certificates", "certificate", "new", "action", "conflict", "users", "security", "import", "importjob", "profile", "keys", "webhooks", "webhook"}

func (c *Console) parse() error {
	c.pages = make(map[string]*template.Template, len(pageNames))
	for _, name := range pageNames {
		t := template.New("layout.html").Funcs(funcs)
		t, err := t.ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return fmt.Errorf("console: parse template %s: %w", name, err)
		}
		c.pages[name] = t
	}
	return nil
}

// templateFiles lists the template files (for the registration test).
func templateFiles() ([]string, error) {
	return fs.Glob(templateFS, "templates/*.html")
}

var funcs = template.FuncMap{
	"t": func(lang, key string) string { return tr(messages, lang, key) },
	"tf": func(lang, key string, args ...any) string {
		return fmt.Sprintf(tr(messages, lang, key), args...)
	},
	"status": func(lang string, s any) string { return tr(statusNames, lang, fmt.Sprint(s)) },
	"action": func(lang, a string) string { return tr(actionNames, lang, a) },
	"reason": func(lang, r string) string { return tr(messages, lang, "webhooks.reason."+r) },
	"effect": func(lang, a string) string { return tr(actionEffects, lang, a) },
	"date": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.Format("2006-01-02")
	},
	"lastDay": func(t time.Time) string { return t.AddDate(0, 0, -1).Format("2006-01-02") },
	"datetime": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.Format("2006-01-02 15:04")
	},
	"otherLang": func(lang string) string {
		if lang == langEN {
			return "zh-CN"
		}
		return "en"
	},
	"htmlLang": func(lang string) string { return lang },
	"join":     strings.Join,
	"list":     func(v ...string) []string { return v },
	"field": func(lang, label, name, typ, value string, required bool, pattern string) map[string]any {
		return map[string]any{"Lang": lang, "Label": label, "Name": name, "Type": typ, "Value": value, "Req": required, "Pattern": pattern}
	},
	// hookEvents hands the events fieldset the language, the types and
	// the form whose ticks it shows.
	"hookEvents": func(lang string, types []string, f hookForm) map[string]any {
		return map[string]any{"Lang": lang, "Types": types, "Form": f}
	},
	// auditArgs hands the audit-record template the language and record.
	"auditArgs": func(lang string, a *cert.Audit) map[string]any { return map[string]any{"Lang": lang, "A": a} },
	// dict hands a sub-template the reader's language and its rows.
	"dict": func(lang string, rows []row) map[string]any { return map[string]any{"Lang": lang, "Rows": rows} },
}

// render writes a page: the layout with the page's content. data is a
// map whose keys the templates read; Lang, User and CSRF are added here.
func (c *Console) render(w http.ResponseWriter, r *http.Request, status int, page, lang string, data map[string]any) {
	if data == nil {
		data = map[string]any{}
	}
	data["Lang"] = lang
	data["Page"] = page
	data["Path"] = r.URL.Path
	var buf bytes.Buffer
	if err := c.pages[page].Execute(&buf, data); err != nil {
		c.log.Error("console: render", "page", page, "error", err.Error())
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// page renders a page of a signed-in user.
func (c *Console) page(q *request, status int, page string, data map[string]any) error {
	if data == nil {
		data = map[string]any{}
	}
	data["User"] = q.user
	data["CSRF"] = q.session.CSRF
	data["CanWrite"] = q.principal().CanWrite(q.user.Issuer)
	data["IsAdmin"] = q.user.Role == "admin"
	c.render(q.w, q.r, status, page, q.lang, data)
	return nil
}
