package bolt

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
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
// first, and each candidate is confirmed against its stored names. A text
// without a letter, digit or character outside ASCII cannot use the index
// and is answered by reading the certificates (searchRun).
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
		if plan.Empty() {
			r := &searchRun{m: newNameMatcher(text), limit: limit}
			if err := r.run(tx, text, after); err != nil {
				return err
			}
			out, next = r.out, r.next
			return nil
		}
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
		if plan.Empty() {
			r := &searchRun{m: newNameMatcher(text), limit: upTo + 1, public: true}
			if err := r.run(tx, text, nil); err != nil {
				return err
			}
			n = len(r.out)
			return nil
		}
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

// searchWindow is how many of the newest certificates Search looks at
// through the creation index before it reads the rest sequentially (a
// variable so that tests can make the sequential read happen).
var searchWindow = 1000

// searchRun is one page of a search in a read transaction.
type searchRun struct {
	m     *nameMatcher
	limit int
	// public leaves confidential certificates out (CountSearch).
	public bool
	// exact holds the ids whose number or USCC is the text.
	exact map[string]bool
	out   []*cert.Certificate
	// last is the creation key of the last certificate in out.
	last []byte
	next string
}

func (r *searchRun) run(tx *bbolt.Tx, text string, after []byte) error {
	upper := strings.ToUpper(text)
	r.exact = map[string]bool{}
	for _, p := range []struct {
		bucket []byte
		value  string
	}{{bucketCertByNumber, text}, {bucketCertByNumber, upper}, {bucketCertUSCC, upper}} {
		prefix := append([]byte(p.value), 0)
		cur := tx.Bucket(p.bucket).Cursor()
		for k, id := cur.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, id = cur.Next() {
			r.exact[string(id)] = true
		}
	}

	// The newest certificates, through the index. One cursor serves the
	// lookups: Bucket.Get would allocate one each.
	certs := tx.Bucket(bucketCerts).Cursor()
	cur := tx.Bucket(bucketCertCreated).Cursor()
	var k, id []byte
	if after == nil {
		k, id = cur.Last()
	} else if k, _ = cur.Seek(after); k == nil {
		k, id = cur.Last()
	} else {
		// Seek found the least key at or above the cursor; the page
		// continues below it.
		k, id = cur.Prev()
	}
	bound := after // what is left lies below bound (nil: everything)
	for n := 0; k != nil && n < searchWindow; k, id = cur.Prev() {
		n++
		ck, v := certs.Seek(id)
		if !bytes.Equal(ck, id) {
			return fmt.Errorf("index %s points to missing certificate %s", bucketCertCreated, id)
		}
		if done, err := r.consider(k, id, v); done || err != nil {
			return err
		}
		bound = k
	}
	if k == nil {
		return nil // every certificate below the cursor was looked at
	}

	// The rest, in storage order: keep the candidates below bound, then
	// look at them newest first.
	type candidate struct{ key, id, v []byte }
	var cands []candidate
	for id, v := certs.First(); id != nil; id, v = certs.Next() {
		if !r.exact[string(id)] && !r.m.mayMatch(v) {
			continue
		}
		key, err := createdKey(id, v)
		if err != nil {
			return err
		}
		if bound == nil || bytes.Compare(key, bound) < 0 {
			cands = append(cands, candidate{key, id, v})
		}
	}
	slices.SortFunc(cands, func(a, b candidate) int { return bytes.Compare(b.key, a.key) })
	for _, c := range cands {
		if done, err := r.consider(c.key, c.id, c.v); done || err != nil {
			return err
		}
	}
	return nil
}

// consider adds the stored certificate v to the page when it matches. It
// reports done when the page was already full: one more match exists, and
// the cursor of the next page is set.
func (r *searchRun) consider(key, id, v []byte) (done bool, err error) {
	byKey := r.exact[string(id)]
	if !byKey && !r.m.mayMatch(v) {
		return false, nil
	}
	c := new(cert.Certificate)
	if err := decodeCert(v, c); err != nil {
		return false, fmt.Errorf("decode certificate %s: %w", id, err)
	}
	if !byKey && !r.m.matches(c.Organization.Name) && !r.m.matches(c.Organization.NameEn) || r.public && c.Confidential {
		return false, nil
	}
	if len(r.out) == r.limit {
		r.next = base64.RawURLEncoding.EncodeToString(append([]byte{searchTag}, r.last...))
		return true, nil
	}
	r.out = append(r.out, c)
	r.last = append(r.last[:0], key...)
	return false, nil
}

// createdKey returns the key of the stored certificate v in
// certificates.created.
func createdKey(id, v []byte) ([]byte, error) {
	if created, _, _, ok := searchFields(v); ok {
		return append(timeKey(created), id...), nil
	}
	var c cert.Certificate
	if err := decodeCert(v, &c); err != nil {
		return nil, fmt.Errorf("decode certificate %s: %w", id, err)
	}
	return append(timeKey(c.CreatedAt), id...), nil
}

// nameMatcher decides whether an organization name contains the search
// text. Letters are compared case-insensitively: ASCII letters with ASCII
// letters only, other letters by Unicode simple folding.
//
// That rule lets mayMatch reject a stored name from its UTF-8 bytes: a
// name that contains a piece of the text without non-ASCII letters that
// have a case contains that piece byte for byte, up to the case of ASCII
// letters.
type nameMatcher struct {
	text string
	// needle is the longest such piece of the text, with ASCII letters in
	// lower case; nil when the text has no such piece (only letters like
	// É or Σ).
	needle []byte
	// firsts, used when needle is nil, are the UTF-8 forms of the first
	// rune of the text in each of its cases: a matching name holds one.
	firsts [][]byte
}

func newNameMatcher(text string) *nameMatcher {
	m := &nameMatcher{text: text}
	piece := ""
	for _, p := range strings.FieldsFunc(text, func(r rune) bool { return r >= utf8.RuneSelf && unicode.SimpleFold(r) != r }) {
		if len(p) > len(piece) {
			piece = p
		}
	}
	if piece == "" {
		first, _ := utf8.DecodeRuneInString(text)
		m.firsts = append(m.firsts, []byte(string(first)))
		for f := unicode.SimpleFold(first); f != first; f = unicode.SimpleFold(f) {
			if f >= utf8.RuneSelf { // ASCII letters never fold with others
				m.firsts = append(m.firsts, []byte(string(f)))
			}
		}
		return m
	}
	m.needle = []byte(piece)
	for i, b := range m.needle {
		m.needle[i] = lowerASCII(b)
	}
	return m
}

// mayMatch reports whether the stored value v may hold a name that
// contains the text; false is certain, true must be confirmed on the
// decoded certificate.
func (m *nameMatcher) mayMatch(v []byte) bool {
	_, name, nameEn, ok := searchFields(v)
	if !ok {
		return true // a value of an earlier version: decode to decide
	}
	return m.holds(name) || m.holds(nameEn)
}

// holds reports whether the stored name may contain the text.
func (m *nameMatcher) holds(raw []byte) bool {
	if m.needle != nil {
		return containsFoldASCII(raw, m.needle)
	}
	for _, f := range m.firsts {
		if bytes.Contains(raw, f) {
			return true
		}
	}
	return false
}

func lowerASCII(b byte) byte {
	if 'A' <= b && b <= 'Z' {
		return b + 'a' - 'A'
	}
	return b
}

// containsFoldASCII reports whether s contains sub (ASCII letters in lower
// case) with ASCII letters of s compared in any case. sub starts at a rune
// boundary, so a match never starts inside a multi-byte rune of s.
func containsFoldASCII(s, sub []byte) bool {
	n := len(sub)
	for i := 0; i+n <= len(s); i++ {
		j := 0
		for j < n && lowerASCII(s[i+j]) == sub[j] {
			j++
		}
		if j == n {
			return true
		}
	}
	return false
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
