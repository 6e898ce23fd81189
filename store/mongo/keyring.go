package mongo

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/store"
)

type keyRingDoc struct {
	Issuer  string      `bson:"_id"`
	Keys    []keyRecDoc `bson:"keys"`
	Version int64       `bson:"version"`
}

type keyRecDoc struct {
	Kid         string     `bson:"kid"`
	Alg         string     `bson:"alg"`
	State       string     `bson:"state"`
	Public      []byte     `bson:"public"` // the JWK as JSON text
	Sealed      []byte     `bson:"sealed"`
	CreatedAt   time.Time  `bson:"createdAt"`
	CreatedAtNs int32      `bson:"createdAtNs,omitempty"`
	RetiredAt   *time.Time `bson:"retiredAt,omitempty"`
	RetiredAtNs int32      `bson:"retiredAtNs,omitempty"`
	RevokedAt   *time.Time `bson:"revokedAt,omitempty"`
	RevokedAtNs int32      `bson:"revokedAtNs,omitempty"`
}

func toKeyRingDoc(r *cert.KeyRing) *keyRingDoc {
	d := &keyRingDoc{Issuer: r.Issuer, Version: r.Version}
	if r.Keys != nil {
		d.Keys = make([]keyRecDoc, len(r.Keys))
		for i, k := range r.Keys {
			kd := keyRecDoc{Kid: k.Kid, Alg: k.Alg, State: string(k.State), Public: k.Public, Sealed: k.Sealed}
			kd.CreatedAt, kd.CreatedAtNs = splitTime(k.CreatedAt)
			kd.RetiredAt, kd.RetiredAtNs = splitTimePtr(k.RetiredAt)
			kd.RevokedAt, kd.RevokedAtNs = splitTimePtr(k.RevokedAt)
			d.Keys[i] = kd
		}
	}
	return d
}

func (d *keyRingDoc) keyRing() *cert.KeyRing {
	r := &cert.KeyRing{Issuer: d.Issuer, Version: d.Version}
	if d.Keys != nil {
		r.Keys = make([]cert.KeyRecord, len(d.Keys))
		for i, k := range d.Keys {
			r.Keys[i] = cert.KeyRecord{
				Kid: k.Kid, Alg: k.Alg, State: cert.KeyState(k.State),
				Public: json.RawMessage(k.Public), Sealed: k.Sealed,
				CreatedAt: joinTime(k.CreatedAt, k.CreatedAtNs, time.UTC),
				RetiredAt: joinTimePtr(k.RetiredAt, k.RetiredAtNs, time.UTC),
				RevokedAt: joinTimePtr(k.RevokedAt, k.RevokedAtNs, time.UTC),
			}
		}
	}
	return r
}

// KeyRing returns the key ring of the issuer, or ErrNotFound.
func (s *Store) KeyRing(ctx context.Context, issuer string) (*cert.KeyRing, error) {
	ctx, cancel := s.call(ctx)
	defer cancel()
	var d keyRingDoc
	if err := s.keyRings.FindOne(ctx, bson.D{{Key: "_id", Value: issuer}}).Decode(&d); err != nil {
		return nil, translate("key ring "+issuer, err)
	}
	return d.keyRing(), nil
}

// PutKeyRing creates the ring when r.Version is 0 (ErrAlreadyExists if the
// issuer has one) or replaces the ring stored with r.Version, in one
// conditional write of one document (ErrConflict when no ring is stored
// with that version, none at all included). The stored version,
// r.Version+1, is set on r.
func (s *Store) PutKeyRing(ctx context.Context, r *cert.KeyRing) error {
	d := toKeyRingDoc(r)
	d.Version = r.Version + 1
	op := "put key ring " + r.Issuer
	if r.Version == 0 {
		ctx, cancel := s.call(ctx)
		defer cancel()
		if _, err := s.keyRings.InsertOne(ctx, d); err != nil {
			return translate(op, err)
		}
		r.Version = d.Version
		return nil
	}
	ctx, cancel := s.call(ctx)
	defer cancel()
	res, err := s.keyRings.ReplaceOne(ctx, bson.D{{Key: "_id", Value: r.Issuer}, {Key: "version", Value: r.Version}}, d)
	if err != nil {
		return translate(op, err)
	}
	if res.MatchedCount == 0 {
		return fmt.Errorf("%s: version %d is not the stored one: %w", op, r.Version, store.ErrConflict)
	}
	r.Version = d.Version
	return nil
}
