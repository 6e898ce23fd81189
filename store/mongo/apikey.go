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
}

func toAPIKeyDoc(k *cert.APIKey) *apiKeyDoc {
	d := &apiKeyDoc{ID: k.ID, Hash: k.Hash, Issuer: k.Issuer, Role: string(k.Role), Name: k.Name}
	d.CreatedAt, d.CreatedAtNs = splitTime(k.CreatedAt)
	d.RevokedAt, d.RevokedAtNs = splitTimePtr(k.RevokedAt)
	return d
}

func (d *apiKeyDoc) apiKey() *cert.APIKey {
	return &cert.APIKey{
		ID: d.ID, Hash: d.Hash, Issuer: d.Issuer, Role: cert.Role(d.Role), Name: d.Name,
		CreatedAt: joinTime(d.CreatedAt, d.CreatedAtNs, time.UTC),
		RevokedAt: joinTimePtr(d.RevokedAt, d.RevokedAtNs, time.UTC),
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
