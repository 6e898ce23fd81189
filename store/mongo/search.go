package mongo

import (
	"context"
	"encoding/base64"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/store"
)

// searchSort is newest first: the creation order of listSort reversed. The
// index idx_created serves it backwards.
var searchSort = bson.D{{Key: "createdAt", Value: -1}, {Key: "createdAtNs", Value: -1}, {Key: "_id", Value: -1}}

// Search returns one page of the certificates that match q, newest first;
// see store.Searcher. The fields are those of certDoc: number,
// organization.uscc (exact, served by idx_number and idx_uscc) and
// organization.name / organization.nameEn, matched with a case-insensitive
// regular expression of the quoted text (regexp.QuoteMeta), so no
// character of the text is a pattern. An unanchored expression reads every
// document; it runs on the server, and a page ends after limit matches.
func (s *Store) Search(ctx context.Context, q store.SearchQuery) ([]*cert.Certificate, string, error) {
	text, limit, err := store.CheckSearch(q)
	if err != nil {
		return nil, "", err
	}
	upper := strings.ToUpper(text)
	part := bson.D{{Key: "$regex", Value: regexp.QuoteMeta(text)}, {Key: "$options", Value: "i"}}
	match := bson.D{{Key: "$or", Value: bson.A{
		bson.D{{Key: "number", Value: bson.D{{Key: "$in", Value: bson.A{text, upper}}}}},
		bson.D{{Key: "organization.uscc", Value: upper}},
		bson.D{{Key: "organization.name", Value: part}},
		bson.D{{Key: "organization.nameEn", Value: part}},
	}}}
	filter := match
	if q.Cursor != "" {
		p, err := decodeSearchCursor(q.Cursor)
		if err != nil {
			return nil, "", err
		}
		older := bson.D{{Key: "$or", Value: bson.A{
			bson.D{{Key: "createdAt", Value: bson.D{{Key: "$lt", Value: p.created}}}},
			bson.D{{Key: "createdAt", Value: p.created}, {Key: "createdAtNs", Value: bson.D{{Key: "$lt", Value: p.ns}}}},
			bson.D{{Key: "createdAt", Value: p.created}, {Key: "createdAtNs", Value: p.ns}, {Key: "_id", Value: bson.D{{Key: "$lt", Value: p.id}}}},
		}}}
		filter = bson.D{{Key: "$and", Value: bson.A{match, older}}}
	}

	ctx, cancel := s.call(ctx)
	defer cancel()
	cur, err := s.certs.Find(ctx, filter, options.Find().SetSort(searchSort).SetLimit(int64(limit)+1))
	if err != nil {
		return nil, "", translate("search certificates", err)
	}
	var docs []certDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, "", translate("search certificates", err)
	}
	next := ""
	if len(docs) > limit {
		docs = docs[:limit]
		last := docs[limit-1]
		next = encodeSearchCursor(searchPos{created: last.Body.CreatedAt, ns: last.Body.CreatedAtNs, id: last.ID})
	}
	out := make([]*cert.Certificate, len(docs))
	for i := range docs {
		out[i] = docs[i].certificate()
	}
	return out, next, nil
}

// searchPos is where a search page ends: the last certificate's creation
// time (as stored: floored to the millisecond, and the nanoseconds below)
// and id.
type searchPos struct {
	created time.Time
	ns      int32
	id      string
}

// encodeSearchCursor returns the opaque cursor: base64url of
// "s.millis.ns.id".
func encodeSearchCursor(p searchPos) string {
	raw := "s." + strconv.FormatInt(p.created.UnixMilli(), 10) + "." + strconv.Itoa(int(p.ns)) + "." + p.id
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

func decodeSearchCursor(s string) (searchPos, error) {
	bad := cert.Invalid("cursor", "is not a cursor of this search: pass the value the previous page returned")
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return searchPos{}, bad
	}
	parts := strings.SplitN(string(raw), ".", 4)
	if len(parts) != 4 || parts[0] != "s" || parts[3] == "" {
		return searchPos{}, bad
	}
	millis, err1 := strconv.ParseInt(parts[1], 10, 64)
	ns, err2 := strconv.ParseInt(parts[2], 10, 32)
	if err1 != nil || err2 != nil || ns < 0 || ns >= int64(time.Millisecond) {
		return searchPos{}, bad
	}
	return searchPos{created: time.UnixMilli(millis).UTC(), ns: int32(ns), id: parts[3]}, nil
}
