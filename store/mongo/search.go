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
// character of the text is a pattern. The terms of the text
// (store.PlanSearch) narrow the names first through idx_search_terms; a
// text without any (punctuation alone) is refused by store.CheckSearch.
func (s *Store) Search(ctx context.Context, q store.SearchQuery) ([]*cert.Certificate, string, error) {
	text, limit, err := store.CheckSearch(q)
	if err != nil {
		return nil, "", err
	}
	var older bson.D
	if q.Cursor != "" {
		p, err := decodeSearchCursor(q.Cursor)
		if err != nil {
			return nil, "", err
		}
		older = bson.D{{Key: "$or", Value: bson.A{
			bson.D{{Key: "createdAt", Value: bson.D{{Key: "$lt", Value: p.created}}}},
			bson.D{{Key: "createdAt", Value: p.created}, {Key: "createdAtNs", Value: bson.D{{Key: "$lt", Value: p.ns}}}},
			bson.D{{Key: "createdAt", Value: p.created}, {Key: "createdAtNs", Value: p.ns}, {Key: "_id", Value: bson.D{{Key: "$lt", Value: p.id}}}},
		}}}
	}

	ctx, cancel := s.call(ctx)
	defer cancel()
	match, err := s.searchFilter(ctx, text)
	if err != nil {
		return nil, "", err
	}
	filter := match
	if older != nil {
		filter = bson.D{{Key: "$and", Value: bson.A{match, older}}}
	}
	out, last, err := s.findPage(ctx, "search certificates", filter, searchSort, limit)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if last != nil {
		next = encodeSearchCursor(searchPos{created: last.Body.CreatedAt, ns: last.Body.CreatedAtNs, id: last.ID})
	}
	return out, next, nil
}

// CountSearch counts the certificates that are not confidential and match
// text as in Search, up to upTo+1; see store.Searcher.
func (s *Store) CountSearch(ctx context.Context, text string, upTo int) (int, error) {
	text, _, err := store.CheckSearch(store.SearchQuery{Text: text})
	if err != nil {
		return 0, err
	}
	ctx, cancel := s.call(ctx)
	defer cancel()
	match, err := s.searchFilter(ctx, text)
	if err != nil {
		return 0, err
	}
	filter := bson.D{{Key: "$and", Value: bson.A{match, bson.D{{Key: "confidential", Value: bson.D{{Key: "$ne", Value: true}}}}}}}
	n, err := s.certs.CountDocuments(ctx, filter, options.Count().SetLimit(int64(max(upTo, 0))+1))
	if err != nil {
		return 0, translate("count search", err)
	}
	return int(n), nil
}

// searchFilter is the filter of the documents that match text.
func (s *Store) searchFilter(ctx context.Context, text string) (bson.D, error) {
	upper := strings.ToUpper(text)
	exact := bson.A{
		bson.D{{Key: "number", Value: bson.D{{Key: "$in", Value: bson.A{text, upper}}}}},
		bson.D{{Key: "organization.uscc", Value: upper}},
	}
	part := bson.D{{Key: "$regex", Value: regexp.QuoteMeta(text)}, {Key: "$options", Value: "i"}}
	names := bson.A{bson.D{{Key: "$or", Value: bson.A{
		bson.D{{Key: "organization.name", Value: part}},
		bson.D{{Key: "organization.nameEn", Value: part}},
	}}}}
	plan := store.PlanSearch(text)
	if len(plan.Terms) > 0 {
		names = append(names, bson.D{{Key: "searchTerms", Value: bson.D{{Key: "$all", Value: plan.Terms}}}})
	}
	for _, w := range plan.Words {
		words, ok, err := s.expandWord(ctx, w)
		switch {
		case err != nil:
			return nil, err
		case !ok:
			// Too many words: the regular expression decides.
		case len(words) == 0:
			// No stored word fits: no name can match.
			return bson.D{{Key: "$or", Value: exact}}, nil
		default:
			names = append(names, bson.D{{Key: "searchTerms", Value: bson.D{{Key: "$in", Value: words}}}})
		}
	}
	return bson.D{{Key: "$or", Value: append(exact, bson.D{{Key: "$and", Value: names}})}}, nil
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
