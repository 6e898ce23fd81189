package api

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"runtime"
	"time"

	"github.com/labstack/echo/v5"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/issuer"
	"github.com/certd/certd/report"
	"github.com/certd/certd/store"
	"github.com/certd/certd/templates"
)

// Issuing is what the api needs from the issuer use cases.
type Issuing interface {
	Issue(ctx context.Context, p cert.Principal, req issuer.Request, idemKey string) (*cert.Certificate, bool, error)
	IssueBatch(ctx context.Context, p cert.Principal, reqs []issuer.Request) ([]issuer.Result, error)
	Certificate(ctx context.Context, p cert.Principal, id string) (*cert.Certificate, error)
	List(ctx context.Context, p cert.Principal, q issuer.Query) ([]*cert.Certificate, string, error)
	Act(ctx context.Context, p cert.Principal, id, action string, req issuer.ActionRequest, ifMatch int64) (*cert.Certificate, error)
	StatusOf(c *cert.Certificate) cert.Standing
	SetConfidential(ctx context.Context, p cert.Principal, id string, confidential bool) (*cert.Certificate, error)
	SetOrganizationConfidential(ctx context.Context, p cert.Principal, issuer, uscc string, confidential bool) error
	ConfidentialOrganizations(ctx context.Context, issuer string) (map[string]bool, error)
	ReportCertificates(ctx context.Context, issuer string) ([]*cert.Certificate, error)
	EachReportCertificates(ctx context.Context, issuer string, fn func(page []*cert.Certificate) error) error
	Schemes() cert.Schemes
	CreateIssuer(ctx context.Context, p cert.Principal, req issuer.IssuerRequest) (*cert.Issuer, error)
	Issuers(ctx context.Context) ([]*cert.Issuer, error)
	Issuer(ctx context.Context, id string) (*cert.Issuer, error)
	CreateAPIKey(ctx context.Context, p cert.Principal, req issuer.APIKeyRequest) (*cert.APIKey, string, error)
	RevokeAPIKey(ctx context.Context, p cert.Principal, id string) error
	APIKeys(ctx context.Context, p cert.Principal) ([]*cert.APIKey, error)
	Authenticate(ctx context.Context, token string) (cert.Principal, error)
}

// Verifying is what the api needs from the verifier use cases.
type Verifying interface {
	ByID(ctx context.Context, id string) cert.Verdict
	ByToken(ctx context.Context, token string) cert.Verdict
	Batch(ctx context.Context, items []string) ([]cert.Verdict, error)
	// Resolve verifies a certificate id, or else a printed number across
	// issuers: matches lists the certificates of a number several issuers
	// use (and then the verdict is empty).
	Resolve(ctx context.Context, idOrNumber string) (v cert.Verdict, matches []cert.NumberMatch)
	// ForgetIssuer drops a cached issuer after its profile changed.
	ForgetIssuer(id string)
}

// Profiles reads and changes issuer profiles and images.
type Profiles interface {
	Get(ctx context.Context, p cert.Principal, id string) (*cert.Issuer, error)
	Patch(ctx context.Context, p cert.Principal, id string, patch []byte, ifMatch int64) (*cert.Issuer, error)
	PutImage(ctx context.Context, p cert.Principal, id, kind, contentType string, data []byte, ifMatch int64) (*cert.Issuer, error)
	DeleteImage(ctx context.Context, p cert.Principal, id, kind string, ifMatch int64) (*cert.Issuer, error)
	Image(ctx context.Context, id, kind string) (*cert.Image, error)
}

// Keys publishes and manages the issuers' keys.
type Keys interface {
	Rotate(ctx context.Context, issuer, keyType string) (cert.KeyInfo, error)
	Keys(ctx context.Context, issuer string) ([]cert.KeyInfo, error)
	JWKS(ctx context.Context, issuer string) ([]byte, error)
	JWKSAll(ctx context.Context, issuers []string) ([]byte, error)
	IssuerMetadata(ctx context.Context, issuer, issuerURL string) ([]byte, error)
}

// Pinger reports whether the store answers.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Config wires a Server.
type Config struct {
	Issuing   Issuing
	Verifying Verifying
	Profiles  Profiles
	Keys      Keys
	Store     Pinger
	// ReadyChecks are the conditions of /readyz; nil means one check,
	// "store", that pings Store.
	ReadyChecks []ReadyCheck
	// Search serves /search and /api/v1/search (the store).
	Search Searching
	// Reports are the report templates (nil: the embedded ones);
	// Submissions stores what was submitted (nil: the report routes that
	// need it answer 503).
	Reports     report.Templates
	Submissions store.Submissions
	// StatusLists publishes /status/{issuer}/{purpose}/{n}.
	StatusLists StatusLists
	// PublicURL is the base URL readers see, without trailing slash.
	PublicURL string
	// TrustedProxies lists the proxies whose X-Forwarded-For is believed;
	// without them the client IP is the connection's peer.
	TrustedProxies []netip.Prefix
	// PublicRate is the sustained rate of public requests per client IP
	// per second, PublicBurst the burst; 0 picks defaults.
	PublicRate  float64
	PublicBurst int
	// RenderRate is the render budget per client IP, in PDFs per second
	// (a QR code costs a fraction of a PDF by its size), with bursts of
	// twice as many; 0 picks 5.
	RenderRate float64
	// RenderConcurrency bounds the renders running at once in the process
	// (0: the number of cores); RenderWait is how long a render waits for
	// a free slot before it is refused with 503 (0: 2 s).
	RenderConcurrency int
	RenderWait        time.Duration
	Logger            *slog.Logger
	Now               func() time.Time
	// Console, when set, serves the staff web application under
	// /console/ (it has its own sessions and CSRF defence).
	Console http.Handler
	// Webhooks serves /api/v1/webhooks; nil answers 503 there.
	Webhooks Webhooks
	// Watches serves the watchlists (the form of /v/{id}, /watch/...,
	// /api/v1/watches); nil leaves the form out and answers 503 there.
	Watches Watching
	// Fonts set the certificate PDFs; FontErr says why there are none.
	Fonts   *templates.Fonts
	FontErr error
}

// Server is the HTTP interface.
type Server struct {
	cfg     Config
	e       *echo.Echo
	log     *slog.Logger
	now     func() time.Time
	metrics *metrics
	pdfs    *byteCache
	qrs     *byteCache
	// renders bounds concurrent renders (RenderConcurrency).
	renders chan struct{}
	// renderLimit is the render budget per client IP, in cost units.
	renderLimit *rateLimiter
	// pdfFailures remembers failed PDF renders.
	pdfFailures failureCache
	// renderPDF is templates.RenderPDF (tests count its calls).
	renderPDF func(templates.CertificateDoc, templates.Fonts) ([]byte, error)
	issuers   issuerCache
	ready     readiness
}

// New builds the server with every route registered.
func New(cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.PublicRate == 0 {
		cfg.PublicRate = 50
	}
	if cfg.PublicBurst == 0 {
		cfg.PublicBurst = 100
	}
	if cfg.RenderRate == 0 {
		cfg.RenderRate = defaultRenderRate
	}
	if cfg.RenderConcurrency == 0 {
		cfg.RenderConcurrency = runtime.GOMAXPROCS(0)
	}
	if cfg.RenderWait == 0 {
		cfg.RenderWait = defaultRenderWait
	}
	units := cfg.RenderRate * costPDF
	s := &Server{
		cfg: cfg, log: cfg.Logger, now: cfg.Now, metrics: newMetrics(), pdfs: newByteCache(256), qrs: newByteCache(4096),
		renders: make(chan struct{}, cfg.RenderConcurrency),
		// The burst holds at least one PDF, so that a low rate still
		// renders.
		renderLimit: newRateLimiter(units, max(int(2*units), costPDF)),
		renderPDF:   templates.RenderPDF,
	}
	// HEAD is answered by every GET route, with the GET's status and
	// headers and no body.
	e := echo.NewWithConfig(echo.Config{Router: echo.NewRouter(echo.RouterConfig{AutoHandleHEAD: true})})
	e.Logger = cfg.Logger
	e.HTTPErrorHandler = s.errorHandler
	e.IPExtractor = ipExtractor(cfg.TrustedProxies)
	s.e = e
	s.routes()
	for _, r := range s.e.Router().Routes() {
		s.metrics.routes[r.Path] = true
	}
	if kept, ok := cfg.Verifying.(keptVerdicts); ok {
		s.metrics.observeKept(kept)
	}
	return s
}

// ServeHTTP makes Server an http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.e.ServeHTTP(w, r) }

// Routes lists the registered routes (method and echo path), for the
// OpenAPI coverage test.
func (s *Server) Routes() []echo.RouteInfo { return s.e.Router().Routes() }

// ipExtractor takes the client IP from the connection, or from
// X-Forwarded-For when the peer is a trusted proxy.
func ipExtractor(trusted []netip.Prefix) echo.IPExtractor {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, p := range trusted {
		opts = append(opts, echo.TrustIPRange(prefixToIPNet(p)))
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}
