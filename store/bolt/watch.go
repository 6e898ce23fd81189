package bolt

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"go.etcd.io/bbolt"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/store"
)

// Buckets of watchlists (store.Watches). The index buckets map
// "<value> NUL <watch id>" to nothing; the token bucket maps "c<hash>"
// (confirmation) and "u<hash>" (unsubscribe) to the watch id.
var (
	bucketWatches      = []byte("watches")         // id -> watchRecord
	bucketWatchCert    = []byte("watches.cert")    // certificate \0 id
	bucketWatchUSCC    = []byte("watches.uscc")    // uscc \0 id
	bucketWatchEmail   = []byte("watches.email")   // email \0 id
	bucketWatchWatcher = []byte("watches.watcher") // watcher \0 id
	bucketWatchClient  = []byte("watches.client")  // client key \0 id
	bucketWatchToken   = []byte("watches.token")   // c|u hash -> id
	bucketWatchExpiry  = []byte("watches.expiry")  // timeKey(expires) id, pending only
	watchBuckets       = [][]byte{bucketWatches, bucketWatchCert, bucketWatchUSCC, bucketWatchEmail, bucketWatchWatcher, bucketWatchClient, bucketWatchToken, bucketWatchExpiry}
)

var _ store.Watches = (*Store)(nil)

// watchRecord is the stored form of a watch: every field, those the
// domain type hides from JSON answers included.
type watchRecord struct {
	cert.Watch
	Watcher           string    `json:"watcher,omitempty"`
	Email             string    `json:"email,omitempty"`
	ConfirmHash       string    `json:"confirmHash,omitempty"`
	UnsubscribeHashes []string  `json:"unsubscribeHashes,omitempty"`
	ClientKey         string    `json:"clientKey,omitempty"`
	SentAt            time.Time `json:"sentAt"`
	ExpiresAt         time.Time `json:"expiresAt"`
	Version           int64     `json:"version"`
}

func watchRecordOf(w *cert.Watch) *watchRecord {
	return &watchRecord{Watch: *w, Watcher: w.Watcher, Email: w.Email, ConfirmHash: w.ConfirmHash,
		UnsubscribeHashes: w.UnsubscribeHashes, ClientKey: w.ClientKey, SentAt: w.SentAt, ExpiresAt: w.ExpiresAt, Version: w.Version}
}

func (r *watchRecord) watch() *cert.Watch {
	w := r.Watch
	w.Watcher, w.Email, w.ConfirmHash, w.ClientKey, w.SentAt, w.ExpiresAt, w.Version =
		r.Watcher, r.Email, r.ConfirmHash, r.ClientKey, r.SentAt, r.ExpiresAt, r.Version
	w.UnsubscribeHashes = append([]string(nil), r.UnsubscribeHashes...)
	return &w
}

func prefixKey(value, id string) []byte {
	return append(append([]byte(value), 0), id...)
}

// watchIndex lists the index entries of a watch: bucket, key, value.
func watchIndex(r *watchRecord) [][3][]byte {
	id := r.ID
	var out [][3][]byte
	add := func(b []byte, value string) {
		if value != "" {
			out = append(out, [3][]byte{b, prefixKey(value, id), nil})
		}
	}
	add(bucketWatchCert, r.Certificate)
	add(bucketWatchUSCC, r.USCC)
	add(bucketWatchEmail, r.Email)
	add(bucketWatchWatcher, r.Watcher)
	add(bucketWatchClient, r.ClientKey)
	if r.Status == cert.WatchPending {
		out = append(out, [3][]byte{bucketWatchExpiry, append(timeKey(r.ExpiresAt), id...), nil})
	}
	if r.ConfirmHash != "" {
		out = append(out, [3][]byte{bucketWatchToken, []byte("c" + r.ConfirmHash), []byte(id)})
	}
	for _, h := range r.UnsubscribeHashes {
		out = append(out, [3][]byte{bucketWatchToken, []byte("u" + h), []byte(id)})
	}
	return out
}

// putWatch writes r, replacing the index entries of old (nil for a new
// watch).
func putWatch(tx *bbolt.Tx, old, r *watchRecord) error {
	if old != nil {
		for _, e := range watchIndex(old) {
			if err := tx.Bucket(e[0]).Delete(e[1]); err != nil {
				return err
			}
		}
	}
	if r == nil {
		return tx.Bucket(bucketWatches).Delete([]byte(old.ID))
	}
	v, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if err := tx.Bucket(bucketWatches).Put([]byte(r.ID), v); err != nil {
		return err
	}
	for _, e := range watchIndex(r) {
		if err := tx.Bucket(e[0]).Put(e[1], e[2]); err != nil {
			return err
		}
	}
	return nil
}

func getWatch(tx *bbolt.Tx, id []byte) (*watchRecord, error) {
	v := tx.Bucket(bucketWatches).Get(id)
	if v == nil {
		return nil, nil
	}
	var r watchRecord
	if err := json.Unmarshal(v, &r); err != nil {
		return nil, fmt.Errorf("decode watch %s: %w", id, err)
	}
	return &r, nil
}

func checkWatch(w *cert.Watch) error {
	for _, f := range [][2]string{{"certificate", w.Certificate}, {"uscc", w.USCC}, {"email", w.Email}, {"watcher", w.Watcher}, {"clientKey", w.ClientKey}} {
		if err := checkOptionalKey(f[0], f[1]); err != nil {
			return err
		}
	}
	return checkKey("id", w.ID)
}

// CreateWatch stores a new watch; see store.Watches.
func (s *Store) CreateWatch(ctx context.Context, w *cert.Watch) error {
	if err := checkContext(ctx, "create watch"); err != nil {
		return err
	}
	if err := checkWatch(w); err != nil {
		return err
	}
	return s.update("create watch", func(tx *bbolt.Tx) (error, error) {
		if tx.Bucket(bucketWatches).Get([]byte(w.ID)) != nil {
			return fmt.Errorf("watch %s: %w", w.ID, store.ErrAlreadyExists), nil
		}
		r := watchRecordOf(w)
		r.Version = 1
		if err := putWatch(tx, nil, r); err != nil {
			return nil, err
		}
		w.Version = 1
		return nil, nil
	})
}

// Watch returns the watch with the id; see store.Watches.
func (s *Store) Watch(ctx context.Context, id string) (*cert.Watch, error) {
	if err := checkContext(ctx, "get watch"); err != nil {
		return nil, err
	}
	r, err := getJSON[watchRecord](s, bucketWatches, nil, []byte(id), "watch "+id)
	if err != nil {
		return nil, err
	}
	return r.watch(), nil
}

// UpdateWatch replaces the watch stored with w.Version; see store.Watches.
func (s *Store) UpdateWatch(ctx context.Context, w *cert.Watch) error {
	if err := checkContext(ctx, "update watch"); err != nil {
		return err
	}
	if err := checkWatch(w); err != nil {
		return err
	}
	return s.update("update watch", func(tx *bbolt.Tx) (error, error) {
		old, err := getWatch(tx, []byte(w.ID))
		if err != nil {
			return nil, err
		}
		if old == nil {
			return fmt.Errorf("watch %s: %w", w.ID, store.ErrNotFound), nil
		}
		if old.Version != w.Version {
			return fmt.Errorf("watch %s: stored version %d, not %d: %w", w.ID, old.Version, w.Version, store.ErrConflict), nil
		}
		r := watchRecordOf(w)
		r.Version = old.Version + 1
		r.Watcher, r.Email, r.Watch.Certificate, r.USCC, r.CreatedAt = old.Watcher, old.Email, old.Watch.Certificate, old.USCC, old.CreatedAt
		if err := putWatch(tx, old, r); err != nil {
			return nil, err
		}
		w.Version = r.Version
		return nil, nil
	})
}

// DeleteWatch removes the watch; see store.Watches.
func (s *Store) DeleteWatch(ctx context.Context, id string) error {
	if err := checkContext(ctx, "delete watch"); err != nil {
		return err
	}
	return s.update("delete watch", func(tx *bbolt.Tx) (error, error) {
		old, err := getWatch(tx, []byte(id))
		if err != nil {
			return nil, err
		}
		if old == nil {
			return fmt.Errorf("watch %s: %w", id, store.ErrNotFound), nil
		}
		return nil, putWatch(tx, old, nil)
	})
}

// WatchByToken returns the watch of a token hash; see store.Watches.
func (s *Store) WatchByToken(ctx context.Context, hash string, confirm bool) (*cert.Watch, error) {
	if err := checkContext(ctx, "get watch by token"); err != nil {
		return nil, err
	}
	kind := "u"
	if confirm {
		kind = "c"
	}
	r, err := getJSON[watchRecord](s, bucketWatches, bucketWatchToken, []byte(kind+hash), "watch token")
	if err != nil {
		return nil, err
	}
	return r.watch(), nil
}

// watchesBy lists the watches under value in an index bucket, in id
// order, after the id after, at most limit (0: all).
func (s *Store) watchesBy(ctx context.Context, bucket []byte, value, after string, limit int) ([]*cert.Watch, error) {
	if err := checkContext(ctx, "list watches"); err != nil {
		return nil, err
	}
	out := []*cert.Watch{}
	if value == "" {
		return out, nil
	}
	prefix := prefixKey(value, "")
	err := s.db.View(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucket).Cursor()
		start := prefix
		if after != "" {
			start = prefixKey(value, after)
		}
		for k, _ := c.Seek(start); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			id := k[len(prefix):]
			if after != "" && string(id) <= after {
				continue
			}
			r, err := getWatch(tx, id)
			if err != nil {
				return err
			}
			if r != nil {
				out = append(out, r.watch())
			}
			if limit > 0 && len(out) >= limit {
				break
			}
		}
		return nil
	})
	if err != nil {
		return nil, unavailable("list watches", err)
	}
	return out, nil
}

// WatchesOfCertificate lists the watches of a certificate; see
// store.Watches.
func (s *Store) WatchesOfCertificate(ctx context.Context, id string) ([]*cert.Watch, error) {
	return s.watchesBy(ctx, bucketWatchCert, id, "", 0)
}

// WatchesOfUSCC lists the watches of an organization; see store.Watches.
func (s *Store) WatchesOfUSCC(ctx context.Context, uscc string) ([]*cert.Watch, error) {
	return s.watchesBy(ctx, bucketWatchUSCC, uscc, "", 0)
}

// WatchesOfEmail lists the subscriptions of an address; see
// store.Watches.
func (s *Store) WatchesOfEmail(ctx context.Context, email string) ([]*cert.Watch, error) {
	return s.watchesBy(ctx, bucketWatchEmail, email, "", 0)
}

// WatchesOfWatcher returns a page of a watcher's watches; see
// store.Watches.
func (s *Store) WatchesOfWatcher(ctx context.Context, watcher, after string, limit int) ([]*cert.Watch, error) {
	if limit < 1 || limit > 1000 {
		limit = 100
	}
	return s.watchesBy(ctx, bucketWatchWatcher, watcher, after, limit)
}

// CountWatches counts a watcher's watches; see store.Watches.
func (s *Store) CountWatches(ctx context.Context, watcher string) (int, error) {
	if err := checkContext(ctx, "count watches"); err != nil {
		return 0, err
	}
	n := 0
	prefix := prefixKey(watcher, "")
	err := s.db.View(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketWatchWatcher).Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			n++
		}
		return nil
	})
	if err != nil {
		return 0, unavailable("count watches", err)
	}
	return n, nil
}

// CountWatchesSentSince counts a client's recent subscriptions; see
// store.Watches.
func (s *Store) CountWatchesSentSince(ctx context.Context, client string, since time.Time) (int, error) {
	ws, err := s.watchesBy(ctx, bucketWatchClient, client, "", 0)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, w := range ws {
		if !w.SentAt.Before(since) {
			n++
		}
	}
	return n, nil
}

// WatcherWebhooks lists a watcher's webhooks; see store.Watches.
func (s *Store) WatcherWebhooks(ctx context.Context, watcher string) ([]*cert.Webhook, error) {
	all, err := s.Webhooks(ctx, "")
	if err != nil {
		return nil, err
	}
	var out []*cert.Webhook
	for _, w := range all {
		if watcher != "" && w.Watcher == watcher {
			out = append(out, w)
		}
	}
	return out, nil
}

// DeleteExpiredWatches removes the expired pending watches; see
// store.Watches.
func (s *Store) DeleteExpiredWatches(ctx context.Context, now time.Time) (int, error) {
	if err := checkContext(ctx, "delete expired watches"); err != nil {
		return 0, err
	}
	n := 0
	end := timeKey(now)
	err := s.update("delete expired watches", func(tx *bbolt.Tx) (error, error) {
		var ids [][]byte
		c := tx.Bucket(bucketWatchExpiry).Cursor()
		for k, _ := c.First(); k != nil && bytes.Compare(k[:len(end)], end) <= 0; k, _ = c.Next() {
			ids = append(ids, append([]byte(nil), k[len(end):]...))
		}
		for _, id := range ids {
			old, err := getWatch(tx, id)
			if err != nil {
				return nil, err
			}
			if old == nil || old.Status != cert.WatchPending || old.ExpiresAt.After(now) {
				continue
			}
			if err := putWatch(tx, old, nil); err != nil {
				return nil, err
			}
			n++
		}
		return nil, nil
	})
	return n, err
}
