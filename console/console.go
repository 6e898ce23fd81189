package console

import (
	"context"
	"crypto/subtle"
	"embed"
	"errors"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/certd/certd/accounts"
	"github.com/certd/certd/cert"
	"github.com/certd/certd/issuer"
	"github.com/certd/certd/report"
)

// Issuing is what the console needs of the issuer use cases.
type Issuing interface {
	Issue(ctx context.Context, p cert.Principal, req issuer.Request, idemKey string) (*cert.Certificate, bool, error)
	Certificate(ctx context.Context, p cert.Principal, id string) (*cert.Certificate, error)
	List(ctx context.Context, p cert.Principal, q issuer.Query) ([]*cert.Certificate, string, error)
	Act(ctx context.Context, p cert.Principal, id, action string, req issuer.ActionRequest, ifMatch int64) (*cert.Certificate, error)
	StatusOf(c *cert.Certificate) cert.Standing
	Schemes() cert.Schemes
	Issuer(ctx context.Context, id string) (*cert.Issuer, error)
	SetConfidential(ctx context.Context, p cert.Principal, id string, confidential bool) (*cert.Certificate, error)
	SetOrganizationConfidential(ctx context.Context, p cert.Principal, issuer, uscc string, confidential bool) error
	ConfidentialOrganizations(ctx context.Context, issuer string) (map[string]bool, error)
}

// Config wires a Console.
type Config struct {
	Accounts *accounts.Service
	Issuing  Issuing
	// Profiles edits the issuer's profile (nil: no profile page).
	Profiles Profiles
	// PreviewPDF renders the issuer's certificate PDF with a sample
	// certificate and the current profile (nil: no preview).
	PreviewPDF func(ctx context.Context, issuer string) ([]byte, error)
	// APIKeys and SigningKeys serve the keys page (nil: none).
	APIKeys     APIKeys
	SigningKeys SigningKeys
	// Webhooks serves the webhooks page (nil: none).
	Webhooks Webhooks
	// PublicURL is the base URL readers see; an https URL makes the
	// session cookie Secure.
	PublicURL string
	Logger    *slog.Logger
	Now       func() time.Time
	// ReportDeadlines lists an issuer's report periods with outstanding
	// changes and their deadlines, for the dashboard
	// (deadlines.Service.Outstanding; nil: not shown).
	ReportDeadlines func(ctx context.Context, is *cert.Issuer) ([]report.TargetPeriods, error)
	// DashboardTTL is how long a dashboard is reused (0: 30 s; negative:
	// never, for measurements).
	DashboardTTL time.Duration
}

// Console is the staff web application; it is an http.Handler for the
// paths under /console/.
type Console struct {
	cfg     Config
	acc     *accounts.Service
	iss     Issuing
	prof    Profiles
	apiKeys APIKeys
	signing SigningKeys
	hooks   Webhooks
	log     *slog.Logger
	now     func() time.Time
	secure  bool
	pages   map[string]*template.Template
	handler http.Handler
	dash    *dashboardCache
	jobs    imports
	// routes lists the registered patterns, for the test that walks them.
	routes []string
}

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static/console.js
var consoleJS []byte

const (
	prefix     = "/console"
	cookieName = "certd_session"
)

// New builds the console with every route registered and every template
// parsed; a template that does not parse is an error at start.
func New(cfg Config) (*Console, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	c := &Console{cfg: cfg, acc: cfg.Accounts, iss: cfg.Issuing, prof: cfg.Profiles, apiKeys: cfg.APIKeys, signing: cfg.SigningKeys, hooks: cfg.Webhooks, log: cfg.Logger, now: cfg.Now,
		secure: strings.HasPrefix(cfg.PublicURL, "https://")}
	switch {
	case cfg.DashboardTTL == 0:
		c.dash = newDashboardCache(30 * time.Second)
	case cfg.DashboardTTL > 0:
		c.dash = newDashboardCache(cfg.DashboardTTL)
	default:
		c.dash = newDashboardCache(0)
	}
	if err := c.parse(); err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	public := func(pattern string, h http.HandlerFunc) {
		mux.HandleFunc(pattern, h)
		c.routes = append(c.routes, pattern)
	}
	private := func(pattern string, h pageFunc) {
		mux.Handle(pattern, c.signedIn(h))
		c.routes = append(c.routes, pattern)
	}
	// The map of the console: every route in one place.
	public("GET "+prefix+"/static/console.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		_, _ = w.Write(consoleJS)
	})
	public("GET "+prefix+"/login", c.loginPage)
	public("POST "+prefix+"/login", c.login)
	public("GET "+prefix+"/setup/{token}", c.setupPage)
	public("POST "+prefix+"/setup/{token}", c.setup)
	private("POST "+prefix+"/logout", c.logout)
	private("GET "+prefix+"/{$}", c.dashboard)
	private("GET "+prefix+"/certificates", c.certificates)
	private("GET "+prefix+"/certificates/new", c.newCertificate)
	private("POST "+prefix+"/certificates/new", c.issue)
	private("GET "+prefix+"/certificates/{id}", c.certificate)
	private("POST "+prefix+"/certificates/{id}/confidential", c.setConfidential)
	private("POST "+prefix+"/organizations/{uscc}/confidential", c.setOrganizationConfidential)
	private("GET "+prefix+"/certificates/{id}/{action}", c.actionForm)
	private("POST "+prefix+"/certificates/{id}/{action}", c.act)
	private("GET "+prefix+"/import", c.importPage)
	private("POST "+prefix+"/import", c.upload)
	private("GET "+prefix+"/import/{job}", c.importJobPage)
	private("GET "+prefix+"/import/{job}/result.csv", c.importResultCSV)
	private("GET "+prefix+"/settings/users", c.users)
	private("POST "+prefix+"/settings/users/invite", c.invite)
	private("POST "+prefix+"/settings/users/{id}", c.changeUser)
	private("GET "+prefix+"/settings/profile", c.profile)
	private("POST "+prefix+"/settings/profile", c.saveProfile)
	private("GET "+prefix+"/settings/profile/preview.pdf", c.previewPDF)
	private("POST "+prefix+"/settings/profile/{kind}", c.saveImage)
	private("GET "+prefix+"/settings/keys", c.keys)
	private("POST "+prefix+"/settings/keys", c.keysPost)
	private("GET "+prefix+"/settings/webhooks", c.webhooks)
	private("POST "+prefix+"/settings/webhooks", c.createWebhook)
	private("GET "+prefix+"/settings/webhooks/{id}", c.webhook)
	private("POST "+prefix+"/settings/webhooks/{id}", c.webhookPost)
	private("GET "+prefix+"/settings/security", c.security)
	private("POST "+prefix+"/settings/security", c.securityPost)
	mux.HandleFunc(prefix+"/", func(w http.ResponseWriter, r *http.Request) {
		c.errorPage(w, r, pickLang(r), http.StatusNotFound, tr(messages, pickLang(r), "notfound"))
	})
	mux.HandleFunc(prefix, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, prefix+"/", http.StatusMovedPermanently)
	})
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.errorPage(w, r, pickLang(r), http.StatusForbidden, "cross-origin request refused")
	}))
	c.handler = cop.Handler(mux)
	return c, nil
}

// Routes returns the registered patterns ("GET /console/...").
func (c *Console) Routes() []string { return append([]string(nil), c.routes...) }

// ServeHTTP serves the console.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; frame-ancestors 'none'; form-action 'self'")
	h.Set("Referrer-Policy", "same-origin")
	if l := r.URL.Query().Get("lang"); l == "en" || l == "zh-CN" {
		http.SetCookie(w, &http.Cookie{Name: "lang", Value: l, Path: prefix + "/", SameSite: http.SameSiteLaxMode, Secure: c.secure, MaxAge: 365 * 24 * 3600})
	}
	c.handler.ServeHTTP(w, r)
}

// request is what a page handler gets: the signed-in user, the session
// and the reader's language.
type request struct {
	w       http.ResponseWriter
	r       *http.Request
	user    *cert.User
	session *cert.Session
	lang    string
}

func (q *request) principal() cert.Principal { return q.user.Principal() }

type pageFunc func(q *request) error

// signedIn runs h for a signed-in user: without a live session a GET
// goes to the sign-in page (and back after), anything else is refused;
// a POST must carry the session's form token.
func (c *Console) signedIn(h pageFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lang := pickLang(r)
		u, se, err := c.acc.Authenticate(r.Context(), cookieValue(r, cookieName))
		if err != nil {
			if !errors.Is(err, accounts.ErrSessionEnded) {
				c.fail(w, r, lang, err)
				return
			}
			c.clearCookie(w)
			next := ""
			if r.Method == http.MethodGet {
				next = "?next=" + url.QueryEscape(r.URL.RequestURI())
			}
			http.Redirect(w, r, prefix+"/login"+next, http.StatusSeeOther)
			return
		}
		if r.Method == http.MethodPost {
			limit := int64(maxForm)
			if r.URL.Path == prefix+"/import" || strings.HasPrefix(r.URL.Path, prefix+"/settings/profile/") {
				limit = maxImport
			}
			r.Body = http.MaxBytesReader(w, r.Body, limit)
			if subtle.ConstantTimeCompare([]byte(r.PostFormValue("csrf")), []byte(se.CSRF)) != 1 {
				c.errorPage(w, r, lang, http.StatusForbidden, "the form token is missing or wrong: reload the page and try again")
				return
			}
		}
		if err := h(&request{w: w, r: r, user: u, session: se, lang: lang}); err != nil {
			c.fail(w, r, lang, err)
		}
	})
}

// maxForm bounds a form body (the import of a CSV has its own limit).
const maxForm = 1 << 20

// fail answers an error as a page: validation and state errors say what
// was wrong, internal ones are logged and answered in general words.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, lang string, err error) {
	status := http.StatusInternalServerError
	msg := tr(messages, lang, "error")
	switch {
	case errors.Is(err, cert.ErrNotFound):
		status, msg = http.StatusNotFound, tr(messages, lang, "notfound")
	case errors.Is(err, cert.ErrForbidden):
		status, msg = http.StatusForbidden, tr(messages, lang, "forbidden")+" "+err.Error()
	case errors.Is(err, cert.ErrInvalid), errors.Is(err, cert.ErrTransition), errors.Is(err, cert.ErrAlreadyExists):
		status, msg = http.StatusUnprocessableEntity, err.Error()
	case errors.Is(err, cert.ErrUnavailable):
		status = http.StatusServiceUnavailable
		c.log.Warn("console: store unavailable", "path", r.URL.Path, "error", err.Error())
	default:
		c.log.Error("console: internal error", "path", r.URL.Path, "error", err.Error())
	}
	c.errorPage(w, r, lang, status, msg)
}

func (c *Console) errorPage(w http.ResponseWriter, r *http.Request, lang string, status int, msg string) {
	c.render(w, r, status, "error", lang, map[string]any{"Status": status, "Message": msg})
}

func (c *Console) setCookie(w http.ResponseWriter, value string) {
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: value, Path: prefix + "/", HttpOnly: true, Secure: c.secure, SameSite: http.SameSiteLaxMode})
}

func (c *Console) clearCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: prefix + "/", MaxAge: -1, HttpOnly: true, Secure: c.secure, SameSite: http.SameSiteLaxMode})
}

// seeOther redirects after a successful form (POST/redirect/GET).
func seeOther(w http.ResponseWriter, r *http.Request, path string) error {
	http.Redirect(w, r, path, http.StatusSeeOther)
	return nil
}

// safeNext keeps a post-sign-in redirect inside the console.
func safeNext(next string) string {
	if !strings.HasPrefix(next, prefix+"/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return prefix + "/"
	}
	return next
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
