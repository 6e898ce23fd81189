package mongo

import (
	"context"
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/store"
)

// Page sizes of ListCertificates.
const (
	defaultLimit = 100
	maxLimit     = 1000
)

// listSort is the creation order: CreatedAt to the nanosecond, then id. The
// indexes idx_issuer_created and idx_created serve it.
var listSort = bson.D{{Key: "createdAt", Value: 1}, {Key: "createdAtNs", Value: 1}, {Key: "_id", Value: 1}}

// position is where a page ends: the last certificate's creation time and id.
type position struct {
	created time.Time // floored to the millisecond, as stored
	ns      int32
	id      string
}

// encode returns the opaque cursor: base64url of "millis.ns.id".
func (p position) encode() string {
	raw := strconv.FormatInt(p.created.UnixMilli(), 10) + "." + strconv.Itoa(int(p.ns)) + "." + p.id
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

func decodeCursor(s string) (position, error) {
	bad := cert.Invalid("cursor", "is not a cursor of this listing: pass the value a previous page returned, unchanged")
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return position{}, bad
	}
	ms, rest, ok1 := strings.Cut(string(raw), ".")
	nsText, id, ok2 := strings.Cut(rest, ".")
	millis, err1 := strconv.ParseInt(ms, 10, 64)
	ns, err2 := strconv.ParseInt(nsText, 10, 32)
	if !ok1 || !ok2 || err1 != nil || err2 != nil || ns < 0 || ns >= int64(time.Millisecond) || id == "" {
		return position{}, bad
	}
	return position{created: time.UnixMilli(millis).UTC(), ns: int32(ns), id: id}, nil
}

// ListCertificates returns one page of certificates in creation order
// (CreatedAt, then id), filtered by q, and the cursor of the next page (""
// on the last). The cursor is opaque (base64url of the last position), so a
// page is stable under concurrent inserts of newer certificates. A limit
// outside 1-1000 is clamped (0 means 100); a cursor this store did not make
// gives cert.ErrInvalid.
func (s *Store) ListCertificates(ctx context.Context, q store.Query) ([]*cert.Certificate, string, error) {
	limit := q.Limit
	switch {
	case limit <= 0:
		limit = defaultLimit
	case limit > maxLimit:
		limit = maxLimit
	}
	filter := bson.D{}
	for _, f := range []struct{ key, value string }{
		{"issuer", q.Issuer}, {"scheme", q.Scheme}, {"organization.uscc", q.USCC}, {"number", q.Number},
	} {
		if f.value != "" {
			filter = append(filter, bson.E{Key: f.key, Value: f.value})
		}
	}
	if q.Cursor != "" {
		p, err := decodeCursor(q.Cursor)
		if err != nil {
			return nil, "", err
		}
		filter = append(filter, bson.E{Key: "$or", Value: bson.A{
			bson.D{{Key: "createdAt", Value: bson.D{{Key: "$gt", Value: p.created}}}},
			bson.D{{Key: "createdAt", Value: p.created}, {Key: "createdAtNs", Value: bson.D{{Key: "$gt", Value: p.ns}}}},
			bson.D{{Key: "createdAt", Value: p.created}, {Key: "createdAtNs", Value: p.ns}, {Key: "_id", Value: bson.D{{Key: "$gt", Value: p.id}}}},
		}})
	}

	ctx, cancel := s.call(ctx)
	defer cancel()
	out, last, err := s.findPage(ctx, "list certificates", filter, listSort, limit)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if last != nil {
		next = position{created: last.Body.CreatedAt, ns: last.Body.CreatedAtNs, id: last.ID}.encode()
	}
	return out, next, nil
}

// findPage reads up to limit certificates matching filter in the order of
// sort, one more to tell whether the page is the last: last is the final
// document of a page that is not the last, nil otherwise. Errors are
// translated under op.
func (s *Store) findPage(ctx context.Context, op string, filter, sort bson.D, limit int) (page []*cert.Certificate, last *certDoc, err error) {
	cur, err := s.certs.Find(ctx, filter, options.Find().SetSort(sort).SetLimit(int64(limit)+1))
	if err != nil {
		return nil, nil, translate(op, err)
	}
	var docs []certDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, nil, translate(op, err)
	}
	if len(docs) > limit {
		docs = docs[:limit]
		last = &docs[limit-1]
	}
	page = make([]*cert.Certificate, len(docs))
	for i := range docs {
		page[i] = docs[i].certificate()
	}
	return page, last, nil
}
