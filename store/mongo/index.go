package mongo

import (
	"context"
	"errors"
	"slices"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Index names; createIndexes with an existing name and the same definition
// is a no-op, which makes Open idempotent.
const (
	idxIssuerNumber      = "uniq_issuer_number"
	idxIssuerStatus      = "uniq_issuer_status_position"
	idxIssuerIdempotency = "uniq_issuer_idempotency_key"
	idxIssuerCreated     = "idx_issuer_created"
	idxCreated           = "idx_created"
	idxUSCC              = "idx_uscc"
	idxNumber            = "idx_number"
	idxAPIKeyHash        = "uniq_hash"
	idxIssuerStBits      = "idx_issuer_stbits"
	idxIssuerStWatch     = "idx_issuer_stwatch"
	idxStSweep           = "idx_stsweep"
	idxIssuerValidFrom   = "idx_issuer_validfrom"
	idxIssuerValidUntil  = "idx_issuer_validuntil"
	idxOutbox            = "idx_outbox"
	idxAPIKeyIssuer      = "idx_issuer"
	idxIssuerUSCC        = "idx_issuer_uscc"
)

// errNotImplemented is the code FerretDB answers for index options it lacks.
const errNotImplemented = 238

type index struct {
	coll    *mongo.Collection
	name    string
	keys    bson.D
	unique  bool
	partial bson.D
}

func keys(names ...string) bson.D {
	d := make(bson.D, len(names))
	for i, n := range names {
		d[i] = bson.E{Key: n, Value: 1}
	}
	return d
}

// createIndexes creates the indexes the contract and the listings need.
// The (issuer, idempotencyKey) index is partial (documents that have a key);
// on a server without partial indexes (FerretDB v1) it is created as a plain
// unique index, which behaves the same there because FerretDB's SQL backends
// index a missing field as NULL and NULLs never collide.
func (s *Store) createIndexes(ctx context.Context) error {
	indexes := []index{
		{coll: s.certs, name: idxIssuerNumber, keys: keys("issuer", "number"), unique: true},
		{coll: s.certs, name: idxIssuerStatus, keys: keys("issuer", "statusList", "statusIndex"), unique: true},
		{coll: s.certs, name: idxIssuerCreated, keys: keys("issuer", "createdAt", "createdAtNs", "_id")},
		{coll: s.certs, name: idxCreated, keys: keys("createdAt", "createdAtNs", "_id")},
		{coll: s.certs, name: idxUSCC, keys: keys("organization.uscc")},
		{coll: s.certs, name: idxNumber, keys: keys("number")},
		{coll: s.certs, name: idxIssuerStBits, keys: keys("issuer", "stBits")},
		{coll: s.certs, name: idxIssuerStWatch, keys: keys("issuer", "stWatch")},
		{coll: s.certs, name: idxStSweep, keys: keys("stSweep", "_id")},
		{coll: s.certs, name: idxIssuerValidFrom, keys: keys("issuer", "validFrom", "_id")},
		{coll: s.certs, name: idxIssuerValidUntil, keys: keys("issuer", "validUntil", "_id")},
		{coll: s.certs, name: idxOutbox, keys: keys(fieldObV)},
		{coll: s.certs, name: idxSearchTerms, keys: keys("searchTerms")},
		{coll: s.apiKeys, name: idxAPIKeyHash, keys: keys("hash"), unique: true},
		{coll: s.apiKeys, name: idxAPIKeyIssuer, keys: keys("issuer")},
		{coll: s.db.Collection(collOrgConfidential), name: idxIssuerUSCC, keys: keys("issuer", "uscc")},
	}
	for _, ix := range slices.Concat(indexes, s.accountIndexes(), s.webhookIndexes(), s.watchIndexes()) {
		if err := s.createIndex(ctx, ix); err != nil {
			return err
		}
	}
	idem := index{
		coll: s.certs, name: idxIssuerIdempotency, keys: keys("issuer", "idempotencyKey"), unique: true,
		partial: bson.D{{Key: "idempotencyKey", Value: bson.D{{Key: "$exists", Value: true}}}},
	}
	err := s.createIndex(ctx, idem)
	var se mongo.ServerError
	if errors.As(err, &se) && se.HasErrorCode(errNotImplemented) {
		idem.partial = nil
		err = s.createIndex(ctx, idem)
	}
	return err
}

func (s *Store) createIndex(ctx context.Context, ix index) error {
	opts := options.Index().SetName(ix.name)
	if ix.unique {
		opts.SetUnique(true)
	}
	if ix.partial != nil {
		opts.SetPartialFilterExpression(ix.partial)
	}
	ctx, cancel := s.call(ctx)
	defer cancel()
	_, err := ix.coll.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: ix.keys, Options: opts})
	return translate("create index "+ix.name+" on "+ix.coll.Name(), err)
}
