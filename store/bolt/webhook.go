package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	"go.etcd.io/bbolt"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/store"
)

// Buckets of webhooks and their deliveries (store.Webhooks).
var (
	bucketWebhooks        = []byte("webhooks")           // id -> webhookRecord
	bucketDeliveries      = []byte("deliveries")         // id -> deliveryRecord
	bucketDeliveryDue     = []byte("deliveries.due")     // timeKey(next attempt) id -> nil, pending only
	bucketDeliveryWebhook = []byte("deliveries.webhook") // webhook \0 timeKey(created) id -> nil
	bucketDeliveryGroup   = []byte("deliveries.group")   // Group() \0 timeKey(created) seq id -> nil, pending with a group only
	webhookBuckets        = [][]byte{bucketWebhooks, bucketDeliveries, bucketDeliveryDue, bucketDeliveryWebhook, bucketDeliveryGroup}
)

var _ store.Webhooks = (*Store)(nil)

// webhookRecord is the stored form of a webhook: every field, the secret
// and version included (the domain type hides them from JSON answers).
type webhookRecord struct {
	cert.Webhook
	Secret       string `json:"secret,omitempty"`
	SealedSecret []byte `json:"sealedSecret,omitempty"`
	Version      int64  `json:"version"`
}

func (r *webhookRecord) webhook() *cert.Webhook {
	w := r.Webhook
	w.Secret, w.SealedSecret, w.Version = r.Secret, r.SealedSecret, r.Version
	return &w
}

// deliveryRecord is the stored form of a delivery.
type deliveryRecord struct {
	cert.Delivery
	Payload    []byte    `json:"payload"`
	To         string    `json:"to,omitempty"`
	Seq        int       `json:"seq,omitempty"`
	LeaseOwner string    `json:"leaseOwner,omitempty"`
	LeaseUntil time.Time `json:"leaseUntil"`
}

func recordOf(d *cert.Delivery) *deliveryRecord {
	return &deliveryRecord{Delivery: *d, Payload: d.Payload, To: d.To, Seq: d.Seq, LeaseOwner: d.LeaseOwner, LeaseUntil: d.LeaseUntil}
}

func (r *deliveryRecord) delivery() *cert.Delivery {
	d := r.Delivery
	d.Payload, d.To, d.Seq, d.LeaseOwner, d.LeaseUntil = r.Payload, r.To, r.Seq, r.LeaseOwner, r.LeaseUntil
	return &d
}

func deliveryDueKey(next time.Time, id string) []byte { return append(timeKey(next), id...) }

// groupPrefix is the prefix of the group index keys of the group g.
func groupPrefix(g string) []byte { return append([]byte(g), 0) }

// deliveryGroupKey sorts a group's deliveries as cert.Delivery.Before
// does; "" for a delivery that has no group.
func deliveryGroupKey(d *cert.Delivery) []byte {
	g := d.Group()
	if g == "" {
		return nil
	}
	k := append(groupPrefix(g), timeKey(d.CreatedAt)...)
	k = binary.BigEndian.AppendUint64(k, uint64(d.Seq))
	return append(k, d.ID...)
}

// putPending adds a pending delivery to the due and group indexes.
func putPending(tx *bbolt.Tx, d *cert.Delivery) error {
	if err := tx.Bucket(bucketDeliveryDue).Put(deliveryDueKey(d.NextAttemptAt, d.ID), nil); err != nil {
		return err
	}
	if k := deliveryGroupKey(d); k != nil {
		return tx.Bucket(bucketDeliveryGroup).Put(k, nil)
	}
	return nil
}

// deletePending removes a delivery from the due and group indexes.
func deletePending(tx *bbolt.Tx, d *cert.Delivery) error {
	if err := tx.Bucket(bucketDeliveryDue).Delete(deliveryDueKey(d.NextAttemptAt, d.ID)); err != nil {
		return err
	}
	if k := deliveryGroupKey(d); k != nil {
		return tx.Bucket(bucketDeliveryGroup).Delete(k)
	}
	return nil
}

// heldBack reports whether a pending delivery of d's group goes before d
// and was not leased in this transaction (taken: ids leased so far): d
// then waits for it.
func heldBack(tx *bbolt.Tx, d *cert.Delivery, taken map[string]bool) bool {
	self := deliveryGroupKey(d)
	if self == nil {
		return false
	}
	prefix := groupPrefix(d.Group())
	c := tx.Bucket(bucketDeliveryGroup).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.Compare(k, self) < 0; k, _ = c.Next() {
		if !taken[string(k[len(prefix)+12+8:])] {
			return true
		}
	}
	return false
}

// indexDeliveryGroups fills the group index from the pending deliveries
// of a file written before the index existed.
func indexDeliveryGroups(tx *bbolt.Tx) error {
	all := tx.Bucket(bucketDeliveries)
	return tx.Bucket(bucketDeliveryDue).ForEach(func(k, _ []byte) error {
		v := all.Get(k[12:])
		if v == nil {
			return nil
		}
		var r deliveryRecord
		if err := json.Unmarshal(v, &r); err != nil {
			return fmt.Errorf("decode delivery %s: %w", k[12:], err)
		}
		if gk := deliveryGroupKey(r.delivery()); gk != nil {
			return tx.Bucket(bucketDeliveryGroup).Put(gk, nil)
		}
		return nil
	})
}

func webhookDeliveryKey(d *cert.Delivery) []byte {
	k := append([]byte(d.Webhook), 0)
	k = append(k, timeKey(d.CreatedAt)...)
	return append(k, d.ID...)
}

// CreateWebhook stores a new webhook; see store.Webhooks.
func (s *Store) CreateWebhook(ctx context.Context, w *cert.Webhook) error {
	if err := checkContext(ctx, "create webhook"); err != nil {
		return err
	}
	if err := checkKey("id", w.ID); err != nil {
		return err
	}
	return s.update("create webhook "+w.ID, func(tx *bbolt.Tx) (error, error) {
		b := tx.Bucket(bucketWebhooks)
		if b.Get([]byte(w.ID)) != nil {
			return fmt.Errorf("webhook %s: %w", w.ID, store.ErrAlreadyExists), nil
		}
		v, err := json.Marshal(&webhookRecord{Webhook: *w, Secret: w.Secret, SealedSecret: w.SealedSecret, Version: 1})
		if err != nil {
			return nil, err
		}
		if err := b.Put([]byte(w.ID), v); err != nil {
			return nil, err
		}
		w.Version = 1
		return nil, nil
	})
}

// Webhook returns the webhook with the id; see store.Webhooks.
func (s *Store) Webhook(ctx context.Context, id string) (*cert.Webhook, error) {
	if err := checkContext(ctx, "get webhook"); err != nil {
		return nil, err
	}
	r, err := getJSON[webhookRecord](s, bucketWebhooks, nil, []byte(id), "webhook "+id)
	if err != nil {
		return nil, err
	}
	return r.webhook(), nil
}

// Webhooks lists an issuer's webhooks in id order; see store.Webhooks.
func (s *Store) Webhooks(ctx context.Context, issuer string) ([]*cert.Webhook, error) {
	if err := checkContext(ctx, "list webhooks"); err != nil {
		return nil, err
	}
	var out []*cert.Webhook
	err := s.db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketWebhooks).ForEach(func(_, v []byte) error {
			var r webhookRecord
			if err := json.Unmarshal(v, &r); err != nil {
				return err
			}
			if issuer == "" || r.Issuer == issuer {
				out = append(out, r.webhook())
			}
			return nil
		})
	})
	if err != nil {
		return nil, unavailable("list webhooks", err)
	}
	return out, nil
}

// UpdateWebhook replaces the webhook stored with w.Version; see
// store.Webhooks.
func (s *Store) UpdateWebhook(ctx context.Context, w *cert.Webhook) error {
	if err := checkContext(ctx, "update webhook"); err != nil {
		return err
	}
	return s.update("update webhook "+w.ID, func(tx *bbolt.Tx) (error, error) {
		b := tx.Bucket(bucketWebhooks)
		old := b.Get([]byte(w.ID))
		if old == nil {
			return fmt.Errorf("webhook %s: %w", w.ID, store.ErrNotFound), nil
		}
		var stored webhookRecord
		if err := json.Unmarshal(old, &stored); err != nil {
			return nil, fmt.Errorf("decode webhook %s: %w", w.ID, err)
		}
		if stored.Version != w.Version {
			return fmt.Errorf("webhook %s: stored version %d, not %d: %w", w.ID, stored.Version, w.Version, store.ErrConflict), nil
		}
		next := webhookRecord{Webhook: *w, Secret: stored.Secret, SealedSecret: stored.SealedSecret, Version: stored.Version + 1}
		next.Issuer, next.Watcher = stored.Issuer, stored.Watcher
		v, err := json.Marshal(&next)
		if err != nil {
			return nil, err
		}
		if err := b.Put([]byte(w.ID), v); err != nil {
			return nil, err
		}
		w.Version = next.Version
		return nil, nil
	})
}

// SealWebhookSecret replaces a plaintext secret by its sealed form; see
// store.Webhooks.
func (s *Store) SealWebhookSecret(ctx context.Context, id, plain string, sealed []byte) error {
	if err := checkContext(ctx, "seal webhook secret"); err != nil {
		return err
	}
	return s.update("seal webhook secret "+id, func(tx *bbolt.Tx) (error, error) {
		b := tx.Bucket(bucketWebhooks)
		old := b.Get([]byte(id))
		if old == nil {
			return fmt.Errorf("webhook %s: %w", id, store.ErrNotFound), nil
		}
		var r webhookRecord
		if err := json.Unmarshal(old, &r); err != nil {
			return nil, fmt.Errorf("decode webhook %s: %w", id, err)
		}
		if r.Secret == "" || r.Secret != plain {
			return fmt.Errorf("webhook %s: the stored secret is not the plaintext given: %w", id, store.ErrConflict), nil
		}
		r.Secret, r.SealedSecret = "", sealed
		v, err := json.Marshal(&r)
		if err != nil {
			return nil, err
		}
		return nil, b.Put([]byte(id), v)
	})
}

// DeleteWebhook removes the webhook; see store.Webhooks.
func (s *Store) DeleteWebhook(ctx context.Context, id string) error {
	if err := checkContext(ctx, "delete webhook"); err != nil {
		return err
	}
	return s.update("delete webhook "+id, func(tx *bbolt.Tx) (error, error) {
		b := tx.Bucket(bucketWebhooks)
		if b.Get([]byte(id)) == nil {
			return fmt.Errorf("webhook %s: %w", id, store.ErrNotFound), nil
		}
		return nil, b.Delete([]byte(id))
	})
}

// EnqueueDelivery stores a new delivery; see store.Webhooks.
func (s *Store) EnqueueDelivery(ctx context.Context, d *cert.Delivery) error {
	if err := checkContext(ctx, "enqueue delivery"); err != nil {
		return err
	}
	if err := checkKey("id", d.ID); err != nil {
		return err
	}
	if d.IsEmail() {
		if d.To == "" {
			return cert.Invalid("to", "is required for an e-mail")
		}
	} else if err := checkKey("webhook", d.Webhook); err != nil {
		return err
	}
	r := recordOf(d)
	v, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encode delivery %s: %w", d.ID, err)
	}
	return s.batchBookkeeping("enqueue delivery "+d.ID, func(tx *bbolt.Tx) (error, error) {
		b := tx.Bucket(bucketDeliveries)
		if b.Get([]byte(d.ID)) != nil {
			return fmt.Errorf("delivery %s: %w", d.ID, store.ErrAlreadyExists), nil
		}
		if err := b.Put([]byte(d.ID), v); err != nil {
			return nil, err
		}
		if d.Status == cert.DeliveryPending {
			if err := putPending(tx, d); err != nil {
				return nil, err
			}
		}
		if d.Webhook == "" {
			return nil, nil // an e-mail: no webhook's log lists it
		}
		return nil, tx.Bucket(bucketDeliveryWebhook).Put(webhookDeliveryKey(d), nil)
	})
}

// Delivery returns the delivery with the id; see store.Webhooks.
func (s *Store) Delivery(ctx context.Context, id string) (*cert.Delivery, error) {
	if err := checkContext(ctx, "get delivery"); err != nil {
		return nil, err
	}
	r, err := getJSON[deliveryRecord](s, bucketDeliveries, nil, []byte(id), "delivery "+id)
	if err != nil {
		return nil, err
	}
	return r.delivery(), nil
}

// Deliveries lists a webhook's deliveries, newest first; see
// store.Webhooks.
func (s *Store) Deliveries(ctx context.Context, webhook string, limit int) ([]*cert.Delivery, error) {
	if err := checkContext(ctx, "list deliveries"); err != nil {
		return nil, err
	}
	if limit < 1 || limit > 1000 {
		limit = 100
	}
	prefix := append([]byte(webhook), 0)
	var out []*cert.Delivery
	err := s.db.View(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketDeliveryWebhook).Cursor()
		// Seek past the prefix, then walk back.
		end := append(bytes.Clone(prefix[:len(prefix)-1]), 1)
		k, _ := c.Seek(end)
		if k == nil {
			k, _ = c.Last()
		} else {
			k, _ = c.Prev()
		}
		all := tx.Bucket(bucketDeliveries)
		for ; k != nil && bytes.HasPrefix(k, prefix) && len(out) < limit; k, _ = c.Prev() {
			id := k[len(prefix)+12:]
			v := all.Get(id)
			if v == nil {
				continue
			}
			var r deliveryRecord
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("decode delivery %s: %w", id, err)
			}
			out = append(out, r.delivery())
		}
		return nil
	})
	if err != nil {
		return nil, unavailable("list deliveries", err)
	}
	return out, nil
}

// LeaseDeliveries takes due deliveries whose lease has expired; see
// store.Webhooks. bbolt has one writer at a time, so the check and the
// write of each lease are one step.
func (s *Store) LeaseDeliveries(ctx context.Context, owner string, now, until time.Time, max int) ([]*cert.Delivery, error) {
	if err := checkContext(ctx, "lease deliveries"); err != nil {
		return nil, err
	}
	if err := checkKey("owner", owner); err != nil {
		return nil, err
	}
	limit := timeKey(now)
	// Most rounds find nothing due: they read, and write nothing (a write
	// would cost a commit and end the verdicts the verifier keeps).
	var due bool
	if err := s.db.View(func(tx *bbolt.Tx) error {
		k, _ := tx.Bucket(bucketDeliveryDue).Cursor().First()
		due = k != nil && bytes.Compare(k[:12], limit) <= 0
		return nil
	}); err != nil {
		return nil, unavailable("lease deliveries", err)
	}
	if !due {
		return nil, nil
	}
	var out []*cert.Delivery
	err := s.updateBookkeeping("lease deliveries", func(tx *bbolt.Tx) (error, error) {
		out = out[:0]
		taken := map[string]bool{}
		all := tx.Bucket(bucketDeliveries)
		c := tx.Bucket(bucketDeliveryDue).Cursor()
		for k, _ := c.First(); k != nil && len(out) < max; k, _ = c.Next() {
			if bytes.Compare(k[:12], limit) > 0 {
				break
			}
			id := k[12:]
			v := all.Get(id)
			if v == nil {
				continue
			}
			var r deliveryRecord
			if err := json.Unmarshal(v, &r); err != nil {
				return nil, fmt.Errorf("decode delivery %s: %w", id, err)
			}
			if r.Status != cert.DeliveryPending || !r.LeaseUntil.Before(now) || heldBack(tx, r.delivery(), taken) {
				continue
			}
			r.LeaseOwner, r.LeaseUntil = owner, until
			nv, err := json.Marshal(&r)
			if err != nil {
				return nil, err
			}
			if err := all.Put(bytes.Clone(id), nv); err != nil {
				return nil, err
			}
			taken[string(id)] = true
			out = append(out, r.delivery())
		}
		return nil, nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// FinishAttempt stores an attempt's result and releases the lease; see
// store.Webhooks.
func (s *Store) FinishAttempt(ctx context.Context, d *cert.Delivery, owner string) error {
	if err := checkContext(ctx, "finish delivery attempt"); err != nil {
		return err
	}
	return s.changeDelivery("finish delivery attempt", d.ID, func(r *deliveryRecord) error {
		if r.LeaseOwner == "" || r.LeaseOwner != owner {
			return fmt.Errorf("delivery %s: not leased by %s: %w", d.ID, owner, store.ErrConflict)
		}
		r.Status, r.Attempts, r.NextAttemptAt = d.Status, d.Attempts, d.NextAttemptAt
		r.LastAttemptAt, r.LastStatusCode, r.LastError = d.LastAttemptAt, d.LastStatusCode, d.LastError
		r.LeaseOwner, r.LeaseUntil = "", time.Time{}
		return nil
	})
}

// RetryDelivery makes a delivery pending and due at now; see
// store.Webhooks.
func (s *Store) RetryDelivery(ctx context.Context, id string, now time.Time) error {
	if err := checkContext(ctx, "retry delivery"); err != nil {
		return err
	}
	return s.changeDelivery("retry delivery", id, func(r *deliveryRecord) error {
		if r.LeaseOwner != "" && r.LeaseUntil.After(now) {
			return fmt.Errorf("delivery %s: an attempt is in progress until %s: %w", id, r.LeaseUntil.Format(time.RFC3339), store.ErrConflict)
		}
		r.Status, r.NextAttemptAt, r.RedeliveredAt = cert.DeliveryPending, now, &now
		r.LeaseOwner, r.LeaseUntil = "", time.Time{}
		return nil
	})
}

// changeDelivery applies change to the stored delivery and keeps the due
// index in step with its status and next attempt.
func (s *Store) changeDelivery(op, id string, change func(*deliveryRecord) error) error {
	return s.batchBookkeeping(op+" "+id, func(tx *bbolt.Tx) (error, error) {
		all := tx.Bucket(bucketDeliveries)
		v := all.Get([]byte(id))
		if v == nil {
			return fmt.Errorf("delivery %s: %w", id, store.ErrNotFound), nil
		}
		var r deliveryRecord
		if err := json.Unmarshal(v, &r); err != nil {
			return nil, fmt.Errorf("decode delivery %s: %w", id, err)
		}
		old := r.delivery()
		if derr := change(&r); derr != nil {
			return derr, nil
		}
		if old.Status == cert.DeliveryPending {
			if err := deletePending(tx, old); err != nil {
				return nil, err
			}
		}
		nv, err := json.Marshal(&r)
		if err != nil {
			return nil, err
		}
		if err := all.Put([]byte(id), nv); err != nil {
			return nil, err
		}
		if r.Status == cert.DeliveryPending {
			return nil, putPending(tx, r.delivery())
		}
		return nil, nil
	})
}
