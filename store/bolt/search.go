package bolt

import (
	"context"
	"encoding/base64"
	"unicode"
	"unicode/utf8"

	"go.etcd.io/bbolt"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/store"
)

// searchTag is the first byte of a search cursor; the rest is the key of
// the last certificate returned in certificates.created.
const searchTag = 's'

// Search returns one page of the certificates that match q, newest first;
// see store.Searcher.
//
// Exact numbers and USCCs come from their indexes, parts of names from the
// search index (searchindex.go): the blocks of postings are read newest
// first, and each candidate is confirmed against its stored names. No
// text reads every certificate: store.CheckSearch refuses the texts the
// index has no term for (punctuation alone).
func (s *Store) Search(ctx context.Context, q store.SearchQuery) ([]*cert.Certificate, string, error) {
	if err := checkContext(ctx, "search certificates"); err != nil {
		return nil, "", err
	}
	text, limit, err := store.CheckSearch(q)
	if err != nil {
		return nil, "", err
	}
	var after []byte
	if q.Cursor != "" {
		raw, err := base64.RawURLEncoding.DecodeString(q.Cursor)
		if err != nil || len(raw) < 1+12+1 || raw[0] != searchTag { // tag, timeKey, an id
			return nil, "", cert.Invalid("cursor", "is not a cursor of this search: pass the value the previous page returned")
		}
		after = raw[1:]
	}
	plan := store.PlanSearch(text)
	var out []*cert.Certificate
	next := ""
	err = s.db.View(func(tx *bbolt.Tx) error {
		f := s.newFinder(tx, text, plan, limit+1, false)
		if err := f.find(after); err != nil {
			return err
		}
		hits := f.found
		if len(hits) > limit {
			hits = hits[:limit]
			next = base64.RawURLEncoding.EncodeToString(append([]byte{searchTag}, hits[limit-1].key...))
		}
		out = make([]*cert.Certificate, len(hits))
		for i, h := range hits {
			out[i] = h.c
			if out[i] == nil {
				c, err := f.decode(h.key[12:])
				if err != nil {
					return err
				}
				out[i] = c
			}
		}
		return nil
	})
	if err != nil {
		return nil, "", unavailable("search certificates", err)
	}
	return out, next, nil
}

// CountSearch counts the certificates that are not confidential and match
// text as in Search, up to upTo+1; see store.Searcher.
func (s *Store) CountSearch(ctx context.Context, text string, upTo int) (int, error) {
	if err := checkContext(ctx, "count search"); err != nil {
		return 0, err
	}
	text, _, err := store.CheckSearch(store.SearchQuery{Text: text})
	if err != nil {
		return 0, err
	}
	upTo = max(upTo, 0)
	plan := store.PlanSearch(text)
	n := 0
	err = s.db.View(func(tx *bbolt.Tx) error {
		f := s.newFinder(tx, text, plan, upTo+1, true)
		if err := f.find(nil); err != nil {
			return err
		}
		n = len(f.found)
		return nil
	})
	if err != nil {
		return 0, unavailable("count search", err)
	}
	return n, nil
}

// nameMatcher decides whether an organization name contains the search
// text. Letters are compared case-insensitively: ASCII letters with ASCII
// letters only, other letters by Unicode simple folding.
type nameMatcher struct {
	text string
}

func newNameMatcher(text string) *nameMatcher { return &nameMatcher{text: text} }

func lowerASCII(b byte) byte {
	if 'A' <= b && b <= 'Z' {
		return b + 'a' - 'A'
	}
	return b
}

// matches reports whether name contains the text under the folding rule of
// nameMatcher.
func (m *nameMatcher) matches(name string) bool {
	for i := range name {
		if hasPrefixFold(name[i:], m.text) {
			return true
		}
	}
	return false
}

func hasPrefixFold(s, prefix string) bool {
	for _, p := range prefix {
		r, n := utf8.DecodeRuneInString(s)
		if n == 0 || !equalFold(r, p) {
			return false
		}
		s = s[n:]
	}
	return true
}

// equalFold compares two runes: ASCII letters with each other in any case,
// other runes by their Unicode simple-folding orbit.
func equalFold(a, b rune) bool {
	switch {
	case a == b:
		return true
	case a < utf8.RuneSelf || b < utf8.RuneSelf:
		return a < utf8.RuneSelf && b < utf8.RuneSelf && lowerASCII(byte(a)) == lowerASCII(byte(b))
	}
	for f := unicode.SimpleFold(a); f != a; f = unicode.SimpleFold(f) {
		if f == b {
			return true
		}
	}
	return false
}
