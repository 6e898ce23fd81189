package mongo

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/certd/certd/store"
)

// collOrgConfidential holds one document per organization an issuer
// marked confidential, with the id issuer NUL uscc: setting is an upsert
// and clearing a delete of that one document, each atomic on the server.
const collOrgConfidential = "organizations.confidential"

var _ store.Organizations = (*Store)(nil)

type orgConfidentialDoc struct {
	ID     string `bson:"_id"`
	Issuer string `bson:"issuer"`
	USCC   string `bson:"uscc"`
}

// SetOrganizationConfidential sets or clears the flag of (issuer, uscc).
func (s *Store) SetOrganizationConfidential(ctx context.Context, issuer, uscc string, confidential bool) error {
	ctx, cancel := s.call(ctx)
	defer cancel()
	coll := s.db.Collection(collOrgConfidential)
	id := issuer + "\x00" + uscc
	var err error
	if confidential {
		_, err = coll.ReplaceOne(ctx, bson.D{{Key: "_id", Value: id}}, orgConfidentialDoc{ID: id, Issuer: issuer, USCC: uscc}, options.Replace().SetUpsert(true))
	} else {
		_, err = coll.DeleteOne(ctx, bson.D{{Key: "_id", Value: id}})
	}
	return translate("organization "+uscc+" of "+issuer, err)
}

// ConfidentialOrganizations returns the organizations flagged at issuer,
// sorted.
func (s *Store) ConfidentialOrganizations(ctx context.Context, issuer string) ([]string, error) {
	ctx, cancel := s.call(ctx)
	defer cancel()
	cur, err := s.db.Collection(collOrgConfidential).Find(ctx, bson.D{{Key: "issuer", Value: issuer}},
		options.Find().SetSort(bson.D{{Key: "uscc", Value: 1}}))
	if err != nil {
		return nil, translate("confidential organizations of "+issuer, err)
	}
	var docs []orgConfidentialDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, translate("confidential organizations of "+issuer, err)
	}
	out := make([]string, len(docs))
	for i, d := range docs {
		out[i] = d.USCC
	}
	return out, nil
}
