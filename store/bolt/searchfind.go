package bolt

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/bits"
	"slices"
	"strings"

	"go.etcd.io/bbolt"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/store"
)

// finder runs the plan of a search text over the search index in a read
// transaction and gathers the matches newest first.
type finder struct {
	s    *Store
	m    *nameMatcher
	text string
	// groups are the conditions of the plan: a candidate holds at least
	// one term of each group in its block. none is set when a condition
	// has no stored term at all: no name can match.
	groups [][]string
	// at holds, for each group, its entry (termBlocks.union: the
	// ordinals when few) in each block that every group has, in block
	// order.
	at   [][]blockEntry
	none bool
	want int
	// public leaves confidential certificates out, and stops at want
	// matches whatever their order (a count).
	public bool

	certs, docs, postings *bbolt.Cursor
	blocks                *bbolt.Bucket
	numbers, usccs        *bbolt.Cursor

	found []hit
	seen  map[string]bool
}

// hit is a match: its key in certificates.created (createdAt id), and the
// certificate when it was decoded on the way.
type hit struct {
	key []byte
	c   *cert.Certificate
}

func (s *Store) newFinder(tx *bbolt.Tx, text string, plan store.SearchPlan, want int, public bool) *finder {
	f := &finder{
		s: s, m: newNameMatcher(text), text: text, want: want, public: public,
		certs: tx.Bucket(bucketCerts).Cursor(), docs: tx.Bucket(bucketSearchDocs).Cursor(),
		postings: tx.Bucket(bucketSearchPostings).Cursor(), blocks: tx.Bucket(bucketSearchBlocks),
		numbers: tx.Bucket(bucketCertByNumber).Cursor(), usccs: tx.Bucket(bucketCertUSCC).Cursor(),
		seen: map[string]bool{},
	}
	for _, t := range plan.Terms {
		f.groups = append(f.groups, []string{t})
	}
	for _, w := range plan.Words {
		words, ok := s.vocab.expand(w)
		switch {
		case !ok:
			// Too many words: the confirmation decides.
		case len(words) == 0:
			f.none = true
		default:
			f.groups = append(f.groups, words)
		}
	}
	return f
}

// find gathers in f.found the matches below after (nil: all), newest
// first, at most want of them.
func (f *finder) find(after []byte) error {
	upper := strings.ToUpper(f.text)
	for _, p := range []struct {
		cur   *bbolt.Cursor
		value string
	}{{f.numbers, f.text}, {f.numbers, upper}, {f.usccs, upper}} {
		prefix := append([]byte(p.value), 0)
		for k, id := p.cur.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, id = p.cur.Next() {
			key := k[len(prefix):]
			if f.seen[string(id)] || after != nil && bytes.Compare(key, after) >= 0 {
				continue
			}
			f.seen[string(id)] = true
			if f.public {
				c, err := f.decode(id)
				if err != nil {
					return err
				}
				if c.Confidential {
					continue
				}
				f.add(hit{bytes.Clone(key), c})
			} else {
				f.add(hit{bytes.Clone(key), nil})
			}
		}
	}
	if f.none {
		return nil
	}
	type block struct {
		n   uint32
		max []byte
		k   int // the index of n in the blocks of every group (f.at)
	}
	var blocks []block
	if len(f.groups) > 0 && f.s.blocks.ready.Load() {
		// Only the blocks that hold every condition can hold a match.
		// The conditions in the fewest blocks go first: they rule out
		// the most, in memory here and with the fewest lookups in each
		// block (candidates).
		entries := make([][]blockEntry, len(f.groups))
		for i, g := range f.groups {
			entries[i] = f.s.blocks.union(g)
		}
		order := make([]int, len(f.groups))
		for i := range order {
			order[i] = i
		}
		slices.SortStableFunc(order, func(a, b int) int { return len(entries[a]) - len(entries[b]) })
		groups, sorted := make([][]string, len(f.groups)), make([][]blockEntry, len(f.groups))
		for i, o := range order {
			groups[i], sorted[i] = f.groups[o], entries[o]
		}
		f.groups, entries = groups, sorted
		in := make([]uint32, len(entries[0]))
		for i, e := range entries[0] {
			in[i] = e.n
		}
		for _, l := range entries[1:] {
			if len(in) == 0 {
				break
			}
			in = intersect(in, l)
		}
		// The entry of each group in each block of in, side by side.
		f.at = make([][]blockEntry, len(entries))
		for gi, l := range entries {
			at := make([]blockEntry, len(in))
			j := 0
			for k, n := range in {
				for l[j].n < n {
					j++
				}
				at[k] = l[j]
			}
			f.at[gi] = at
		}
		if len(in) < 64 {
			for k, n := range in {
				if m := f.blocks.Get(blockKey(n)); m != nil {
					blocks = append(blocks, block{n, m, k})
				}
			}
		} else if err := f.blocks.ForEach(func(key, v []byte) error {
			// Both in block order.
			n := binary.BigEndian.Uint32(key)
			k, found := slices.BinarySearch(in, n)
			if found {
				blocks = append(blocks, block{n, v, k})
			}
			return nil
		}); err != nil {
			return err
		}
	} else if err := f.blocks.ForEach(func(key, v []byte) error {
		blocks = append(blocks, block{binary.BigEndian.Uint32(key), v, -1})
		return nil
	}); err != nil {
		return err
	}
	slices.SortFunc(blocks, func(a, b block) int { return bytes.Compare(b.max, a.max) })
	var set [blockSize / 64]uint64
	for _, b := range blocks {
		if f.full() && (f.public || bytes.Compare(b.max, f.found[f.want-1].key) < 0) {
			break
		}
		if !f.candidates(b.n, b.k, &set) {
			continue
		}
		if err := f.confirm(b.n, &set, after); err != nil {
			return err
		}
	}
	return nil
}

func (f *finder) full() bool { return len(f.found) >= f.want }

// add inserts h into found, kept newest first and at most want long.
func (f *finder) add(h hit) {
	i, _ := slices.BinarySearchFunc(f.found, h.key, func(e hit, k []byte) int { return bytes.Compare(k, e.key) })
	if i >= f.want {
		return
	}
	f.found = slices.Insert(f.found, i, h)
	if len(f.found) > f.want {
		f.found = f.found[:f.want]
	}
}

// candidates sets in set the ordinals of block n that hold a term of every
// group; it reports whether there is one. The groups whose ordinals in the
// block are in memory (a few: termBlocks) are intersected first, and only
// the others read their postings, while candidates remain.
func (f *finder) candidates(n uint32, k int, set *[blockSize / 64]uint64) bool {
	if len(f.groups) == 0 {
		// Every condition is too common to look up: all of the block
		// are candidates.
		for i := range set {
			set[i] = ^uint64(0)
		}
		return true
	}
	have := false
	var g [blockSize / 64]uint64
	if f.at == nil {
		// The lists in memory are not loaded yet: every group reads
		// its postings.
		k = -1
	} else {
		mask := ^uint64(0)
		for _, at := range f.at {
			mask &= at[k].mask
		}
		if mask == 0 {
			return false
		}
	}
	for _, at := range f.at {
		e := at[k]
		if e.many() {
			continue
		}
		clear(g[:])
		for _, o := range e.ords {
			if o < blockSize {
				g[o/64] |= 1 << (o % 64)
			}
		}
		if !and(set, &g, !have) {
			return false
		}
		have = true
	}
	for gi, group := range f.groups {
		if k >= 0 && !f.at[gi][k].many() {
			continue // in set already
		}
		clear(g[:])
		for _, t := range group {
			key := postingKey(n, t)
			k, v := f.postings.Seek(key)
			if !bytes.Equal(k, key) {
				continue
			}
			for i := 0; i+1 < len(v); i += 2 {
				o := binary.BigEndian.Uint16(v[i:])
				g[o/64] |= 1 << (o % 64)
			}
		}
		if !and(set, &g, !have) {
			if gi > 0 {
				// This condition ruled the block out: ask it first in the
				// next block, where it likely does again.
				f.groups[0], f.groups[gi] = f.groups[gi], f.groups[0]
				if f.at != nil {
					f.at[0], f.at[gi] = f.at[gi], f.at[0]
				}
			}
			return false
		}
		have = true
	}
	return true
}

// and sets set to g (first) or to set and g, and reports whether any bit
// is left.
func and(set, g *[blockSize / 64]uint64, first bool) bool {
	any := uint64(0)
	for i := range set {
		if first {
			set[i] = g[i]
		} else {
			set[i] &= g[i]
		}
		any |= set[i]
	}
	return any != 0
}

// confirm checks the candidates of block n against their stored names,
// newest first, and adds the matches.
func (f *finder) confirm(n uint32, set *[blockSize / 64]uint64, after []byte) error {
	var cands [][]byte
	count := 0
	for _, w := range set {
		count += bits.OnesCount64(w)
	}
	first := uint64(n) * blockSize
	if count > 32 {
		// Many candidates: walk the block's keys in order.
		for k, v := f.docs.Seek(seqKey(first)); k != nil; k, v = f.docs.Next() {
			seq := binary.BigEndian.Uint64(k)
			if seq >= first+blockSize {
				break
			}
			o := seq - first
			if set[o/64]&(1<<(o%64)) != 0 {
				cands = append(cands, v)
			}
		}
	} else {
		for i, w := range set {
			for w != 0 {
				o := uint64(i*64 + bits.TrailingZeros64(w))
				w &= w - 1
				key := seqKey(first + o)
				if k, v := f.docs.Seek(key); bytes.Equal(k, key) {
					cands = append(cands, v)
				}
			}
		}
	}
	slices.SortFunc(cands, func(a, b []byte) int { return bytes.Compare(b, a) })
	for _, key := range cands {
		if after != nil && bytes.Compare(key, after) >= 0 {
			continue
		}
		if f.full() && (f.public || bytes.Compare(key, f.found[f.want-1].key) < 0) {
			break
		}
		id := key[12:]
		if f.seen[string(id)] {
			continue
		}
		f.seen[string(id)] = true
		ok, c, err := f.matches(id)
		if err != nil {
			return err
		}
		if ok {
			f.add(hit{bytes.Clone(key), c})
		}
	}
	return nil
}

// matches reports whether the stored certificate id matches the text by
// its names (and, for a count, is not confidential); it returns the
// certificate when it had to decode it.
func (f *finder) matches(id []byte) (bool, *cert.Certificate, error) {
	k, v := f.certs.Seek(id)
	if !bytes.Equal(k, id) {
		return false, nil, fmt.Errorf("search index points to missing certificate %s", id)
	}
	if !f.public {
		if _, name, nameEn, ok := searchFields(v); ok {
			return f.m.matches(string(name)) || f.m.matches(string(nameEn)), nil, nil
		}
	}
	c := new(cert.Certificate)
	if err := decodeCert(v, c); err != nil {
		return false, nil, fmt.Errorf("decode certificate %s: %w", id, err)
	}
	ok := f.m.matches(c.Organization.Name) || f.m.matches(c.Organization.NameEn)
	return ok && !(f.public && c.Confidential), c, nil
}

// decode reads the certificate id.
func (f *finder) decode(id []byte) (*cert.Certificate, error) {
	k, v := f.certs.Seek(id)
	if !bytes.Equal(k, id) {
		return nil, fmt.Errorf("search index points to missing certificate %s", id)
	}
	c := new(cert.Certificate)
	if err := decodeCert(v, c); err != nil {
		return nil, fmt.Errorf("decode certificate %s: %w", id, err)
	}
	return c, nil
}
