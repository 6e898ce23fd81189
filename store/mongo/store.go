package mongo

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readconcern"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"
	"go.mongodb.org/mongo-driver/v2/mongo/writeconcern"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/connstring"

	"github.com/certd/certd/store"
)

// DefaultTimeout bounds every call to the database unless WithTimeout says
// otherwise.
const DefaultTimeout = 5 * time.Second

// Collection names.
const (
	collCertificates = "certificates"
	collIssuers      = "issuers"
	collKeyRings     = "keyrings"
	collAPIKeys      = "apikeys"
	collCounters     = "counters"
	collImages       = "issuerimages"
)

// Option configures Open.
type Option func(*config)

type config struct {
	timeout time.Duration
}

// WithTimeout sets the deadline of every call to the database (default
// DefaultTimeout): each operation, including those of Open and Close, runs
// under context.WithTimeout(ctx, d), so a call never hangs on a database
// that is gone. d <= 0 keeps the default.
func WithTimeout(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.timeout = d
		}
	}
}

// Store is the MongoDB backend of certd. It is safe for concurrent use.
type Store struct {
	client  *mongo.Client
	db      *mongo.Database
	timeout time.Duration

	certs, issuers, keyRings, apiKeys, counters, images *mongo.Collection

	// searchWords is the vocabulary of the search index, words the words
	// this process knows it holds (searchindex.go).
	searchWords *mongo.Collection
	words       knownWords

	// marker computes the status marks of written certificates (status.go).
	marker atomic.Pointer[statusMarker]

	// certsLatest reads certificates from the primary with read concern
	// local: it sees a write acknowledged to another client that majority
	// reads may not show yet (see CertificateByIdempotencyKey).
	certsLatest *mongo.Collection
}

var _ store.Store = (*Store)(nil)

// Open connects to the MongoDB deployment at uri, checks that it answers,
// and creates the unique indexes of database (idempotently: opening an
// existing database again succeeds). An empty database takes the name from
// the path of uri. Writes use write concern majority and reads read concern
// majority (local on a server that does not support majority reads),
// whatever the URI says. A deployment that does not answer within the call
// timeout gives an error matching store.ErrUnavailable.
func Open(ctx context.Context, uri, database string, opts ...Option) (*Store, error) {
	cfg := config{timeout: DefaultTimeout}
	for _, o := range opts {
		o(&cfg)
	}
	cs, err := connstring.ParseAndValidate(uri)
	if err != nil {
		return nil, fmt.Errorf("mongo: invalid MongoDB URI: %s", redact(err.Error(), uri))
	}
	if database == "" {
		database = cs.Database
	}
	if database == "" {
		return nil, errors.New("mongo: no database name: give one or put it in the URI path")
	}

	client, err := mongo.Connect(options.Client().
		ApplyURI(uri).
		SetWriteConcern(writeconcern.Majority()).
		SetReadConcern(readconcern.Majority()).
		SetServerSelectionTimeout(cfg.timeout))
	if err != nil {
		return nil, translate("connect", err)
	}
	s := &Store{client: client, timeout: cfg.timeout}
	if err := s.init(ctx, database); err != nil {
		_ = s.Close()
		return nil, fmt.Errorf("mongo: open database %s: %w", database, err)
	}
	return s, nil
}

func (s *Store) init(ctx context.Context, database string) error {
	if err := s.Ping(ctx); err != nil {
		return err
	}
	s.useDatabase(database, readconcern.Majority())
	if err := s.probeReadConcern(ctx); err != nil {
		return err
	}
	if err := s.createIndexes(ctx); err != nil {
		return err
	}
	return s.ensureSearchIndex(ctx)
}

func (s *Store) useDatabase(name string, rc *readconcern.ReadConcern) {
	s.db = s.client.Database(name, options.Database().SetReadConcern(rc))
	s.certs = s.db.Collection(collCertificates)
	s.certsLatest = s.db.Collection(collCertificates, options.Collection().
		SetReadConcern(readconcern.Local()).SetReadPreference(readpref.Primary()))
	s.issuers = s.db.Collection(collIssuers)
	s.keyRings = s.db.Collection(collKeyRings)
	s.apiKeys = s.db.Collection(collAPIKeys)
	s.counters = s.db.Collection(collCounters)
	s.images = s.db.Collection(collImages)
	s.searchWords = s.db.Collection(collSearchWords)
}

// probeReadConcern falls back to read concern local when the server refuses
// majority reads (a standalone mongod started with
// --enableMajorityReadConcern=false). FerretDB ignores read concerns.
func (s *Store) probeReadConcern(ctx context.Context) error {
	ctx, cancel := s.call(ctx)
	defer cancel()
	err := s.counters.FindOne(ctx, bson.D{{Key: "_id", Value: ""}}).Err()
	if err == nil || errors.Is(err, mongo.ErrNoDocuments) {
		return nil
	}
	var se mongo.ServerError
	const readConcernMajorityNotEnabled, invalidOptions = 148, 72
	if errors.As(err, &se) && (se.HasErrorCode(readConcernMajorityNotEnabled) || se.HasErrorCode(invalidOptions)) {
		s.useDatabase(s.db.Name(), readconcern.Local())
		return nil
	}
	return translate("probe read concern", err)
}

// redact removes the password of uri from msg: errors about a URI must not
// print its secret.
func redact(msg, uri string) string {
	_, rest, ok := strings.Cut(uri, "://")
	if !ok {
		return msg
	}
	authority, _, _ := strings.Cut(rest, "/")
	at := strings.LastIndex(authority, "@")
	if at < 0 {
		return msg
	}
	userinfo := authority[:at]
	if _, pw, ok := strings.Cut(userinfo, ":"); ok && pw != "" {
		msg = strings.ReplaceAll(msg, pw, "xxxxx")
		if dec, err := url.PathUnescape(pw); err == nil && dec != "" {
			msg = strings.ReplaceAll(msg, dec, "xxxxx")
		}
	}
	return msg
}

// call bounds one operation by the store's timeout.
func (s *Store) call(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.timeout)
}

// Ping reports whether the primary answers now; ErrUnavailable otherwise.
func (s *Store) Ping(ctx context.Context) error {
	ctx, cancel := s.call(ctx)
	defer cancel()
	return translate("ping", s.client.Ping(ctx, readpref.Primary()))
}

// Close disconnects from the database, waiting at most the call timeout for
// operations in progress.
func (s *Store) Close() error {
	ctx, cancel := s.call(context.Background())
	defer cancel()
	if err := s.client.Disconnect(ctx); err != nil && !errors.Is(err, mongo.ErrClientDisconnected) {
		return translate("disconnect", err)
	}
	return nil
}
