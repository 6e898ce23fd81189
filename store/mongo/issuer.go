package mongo

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/certd/certd/cert"
)

type issuerDoc struct {
	ID                  string    `bson:"_id"`
	Name                string    `bson:"name"`
	NameZh              string    `bson:"nameZh"`
	AccreditationBody   string    `bson:"accreditationBody"`
	AccreditationNumber string    `bson:"accreditationNumber"`
	Contact             string    `bson:"contact"`
	TimeZone            string    `bson:"timeZone"`
	NumberPattern       string    `bson:"numberPattern"`
	NumberPrefix        string    `bson:"numberPrefix"`
	KeyType             string    `bson:"keyType"`
	StatusKey           []byte    `bson:"statusKey"`
	CreatedAt           time.Time `bson:"createdAt"`
	CreatedAtNs         int32     `bson:"createdAtNs,omitempty"`
}

func toIssuerDoc(is *cert.Issuer) *issuerDoc {
	d := &issuerDoc{
		ID: is.ID, Name: is.Name, NameZh: is.NameZh,
		AccreditationBody: is.AccreditationBody, AccreditationNumber: is.AccreditationNumber,
		Contact: is.Contact, TimeZone: is.TimeZone, NumberPattern: is.NumberPattern,
		NumberPrefix: is.NumberPrefix, KeyType: is.KeyType, StatusKey: is.StatusKey,
	}
	d.CreatedAt, d.CreatedAtNs = splitTime(is.CreatedAt)
	return d
}

func (d *issuerDoc) issuer() *cert.Issuer {
	return &cert.Issuer{
		ID: d.ID, Name: d.Name, NameZh: d.NameZh,
		AccreditationBody: d.AccreditationBody, AccreditationNumber: d.AccreditationNumber,
		Contact: d.Contact, TimeZone: d.TimeZone, NumberPattern: d.NumberPattern,
		NumberPrefix: d.NumberPrefix, KeyType: d.KeyType, StatusKey: d.StatusKey,
		CreatedAt: joinTime(d.CreatedAt, d.CreatedAtNs, time.UTC),
	}
}

// CreateIssuer stores a new issuer; ErrAlreadyExists when the id is taken.
func (s *Store) CreateIssuer(ctx context.Context, is *cert.Issuer) error {
	ctx, cancel := s.call(ctx)
	defer cancel()
	_, err := s.issuers.InsertOne(ctx, toIssuerDoc(is))
	return translate("create issuer "+is.ID, err)
}

// Issuer returns the issuer with the id, or ErrNotFound.
func (s *Store) Issuer(ctx context.Context, id string) (*cert.Issuer, error) {
	ctx, cancel := s.call(ctx)
	defer cancel()
	var d issuerDoc
	if err := s.issuers.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&d); err != nil {
		return nil, translate("issuer "+id, err)
	}
	return d.issuer(), nil
}

// Issuers returns every issuer ordered by id.
func (s *Store) Issuers(ctx context.Context) ([]*cert.Issuer, error) {
	ctx, cancel := s.call(ctx)
	defer cancel()
	cur, err := s.issuers.Find(ctx, bson.D{}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return nil, translate("issuers", err)
	}
	var docs []issuerDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, translate("issuers", err)
	}
	out := make([]*cert.Issuer, len(docs))
	for i := range docs {
		out[i] = docs[i].issuer()
	}
	return out, nil
}
