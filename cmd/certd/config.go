package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Config is everything certd reads from flags and CERTD_* environment
// variables. Flags win over the environment.
type Config struct {
	// Addr is the listen address.
	Addr string
	// PublicURL is the base URL readers see (printed in QR codes and
	// credentials); derived from Addr when empty.
	PublicURL string
	// DataDir holds the embedded store, the generated KEK and admin.token.
	DataDir string
	// MongoURI selects the MongoDB backend; MongoDatabase names the database.
	MongoURI      string
	MongoDatabase string
	// KEKFile is the key-encryption key; in embedded mode it defaults to
	// DataDir/kek and is generated on first start.
	KEKFile string
	// SchemesFile overrides the built-in schemes.
	SchemesFile string
	// ReportTemplates is a directory of report templates (cnca.json,
	// iafcertsearch.json) replacing the built-in ones.
	ReportTemplates string
	// TrustedProxies are the proxies whose X-Forwarded-For is believed.
	TrustedProxies []netip.Prefix
	LogFormat      string
	LogLevel       string
	// PDFFont lists the TrueType fonts of PDFs, in fallback order,
	// separated by the path list separator; empty: search the system.
	PDFFont string
	// Demo adds sample certificates in every status on first start.
	Demo bool
	// ShutdownTimeout bounds the draining of in-flight requests.
	ShutdownTimeout time.Duration
	// StoreTimeout bounds every store call.
	StoreTimeout time.Duration
	// RateLimit is the sustained rate of public requests per client IP and
	// second (bursts of twice as many are allowed).
	RateLimit float64
	// StatusTTL is the ttl of the published status lists: the longest time
	// a list is served without being derived again (0: 5 minutes).
	StatusTTL time.Duration
	// RenderRate is the render budget per client IP in PDFs per second (a
	// QR code costs a fraction of a PDF by size; 0: 5).
	RenderRate float64
	// MaxConns caps the open connections, MaxConnsPerIP those of one
	// client IP (0: DefaultMaxConns, DefaultMaxConnsPerIP).
	MaxConns      int
	MaxConnsPerIP int
	// IdleTimeout closes keep-alive connections idle this long (0: 30s).
	IdleTimeout time.Duration
	// AllowHTTPWebhooks accepts http:// webhook URLs; AllowPrivateWebhooks
	// delivers to receivers on loopback, private and link-local addresses.
	AllowHTTPWebhooks    bool
	AllowPrivateWebhooks bool
	// SMTPURL is the relay of notification e-mail (smtp:// with STARTTLS,
	// smtps://, plain only to a loopback address); empty: no e-mail is
	// sent and the outbox records it as not sent. It may hold a password:
	// never print it (mail.Server.String redacts it).
	SMTPURL string
	// MailFrom is the sender of notification e-mail; required with
	// SMTPURL.
	MailFrom string
	// ReminderInterval is how often reminders are looked for (1s to 24h;
	// a reminder is sent at the first sweep after its instant).
	ReminderInterval time.Duration
	// VerdictCache is how many verdicts of ids are kept for answering
	// again while nothing they were made of changed (embedded store only;
	// 0: none).
	VerdictCache int
}

// flagSpec documents one setting; the README's table mirrors this list.
type flagSpec struct {
	name, env, def, usage string
}

var flagSpecs = []flagSpec{
	{"addr", "CERTD_ADDR", ":8080", "listen address"},
	{"public-url", "CERTD_PUBLIC_URL", "", "base URL readers see, e.g. https://verify.example.cn (default http://localhost:PORT)"},
	{"data-dir", "CERTD_DATA_DIR", "./data", "directory of the embedded store, the generated KEK and admin.token"},
	{"mongo-uri", "CERTD_MONGO_URI", "", "MongoDB connection string; when set, everything is kept in MongoDB"},
	{"mongo-database", "CERTD_MONGO_DATABASE", "certd", "MongoDB database name"},
	{"kek-file", "CERTD_KEK_FILE", "", "key-encryption key file: 32 random bytes, base64 on one line, mode 0600 (default DATA-DIR/kek, generated on first start; required with --mongo-uri)"},
	{"schemes-file", "CERTD_SCHEMES_FILE", "", "JSON file overriding the built-in schemes"},
	{"report-templates", "CERTD_REPORT_TEMPLATES", "", "directory of report templates (cnca.json, iafcertsearch.json) replacing the built-in ones"},
	{"trusted-proxies", "CERTD_TRUSTED_PROXIES", "", "comma-separated CIDRs of reverse proxies whose X-Forwarded-For is trusted"},
	{"log-format", "CERTD_LOG_FORMAT", "text", "log format: text or json"},
	{"log-level", "CERTD_LOG_LEVEL", "info", "log level: debug, info, warn or error"},
	{"pdf-font", "CERTD_PDF_FONT", "", "TrueType fonts of certificate PDFs, in fallback order separated by ':' (a Latin face, then CJK faces); together they must cover Latin and Chinese (default: search the system fonts)"},
	{"demo", "CERTD_DEMO", "false", "on first start, add sample certificates in every status"},
	{"shutdown-timeout", "CERTD_SHUTDOWN_TIMEOUT", "20s", "how long in-flight requests may take to finish on SIGTERM"},
	{"store-timeout", "CERTD_STORE_TIMEOUT", "5s", "deadline of every store call"},
	{"rate-limit", "CERTD_RATE_LIMIT", "50", "public requests per second and client IP (verification, QR, PDF, search), bursts of twice as many"},
	{"status-ttl", "CERTD_STATUS_TTL", "5m", "ttl of the published status lists: they reflect time-derived changes and other instances' changes within it (at least 1s)"},
	{"render-rate", "CERTD_RENDER_RATE", "5", "PDF renders per second and client IP, bursts of twice as many; a QR code costs 1/40 to 1/5 of a PDF by size, answers from the cache nothing"},
	{"max-conns", "CERTD_MAX_CONNS", "4096", "open connections in all; beyond it, 16 more answer health probes only"},
	{"max-conns-per-ip", "CERTD_MAX_CONNS_PER_IP", "256", "open connections of one client IP (an IPv6 /64); trusted proxies are held to --max-conns only"},
	{"idle-timeout", "CERTD_IDLE_TIMEOUT", "30s", "how long a keep-alive connection may stay idle (1s to 10m)"},
	{"allow-http-webhooks", "CERTD_ALLOW_HTTP_WEBHOOKS", "false", "accept http:// webhook URLs (otherwise https:// only)"},
	{"allow-private-webhooks", "CERTD_ALLOW_PRIVATE_WEBHOOKS", "false", "deliver webhooks to receivers on loopback, private and link-local addresses (refused by default, checked at each delivery)"},
	{"smtp-url", "CERTD_SMTP_URL", "", "SMTP relay of notification e-mail: smtp://[user:password@]host[:port] (STARTTLS required; plain only to 127.0.0.1 or [::1]) or smtps://... (TLS); prefer the environment variable for a password (default: no e-mail is sent)"},
	{"mail-from", "CERTD_MAIL_FROM", "", "sender of notification e-mail, e.g. \"Certificates <cert@example.cn>\" (required with --smtp-url)"},
	{"reminder-interval", "CERTD_REMINDER_INTERVAL", "1h", "how often reminders (surveillance, expiry) are looked for, 1s to 24h; each is sent once, at the first sweep after 09:00 of its day"},
	{"verdict-cache", "CERTD_VERDICT_CACHE", "100000", "verdicts of certificate ids kept in memory and answered again until anything they show can have changed (embedded store only: with --mongo-uri none are kept); about 3.7 KB each with its JSON; 0 keeps none"},
}

// secretFlags are never shown with their value from the environment as
// the default in -h.
var secretFlags = map[string]bool{"smtp-url": true}

// switches are the flags that may be given alone, as --demo for
// --demo=true.
var switches = map[string]bool{"demo": true, "allow-http-webhooks": true, "allow-private-webhooks": true}

// switchValue is a flag.Value that the flag package treats as a boolean:
// given alone it is "true"; ParseConfig validates the value.
type switchValue struct{ s *string }

func (v switchValue) String() string {
	if v.s == nil {
		return ""
	}
	return *v.s
}

func (v switchValue) Set(s string) error { *v.s = s; return nil }
func (v switchValue) IsBoolFlag() bool   { return true }

// ParseConfig reads flags from args and CERTD_* variables through getenv.
func ParseConfig(args []string, getenv func(string) string, stderr io.Writer) (Config, error) {
	fs := flag.NewFlagSet("certd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	values := map[string]*string{}
	for _, f := range flagSpecs {
		def := f.def
		if v := getenv(f.env); v != "" {
			def = v
		}
		v := def
		values[f.name] = &v
		switch {
		case switches[f.name]:
			fs.Var(switchValue{&v}, f.name, f.usage+" ($"+f.env+")")
		case secretFlags[f.name]:
			fs.StringVar(&v, f.name, f.def, f.usage+" ($"+f.env+")")
			v = def
		default:
			fs.StringVar(&v, f.name, def, f.usage+" ($"+f.env+")")
		}
	}
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("unexpected argument %q: certd takes only flags (see -h)", fs.Arg(0))
	}
	get := func(name string) string { return strings.TrimSpace(*values[name]) }
	cfg := Config{
		Addr: get("addr"), PublicURL: strings.TrimRight(get("public-url"), "/"), DataDir: get("data-dir"),
		MongoURI: get("mongo-uri"), MongoDatabase: get("mongo-database"), KEKFile: get("kek-file"),
		SchemesFile: get("schemes-file"), ReportTemplates: get("report-templates"), LogFormat: get("log-format"), LogLevel: get("log-level"),
		PDFFont: get("pdf-font"), SMTPURL: get("smtp-url"), MailFrom: get("mail-from"),
	}
	var errs []error
	switch get("demo") {
	case "true", "1", "yes":
		cfg.Demo = true
	case "false", "0", "no", "":
	default:
		errs = append(errs, fmt.Errorf("--demo: must be true or false"))
	}
	for _, b := range []struct {
		name string
		dst  *bool
	}{{"allow-http-webhooks", &cfg.AllowHTTPWebhooks}, {"allow-private-webhooks", &cfg.AllowPrivateWebhooks}} {
		switch get(b.name) {
		case "true", "1", "yes":
			*b.dst = true
		case "false", "0", "no", "":
		default:
			errs = append(errs, fmt.Errorf("--%s: must be true or false", b.name))
		}
	}
	for _, d := range []struct {
		name string
		dst  *time.Duration
	}{{"shutdown-timeout", &cfg.ShutdownTimeout}, {"store-timeout", &cfg.StoreTimeout}, {"status-ttl", &cfg.StatusTTL}, {"idle-timeout", &cfg.IdleTimeout}, {"reminder-interval", &cfg.ReminderInterval}} {
		v, err := time.ParseDuration(get(d.name))
		if err != nil {
			errs = append(errs, fmt.Errorf("--%s: must be a duration such as 5s", d.name))
		}
		*d.dst = v
	}
	if d, err := time.ParseDuration(get("status-ttl")); err == nil && d == 0 {
		errs = append(errs, fmt.Errorf("--status-ttl: must be at least 1s"))
	}
	if r, err := strconv.ParseFloat(get("rate-limit"), 64); err != nil || r <= 0 {
		errs = append(errs, fmt.Errorf("--rate-limit: must be a positive number of requests per second"))
	} else {
		cfg.RateLimit = r
	}
	if d, err := time.ParseDuration(get("idle-timeout")); err == nil && d == 0 {
		errs = append(errs, fmt.Errorf("--idle-timeout: must be from 1s to 10m, e.g. 30s"))
	}
	if d, err := time.ParseDuration(get("reminder-interval")); err == nil && (d < time.Second || d > 24*time.Hour) {
		errs = append(errs, fmt.Errorf("--reminder-interval: must be from 1s to 24h, e.g. 1h"))
	}
	if r, err := strconv.ParseFloat(get("render-rate"), 64); err != nil || r <= 0 {
		errs = append(errs, fmt.Errorf("--render-rate: must be a positive number of PDFs per second"))
	} else {
		cfg.RenderRate = r
	}
	for _, n := range []struct {
		name string
		dst  *int
	}{{"max-conns", &cfg.MaxConns}, {"max-conns-per-ip", &cfg.MaxConnsPerIP}} {
		v, err := strconv.Atoi(get(n.name))
		if err != nil || v < 1 {
			errs = append(errs, fmt.Errorf("--%s: must be a positive whole number of connections", n.name))
			continue
		}
		*n.dst = v
	}
	if v, err := strconv.Atoi(get("verdict-cache")); err != nil || v < 0 || v > 10_000_000 {
		errs = append(errs, errors.New("--verdict-cache: must be a whole number of verdicts from 0 to 10000000"))
	} else {
		cfg.VerdictCache = v
	}
	if tp := get("trusted-proxies"); tp != "" {
		for _, part := range strings.Split(tp, ",") {
			part = strings.TrimSpace(part)
			p, err := netip.ParsePrefix(part)
			if err != nil {
				a, aerr := netip.ParseAddr(part)
				if aerr != nil {
					errs = append(errs, fmt.Errorf("--trusted-proxies: %q is not an IP address or CIDR", part))
					continue
				}
				p = netip.PrefixFrom(a, a.BitLen())
			}
			cfg.TrustedProxies = append(cfg.TrustedProxies, p)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return cfg, err
	}
	return cfg, cfg.Validate()
}

// Validate checks the configuration before anything listens or opens.
func (c *Config) Validate() error {
	var errs []error
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		errs = append(errs, fmt.Errorf("--addr: %q must be host:port, e.g. :8080", c.Addr))
	}
	if c.PublicURL != "" {
		u, err := url.Parse(c.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			errs = append(errs, fmt.Errorf("--public-url: %q must be an absolute http(s) URL without query, e.g. https://verify.example.cn", c.PublicURL))
		}
	}
	if c.MongoURI == "" && c.DataDir == "" {
		errs = append(errs, errors.New("--data-dir: must not be empty"))
	}
	if c.MongoURI != "" {
		if !strings.HasPrefix(c.MongoURI, "mongodb://") && !strings.HasPrefix(c.MongoURI, "mongodb+srv://") {
			errs = append(errs, errors.New("--mongo-uri: must start with mongodb:// or mongodb+srv://"))
		}
		if c.KEKFile == "" {
			errs = append(errs, errors.New("--kek-file: is required with --mongo-uri (every instance must use the same KEK; create one with: openssl rand -base64 32 > kek && chmod 600 kek)"))
		}
		if c.MongoDatabase == "" {
			errs = append(errs, errors.New("--mongo-database: must not be empty"))
		}
	}
	if c.SchemesFile != "" {
		if _, err := os.Stat(c.SchemesFile); err != nil {
			errs = append(errs, fmt.Errorf("--schemes-file: %v", err))
		}
	}
	for _, f := range filepath.SplitList(c.PDFFont) {
		if _, err := os.Stat(f); err != nil {
			errs = append(errs, fmt.Errorf("--pdf-font: %v", err))
		}
	}
	switch c.LogFormat {
	case "text", "json":
	default:
		errs = append(errs, fmt.Errorf("--log-format: %q must be text or json", c.LogFormat))
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("--log-level: %q must be debug, info, warn or error", c.LogLevel))
	}
	if c.ShutdownTimeout <= 0 {
		errs = append(errs, errors.New("--shutdown-timeout: must be positive"))
	}
	if c.StoreTimeout <= 0 {
		errs = append(errs, errors.New("--store-timeout: must be positive"))
	}
	if c.StatusTTL != 0 && (c.StatusTTL < time.Second || c.StatusTTL%time.Second != 0) {
		errs = append(errs, errors.New("--status-ttl: must be a whole number of seconds, at least 1s, e.g. 5m"))
	}
	if c.RenderRate < 0 || math.IsNaN(c.RenderRate) || math.IsInf(c.RenderRate, 0) {
		errs = append(errs, errors.New("--render-rate: must be a positive number of PDFs per second"))
	}
	if c.MaxConns < 0 || c.MaxConnsPerIP < 0 {
		errs = append(errs, errors.New("--max-conns, --max-conns-per-ip: must be positive"))
	}
	if maxConns, perIP := c.connCaps(); perIP > maxConns {
		errs = append(errs, fmt.Errorf("--max-conns-per-ip: %d must not exceed --max-conns (%d)", perIP, maxConns))
	}
	if c.IdleTimeout != 0 && (c.IdleTimeout < time.Second || c.IdleTimeout > 10*time.Minute) {
		errs = append(errs, errors.New("--idle-timeout: must be from 1s to 10m, e.g. 30s"))
	}
	errs = append(errs, c.validateMail()...)
	return errors.Join(errs...)
}

// connCaps is the total and per-client connection caps in use.
func (c *Config) connCaps() (total, perIP int) {
	total, perIP = c.MaxConns, c.MaxConnsPerIP
	if total == 0 {
		total = DefaultMaxConns
	}
	if perIP == 0 {
		perIP = DefaultMaxConnsPerIP
	}
	return total, perIP
}

// idleTimeout is the keep-alive idle timeout in use.
func (c *Config) idleTimeout() time.Duration {
	if c.IdleTimeout == 0 {
		return 30 * time.Second
	}
	return c.IdleTimeout
}

// kekPath is the KEK file in use.
func (c *Config) kekPath() string {
	if c.KEKFile != "" {
		return c.KEKFile
	}
	return filepath.Join(c.DataDir, "kek")
}
