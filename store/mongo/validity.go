package mongo

import (
	"context"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/store"
)

// CertificatesByValidity answers from the (issuer, validFrom, _id) and
// (issuer, validUntil, _id) indexes, at the millisecond precision of
// stored times; the cursor is the last document's date in Unix
// milliseconds and its id. See store.ValidityIndex.
func (s *Store) CertificatesByValidity(ctx context.Context, q store.ValidityQuery) ([]*cert.Certificate, string, error) {
	field := "validFrom"
	if q.Until {
		field = "validUntil"
	}
	filter := bson.D{{Key: "issuer", Value: q.Issuer}, {Key: field, Value: bson.D{{Key: "$gte", Value: q.From.UTC()}, {Key: "$lt", Value: q.To.UTC()}}}}
	if q.Cursor != "" {
		ms, id, ok := strings.Cut(q.Cursor, ".")
		n, err := strconv.ParseInt(ms, 10, 64)
		if !ok || err != nil || id == "" {
			return nil, "", cert.Invalid("cursor", "must be a cursor returned by CertificatesByValidity")
		}
		t := time.UnixMilli(n).UTC()
		filter = append(filter, bson.E{Key: "$or", Value: bson.A{
			bson.D{{Key: field, Value: bson.D{{Key: "$gt", Value: t}}}},
			bson.D{{Key: field, Value: t}, {Key: "_id", Value: bson.D{{Key: "$gt", Value: id}}}},
		}})
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 500
	}
	ctx, cancel := s.call(ctx)
	defer cancel()
	page, last, err := s.findPage(ctx, "certificates by validity", filter, bson.D{{Key: field, Value: 1}, {Key: "_id", Value: 1}}, limit)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if last != nil {
		at := last.Body.ValidFrom
		if q.Until {
			at = last.Body.ValidUntil
		}
		next = strconv.FormatInt(at.UnixMilli(), 10) + "." + last.ID
	}
	return page, next, nil
}
