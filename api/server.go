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
	Schemes() cert.Schemes
	CreateIssuer(ctx context.Context, p cert.Principal, req issuer.IssuerRequest) (*cert.Issuer, error)
	Issuers(ctx context.Context) ([]*cert.Issuer, error)
	Issuer(ctx context.Context, id string) (*cert.Issuer, error)
	CreateAPIKey(ctx context.Context, p cert.Principal, req issuer.APIKeyRequest) (*cert.APIKey, string, error)
	RevokeAPIKey(ctx context.Context, p cert.Principal, id string) error
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
	// Search serves /search and /api/v1/search (the store).
	Search Searching
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
	Logger      *slog.Logger
	Now         func() time.Time
	// Font sets the certificate PDFs; FontErr says why there is none.
	Font    *templates.Font
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
	// renders bounds concurrent PDF renders to the number of cores.
	renders chan struct{}
	issuers issuerCache
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
	s := &Server{cfg: cfg, log: cfg.Logger, now: cfg.Now, metrics: newMetrics(), pdfs: newByteCache(256), qrs: newByteCache(4096), renders: make(chan struct{}, runtime.GOMAXPROCS(0))}
	e := echo.New()
	e.Logger = cfg.Logger
	e.HTTPErrorHandler = s.errorHandler
	e.IPExtractor = ipExtractor(cfg.TrustedProxies)
	s.e = e
	s.routes()
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
