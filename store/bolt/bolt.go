package bolt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/bbolt"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/store"
)

// DefaultLockTimeout is how long Open waits for the lock on the file when
// no WithLockTimeout option is given.
const DefaultLockTimeout = 5 * time.Second

// initialMmapSize is the address space mapped at Open: 1 GiB on 64-bit
// platforms, and bbolt's default (map as the file grows) on 32-bit ones and
// on Windows, where bbolt would grow the file itself to the mapped size.
func initialMmapSize() int {
	if strconv.IntSize < 64 || runtime.GOOS == "windows" {
		return 0
	}
	return 1 << 30
}

// schemaVersion is the layout version written to the meta bucket; Open
// refuses a file written by a newer layout.
const schemaVersion = "1"

// ErrLocked reports that Open timed out waiting for the file lock: another
// process (usually another certd on the same data directory) has the file
// open.
var ErrLocked = errors.New("database file is locked by another process")

var _ store.Store = (*Store)(nil)

// Store is the bbolt backend. It is safe for concurrent use.
type Store struct {
	db   *countedDB
	path string
	// commits groups the writes of concurrent callers (commit.go).
	commits committer
	// check is how Open made sure of the file (clean.go).
	check Check
	// marker computes the status marks of written certificates (status.go).
	marker atomic.Pointer[statusMarker]
	// vocab is the vocabulary of the search index, blocks the blocks of
	// each term (searchindex.go).
	vocab  vocabulary
	blocks termBlocks
	// txPend holds the postings of the write transaction in progress
	// (txPostings).
	txMu   sync.Mutex
	txPend map[*bbolt.Tx]map[uint32]map[string]*[]byte
	// counters hands out sequence values (counter.go).
	counters counters
}

// Option changes how Open opens the file.
type Option func(*options)

type options struct {
	lockTimeout time.Duration
}

// WithLockTimeout sets how long Open waits for another process to release
// the file lock before it fails with ErrLocked. Non-positive values keep
// DefaultLockTimeout.
func WithLockTimeout(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.lockTimeout = d
		}
	}
}

// Open opens the bbolt file at path, creating it (mode 0600) and its
// buckets when missing. The directory must exist. When another process
// holds the file, Open fails after the lock timeout with an error matching
// ErrLocked and store.ErrUnavailable. An existing file that the last
// process did not close cleanly (see Check) is read in full first: a
// truncated or damaged one gives an error matching ErrDamaged. One that
// it did close cleanly, and that has not changed since, is only read
// through once to compare its checksum.
func Open(path string, opts ...Option) (*Store, error) {
	o := options{
		lockTimeout: DefaultLockTimeout,
	}
	for _, opt := range opts {
		opt(&o)
	}
	check := CheckClean
	if !takeCleanMark(path) {
		var err error
		if check, err = checkFile(path, o.lockTimeout); err != nil {
			return nil, err
		}
	}
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{
		Timeout: o.lockTimeout,
		// The hashmap freelist stays fast when a large file fragments.
		FreelistType: bbolt.FreelistMapType,
		// Reserving address space up front spares the writer most remaps,
		// which wait for every open read transaction; the file itself
		// still grows only as data is written.
		InitialMmapSize: initialMmapSize(),
	})
	if errors.Is(err, bbolt.ErrTimeout) {
		return nil, fmt.Errorf("bolt: open %s: %w (waited %s): %w", path, ErrLocked, o.lockTimeout, store.ErrUnavailable)
	}
	if err != nil {
		return nil, fmt.Errorf("bolt: open %s: %w: %w", path, store.ErrUnavailable, err)
	}
	if err := db.Update(initialize); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("bolt: open %s: %w", path, err)
	}
	s := &Store{path: path, check: check}
	s.db = &countedDB{boltDB: db, counters: &s.counters}
	s.commits = committer{db: s.db}
	if err := s.ensureValidityIndex(); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("bolt: open %s: %w: %w", path, store.ErrUnavailable, err)
	}
	if err := s.ensureSearchIndex(); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("bolt: open %s: %w: %w", path, store.ErrUnavailable, err)
	}
	return s, nil
}

// Check returns how Open made sure of the file before serving it.
func (s *Store) Check() Check { return s.check }

// Bucket names.
var (
	bucketMeta            = []byte("meta")
	bucketCerts           = []byte("certificates")
	bucketCertNumber      = []byte("certificates.number")
	bucketCertStatus      = []byte("certificates.status")
	bucketCertIdem        = []byte("certificates.idem")
	bucketCertCreated     = []byte("certificates.created")
	bucketCertIssuer      = []byte("certificates.issuer")
	bucketCertUSCC        = []byte("certificates.uscc")
	bucketCertByNumber    = []byte("certificates.bynumber")
	bucketIssuers         = []byte("issuers")
	bucketIssuerImages    = []byte("issuers.images")
	bucketKeyRings        = []byte("keyrings")
	bucketAPIKeys         = []byte("apikeys")
	bucketAPIKeyHash      = []byte("apikeys.hash")
	bucketCounters        = []byte("counters")
	keySchema             = []byte("schema")
	allBuckets            = [][]byte{bucketMeta, bucketCerts, bucketCertNumber, bucketCertStatus, bucketCertIdem, bucketCertCreated, bucketCertIssuer, bucketCertUSCC, bucketCertByNumber, bucketIssuers, bucketIssuerImages, bucketKeyRings, bucketAPIKeys, bucketAPIKeyHash, bucketCounters}
	errNewerSchemaVersion = errors.New("file written by a newer version of certd")
)

// initialize creates the buckets and checks the layout version.
func initialize(tx *bbolt.Tx) error {
	groups := tx.Bucket(bucketDeliveryGroup) == nil
	for _, name := range slices.Concat(allBuckets, accountBuckets, statusBuckets, webhookBuckets, outboxBuckets, watchBuckets, searchBuckets, validityBuckets) {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("create bucket %s: %w: %w", name, store.ErrUnavailable, err)
		}
	}
	if groups {
		if err := indexDeliveryGroups(tx); err != nil {
			return fmt.Errorf("index delivery groups: %w: %w", store.ErrUnavailable, err)
		}
	}
	meta := tx.Bucket(bucketMeta)
	switch v := meta.Get(keySchema); {
	case v == nil:
		if err := meta.Put(keySchema, []byte(schemaVersion)); err != nil {
			return fmt.Errorf("write schema version: %w: %w", store.ErrUnavailable, err)
		}
	case string(v) != schemaVersion:
		return fmt.Errorf("schema version %q, this build reads %q: %w", v, schemaVersion, errNewerSchemaVersion)
	}
	return nil
}

// Close closes the file, then writes the marker that spares the next Open
// the full check (see Check). The marker is best effort: when it cannot be
// written, the next Open makes the full check, which is slower but as
// safe. Calls after Close fail with store.ErrUnavailable.
func (s *Store) Close() error {
	s.blocks.stopLoad()
	if err := s.closeCounters(); err != nil {
		_ = s.db.Close()
		return unavailable("close", err)
	}
	if err := s.db.Close(); err != nil {
		return unavailable("close", err)
	}
	_ = writeCleanMark(s.path)
	return nil
}

// Ping reports whether the file can be read.
func (s *Store) Ping(ctx context.Context) error {
	if err := checkContext(ctx, "ping"); err != nil {
		return err
	}
	if err := s.db.View(func(*bbolt.Tx) error { return nil }); err != nil {
		return unavailable("ping", err)
	}
	return nil
}

// probeKey is the meta key that ProbeWrite rewrites.
var probeKey = []byte("probe")

// ProbeWrite commits a small write transaction, so that /readyz notices a
// file that can no longer be written (read-only file system, I/O errors).
func (s *Store) ProbeWrite(ctx context.Context) error {
	if err := checkContext(ctx, "probe write"); err != nil {
		return err
	}
	return s.updateBookkeeping("probe write", func(tx *bbolt.Tx) (error, error) {
		return nil, tx.Bucket(bucketMeta).Put(probeKey, []byte(time.Now().UTC().Format(time.RFC3339Nano)))
	})
}

// unavailable wraps an error of bbolt or the file system so that it matches
// store.ErrUnavailable and keeps its cause.
func unavailable(op string, err error) error {
	if errors.Is(err, store.ErrUnavailable) {
		return err
	}
	return fmt.Errorf("bolt: %s: %w: %w", op, store.ErrUnavailable, err)
}

// checkContext returns the context's error, matching both it and
// store.ErrUnavailable, when the context is done: work is not started for a
// caller that has gone away or run out of time.
func checkContext(ctx context.Context, op string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("bolt: %s: %w: %w", op, store.ErrUnavailable, err)
	}
	return nil
}

// checkKey rejects values that cannot be (part of) a bbolt key: empty, too
// long, or containing the NUL byte that separates the parts of index keys.
func checkKey(field, v string) error {
	switch {
	case v == "":
		return cert.Invalid(field, "is required")
	case len(v) > 1024:
		return cert.Invalid(field, "must be at most 1024 bytes")
	}
	for i := 0; i < len(v); i++ {
		if v[i] == 0 {
			return cert.Invalid(field, "must not contain the NUL character")
		}
	}
	return nil
}

// checkOptionalKey is checkKey for a value that may be empty.
func checkOptionalKey(field, v string) error {
	if v == "" {
		return nil
	}
	return checkKey(field, v)
}

// getJSON reads the JSON document stored in bucket under key, or under the
// key that index maps key to when index is not nil. A missing one is
// store.ErrNotFound naming what.
func getJSON[T any](s *Store, bucket, index, key []byte, what string) (*T, error) {
	var doc *T
	err := s.db.View(func(tx *bbolt.Tx) error {
		id := key
		if index != nil {
			if id = tx.Bucket(index).Get(key); id == nil {
				return nil
			}
		}
		v := tx.Bucket(bucket).Get(id)
		if v == nil {
			return nil
		}
		doc = new(T)
		return json.Unmarshal(v, doc)
	})
	if err != nil {
		return nil, unavailable("get "+what, err)
	}
	if doc == nil {
		return nil, fmt.Errorf("%s: %w", what, store.ErrNotFound)
	}
	return doc, nil
}

// updateTx runs fn in a write transaction of its own, counted in Changes.
func (s *Store) updateTx(fn func(*bbolt.Tx) error) error { return s.db.write(true, fn) }
