// Command certd is the certificate issuance and verification server.
//
// It reads its configuration from flags and CERTD_* environment variables
// (see -h), opens the embedded bbolt store (or MongoDB with --mongo-uri),
// creates a default issuer and an admin API key on first start, and serves
// the HTTP interface until SIGINT or SIGTERM, then drains in-flight requests.
// It refuses to start on a data directory that lost its store, a store
// without its KEK, or a damaged store file.
//
// `certd admin-key` creates a new admin API key for an operator locked out
// of the API (see certd admin-key -h).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/certd/certd/accounts"
	"github.com/certd/certd/api"
	"github.com/certd/certd/cert"
	"github.com/certd/certd/deadlines"
	"github.com/certd/certd/issuer"
	"github.com/certd/certd/keys"
	"github.com/certd/certd/mail"
	"github.com/certd/certd/notify"
	"github.com/certd/certd/profile"
	"github.com/certd/certd/remind"
	"github.com/certd/certd/report"
	"github.com/certd/certd/store"
	"github.com/certd/certd/store/bolt"
	"github.com/certd/certd/templates"
	"github.com/certd/certd/verifier"
	"github.com/certd/certd/watch"
)

// gcPercent is the garbage collector's target unless GOGC is set. certd's
// live heap is small (the store is memory-mapped, outside the heap), so at
// Go's default of 100 it collects very often under load; 200 trades some
// megabytes for CPU (BenchmarkVerifyPageHandler about 10-15% faster).
const gcPercent = 200

func main() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	if len(os.Args) > 1 && os.Args[1] == "admin-key" {
		err := runAdminKey(context.Background(), os.Args[2:], os.Getenv, os.Stdout, os.Stderr)
		switch {
		case errors.Is(err, flag.ErrHelp):
		case err != nil:
			fmt.Fprintf(os.Stderr, "certd admin-key: %v\n", err)
			os.Exit(1)
		}
		return
	}
	cfg, err := ParseConfig(os.Args[1:], os.Getenv, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "certd: invalid configuration:\n%v\n", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	m := NewMain(cfg)
	if err := m.Run(ctx); err != nil {
		m.Logger.Error("certd failed to start", "error", err.Error())
		_ = m.Close()
		os.Exit(1)
	}
	<-ctx.Done()
	m.Logger.Info("shutting down: draining in-flight requests", "timeout", cfg.ShutdownTimeout.String())
	if err := m.Close(); err != nil {
		m.Logger.Error("shutdown", "error", err.Error())
		os.Exit(1)
	}
}

// Main is the wired program: Run starts it, Close stops it. Tests run the
// real wiring through Main on port 0.
type Main struct {
	Config Config
	// Stdout receives the first-start message with the admin key.
	Stdout io.Writer
	// Logger is built from the config in NewMain.
	Logger *slog.Logger
	// Now is the clock (time.Now unless a test sets it before Run).
	Now func() time.Time
	// SweepInterval is how often time-derived status changes are recorded
	// as events (DefaultSweepInterval when 0).
	SweepInterval time.Duration
	// MinFreeDisk is the free space of the data directory's file system
	// under which /readyz fails (DefaultMinFreeDisk when 0).
	MinFreeDisk int64

	store    store.Store
	server   *http.Server
	listener net.Listener
	served   chan error
	// stopSweep ends the sweep goroutine, which closes swept.
	stopSweep context.CancelFunc
	swept     chan struct{}
	// notifications run the outbox dispatcher and the delivery worker
	// (deliver.go).
	notifications *notifications
	// reminders runs the reminder sweep (remind.go); Reminders is its
	// sweeper, exposed for tests of the wiring.
	reminders reminders
	Reminders *remind.Sweeper
	// Sinks are notification sinks besides those certd builds (the
	// issuers' webhooks, the organizations' e-mail, the watchers): tests
	// add theirs before Run.
	Sinks []notify.Sink
	// Keys and Issuer are exposed for tests of the wiring.
	Keys        *keys.Service
	Issuer      *issuer.Service
	StatusLists *issuer.StatusLists
	Profiles    *profile.Service
	API         *api.Server
	Accounts    *accounts.Service
	// Deadlines tells staff of reports due: the console's dashboard shows
	// them, and the reminder sweep calls Deadlines.Alert, which enqueues
	// the staff-alert e-mails (once per period and target).
	Deadlines *deadlines.Service
	// PasswordParams are the argon2id parameters of console passwords
	// (accounts.DefaultPasswordParams when zero; tests make them cheap).
	PasswordParams accounts.PasswordParams

	// Watches are the watchlists; WatchSink is their notify.Sink: the
	// outbox dispatcher hands it every event, after the issuers'
	// webhooks.
	Watches   *watch.Service
	WatchSink *watch.Sink
}

// NewMain returns a Main for cfg, logging to stderr.
func NewMain(cfg Config) *Main {
	return &Main{Config: cfg, Stdout: os.Stdout, Logger: newLogger(cfg, os.Stderr), Now: time.Now}
}

func newLogger(cfg Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// Addr is the address the server listens on (after Run).
func (m *Main) Addr() string { return m.listener.Addr().String() }

// PublicURL is the base URL in use (after Run).
func (m *Main) PublicURL() string { return m.Config.PublicURL }

// Run opens the store, bootstraps a first start, and starts serving. It
// returns once the server listens.
func (m *Main) Run(ctx context.Context) error {
	cfg := &m.Config
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("invalid configuration: %w", err)
	}
	schemes, err := loadSchemes(cfg.SchemesFile)
	if err != nil {
		return err
	}
	reports, err := report.LoadTemplates(cfg.ReportTemplates)
	if err != nil {
		return fmt.Errorf("--report-templates: %w", err)
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	maxConns, perIP := cfg.connCaps()
	m.listener = newConnLimiter(ln, maxConns, perIP, cfg.TrustedProxies)
	if cfg.PublicURL == "" {
		cfg.PublicURL = defaultPublicURL(ln.Addr())
	}

	// The store before the KEK: whether a missing KEK may be generated
	// depends on what the store holds.
	if err := checkDataDir(cfg); err != nil {
		return err
	}
	st, err := m.openStore(ctx)
	if err != nil {
		return err
	}
	m.store = st
	kek, err := m.openKEK(ctx)
	if err != nil {
		return err
	}

	m.Keys = keys.NewService(st, kek, m.Now)
	if err := m.checkSigning(ctx); err != nil {
		return err
	}
	if n, err := notify.SealSecrets(ctx, st, kek); err != nil {
		return fmt.Errorf("seal webhook secrets: %w", err)
	} else if n > 0 {
		m.Logger.Info("sealed the plaintext signing secrets of webhooks under the KEK", "webhooks", n)
	}
	lists := issuer.NewStatusLists(issuer.StatusListConfig{
		Store: st, Signer: m.Keys, Schemes: schemes, PublicURL: cfg.PublicURL, TTL: cfg.StatusTTL, Now: m.Now,
	})
	m.StatusLists = lists
	fonts, fontErr := templates.FindFonts(cfg.PDFFont)
	var printer issuer.Printer
	switch {
	case fontErr != nil && cfg.PDFFont != "":
		return fontErr // names --pdf-font
	case fontErr != nil:
		m.Logger.Warn("certificate PDFs are unavailable until TrueType fonts are installed; issuing does not check that certificates can be printed meanwhile", "error", fontErr.Error())
	default:
		printer = fonts
		m.Logger.Info("PDF fonts", "paths", fonts.Paths())
	}
	m.newNotifications(st, kek)
	m.Issuer = issuer.New(issuer.Config{
		Store: st, Signer: m.Keys, Rings: m.Keys, Schemes: schemes, PublicURL: cfg.PublicURL, Now: m.Now,
		OnChange: func(is string) { lists.Invalidate(is); m.wakeDispatcher() }, Printer: printer,
		Organizations: organizationsOf(st), StatusLists: lists,
	})
	ver := verifier.New(verifier.Config{Store: st, Keys: m.Keys, Schemes: schemes, PublicURL: cfg.PublicURL, Now: m.Now, StatusLists: lists,
		VerdictCache: cfg.VerdictCache})
	m.Deadlines = deadlines.New(deadlines.Config{
		Templates: reports, Schemes: schemes, Certificates: m.Issuer, Submissions: submissionsOf(st),
		Issuers: st, Users: st, Outbox: st, Now: m.Now,
	})
	profiles := profile.New(profile.Config{Store: st, Schemes: schemes, Now: m.Now,
		// A profile changed in the console as through the API: the next
		// verification and page show it.
		OnChange: func(id string) {
			if m.API != nil {
				m.API.ForgetIssuer(id)
			} else {
				ver.ForgetIssuer(id)
			}
		}})
	m.Profiles = profiles
	hooks := &notify.Webhooks{Store: st, Secrets: kek, AllowHTTP: cfg.AllowHTTPWebhooks, Now: m.Now}
	con, err := m.wireConsole(profiles, m.previewer(fonts, profiles, schemes), hooks)
	if err != nil {
		return err
	}
	if err := m.bootstrap(ctx); err != nil {
		return err
	}
	mailer, err := m.newMailer(fonts, fontErr)
	if err != nil {
		return err
	}
	m.setMailer(mailer)
	m.prepareStatusIndex(ctx)
	m.Watches = &watch.Service{Store: st, PublicURL: cfg.PublicURL, Now: m.Now}
	m.WatchSink = &watch.Sink{Store: st, PublicURL: cfg.PublicURL, Schemes: schemes, Organizations: organizationsOf(st)}
	m.API = api.New(api.Config{
		Fonts: &fonts, FontErr: fontErr,
		Issuing: m.Issuer, Verifying: ver, Keys: m.Keys, ReadyChecks: m.readyChecks(st),
		Profiles: profiles, Store: st, Search: st, StatusLists: lists, PublicURL: cfg.PublicURL,
		TrustedProxies: cfg.TrustedProxies, Logger: m.Logger, Now: m.Now,
		Reports: reports, Submissions: submissionsOf(st),
		PublicRate: cfg.RateLimit, PublicBurst: int(2 * cfg.RateLimit), RenderRate: cfg.RenderRate,
		Console:  con,
		Webhooks: hooks,
		Watches:  m.Watches,
	})
	if cl, ok := m.listener.(*connLimiter); ok {
		cl.refused = m.API.ObserveConnections(cl.open)
	}
	m.server = &http.Server{
		Handler:           serveWithinCaps(m.API, m.API.HealthOnly()),
		ConnContext:       connContext,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       cfg.idleTimeout(),
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(m.Logger.Handler(), slog.LevelWarn),
	}
	m.served = make(chan error, 1)
	go func() { m.served <- m.server.Serve(m.listener) }()
	sweepCtx, stop := context.WithCancel(context.Background())
	m.stopSweep, m.swept = stop, make(chan struct{})
	go m.sweep(sweepCtx)
	// Organization e-mail is always a sink: without --smtp-url the outbox
	// records each mail as not sent rather than dropping it.
	m.Sinks = append([]notify.Sink{
		&notify.WebhookSink{Store: st, Data: m.API.WebhookData},
		&mail.OrganizationSink{Outbox: st},
		m.WatchSink,
	}, m.Sinks...)
	m.startNotifications(m.Sinks)
	m.startReminders(st, schemes)
	m.Logger.Info("certd listening", "addr", ln.Addr().String(), "public_url", cfg.PublicURL, "store", m.storeName())
	return nil
}

// statusIndexWait bounds how long Start waits for the status index to be
// ready (a read of its tag; marking every certificate after an upgrade
// takes longer and is left to the sweep).
const statusIndexWait = time.Second

// prepareStatusIndex makes the status lists use the store's status index
// from the first request when it is ready within statusIndexWait;
// otherwise the sweep prepares it in the background, and lists are derived
// from every certificate until then.
func (m *Main) prepareStatusIndex(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, statusIndexWait)
	defer cancel()
	if err := m.StatusLists.PrepareIndex(ctx); err != nil {
		m.Logger.Info("status index not ready at start; it is prepared in the background", "error", err.Error())
	}
}

// DefaultSweepInterval is how often every instance records time-derived
// status changes (a window closing at midnight) in the audit trails.
const DefaultSweepInterval = 5 * time.Minute

// sweep records time-derived status changes at start and then every
// SweepInterval, until stopped. Every instance sweeps; the store's
// optimistic concurrency records each change once.
func (m *Main) sweep(ctx context.Context) {
	defer close(m.swept)
	interval := m.SweepInterval
	if interval <= 0 {
		interval = DefaultSweepInterval
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if !m.StatusLists.Indexed() {
			if err := m.StatusLists.PrepareIndex(ctx); err != nil && ctx.Err() == nil {
				m.Logger.Warn("status lists are derived from every certificate until the status index is ready", "error", err.Error())
			}
		}
		n, err := m.Issuer.SweepDerived(ctx, "")
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			m.Logger.Warn("recording time-derived status changes", "error", err.Error(), "recorded", n)
		case n > 0:
			m.Logger.Info("recorded time-derived status changes", "events", n)
		}
		if n, err := m.Watches.Purge(ctx); err != nil && ctx.Err() == nil {
			m.Logger.Warn("deleting expired watch subscriptions", "error", err.Error())
		} else if n > 0 {
			m.Logger.Info("deleted expired watch subscriptions", "subscriptions", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (m *Main) storeName() string {
	if m.Config.MongoURI != "" {
		return "mongodb"
	}
	return "bbolt " + filepath.Join(m.Config.DataDir, "certd.db")
}

// openKEK loads the KEK. In embedded mode without --kek-file it generates
// one into the data directory, but only into a store that holds no issuer
// and no key ring: over existing data a missing KEK is an error.
func (m *Main) openKEK(ctx context.Context) (keys.KEK, error) {
	cfg := &m.Config
	if cfg.MongoURI != "" || cfg.KEKFile != "" {
		k, err := keys.LoadKEK(cfg.kekPath())
		if err != nil {
			return keys.KEK{}, fmt.Errorf("key-encryption key: %w", err)
		}
		return k, nil
	}
	if _, err := os.Lstat(cfg.kekPath()); errors.Is(err, fs.ErrNotExist) {
		held, err := storeHolds(ctx, m.store)
		if err != nil {
			return keys.KEK{}, err
		}
		if held != "" {
			return keys.KEK{}, fmt.Errorf("key-encryption key %s is missing, but the store %s holds %s, whose signing keys it sealed: "+
				"restore the KEK file from your backup (mode 0600), or point --kek-file at it. "+
				"certd generates a KEK only on a first start, into an empty store", cfg.kekPath(), m.storeName(), held)
		}
	}
	k, created, err := keys.EnsureKEK(cfg.kekPath())
	if err != nil {
		return keys.KEK{}, fmt.Errorf("key-encryption key: %w", err)
	}
	if created {
		m.Logger.Warn("generated a new key-encryption key; back it up: without it the signing keys cannot be used", "path", cfg.kekPath())
	}
	return k, nil
}

// submissionsOf returns the store's report submissions, if it keeps them.
func submissionsOf(st store.Store) store.Submissions {
	sub, _ := st.(store.Submissions)
	return sub
}

// organizationsOf returns the store's per-organization flags, if it keeps
// them.
func organizationsOf(st store.Store) store.Organizations {
	o, _ := st.(store.Organizations)
	return o
}

func (m *Main) openStore(ctx context.Context) (store.Store, error) {
	cfg := &m.Config
	if cfg.MongoURI != "" {
		return openMongo(ctx, cfg)
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	start := time.Now()
	st, err := bolt.Open(filepath.Join(cfg.DataDir, dbFile))
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	took := time.Since(start).Round(time.Millisecond)
	if st.Check() == bolt.CheckFull {
		m.Logger.Warn("store was not closed cleanly (crash, kill -9, power loss) or changed since: read and checked every page before starting",
			"file", dbFile, "took", took.String())
	} else {
		m.Logger.Info("store opened", "file", dbFile, "check", string(st.Check()), "took", took.String())
	}
	return st, nil
}

// Close stops accepting requests, drains those in flight (bounded by the
// shutdown timeout) and closes the store.
func (m *Main) Close() error {
	var errs []error
	if m.stopSweep != nil {
		m.stopSweep()
		<-m.swept
		m.stopSweep = nil
	}
	m.stopNotifications()
	m.stopReminders()
	if m.server != nil {
		ctx, cancel := context.WithTimeout(context.Background(), m.Config.ShutdownTimeout)
		defer cancel()
		if err := m.server.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("drain requests: %w", err))
		}
		if err := <-m.served; err != nil && !errors.Is(err, http.ErrServerClosed) {
			errs = append(errs, err)
		}
		m.server = nil
	} else if m.listener != nil {
		_ = m.listener.Close()
	}
	if m.store != nil {
		if err := m.store.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close store: %w", err))
		}
		m.store = nil
	}
	return errors.Join(errs...)
}

func defaultPublicURL(a net.Addr) string {
	host, port, _ := net.SplitHostPort(a.String())
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) || host == "127.0.0.1" || host == "::1" {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

func loadSchemes(path string) (cert.Schemes, error) {
	defs := cert.BuiltinSchemes()
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("--schemes-file: %w", err)
		}
		var file struct {
			Schemes []cert.Scheme `json:"schemes"`
		}
		dec := json.NewDecoder(strings.NewReader(string(b)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&file); err != nil {
			return nil, fmt.Errorf("--schemes-file %s: %w (expected {\"schemes\": [ ... ]})", path, err)
		}
		// Validated on their own first, so that errors name the index in
		// the file: schemes[0].surveillance[1]: ...
		if _, err := cert.NewSchemes(file.Schemes); err != nil {
			return nil, fmt.Errorf("--schemes-file %s: %w", path, err)
		}
		byID := map[string]int{}
		for i, s := range defs {
			byID[s.ID] = i
		}
		for _, s := range file.Schemes {
			if i, ok := byID[s.ID]; ok {
				defs[i] = s
			} else {
				defs = append(defs, s)
			}
		}
	}
	schemes, err := cert.NewSchemes(defs)
	if err != nil {
		return nil, fmt.Errorf("--schemes-file %s: %w", path, err)
	}
	return schemes, nil
}
