// Package mongotest gives tests a MongoDB database without a service to
// install: the one named by CERTD_TEST_MONGO_URI when it is set, otherwise
// an embedded FerretDB v1 (SQLite backend) inside the test process, behind
// a proxy that makes each command atomic. cmd/mongotestd runs the same
// server as a process of its own, for CERTD_TEST_MONGO_URI.
//
//	s := mongotest.Open(t) // a store on a fresh database, dropped when t ends
//	uri := mongotest.URI(t) // or just the database, for mongo.Open(ctx, uri, "") or --mongo-uri
//
// The embedded FerretDB is reached through a proxy that executes one wire
// command at a time across all connections, so that every command is
// atomic as on MongoDB (FerretDB v1 alone runs findAndModify and
// conditional updates as a read and a write that other connections can
// come between). URI shares one such server per test binary and hands
// every test its own database. Start runs a dedicated FerretDB that a test may stop and restart
// (the database going away mid-request). FerretDB logs nothing unless
// CERTD_TEST_FERRETDB_LOG names a slog level (debug, info, warn, error).
//
// mongotest is for tests only; it imports store/mongo, the MongoDB driver
// (to drop databases) and FerretDB.
package mongotest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
	driver "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/certd/certd/store/mongo"
)

// EnvURI names the environment variable with the URI of a real MongoDB
// deployment to test against instead of the embedded FerretDB.
const EnvURI = "CERTD_TEST_MONGO_URI"

// EnvLog names the environment variable with the slog level of FerretDB's
// log (written to stderr); unset, FerretDB logs nothing.
const EnvLog = "CERTD_TEST_FERRETDB_LOG"

var shared struct {
	once sync.Once
	srv  *Server
	err  error

	// mu guards live, the number of databases handed out and not yet
	// dropped; the directory is removed when it drops to zero (and made
	// again for the next test), so no test binary leaves it behind.
	mu   sync.Mutex
	live int
}

// URI returns the URI of a fresh, empty database for t, its name in the URI
// path (pass "" as the database to mongo.Open). The database is dropped when
// t ends. Without CERTD_TEST_MONGO_URI the database lives on an embedded
// FerretDB shared by the whole test binary and started on first use.
func URI(t testing.TB) string {
	t.Helper()
	uri, _ := Database(t)
	return uri
}

// Database is URI that also returns the database name, for callers that
// take the name separately (certd's --mongo-uri and --mongo-database).
func Database(t testing.TB) (uri, name string) {
	t.Helper()
	base := os.Getenv(EnvURI)
	if base == "" {
		shared.once.Do(func() {
			// The shared server outlives every test, so its directory
			// is not a t.TempDir; see shared.live.
			dir, err := os.MkdirTemp("", "certd-ferretdb-")
			if err != nil {
				shared.err = err
				return
			}
			shared.srv = &Server{dir: dir, addr: "127.0.0.1:0"}
			shared.err = shared.srv.start()
		})
		if shared.err != nil {
			t.Fatalf("mongotest: start embedded FerretDB: %v", shared.err)
		}
		base = shared.srv.URI()
		shared.mu.Lock()
		err := os.MkdirAll(shared.srv.dir, 0o700)
		shared.live++
		shared.mu.Unlock()
		if err != nil {
			t.Fatalf("mongotest: FerretDB directory: %v", err)
		}
		t.Cleanup(func() {
			shared.mu.Lock()
			defer shared.mu.Unlock()
			if shared.live--; shared.live == 0 {
				_ = os.Remove(shared.srv.dir) // only when empty
			}
		})
	}
	name = DatabaseName(t)
	uri, err := WithDatabase(base, name)
	if err != nil {
		t.Fatalf("mongotest: %s: %v", EnvURI, err)
	}
	t.Cleanup(func() { drop(t, uri, name) })
	return uri, name
}

// Timeout is the call timeout Open gives a store: the embedded FerretDB
// under the race detector, with many goroutines writing to one SQLite file
// on a loaded machine, can take seconds to answer one call, which is not the
// failure a test looks for. Tests of the timeout itself pass their own.
const Timeout = 30 * time.Second

// Open opens a store on a fresh database (URI) with the call timeout
// Timeout, or the one opts set, and closes it when t ends.
func Open(t testing.TB, opts ...mongo.Option) *mongo.Store {
	t.Helper()
	return OpenURI(t, URI(t), opts...)
}

// OpenURI opens a store on the database of uri (see URI and
// Server.DatabaseURI) like Open does.
func OpenURI(t testing.TB, uri string, opts ...mongo.Option) *mongo.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	s, err := mongo.Open(ctx, uri, "", append([]mongo.Option{mongo.WithTimeout(Timeout)}, opts...)...)
	if err != nil {
		t.Fatalf("mongotest: open store: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("mongotest: close store: %v", err)
		}
	})
	return s
}

// DatabaseName returns a new database name for t: the test name cut to
// what MongoDB and FerretDB accept, and a random suffix.
func DatabaseName(t testing.TB) string {
	var b strings.Builder
	for _, r := range strings.ToLower(t.Name()) {
		if b.Len() >= 40 {
			break
		}
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	return "t_" + b.String() + "_" + hex.EncodeToString(rnd[:])
}

// WithDatabase returns uri with its path set to database. When uri carries
// credentials and no authSource, the database they authenticate against
// (the old path, or admin) is kept as authSource.
func WithDatabase(uri, database string) (string, error) {
	scheme, rest, ok := strings.Cut(uri, "://")
	if !ok {
		return "", fmt.Errorf("URI %q has no scheme", redact(uri))
	}
	hosts, pathQuery, _ := strings.Cut(rest, "/")
	oldDB, rawQuery, _ := strings.Cut(pathQuery, "?")
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return "", fmt.Errorf("URI %q: options: %v", redact(uri), err)
	}
	if strings.Contains(hosts, "@") && q.Get("authSource") == "" {
		if oldDB == "" {
			oldDB = "admin"
		}
		q.Set("authSource", oldDB)
	}
	out := scheme + "://" + hosts + "/" + database
	if len(q) > 0 {
		out += "?" + q.Encode()
	}
	return out, nil
}

func redact(uri string) string {
	start := 0
	if i := strings.Index(uri, "://"); i >= 0 {
		start = i + 3
	}
	authority := uri[start:]
	if i := strings.Index(authority, "/"); i >= 0 {
		authority = authority[:i]
	}
	at := strings.LastIndex(authority, "@")
	if at < 0 {
		return uri
	}
	return uri[:start] + "…@" + uri[start+at+1:]
}

// drop removes the test's database; a failure is logged, not fatal (the
// test may have stopped the server on purpose).
func drop(t testing.TB, uri, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	client, err := driver.Connect(options.Client().ApplyURI(uri).SetServerSelectionTimeout(5 * time.Second))
	if err != nil {
		t.Logf("mongotest: drop database %s: %v", name, err)
		return
	}
	defer func() { _ = client.Disconnect(ctx) }()
	if err := client.Database(name).Drop(ctx); err != nil {
		t.Logf("mongotest: drop database %s: %v", name, err)
	}
}

// Server is an embedded FerretDB with its SQLite files in a directory,
// reached through a proxy on 127.0.0.1 that executes one command at a time
// across all connections (see proxy.go): each command is then atomic, as
// on MongoDB, which FerretDB v1 alone does not guarantee. Its address and
// directory survive Stop and Restart, so clients reconnect to the same
// data.
type Server struct {
	mu     sync.Mutex
	dir    string
	addr   string // the proxy's host:port; port 0 until the first start
	direct bool   // no proxy: clients talk to FerretDB itself
	proxy  *serialProxy
	// latency is the delay of every command (SetLatency).
	latency time.Duration
	cancel  context.CancelFunc
	done    chan struct{}
}

// Listen starts a FerretDB with its data in dir (created if missing)
// behind a serializing proxy listening on addr (host:port, port 0 for a
// free one), for a process that serves tests (cmd/mongotestd). direct
// leaves the proxy out: FerretDB itself listens on addr, with its
// non-atomic updates. Stop stops it.
func Listen(dir, addr string, direct bool) (*Server, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	s := &Server{dir: dir, addr: addr, direct: direct}
	if err := s.start(); err != nil {
		return nil, err
	}
	return s, nil
}

// newMu serializes ferretdb.New, which sets a package variable of FerretDB.
var newMu sync.Mutex

// Start starts a dedicated FerretDB on a free port with its data in a
// t.TempDir, stopped when t ends. It ignores CERTD_TEST_MONGO_URI: a test
// that stops the server needs one of its own.
func Start(t testing.TB) *Server {
	t.Helper()
	s := &Server{dir: t.TempDir(), addr: "127.0.0.1:0"}
	if err := s.start(); err != nil {
		t.Fatalf("mongotest: start FerretDB: %v", err)
	}
	t.Cleanup(s.Stop)
	return s
}

// URI returns the server's address as a MongoDB URI without a database.
func (s *Server) URI() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return "mongodb://" + s.addr + "/"
}

// DatabaseURI returns the URI of a fresh database on this server for t,
// dropped when t ends (if the server is running then).
func (s *Server) DatabaseURI(t testing.TB) string {
	t.Helper()
	name := DatabaseName(t)
	uri, err := WithDatabase(s.URI(), name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if s.Running() {
			drop(t, uri, name)
		}
	})
	return uri
}

// SetLatency delays every command by d before it reaches the server, as
// a distant deployment's network would (a test of what a round trip of
// tens of milliseconds does to code that makes many of them); 0 removes
// the delay. It lasts across Restart; a server without proxy (direct)
// ignores it.
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = d
	if s.proxy != nil {
		s.proxy.latency.Store(int64(d))
	}
}

// Running reports whether the server is accepting connections.
func (s *Server) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cancel != nil
}

// Stop stops the server: it stops listening, closes every client connection
// and its SQLite files, and returns when that is done (FerretDB gives open
// connections up to 3 seconds). Stopping a stopped server does nothing.
func (s *Server) Stop() {
	s.mu.Lock()
	cancel, done, proxy := s.cancel, s.done, s.proxy
	s.cancel, s.done, s.proxy = nil, nil, nil
	s.mu.Unlock()
	if cancel == nil {
		return
	}
	if proxy != nil {
		proxy.Close()
	}
	cancel()
	<-done
}

// Restart starts a stopped server again on the same address and data
// directory; clients that kept their connection pool reconnect by
// themselves.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	s.Stop()
	// The port was free a moment ago; give the kernel a few tries should
	// the listening socket linger.
	var err error
	for range 50 {
		if err = s.start(); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("mongotest: restart FerretDB on %s: %v", s.addr, err)
}

func (s *Server) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cancel != nil {
		return nil
	}
	ferretAddr := "127.0.0.1:0"
	if s.direct {
		ferretAddr = s.addr
	}
	newMu.Lock()
	f, err := ferretdb.New(&ferretdb.Config{
		Listener: ferretdb.ListenerConfig{TCP: ferretAddr},
		Logger:   logger(),
		Handler:  "sqlite",
		// Test data need not survive a power cut: without fsync on every
		// commit the suite runs several times faster, and data still
		// survives Stop and Restart (the files are closed properly).
		SQLiteURL: (&url.URL{Scheme: "file", Opaque: s.dir + "/", RawQuery: "_pragma=synchronous(off)"}).String(),
	})
	newMu.Unlock()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = f.Run(ctx)
	}()
	stop := func(err error) error {
		cancel()
		<-done
		return err
	}
	u, err := url.Parse(f.MongoDBURI())
	if err != nil {
		return stop(err)
	}
	if _, _, err := net.SplitHostPort(u.Host); err != nil {
		return stop(fmt.Errorf("FerretDB address %q: %v", u.Host, err))
	}
	addr := u.Host
	if !s.direct {
		p, err := newSerialProxy(s.addr, u.Host)
		if err != nil {
			return stop(err)
		}
		p.latency.Store(int64(s.latency))
		s.proxy, addr = p, p.Addr()
	}
	s.addr, s.cancel, s.done = addr, cancel, done
	return nil
}

func logger() *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(os.Getenv(EnvLog))); err != nil || os.Getenv(EnvLog) == "" {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}
