package mongo

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/store"
)

// The collection of watchlists (store.Watches): one document per watch,
// with the index fields the lookups use.
const (
	collWatches      = "watches"
	idxWatchCert     = "idx_certificate"
	idxWatchUSCC     = "idx_uscc"
	idxWatchEmail    = "idx_email"
	idxWatchWatcher  = "idx_watcher"
	idxWatchClient   = "idx_client"
	idxWatchConfirm  = "idx_confirm"
	idxWatchUnsub    = "idx_unsubscribe"
	idxWatchExpiry   = "idx_status_expires"
	idxWebhookWatch  = "idx_watcher"
	watchFieldCert   = "certificate"
	watchFieldUSCC   = "uscc"
	watchFieldEmail  = "email"
	watchFieldClient = "clientKey"
)

var _ store.Watches = (*Store)(nil)

func (s *Store) watchIndexes() []index {
	c := s.coll(collWatches)
	return []index{
		{coll: c, name: idxWatchCert, keys: keys(watchFieldCert, "_id")},
		{coll: c, name: idxWatchUSCC, keys: keys(watchFieldUSCC, "_id")},
		{coll: c, name: idxWatchEmail, keys: keys(watchFieldEmail, "_id")},
		{coll: c, name: idxWatchWatcher, keys: keys("watcher", "_id")},
		{coll: c, name: idxWatchClient, keys: keys(watchFieldClient, "sentNs")},
		{coll: c, name: idxWatchConfirm, keys: keys("confirmHash")},
		{coll: c, name: idxWatchUnsub, keys: keys("unsubscribeHashes")},
		{coll: c, name: idxWatchExpiry, keys: keys("status", "expiresNs")},
		{coll: s.coll(collWebhooks), name: idxWebhookWatch, keys: keys("watcher", "_id")},
	}
}

type watchDoc struct {
	ID                string     `bson:"_id"`
	Watcher           string     `bson:"watcher,omitempty"`
	Email             string     `bson:"email,omitempty"`
	Certificate       string     `bson:"certificate,omitempty"`
	Issuer            string     `bson:"issuer,omitempty"`
	Number            string     `bson:"number,omitempty"`
	USCC              string     `bson:"uscc,omitempty"`
	Status            string     `bson:"status"`
	ConfirmHash       string     `bson:"confirmHash,omitempty"`
	UnsubscribeHashes []string   `bson:"unsubscribeHashes"`
	ClientKey         string     `bson:"clientKey,omitempty"`
	SentNs            int64      `bson:"sentNs"`
	CreatedNs         int64      `bson:"createdNs"`
	ExpiresNs         int64      `bson:"expiresNs"`
	ConfirmedAt       *time.Time `bson:"confirmedAt"`
	Version           int64      `bson:"version"`
}

func toWatchDoc(w *cert.Watch) *watchDoc {
	h := w.UnsubscribeHashes
	if h == nil {
		h = []string{}
	}
	return &watchDoc{ID: w.ID, Watcher: w.Watcher, Email: w.Email, Certificate: w.Certificate, Issuer: w.Issuer,
		Number: w.Number, USCC: w.USCC, Status: string(w.Status), ConfirmHash: w.ConfirmHash, UnsubscribeHashes: h,
		ClientKey: w.ClientKey, SentNs: nanos(w.SentAt), CreatedNs: nanos(w.CreatedAt), ExpiresNs: nanos(w.ExpiresAt),
		ConfirmedAt: w.ConfirmedAt, Version: w.Version}
}

func (d *watchDoc) watch() *cert.Watch {
	w := &cert.Watch{ID: d.ID, Watcher: d.Watcher, Email: d.Email, Certificate: d.Certificate, Issuer: d.Issuer,
		Number: d.Number, USCC: d.USCC, Status: cert.WatchStatus(d.Status), ConfirmHash: d.ConfirmHash,
		ClientKey: d.ClientKey, SentAt: fromNanos(d.SentNs), CreatedAt: fromNanos(d.CreatedNs), ExpiresAt: fromNanos(d.ExpiresNs),
		ConfirmedAt: utcPtrTime(d.ConfirmedAt), Version: d.Version}
	if len(d.UnsubscribeHashes) > 0 {
		w.UnsubscribeHashes = append([]string(nil), d.UnsubscribeHashes...)
	}
	return w
}

// CreateWatch stores a new watch; see store.Watches.
func (s *Store) CreateWatch(ctx context.Context, w *cert.Watch) error {
	ctx, cancel := s.call(ctx)
	defer cancel()
	d := toWatchDoc(w)
	d.Version = 1
	if _, err := s.coll(collWatches).InsertOne(ctx, d); err != nil {
		return translate("create watch", err)
	}
	w.Version = 1
	return nil
}

// Watch returns the watch with the id; see store.Watches.
func (s *Store) Watch(ctx context.Context, id string) (*cert.Watch, error) {
	return s.findWatch(ctx, bson.D{{Key: "_id", Value: id}}, "watch "+id)
}

func (s *Store) findWatch(ctx context.Context, filter bson.D, op string) (*cert.Watch, error) {
	ctx, cancel := s.call(ctx)
	defer cancel()
	var d watchDoc
	if err := s.coll(collWatches).FindOne(ctx, filter).Decode(&d); err != nil {
		return nil, translate(op, err)
	}
	return d.watch(), nil
}

// UpdateWatch replaces the watch stored with w.Version in one conditional
// write; see store.Watches.
func (s *Store) UpdateWatch(ctx context.Context, w *cert.Watch) error {
	ctx, cancel := s.call(ctx)
	defer cancel()
	op := "update watch " + w.ID
	d := toWatchDoc(w)
	set := bson.D{
		{Key: "status", Value: d.Status}, {Key: "confirmHash", Value: d.ConfirmHash},
		{Key: "unsubscribeHashes", Value: d.UnsubscribeHashes}, {Key: "clientKey", Value: d.ClientKey},
		{Key: "sentNs", Value: d.SentNs}, {Key: "expiresNs", Value: d.ExpiresNs},
		{Key: "confirmedAt", Value: d.ConfirmedAt}, {Key: "issuer", Value: d.Issuer}, {Key: "number", Value: d.Number},
		{Key: "version", Value: w.Version + 1},
	}
	res, err := s.coll(collWatches).UpdateOne(ctx,
		bson.D{{Key: "_id", Value: w.ID}, {Key: "version", Value: w.Version}},
		bson.D{{Key: "$set", Value: set}})
	if err != nil {
		return translate(op, err)
	}
	if res.MatchedCount == 0 {
		return s.missingOr(ctx, collWatches, w.ID, op, fmt.Errorf("%s: stored version is not %d: %w", op, w.Version, store.ErrConflict))
	}
	w.Version++
	return nil
}

// DeleteWatch removes the watch; see store.Watches.
func (s *Store) DeleteWatch(ctx context.Context, id string) error {
	ctx, cancel := s.call(ctx)
	defer cancel()
	res, err := s.coll(collWatches).DeleteOne(ctx, bson.D{{Key: "_id", Value: id}})
	if err != nil {
		return translate("delete watch", err)
	}
	if res.DeletedCount == 0 {
		return fmt.Errorf("delete watch %s: %w", id, store.ErrNotFound)
	}
	return nil
}

// WatchByToken returns the watch of a token hash; see store.Watches.
func (s *Store) WatchByToken(ctx context.Context, hash string, confirm bool) (*cert.Watch, error) {
	if hash == "" {
		return nil, fmt.Errorf("watch token: %w", store.ErrNotFound)
	}
	field := "unsubscribeHashes"
	if confirm {
		field = "confirmHash"
	}
	return s.findWatch(ctx, bson.D{{Key: field, Value: hash}}, "watch token")
}

func (s *Store) findWatches(ctx context.Context, filter bson.D, opts *options.FindOptionsBuilder) ([]*cert.Watch, error) {
	ctx, cancel := s.call(ctx)
	defer cancel()
	if opts == nil {
		opts = options.Find()
	}
	cur, err := s.coll(collWatches).Find(ctx, filter, opts.SetSort(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return nil, translate("list watches", err)
	}
	var docs []watchDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, translate("list watches", err)
	}
	out := make([]*cert.Watch, len(docs))
	for i := range docs {
		out[i] = docs[i].watch()
	}
	return out, nil
}

func (s *Store) watchesWhere(ctx context.Context, field, value string) ([]*cert.Watch, error) {
	if value == "" {
		return []*cert.Watch{}, nil
	}
	return s.findWatches(ctx, bson.D{{Key: field, Value: value}}, nil)
}

// WatchesOfCertificate lists the watches of a certificate; see
// store.Watches.
func (s *Store) WatchesOfCertificate(ctx context.Context, id string) ([]*cert.Watch, error) {
	return s.watchesWhere(ctx, watchFieldCert, id)
}

// WatchesOfUSCC lists the watches of an organization; see store.Watches.
func (s *Store) WatchesOfUSCC(ctx context.Context, uscc string) ([]*cert.Watch, error) {
	return s.watchesWhere(ctx, watchFieldUSCC, uscc)
}

// WatchesOfEmail lists the subscriptions of an address; see
// store.Watches.
func (s *Store) WatchesOfEmail(ctx context.Context, email string) ([]*cert.Watch, error) {
	return s.watchesWhere(ctx, watchFieldEmail, email)
}

// WatchesOfWatcher returns a page of a watcher's watches; see
// store.Watches.
func (s *Store) WatchesOfWatcher(ctx context.Context, watcher, after string, limit int) ([]*cert.Watch, error) {
	if limit < 1 || limit > 1000 {
		limit = 100
	}
	if watcher == "" {
		return []*cert.Watch{}, nil
	}
	filter := bson.D{{Key: "watcher", Value: watcher}}
	if after != "" {
		filter = append(filter, bson.E{Key: "_id", Value: bson.D{{Key: "$gt", Value: after}}})
	}
	return s.findWatches(ctx, filter, options.Find().SetLimit(int64(limit)))
}

// CountWatches counts a watcher's watches; see store.Watches.
func (s *Store) CountWatches(ctx context.Context, watcher string) (int, error) {
	ctx, cancel := s.call(ctx)
	defer cancel()
	n, err := s.coll(collWatches).CountDocuments(ctx, bson.D{{Key: "watcher", Value: watcher}})
	if err != nil {
		return 0, translate("count watches", err)
	}
	return int(n), nil
}

// CountWatchesSentSince counts a client's recent subscriptions; see
// store.Watches.
func (s *Store) CountWatchesSentSince(ctx context.Context, client string, since time.Time) (int, error) {
	ctx, cancel := s.call(ctx)
	defer cancel()
	n, err := s.coll(collWatches).CountDocuments(ctx, bson.D{
		{Key: watchFieldClient, Value: client}, {Key: "sentNs", Value: bson.D{{Key: "$gte", Value: nanos(since)}}}})
	if err != nil {
		return 0, translate("count watches", err)
	}
	return int(n), nil
}

// WatcherWebhooks lists a watcher's webhooks; see store.Watches.
func (s *Store) WatcherWebhooks(ctx context.Context, watcher string) ([]*cert.Webhook, error) {
	ctx, cancel := s.call(ctx)
	defer cancel()
	if watcher == "" {
		return nil, nil
	}
	return s.findWebhooks(ctx, bson.D{{Key: "watcher", Value: watcher}})
}

// DeleteExpiredWatches removes the expired pending watches; see
// store.Watches.
func (s *Store) DeleteExpiredWatches(ctx context.Context, now time.Time) (int, error) {
	ctx, cancel := s.call(ctx)
	defer cancel()
	res, err := s.coll(collWatches).DeleteMany(ctx, bson.D{
		{Key: "status", Value: string(cert.WatchPending)}, {Key: "expiresNs", Value: bson.D{{Key: "$lte", Value: nanos(now)}}}})
	if err != nil {
		return 0, translate("delete expired watches", err)
	}
	return int(res.DeletedCount), nil
}
