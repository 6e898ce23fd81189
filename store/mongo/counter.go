package mongo

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/certd/certd/cert"
)

type counterDoc struct {
	Name  string `bson:"_id"`
	Value int64  `bson:"value"`
}

// NextSequence adds n (>= 1) to the named counter with one atomic
// find-and-modify ($inc, upsert, returning the new value) and returns the
// first of the n values reserved; a new counter starts at 1. Concurrent
// callers, in this process or others, never get the same value.
func (s *Store) NextSequence(ctx context.Context, name string, n int64) (int64, error) {
	if n < 1 {
		return 0, cert.Invalid("n", fmt.Sprintf("must be at least 1, got %d", n))
	}
	op := "next sequence " + name
	ctx, cancel := s.call(ctx)
	defer cancel()
	opts := options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.After)
	var d counterDoc
	var err error
	// Two first calls may both try to insert the counter; the loser sees a
	// duplicate key, and its retry finds the document.
	for range 3 {
		err = s.counters.FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: name}},
			bson.D{{Key: "$inc", Value: bson.D{{Key: "value", Value: n}}}}, opts).Decode(&d)
		if !mongo.IsDuplicateKeyError(err) {
			break
		}
	}
	if err != nil {
		return 0, translate(op, err)
	}
	return d.Value - n + 1, nil
}
