package mongo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/store"
)

// Collections and indexes of webhooks and deliveries (store.Webhooks).
// The times the lease queries compare (next attempt, lease end, creation)
// are stored as Unix nanoseconds, so they compare exactly and sort as
// numbers; 0 is the zero time.
const (
	collWebhooks       = "webhooks"
	collDeliveries     = "deliveries"
	idxWebhookIssuer   = "idx_issuer"
	idxDeliveryDue     = "idx_status_next"
	idxDeliveryWebhook = "idx_webhook_created"
	idxDeliveryGroup   = "idx_group"
)

var _ store.Webhooks = (*Store)(nil)

func (s *Store) webhookIndexes() []index {
	return []index{
		{coll: s.coll(collWebhooks), name: idxWebhookIssuer, keys: keys("issuer", "_id")},
		{coll: s.coll(collDeliveries), name: idxDeliveryDue, keys: keys("status", "nextAttemptNs")},
		{coll: s.coll(collDeliveries), name: idxDeliveryWebhook, keys: keys("webhook", "createdNs", "_id")},
		{coll: s.coll(collDeliveries), name: idxDeliveryGroup, keys: keys("certificate", "webhook", "status", "createdNs")},
	}
}

type webhookDoc struct {
	ID             string     `bson:"_id"`
	Issuer         string     `bson:"issuer"`
	Watcher        string     `bson:"watcher,omitempty"`
	URL            string     `bson:"url"`
	Events         []string   `bson:"events"`
	Active         bool       `bson:"active"`
	Secret         string     `bson:"secret,omitempty"`
	SealedSecret   []byte     `bson:"sealedSecret,omitempty"`
	DisabledReason string     `bson:"disabledReason"`
	DisabledAt     *time.Time `bson:"disabledAt,omitempty"`
	CreatedAt      time.Time  `bson:"createdAt"`
	UpdatedAt      time.Time  `bson:"updatedAt"`
	Version        int64      `bson:"version"`
}

func toWebhookDoc(w *cert.Webhook) *webhookDoc {
	return &webhookDoc{ID: w.ID, Issuer: w.Issuer, Watcher: w.Watcher, URL: w.URL, Events: w.Events, Active: w.Active, Secret: w.Secret, SealedSecret: w.SealedSecret,
		DisabledReason: w.DisabledReason, DisabledAt: w.DisabledAt, CreatedAt: w.CreatedAt, UpdatedAt: w.UpdatedAt, Version: w.Version}
}

func (d *webhookDoc) webhook() *cert.Webhook {
	w := &cert.Webhook{ID: d.ID, Issuer: d.Issuer, Watcher: d.Watcher, URL: d.URL, Events: d.Events, Active: d.Active, Secret: d.Secret, SealedSecret: d.SealedSecret,
		DisabledReason: d.DisabledReason, DisabledAt: utcPtrTime(d.DisabledAt), CreatedAt: d.CreatedAt.UTC(), UpdatedAt: d.UpdatedAt.UTC(), Version: d.Version}
	if len(w.Events) == 0 {
		w.Events = nil
	}
	return w
}

type deliveryDoc struct {
	ID             string     `bson:"_id"`
	Channel        string     `bson:"channel,omitempty"`
	Webhook        string     `bson:"webhook"`
	To             string     `bson:"to,omitempty"`
	Certificate    string     `bson:"certificate,omitempty"`
	Seq            int        `bson:"seq"`
	Issuer         string     `bson:"issuer"`
	EventType      string     `bson:"type"`
	Payload        []byte     `bson:"payload"`
	Status         string     `bson:"status"`
	Attempts       int        `bson:"attempts"`
	NextAttemptNs  int64      `bson:"nextAttemptNs"`
	LeaseOwner     string     `bson:"leaseOwner"`
	LeaseUntilNs   int64      `bson:"leaseUntilNs"`
	LastAttemptAt  *time.Time `bson:"lastAttemptAt"`
	LastStatusCode int        `bson:"lastStatusCode"`
	LastError      string     `bson:"lastError"`
	CreatedNs      int64      `bson:"createdNs"`
	RedeliveredAt  *time.Time `bson:"redeliveredAt,omitempty"`
}

func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

func toDeliveryDoc(d *cert.Delivery) *deliveryDoc {
	return &deliveryDoc{ID: d.ID, Channel: d.Channel, Webhook: d.Webhook, To: d.To, Certificate: d.Certificate, Seq: d.Seq, Issuer: d.Issuer, EventType: d.EventType, Payload: d.Payload,
		Status: string(d.Status), Attempts: d.Attempts, NextAttemptNs: nanos(d.NextAttemptAt),
		LeaseOwner: d.LeaseOwner, LeaseUntilNs: nanos(d.LeaseUntil), LastAttemptAt: d.LastAttemptAt,
		LastStatusCode: d.LastStatusCode, LastError: d.LastError, CreatedNs: nanos(d.CreatedAt), RedeliveredAt: d.RedeliveredAt}
}

func (d *deliveryDoc) delivery() *cert.Delivery {
	return &cert.Delivery{ID: d.ID, Channel: d.Channel, Webhook: d.Webhook, To: d.To, Certificate: d.Certificate, Seq: d.Seq, Issuer: d.Issuer, EventType: d.EventType, Payload: d.Payload,
		Status: cert.DeliveryStatus(d.Status), Attempts: d.Attempts, NextAttemptAt: fromNanos(d.NextAttemptNs),
		LeaseOwner: d.LeaseOwner, LeaseUntil: fromNanos(d.LeaseUntilNs), LastAttemptAt: utcPtrTime(d.LastAttemptAt),
		LastStatusCode: d.LastStatusCode, LastError: d.LastError, CreatedAt: fromNanos(d.CreatedNs), RedeliveredAt: utcPtrTime(d.RedeliveredAt)}
}

// CreateWebhook stores a new webhook; see store.Webhooks.
func (s *Store) CreateWebhook(ctx context.Context, w *cert.Webhook) error {
	ctx, cancel := s.call(ctx)
	defer cancel()
	d := toWebhookDoc(w)
	d.Version = 1
	if _, err := s.coll(collWebhooks).InsertOne(ctx, d); err != nil {
		return translate("create webhook "+w.ID, err)
	}
	w.Version = 1
	return nil
}

// Webhook returns the webhook with the id; see store.Webhooks.
func (s *Store) Webhook(ctx context.Context, id string) (*cert.Webhook, error) {
	ctx, cancel := s.call(ctx)
	defer cancel()
	var d webhookDoc
	if err := s.coll(collWebhooks).FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&d); err != nil {
		return nil, translate("webhook "+id, err)
	}
	return d.webhook(), nil
}

// Webhooks lists an issuer's webhooks in id order; see store.Webhooks.
func (s *Store) Webhooks(ctx context.Context, issuer string) ([]*cert.Webhook, error) {
	ctx, cancel := s.call(ctx)
	defer cancel()
	filter := bson.D{}
	if issuer != "" {
		filter = bson.D{{Key: "issuer", Value: issuer}}
	}
	return s.findWebhooks(ctx, filter)
}

// findWebhooks returns the webhooks that match filter, in id order.
func (s *Store) findWebhooks(ctx context.Context, filter bson.D) ([]*cert.Webhook, error) {
	cur, err := s.coll(collWebhooks).Find(ctx, filter, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return nil, translate("list webhooks", err)
	}
	var docs []webhookDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, translate("list webhooks", err)
	}
	out := make([]*cert.Webhook, len(docs))
	for i := range docs {
		out[i] = docs[i].webhook()
	}
	return out, nil
}

// UpdateWebhook replaces the webhook stored with w.Version, in one
// conditional write; see store.Webhooks.
func (s *Store) UpdateWebhook(ctx context.Context, w *cert.Webhook) error {
	ctx, cancel := s.call(ctx)
	defer cancel()
	op := "update webhook " + w.ID
	set := bson.D{
		{Key: "url", Value: w.URL}, {Key: "events", Value: w.Events}, {Key: "active", Value: w.Active},
		{Key: "disabledReason", Value: w.DisabledReason}, {Key: "disabledAt", Value: w.DisabledAt}, {Key: "createdAt", Value: w.CreatedAt},
		{Key: "updatedAt", Value: w.UpdatedAt}, {Key: "version", Value: w.Version + 1},
	}
	res, err := s.coll(collWebhooks).UpdateOne(ctx,
		bson.D{{Key: "_id", Value: w.ID}, {Key: "version", Value: w.Version}},
		bson.D{{Key: "$set", Value: set}})
	if err != nil {
		return translate(op, err)
	}
	if res.MatchedCount == 0 {
		return s.missingOr(ctx, collWebhooks, w.ID, op, fmt.Errorf("%s: stored version is not %d: %w", op, w.Version, store.ErrConflict))
	}
	w.Version++
	return nil
}

// SealWebhookSecret replaces a plaintext secret by its sealed form, in
// one write conditional on the stored secret; see store.Webhooks.
func (s *Store) SealWebhookSecret(ctx context.Context, id, plain string, sealed []byte) error {
	ctx, cancel := s.call(ctx)
	defer cancel()
	op := "seal webhook secret " + id
	if plain == "" {
		return fmt.Errorf("%s: no plaintext secret: %w", op, store.ErrConflict)
	}
	res, err := s.coll(collWebhooks).UpdateOne(ctx,
		bson.D{{Key: "_id", Value: id}, {Key: "secret", Value: plain}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "sealedSecret", Value: sealed}}}, {Key: "$unset", Value: bson.D{{Key: "secret", Value: ""}}}})
	if err != nil {
		return translate(op, err)
	}
	if res.MatchedCount == 0 {
		return s.missingOr(ctx, collWebhooks, id, op, fmt.Errorf("%s: the stored secret is not the plaintext given: %w", op, store.ErrConflict))
	}
	return nil
}

// missingOr returns ErrNotFound when the document is absent, otherwise
// other.
func (s *Store) missingOr(ctx context.Context, coll, id, op string, other error) error {
	n, err := s.coll(coll).CountDocuments(ctx, bson.D{{Key: "_id", Value: id}})
	if err != nil {
		return translate(op, err)
	}
	if n == 0 {
		return fmt.Errorf("%s: %w", op, store.ErrNotFound)
	}
	return other
}

// DeleteWebhook removes the webhook; see store.Webhooks.
func (s *Store) DeleteWebhook(ctx context.Context, id string) error {
	ctx, cancel := s.call(ctx)
	defer cancel()
	res, err := s.coll(collWebhooks).DeleteOne(ctx, bson.D{{Key: "_id", Value: id}})
	if err != nil {
		return translate("delete webhook "+id, err)
	}
	if res.DeletedCount == 0 {
		return fmt.Errorf("delete webhook %s: %w", id, store.ErrNotFound)
	}
	return nil
}

// EnqueueDelivery stores a new delivery; see store.Webhooks.
func (s *Store) EnqueueDelivery(ctx context.Context, d *cert.Delivery) error {
	ctx, cancel := s.call(ctx)
	defer cancel()
	if _, err := s.coll(collDeliveries).InsertOne(ctx, toDeliveryDoc(d)); err != nil {
		return translate("enqueue delivery "+d.ID, err)
	}
	return nil
}

// Delivery returns the delivery with the id; see store.Webhooks.
func (s *Store) Delivery(ctx context.Context, id string) (*cert.Delivery, error) {
	ctx, cancel := s.call(ctx)
	defer cancel()
	var d deliveryDoc
	if err := s.coll(collDeliveries).FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&d); err != nil {
		return nil, translate("delivery "+id, err)
	}
	return d.delivery(), nil
}

// Deliveries lists a webhook's deliveries, newest first; see
// store.Webhooks.
func (s *Store) Deliveries(ctx context.Context, webhook string, limit int) ([]*cert.Delivery, error) {
	ctx, cancel := s.call(ctx)
	defer cancel()
	if limit < 1 || limit > 1000 {
		limit = 100
	}
	cur, err := s.coll(collDeliveries).Find(ctx, bson.D{{Key: "webhook", Value: webhook}},
		options.Find().SetSort(bson.D{{Key: "createdNs", Value: -1}, {Key: "_id", Value: -1}}).SetLimit(int64(limit)))
	if err != nil {
		return nil, translate("list deliveries", err)
	}
	var docs []deliveryDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, translate("list deliveries", err)
	}
	out := make([]*cert.Delivery, len(docs))
	for i := range docs {
		out[i] = docs[i].delivery()
	}
	return out, nil
}

// LeaseDeliveries takes due deliveries one by one, each with a
// find-and-modify conditional on the lease having expired, so that the
// server, not this process, decides who gets a delivery; a delivery
// whose group has an earlier pending one not leased in this call is
// passed over (see cert.Delivery.Group); see store.Webhooks.
//
// As in LeaseOutbox, each delivery's round trips are one call under the
// store's timeout, the round stops taking more once the timeout or half
// the lease has passed, and a failure after the first lease ends the round
// with what was leased.
func (s *Store) LeaseDeliveries(ctx context.Context, owner string, now, until time.Time, max int) ([]*cert.Delivery, error) {
	if owner == "" {
		return nil, cert.Invalid("owner", "is required")
	}
	due := bson.D{
		{Key: "status", Value: string(cert.DeliveryPending)},
		{Key: "nextAttemptNs", Value: bson.D{{Key: "$lte", Value: nanos(now)}}},
		{Key: "leaseUntilNs", Value: bson.D{{Key: "$lt", Value: nanos(now)}}},
	}
	update := bson.D{{Key: "$set", Value: bson.D{{Key: "leaseOwner", Value: owner}, {Key: "leaseUntilNs", Value: nanos(until)}}}}
	byDue := options.FindOne().SetSort(bson.D{{Key: "nextAttemptNs", Value: 1}, {Key: "_id", Value: 1}}).
		SetProjection(bson.D{{Key: "payload", Value: 0}})
	after := options.FindOneAndUpdate().SetReturnDocument(options.After)
	var out []*cert.Delivery
	var passed, taken []string // passed: held back, or taken by another instance meanwhile
	// next leases the next due delivery, or passes one over; false when
	// none is due.
	next := func() (bool, error) {
		ctx, cancel := s.call(ctx)
		defer cancel()
		skip := append(append(make([]string, 0, len(passed)+len(taken)), passed...), taken...)
		filter := append(bson.D{{Key: "_id", Value: bson.D{{Key: "$nin", Value: skip}}}}, due...)
		var c deliveryDoc
		err := s.coll(collDeliveries).FindOne(ctx, filter, byDue).Decode(&c)
		if errors.Is(err, mongo.ErrNoDocuments) {
			return false, nil
		}
		if err != nil {
			return false, translate("lease deliveries", err)
		}
		held, err := s.heldBack(ctx, c.delivery(), taken)
		if err != nil {
			return false, err
		}
		if held {
			passed = append(passed, c.ID)
			return true, nil
		}
		var d deliveryDoc
		err = s.coll(collDeliveries).FindOneAndUpdate(ctx, append(bson.D{{Key: "_id", Value: c.ID}}, due...), update, after).Decode(&d)
		if errors.Is(err, mongo.ErrNoDocuments) {
			passed = append(passed, c.ID)
			return true, nil
		}
		if err != nil {
			return false, translate("lease deliveries", err)
		}
		taken = append(taken, d.ID)
		out = append(out, d.delivery())
		return true, nil
	}
	budget := min(s.timeout, until.Sub(now)/2)
	start := time.Now()
	for len(out) < max && (len(out) == 0 || time.Since(start) < budget) {
		more, err := next()
		if err != nil {
			if len(out) > 0 && ctx.Err() == nil {
				break
			}
			return out, err
		}
		if !more {
			break
		}
	}
	return out, nil
}

// heldBack reports whether a pending delivery of d's group goes before d
// (cert.Delivery.Before) and is not among taken: d then waits for it.
// Whether such a one exists changes only when it finishes, so the check
// needs no lock: the later delivery is at worst passed over once more.
func (s *Store) heldBack(ctx context.Context, d *cert.Delivery, taken []string) (bool, error) {
	if d.Group() == "" {
		return false, nil
	}
	c := nanos(d.CreatedAt)
	filter := bson.D{
		{Key: "certificate", Value: d.Certificate}, {Key: "webhook", Value: d.Webhook},
		{Key: "status", Value: string(cert.DeliveryPending)},
		{Key: "createdNs", Value: bson.D{{Key: "$lte", Value: c}}},
		{Key: "_id", Value: bson.D{{Key: "$nin", Value: append(append(make([]string, 0, len(taken)+1), taken...), d.ID)}}},
	}
	if d.IsEmail() {
		filter = append(filter, bson.E{Key: "channel", Value: cert.ChannelEmail}, bson.E{Key: "to", Value: d.To})
	} else {
		filter = append(filter, bson.E{Key: "channel", Value: bson.D{{Key: "$ne", Value: cert.ChannelEmail}}})
	}
	cur, err := s.coll(collDeliveries).Find(ctx, filter, options.Find().
		SetProjection(bson.D{{Key: "_id", Value: 1}, {Key: "createdNs", Value: 1}, {Key: "seq", Value: 1}}))
	if err != nil {
		return false, translate("lease deliveries", err)
	}
	defer cur.Close(ctx)
	for cur.Next(ctx) {
		var e deliveryDoc
		if err := cur.Decode(&e); err != nil {
			return false, translate("lease deliveries", err)
		}
		if e.delivery().Before(d) {
			return true, nil
		}
	}
	return false, translate("lease deliveries", cur.Err())
}

// FinishAttempt stores an attempt's result and releases the lease, in
// one write conditional on the lease owner; see store.Webhooks.
func (s *Store) FinishAttempt(ctx context.Context, d *cert.Delivery, owner string) error {
	ctx, cancel := s.call(ctx)
	defer cancel()
	op := "finish delivery attempt " + d.ID
	if owner == "" {
		return fmt.Errorf("%s: no owner: %w", op, store.ErrConflict)
	}
	set := bson.D{
		{Key: "status", Value: string(d.Status)}, {Key: "attempts", Value: d.Attempts},
		{Key: "nextAttemptNs", Value: nanos(d.NextAttemptAt)}, {Key: "lastAttemptAt", Value: d.LastAttemptAt},
		{Key: "lastStatusCode", Value: d.LastStatusCode}, {Key: "lastError", Value: d.LastError},
		{Key: "leaseOwner", Value: ""}, {Key: "leaseUntilNs", Value: int64(0)},
	}
	res, err := s.coll(collDeliveries).UpdateOne(ctx,
		bson.D{{Key: "_id", Value: d.ID}, {Key: "leaseOwner", Value: owner}},
		bson.D{{Key: "$set", Value: set}})
	if err != nil {
		return translate(op, err)
	}
	if res.MatchedCount == 0 {
		return s.missingOr(ctx, collDeliveries, d.ID, op, fmt.Errorf("%s: not leased by %s: %w", op, owner, store.ErrConflict))
	}
	return nil
}

// RetryDelivery makes a delivery pending and due at now; see
// store.Webhooks.
func (s *Store) RetryDelivery(ctx context.Context, id string, now time.Time) error {
	ctx, cancel := s.call(ctx)
	defer cancel()
	op := "retry delivery " + id
	res, err := s.coll(collDeliveries).UpdateOne(ctx,
		bson.D{{Key: "_id", Value: id}, {Key: "leaseUntilNs", Value: bson.D{{Key: "$lte", Value: nanos(now)}}}},
		bson.D{{Key: "$set", Value: bson.D{
			{Key: "status", Value: string(cert.DeliveryPending)}, {Key: "nextAttemptNs", Value: nanos(now)},
			{Key: "leaseOwner", Value: ""}, {Key: "leaseUntilNs", Value: int64(0)}, {Key: "redeliveredAt", Value: now},
		}}})
	if err != nil {
		return translate(op, err)
	}
	if res.MatchedCount == 0 {
		return s.missingOr(ctx, collDeliveries, id, op, fmt.Errorf("%s: an attempt is in progress: %w", op, store.ErrConflict))
	}
	return nil
}
