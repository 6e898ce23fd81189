package mongo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/store"
)

type apiKeyDoc struct {
	ID          string     `bson:"_id"`
	Hash        string     `bson:"hash"`
	Issuer      string     `bson:"issuer"`
	Role        string     `bson:"role"`
	Name        string     `bson:"name"`
	CreatedAt   time.Time  `bson:"createdAt"`
	CreatedAtNs int32      `bson:"createdAtNs,omitempty"`
	RevokedAt   *time.Time `bson:"revokedAt,omitempty"`
	RevokedAtNs int32      `bson:"revokedAtNs,omitempty"`
	// LastUsedAt is kept to the millisecond, so that $max compares it.
	LastUsedAt *time.Time `bson:"lastUsedAt,omitempty"`
}

func toAPIKeyDoc(k *cert.APIKey) *apiKeyDoc {
	d := &apiKeyDoc{ID: k.ID, Hash: k.Hash, Issuer: k.Issuer, Role: string(k.Role), Name: k.Name}
	d.CreatedAt, d.CreatedAtNs = splitTime(k.CreatedAt)
	d.RevokedAt, d.RevokedAtNs = splitTimePtr(k.RevokedAt)
	d.LastUsedAt, _ = splitTimePtr(k.LastUsedAt)
	return d
}

func (d *apiKeyDoc) apiKey() *cert.APIKey {
	return &cert.APIKey{
		ID: d.ID, Hash: d.Hash, Issuer: d.Issuer, Role: cert.Role(d.Role), Name: d.Name,
		CreatedAt:  joinTime(d.CreatedAt, d.CreatedAtNs, time.UTC),
		RevokedAt:  joinTimePtr(d.RevokedAt, d.RevokedAtNs, time.UTC),
		LastUsedAt: joinTimePtr(d.LastUsedAt, 0, time.UTC),
	}
}

// CreateAPIKey stores a key; ErrAlreadyExists when the id or hash is taken.
func (s *Store) CreateAPIKey(ctx context.Context, k *cert.APIKey) error {
	ctx, cancel := s.call(ctx)
	defer cancel()
	_, err := s.apiKeys.InsertOne(ctx, toAPIKeyDoc(k))
	return translate("create api key "+k.ID, err)
}

// APIKeyByHash returns the key with the hash, or ErrNotFound.
func (s *Store) APIKeyByHash(ctx context.Context, hash string) (*cert.APIKey, error) {
	return s.findAPIKey(ctx, "api key by hash", bson.D{{Key: "hash", Value: hash}})
}

// APIKey returns the key with the id, or ErrNotFound.
func (s *Store) APIKey(ctx context.Context, id string) (*cert.APIKey, error) {
	return s.findAPIKey(ctx, "api key "+id, bson.D{{Key: "_id", Value: id}})
}

func (s *Store) findAPIKey(ctx context.Context, op string, filter bson.D) (*cert.APIKey, error) {
	ctx, cancel := s.call(ctx)
	defer cancel()
	var d apiKeyDoc
	if err := s.apiKeys.FindOne(ctx, filter).Decode(&d); err != nil {
		return nil, translate(op, err)
	}
	return d.apiKey(), nil
}

// UpdateAPIKey replaces the stored key with the id of k (used to revoke);
// ErrNotFound when there is none, ErrAlreadyExists when the new hash is
// another key's.
func (s *Store) UpdateAPIKey(ctx context.Context, k *cert.APIKey) error {
	op := "update api key " + k.ID
	ctx, cancel := s.call(ctx)
	defer cancel()
	res, err := s.apiKeys.ReplaceOne(ctx, bson.D{{Key: "_id", Value: k.ID}}, toAPIKeyDoc(k))
	if err != nil {
		return translate(op, err)
	}
	if res.MatchedCount == 0 {
		return fmt.Errorf("%s: %w", op, store.ErrNotFound)
	}
	return nil
}

// APIKeys lists the keys of issuer, or every key when issuer is "", ordered
// by id.
func (s *Store) APIKeys(ctx context.Context, issuer string) ([]*cert.APIKey, error) {
	filter := bson.D{}
	if issuer != "" {
		filter = bson.D{{Key: "issuer", Value: issuer}}
	}
	ctx, cancel := s.call(ctx)
	defer cancel()
	cur, err := s.apiKeys.Find(ctx, filter, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return nil, translate("api keys", err)
	}
	var docs []apiKeyDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, translate("api keys", err)
	}
	out := make([]*cert.APIKey, len(docs))
	for i := range docs {
		out[i] = docs[i].apiKey()
	}
	return out, nil
}

// RevokeAPIKey revokes the key; see store.APIKeys. MongoDB has no
// multi-document atomicity to lean on here, so the revocation is written
// first (conditional on the key being active), the active admin keys are
// counted after it, and the revocation is undone when none is left. Of two
// admin keys revoking each other at once, the one that counts last sees
// the other's revocation and undoes its own (both may undo: then both are
// refused and nothing changed). A reader may see the key revoked for the
// moment between the write and the undo.
func (s *Store) RevokeAPIKey(ctx context.Context, id string, at time.Time) (*cert.APIKey, error) {
	op := "revoke api key " + id
	k, err := s.APIKey(ctx, id)
	if err != nil || k.RevokedAt != nil {
		return k, err
	}
	ctx, cancel := s.call(ctx)
	defer cancel()
	revokedAt, revokedAtNs := splitTime(at)
	active := bson.D{{Key: "_id", Value: id}, {Key: "revokedAt", Value: bson.D{{Key: "$exists", Value: false}}}}
	res, err := s.apiKeys.UpdateOne(ctx, active, bson.D{{Key: "$set", Value: bson.D{
		{Key: "revokedAt", Value: revokedAt}, {Key: "revokedAtNs", Value: revokedAtNs},
	}}})
	if err != nil {
		return nil, translate(op, err)
	}
	if res.MatchedCount == 0 {
		// Revoked by someone else in between: answer with the stored key.
		return s.APIKey(ctx, id)
	}
	if k.Role == cert.RoleAdmin {
		n, err := s.apiKeys.CountDocuments(ctx, bson.D{
			{Key: "role", Value: string(cert.RoleAdmin)},
			{Key: "revokedAt", Value: bson.D{{Key: "$exists", Value: false}}},
		})
		if err != nil || n == 0 {
			_, uerr := s.apiKeys.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "revokedAt", Value: revokedAt}, {Key: "revokedAtNs", Value: revokedAtNs}},
				bson.D{{Key: "$unset", Value: bson.D{{Key: "revokedAt", Value: ""}, {Key: "revokedAtNs", Value: ""}}}})
			if err != nil {
				return nil, translate(op, errors.Join(err, uerr))
			}
			if uerr != nil {
				return nil, translate(op, uerr)
			}
			return nil, fmt.Errorf("%s: %w", op, cert.ErrLastAdminKey)
		}
	}
	at = joinTime(revokedAt, revokedAtNs, time.UTC)
	k.RevokedAt = &at
	return k, nil
}

// MarkAPIKeyUsed records the key's last use with $max, so that it never
// moves back and touches no other field; see store.APIKeys.
func (s *Store) MarkAPIKeyUsed(ctx context.Context, id string, at time.Time) error {
	op := "mark api key used " + id
	ctx, cancel := s.call(ctx)
	defer cancel()
	ms, _ := splitTime(at)
	res, err := s.apiKeys.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}},
		bson.D{{Key: "$max", Value: bson.D{{Key: "lastUsedAt", Value: ms}}}})
	if err != nil {
		return translate(op, err)
	}
	if res.MatchedCount == 0 {
		return fmt.Errorf("%s: %w", op, store.ErrNotFound)
	}
	return nil
}
