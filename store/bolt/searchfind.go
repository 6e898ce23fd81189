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
	groups []*group
	// listed is set when each group has its entries (group.at).
	listed bool
	// placed is set when the plan has two terms or more at fixed
	// positions of the text (store.SearchPlan.Positions): a candidate
	// must hold them there.
	placed bool
	// acc holds the positions that remain possible for each ordinal of
	// a block (place), allocated by the first block that needs it.
	acc  *[blockSize]uint64
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

// group is a condition of a search: one term of the plan, or the stored
// words or junctions that satisfy one of its conditions.
type group struct {
	terms []string
	// offs are the positions of the one term in the text, nil for the
	// groups of word and junction conditions.
	offs []int
	// at holds the entry of the group (termBlocks.union: the ordinals
	// when few) in each block that every group has, in block order.
	at []blockEntry
	// val is the postings of the one term in the block at hand when
	// candidates read them.
	val []byte
}

// shift returns the positions p at which the text can stand in a name
// whose positions of the group's term are pos: those with p + off in pos
// for each position off of the term in the text (modulo 64).
func (g *group) shift(pos uint64) uint64 {
	m := ^uint64(0)
	for _, off := range g.offs {
		m &= bits.RotateLeft64(pos, -(off % 64))
	}
	return m
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
	offs := map[string][]int{}
	for _, p := range plan.Positions {
		offs[p.Term] = append(offs[p.Term], p.At)
	}
	f.placed = len(plan.Positions) >= 2
	for _, t := range plan.Terms {
		f.groups = append(f.groups, &group{terms: []string{t}, offs: offs[t]})
	}
	expanded := func(terms []string, ok bool) {
		switch {
		case !ok:
			// Too many: the other conditions and the confirmation decide.
		case len(terms) == 0:
			f.none = true
		default:
			f.groups = append(f.groups, &group{terms: terms})
		}
	}
	for _, w := range plan.Words {
		expanded(s.vocab.expand(w))
	}
	for _, j := range plan.Junctions {
		expanded(s.vocab.expandJunction(j))
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
			key, id := k[len(prefix):], listedID(k, id)
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
		k   int // the index of n in the blocks of every group (group.at)
	}
	var blocks []block
	if len(f.groups) > 0 && f.s.blocks.ready.Load() {
		// Only the blocks that hold every condition can hold a match.
		// The conditions in the fewest blocks go first: they rule out
		// the most, in memory here and with the fewest lookups in each
		// block (candidates).
		entries := make(map[*group][]blockEntry, len(f.groups))
		for _, g := range f.groups {
			entries[g] = f.s.blocks.union(g.terms)
		}
		slices.SortStableFunc(f.groups, func(a, b *group) int { return len(entries[a]) - len(entries[b]) })
		in := make([]uint32, len(entries[f.groups[0]]))
		for i, e := range entries[f.groups[0]] {
			in[i] = e.n
		}
		for _, g := range f.groups[1:] {
			if len(in) == 0 {
				break
			}
			in = intersect(in, entries[g])
		}
		// The entry of each group in each block of in, side by side.
		for _, g := range f.groups {
			l := entries[g]
			g.at = make([]blockEntry, len(in))
			j := 0
			for k, n := range in {
				for l[j].n < n {
					j++
				}
				g.at[k] = l[j]
			}
		}
		f.listed = true
		// Only the blocks whose entries in memory allow a match are
		// read: a text that matches nothing often reads none.
		var maybe []int
		for k := range in {
			if f.possible(k) {
				maybe = append(maybe, k)
			}
		}
		if len(maybe) < 64 {
			for _, k := range maybe {
				if m := f.blocks.Get(blockKey(in[k])); m != nil {
					blocks = append(blocks, block{in[k], m, k})
				}
			}
		} else if err := f.blocks.ForEach(func(key, v []byte) error {
			// Both in block order.
			n := binary.BigEndian.Uint32(key)
			k, found := slices.BinarySearch(in, n)
			if found && f.possible(k) {
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

// possible reports whether the entries in memory of the groups in the k-th
// block of their lists allow a match there: a sixty-fourth of the block
// that holds every group, and a position of the text at which each of its
// terms stands in a name of the block.
func (f *finder) possible(k int) bool {
	mask, pos := ^uint64(0), ^uint64(0)
	for _, gr := range f.groups {
		mask &= gr.at[k].mask
		if f.placed && gr.offs != nil {
			pos &= gr.shift(gr.at[k].pos)
		}
	}
	return mask != 0 && pos != 0
}

// candidates sets in set the ordinals of block n that hold a term of every
// group, at the positions of the text; it reports whether there is one.
// The groups whose ordinals in the block are in memory (a few: termBlocks)
// are intersected first, and only the others read their postings, while
// candidates remain.
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
	if !f.listed {
		// The lists in memory are not loaded yet: every group reads
		// its postings.
		k = -1
	}
	for _, gr := range f.groups {
		gr.val = nil
		if k < 0 || gr.at[k].many() {
			continue
		}
		clear(g[:])
		for _, o := range gr.at[k].ords {
			if o < blockSize {
				g[o/64] |= 1 << (o % 64)
			}
		}
		if !and(set, &g, !have) {
			return false
		}
		have = true
	}
	for gi, gr := range f.groups {
		if k >= 0 && !gr.at[k].many() {
			continue // in set already
		}
		clear(g[:])
		for _, t := range gr.terms {
			key := postingKey(n, t)
			k, v := f.postings.Seek(key)
			if !bytes.Equal(k, key) {
				continue
			}
			if len(gr.terms) == 1 {
				gr.val = v
			}
			for {
				o, _, rest, ok := nextPosting(v)
				if !ok {
					break
				}
				g[o/64] |= 1 << (o % 64)
				v = rest
			}
		}
		if !and(set, &g, !have) {
			if gi > 0 {
				// This condition ruled the block out: ask it first in the
				// next block, where it likely does again.
				f.groups[0], f.groups[gi] = f.groups[gi], f.groups[0]
			}
			return false
		}
		have = true
	}
	if f.placed {
		return f.place(k, set)
	}
	return true
}

// place keeps in set the candidates whose positions of the terms allow
// the text to stand in their names: a position p such that each term of
// the text at off in it is at p + off in the name. The positions come
// from the postings read (group.val), or for a term with few ordinals in
// the block from its entry in memory, which has the positions of them
// all together.
func (f *finder) place(k int, set *[blockSize / 64]uint64) bool {
	each := func(fn func(o uint16)) {
		for i, w := range set {
			for w != 0 {
				fn(uint16(i*64 + bits.TrailingZeros64(w)))
				w &= w - 1
			}
		}
	}
	in := func(o uint16) bool { return set[o/64]&(1<<(o%64)) != 0 }
	if f.acc == nil {
		f.acc = new([blockSize]uint64) // only for a block that gets here
	}
	each(func(o uint16) { f.acc[o] = ^uint64(0) })
	for _, gr := range f.groups {
		switch {
		case gr.offs == nil:
		case gr.val != nil:
			for v := gr.val; ; {
				o, pos, rest, ok := nextPosting(v)
				if !ok {
					break
				}
				if in(o) {
					f.acc[o] &= gr.shift(pos)
				}
				v = rest
			}
		case k >= 0:
			e := gr.at[k]
			m := gr.shift(e.pos)
			for _, o := range e.ords {
				if o < blockSize && in(o) {
					f.acc[o] &= m
				}
			}
		}
	}
	any := false
	each(func(o uint16) {
		if f.acc[o] == 0 {
			set[o/64] &^= 1 << (o % 64)
		} else {
			any = true
		}
	})
	return any
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
