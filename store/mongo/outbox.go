package mongo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/certd/certd/store"
)

var _ store.Outbox = (*Store)(nil)

// The outbox (store.Outbox) lives in the certificate's own document, so a
// write and its mark are one document write:
//
//	obV      the version of the last write not yet dispatched; every
//	         create and update sets it (certBody.ObV), FinishOutbox
//	         removes it when no later write came
//	obOwner  the dispatcher holding the lease, obUntil its end (Unix ns)
//	obDone   how many events were handed to the sinks
//
// Updates $set the body only, so a write keeps the lease and the count.
const (
	fieldObV     = "obV"
	fieldObOwner = "obOwner"
	fieldObUntil = "obUntil"
	fieldObDone  = "obDone"
)

// outboxDoc is what a lease reads besides the certificate.
type outboxDoc struct {
	ObDone int64 `bson:"obDone"`
}

// LeaseOutbox takes marked certificates whose lease has ended, each with
// one conditional findOneAndUpdate; see store.Outbox.
//
// Each of those round trips is a call of its own under the store's
// timeout, and the round stops taking more once the timeout or half the
// lease has passed: what it leased is handed over, and the rest waits for
// the next round. A round bounded as one call instead fails on a slow or
// distant database (500 round trips of 10 ms are the default 5 s), and
// the caller never gets the certificates it leased, so the outbox never
// drains. A failure after the first lease ends the round without error
// (what was leased must be dispatched; the next round meets the failure
// again).
func (s *Store) LeaseOutbox(ctx context.Context, owner string, now, until time.Time, max int) ([]*store.OutboxEntry, error) {
	filter := bson.D{
		{Key: fieldObV, Value: bson.D{{Key: "$exists", Value: true}}},
		{Key: "$or", Value: bson.A{
			bson.D{{Key: fieldObUntil, Value: bson.D{{Key: "$exists", Value: false}}}},
			bson.D{{Key: fieldObUntil, Value: bson.D{{Key: "$lt", Value: now.UnixNano()}}}},
		}},
	}
	update := bson.D{{Key: "$set", Value: bson.D{{Key: fieldObOwner, Value: owner}, {Key: fieldObUntil, Value: until.UnixNano()}}}}
	opts := options.FindOneAndUpdate().SetReturnDocument(options.After)
	budget := min(s.timeout, until.Sub(now)/2)
	start := time.Now()
	var out []*store.OutboxEntry
	for len(out) < max && (len(out) == 0 || time.Since(start) < budget) {
		raw, err := s.leaseOne(ctx, filter, update, opts)
		if errors.Is(err, mongo.ErrNoDocuments) {
			break
		}
		if err != nil {
			if len(out) > 0 && ctx.Err() == nil {
				break
			}
			return out, translate("lease outbox", err)
		}
		var d certDoc
		var o outboxDoc
		if err := bson.Unmarshal(raw, &d); err != nil {
			return out, fmt.Errorf("lease outbox: decode certificate: %w", err)
		}
		if err := bson.Unmarshal(raw, &o); err != nil {
			return out, fmt.Errorf("lease outbox: decode outbox fields: %w", err)
		}
		out = append(out, &store.OutboxEntry{Certificate: d.certificate(), Dispatched: int(o.ObDone)})
	}
	return out, nil
}

// leaseOne is one lease of LeaseOutbox, one call.
func (s *Store) leaseOne(ctx context.Context, filter, update bson.D, opts *options.FindOneAndUpdateOptionsBuilder) (bson.Raw, error) {
	ctx, cancel := s.call(ctx)
	defer cancel()
	return s.certs.FindOneAndUpdate(ctx, filter, update, opts).Raw()
}

// FinishOutbox finishes each entry with finishOne; see store.Outbox.
func (s *Store) FinishOutbox(ctx context.Context, owner string, es []*store.OutboxEntry) ([]error, error) {
	errs := make([]error, len(es))
	for i, e := range es {
		err := s.finishOne(ctx, owner, e)
		if errors.Is(err, store.ErrUnavailable) {
			return nil, err
		}
		errs[i] = err
	}
	return errs, nil
}

// finishOne records the count, then clears the mark when the leased
// version is still the last write, or else releases the lease. Each step
// is one conditional update of the document.
func (s *Store) finishOne(ctx context.Context, owner string, e *store.OutboxEntry) error {
	id := e.Certificate.ID
	op := "finish outbox " + id
	ctx, cancel := s.call(ctx)
	defer cancel()
	res, err := s.certs.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}},
		bson.D{{Key: "$max", Value: bson.D{{Key: fieldObDone, Value: int64(e.Dispatched)}}}})
	if err != nil {
		return translate(op, err)
	}
	if res.MatchedCount == 0 {
		return fmt.Errorf("%s: %w", op, store.ErrNotFound)
	}
	unlease := bson.D{{Key: fieldObOwner, Value: ""}, {Key: fieldObUntil, Value: ""}}
	res, err = s.certs.UpdateOne(ctx,
		bson.D{{Key: "_id", Value: id}, {Key: fieldObOwner, Value: owner}, {Key: fieldObV, Value: e.Certificate.Version}},
		bson.D{{Key: "$unset", Value: append(bson.D{{Key: fieldObV, Value: ""}}, unlease...)}})
	if err != nil {
		return translate(op, err)
	}
	if res.MatchedCount == 1 {
		return nil
	}
	res, err = s.certs.UpdateOne(ctx,
		bson.D{{Key: "_id", Value: id}, {Key: fieldObOwner, Value: owner}},
		bson.D{{Key: "$unset", Value: unlease}})
	if err != nil {
		return translate(op, err)
	}
	if res.MatchedCount == 0 {
		return fmt.Errorf("%s: not leased by %s: %w", op, owner, store.ErrConflict)
	}
	return nil
}
