package bolt

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"sync"
	"sync/atomic"

	"go.etcd.io/bbolt"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/store"
)

// The search index of organization names (store.SearchTerms) is laid out
// so that issuing writes few pages, at the end of its buckets:
//
//	search.docs      seq → createdAt id                  (appended)
//	search.postings  block term → postings               (block = seq / blockSize)
//	search.blocks    block → greatest createdAt id of the block
//	search.words     word or junction → nothing          (the vocabulary)
//
// Every indexed certificate takes the next sequence number of
// search.docs; blocks are blockSize consecutive numbers, and the postings
// of a term in a block are one value, a posting for each certificate of
// the block with that term, in ascending order of their ordinals (seq mod
// blockSize): the ordinal and where the term stands in the names
// (appendPosting), two bytes for a term that a name has once. A write
// thus appends one key to search.docs and rewrites the values of its terms in the newest block, which lie side by
// side at the end of search.postings: a batch of a thousand certificates
// dirties tens of pages, not one page per term. A certificate whose names
// change is indexed again under a new number; the postings of the old one
// stay and are dropped by the confirmation, which compares the stored
// names with the text.
//
// A search reads the blocks newest first (by their greatest creation key),
// looks up its terms in each, and stops when the page is full and no older
// block can hold a newer match; a text that matches nothing costs a few
// lookups per block.
var (
	bucketSearchDocs     = []byte("search.docs")
	bucketSearchPostings = []byte("search.postings")
	bucketSearchBlocks   = []byte("search.blocks")
	bucketSearchWords    = []byte("search.words")
	searchBuckets        = [][]byte{bucketSearchDocs, bucketSearchPostings, bucketSearchBlocks, bucketSearchWords}
	// keySearchIndex is the meta key that says the search index is
	// complete (its value is searchIndexVersion). A file written before
	// the index has neither the buckets nor the key; Open builds it.
	keySearchIndex = []byte("searchIndex")
)

// Version 2 added the junctions of words (store.SearchTerms), version 3
// the positions of the terms in the postings and the junctions in the
// vocabulary: a file of an older version is indexed again at Open. (The
// postings of version 2 read as postings without positions.)
const searchIndexVersion = "3"

// blockSize is how many sequence numbers one block of postings covers:
// 1 << ordBits.
const blockSize = 1024

// A posting is two bytes, the ordinal in the low ordBits bits and a code
// of the positions of the term in the names (store.EachSearchTermAt) in
// the high six: posUnknown says nothing of them (every posting of version
// 2 reads so), 1 to posSet-1 is the one position plus one, and posSet says
// that the set of positions modulo 64 follows as a uvarint (a term twice
// in a name, or at 62 or beyond). A text of common pairs that never stand
// in this order ("北京中科中科中科") is then ruled out from the postings,
// without reading the names.
const (
	ordBits    = 10
	posUnknown = 0
	posSet     = 63
)

// appendPosting appends the posting of ordinal ord with the positions
// (bit p%64 for a position p).
func appendPosting(dst []byte, ord uint16, positions uint64) []byte {
	if bits.OnesCount64(positions) == 1 {
		if p := bits.TrailingZeros64(positions); p < posSet-1 {
			return binary.BigEndian.AppendUint16(dst, uint16(p+1)<<ordBits|ord)
		}
	}
	dst = binary.BigEndian.AppendUint16(dst, posSet<<ordBits|ord)
	return binary.AppendUvarint(dst, positions)
}

// nextPosting decodes the first posting of v: its ordinal, its positions
// (all bits when unknown) and the postings after it; ok is false at the
// end of v (or at bytes that are no posting).
func nextPosting(v []byte) (ord uint16, positions uint64, rest []byte, ok bool) {
	if len(v) < 2 {
		return 0, 0, nil, false
	}
	x := binary.BigEndian.Uint16(v)
	ord = x & (blockSize - 1)
	switch code := x >> ordBits; code {
	case posUnknown:
		return ord, ^uint64(0), v[2:], true
	case posSet:
		m, n := binary.Uvarint(v[2:])
		if n <= 0 {
			return 0, 0, nil, false
		}
		return ord, m, v[2+n:], true
	default:
		return ord, 1 << (code - 1), v[2:], true
	}
}

func blockKey(block uint32) []byte { return binary.BigEndian.AppendUint32(nil, block) }

func seqKey(seq uint64) []byte { return binary.BigEndian.AppendUint64(nil, seq) }

func postingKey(block uint32, term string) []byte {
	return append(binary.BigEndian.AppendUint32(make([]byte, 0, 4+len(term)), block), term...)
}

// indexWriter adds certificates to the search index in one write
// transaction; flush writes what add gathered.
type indexWriter struct {
	s        *Store
	docs     *bbolt.Bucket
	postings *bbolt.Bucket
	blocks   *bbolt.Bucket
	words    *bbolt.Bucket
	// pend holds the new values of the postings written in the
	// transaction, by block and term; writers of one transaction share it
	// (txPostings). touched are the ones this writer changed, each with
	// the length its value had before the writer's first posting: what
	// follows is this writer's (the blocks in memory learn only that).
	pend    map[uint32]map[string]*[]byte
	touched map[uint32]map[string]int
	// max is the greatest creation key of each block written.
	max map[uint32][]byte
	// newWords are the words this writer put in the vocabulary bucket.
	newWords []string
	// loaded is the block whose postings are all in base, by term
	// (preload).
	loaded int64
	base   map[string][]byte
}

// preloadAbove is how many certificates a writer indexes at least before
// it reads the postings of the newest block in one pass (preload) rather
// than one lookup per term.
const preloadAbove = 64

// preload reads every postings key of the block of the next sequence
// number into base, in one pass over the end of the bucket: a batch
// touches most of them, and a cursor walk costs less than a lookup each.
func (w *indexWriter) preload() {
	block := uint32((w.docs.Sequence() + 1) / blockSize)
	prefix := blockKey(block)
	c := w.postings.Cursor()
	w.base = map[string][]byte{}
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		w.base[string(k[len(prefix):])] = bytes.Clone(v)
	}
	w.loaded = int64(block)
}

// committed tells the vocabulary in memory that the words of the writer
// are in the file; call it after the transaction committed.
func (w *indexWriter) committed() {
	if w != nil {
		w.s.vocab.stored(w.newWords)
	}
}

func (s *Store) newIndexWriter(tx *bbolt.Tx) *indexWriter {
	w := &indexWriter{
		s:        s,
		docs:     tx.Bucket(bucketSearchDocs),
		postings: tx.Bucket(bucketSearchPostings),
		blocks:   tx.Bucket(bucketSearchBlocks),
		words:    tx.Bucket(bucketSearchWords),
		pend:     s.txPostings(tx),
		touched:  map[uint32]map[string]int{},
		max:      map[uint32][]byte{},
		loaded:   -1,
	}
	// All three grow at their end.
	w.docs.FillPercent, w.postings.FillPercent, w.blocks.FillPercent = fillAscending, fillAscending, fillAscending
	return w
}

// add indexes the names of the certificate k under the next sequence
// number.
func (w *indexWriter) add(k *certKeys) error {
	if k.Organization.Name == "" && k.Organization.NameEn == "" {
		return nil
	}
	seq, err := w.docs.NextSequence()
	if err != nil {
		return err
	}
	created := append(timeKey(k.CreatedAt), k.ID...)
	if err := w.docs.Put(seqKey(seq), created); err != nil {
		return err
	}
	block, ord := uint32(seq/blockSize), uint16(seq%blockSize)
	m, ok := w.max[block]
	if !ok {
		m = bytes.Clone(w.blocks.Get(blockKey(block)))
	}
	if bytes.Compare(created, m) > 0 {
		m = created
	}
	w.max[block] = m
	pend, touched := w.pend[block], w.touched[block]
	if pend == nil {
		pend = map[string]*[]byte{}
		w.pend[block] = pend
	}
	if touched == nil {
		touched = map[string]int{}
		w.touched[block] = touched
	}
	store.EachSearchTermPositions(func(t []byte, positions uint64) {
		if err != nil {
			return
		}
		p := pend[string(t)]
		if p == nil {
			p = new([]byte)
			if int64(block) == w.loaded {
				*p = w.base[string(t)] // read once: pend holds it from here on
			} else {
				*p = bytes.Clone(w.postings.Get(postingKey(block, string(t))))
			}
			pend[string(t)] = p
		}
		if _, ok := touched[string(t)]; !ok {
			touched[string(t)] = len(*p)
		}
		// Appending never changes the bytes already put: bbolt keeps
		// the value it was given until the commit.
		*p = appendPosting(*p, ord, positions)
		if (store.IsWordTerm(string(t)) || store.IsJunctionTerm(string(t))) && !w.s.vocab.isStored(string(t)) && w.words.Get(t) == nil {
			// The vocabulary in memory learns the word before the
			// commit: a search may look up a word without postings yet,
			// never miss one that has some. Whether the file has it is
			// known in memory only after a commit (committed).
			word := string(t)
			w.s.vocab.add(word)
			if err = w.words.Put([]byte(word), nil); err == nil {
				w.newWords = append(w.newWords, word)
			}
		}
	}, k.Organization.Name, k.Organization.NameEn)
	return err
}

// flush writes the gathered postings in key order, and tells the blocks
// in memory about them first: before the commit, so that a search may
// look for a posting the file does not have yet, never miss one it has.
func (w *indexWriter) flush() error {
	for block, touched := range w.touched {
		w.s.blocks.addValues(block, touched, w.pend[block])
	}
	// In key order: blocks ascending, then terms.
	blocks := make([]uint32, 0, len(w.touched))
	for block := range w.touched {
		blocks = append(blocks, block)
	}
	slices.Sort(blocks)
	for _, block := range blocks {
		touched := w.touched[block]
		terms := make([]string, 0, len(touched))
		for t := range touched {
			terms = append(terms, t)
		}
		slices.Sort(terms)
		for _, t := range terms {
			if err := w.postings.Put(postingKey(block, t), *w.pend[block][t]); err != nil {
				return err
			}
		}
	}
	for b, m := range w.max {
		if err := w.blocks.Put(blockKey(b), m); err != nil {
			return err
		}
	}
	return nil
}

// buildChunk is how many certificates one transaction of
// ensureSearchIndex indexes, so that the build of a large file does not
// hold every dirty page in memory at once.
var buildChunk = 10_000

// ensureSearchIndex builds the search index when the file has none (it
// was written before the index) or its build was interrupted: it drops
// what is there and indexes every certificate in creation order, then
// writes the marker. It loads the vocabulary into memory in any case.
func (s *Store) ensureSearchIndex() error {
	complete := false
	if err := s.db.View(func(tx *bbolt.Tx) error {
		complete = string(tx.Bucket(bucketMeta).Get(keySearchIndex)) == searchIndexVersion
		return nil
	}); err != nil {
		return err
	}
	if complete {
		err := s.db.View(func(tx *bbolt.Tx) error {
			var words []string
			err := tx.Bucket(bucketSearchWords).ForEach(func(k, _ []byte) error {
				words = append(words, string(k))
				return nil
			})
			for _, w := range words {
				s.vocab.add(w)
			}
			s.vocab.stored(words)
			return err
		})
		if err == nil {
			s.blocks.startLoad(s.db)
		}
		return err
	}
	err := s.updateTx(func(tx *bbolt.Tx) error {
		for _, name := range searchBuckets {
			if err := tx.DeleteBucket(name); err != nil && err != bbolt.ErrBucketNotFound {
				return err
			}
			if _, err := tx.CreateBucket(name); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("reset search index: %w", err)
	}
	var after []byte
	for done := false; !done; {
		err := s.updateTx(func(tx *bbolt.Tx) error {
			certs := tx.Bucket(bucketCerts)
			cur := tx.Bucket(bucketCertCreated).Cursor()
			key, id := cur.First()
			if after != nil {
				if key, id = cur.Seek(after); bytes.Equal(key, after) {
					key, id = cur.Next()
				}
			}
			w := s.newIndexWriter(tx)
			for n := 0; key != nil && n < buildChunk; key, id = cur.Next() {
				id := listedID(key, id)
				v := certs.Get(id)
				if v == nil {
					return fmt.Errorf("index %s points to missing certificate %s", bucketCertCreated, id)
				}
				// The names alone, without decoding the rest, when the
				// format allows.
				var k certKeys
				if created, name, nameEn, ok := searchFields(v); ok {
					k.ID, k.CreatedAt = string(id), created
					k.Organization.Name, k.Organization.NameEn = string(name), string(nameEn)
				} else {
					var c cert.Certificate
					if err := decodeCert(v, &c); err != nil {
						return fmt.Errorf("decode certificate %s: %w", id, err)
					}
					k = keysOf(&c)
				}
				if err := w.add(&k); err != nil {
					return err
				}
				after = append(after[:0], key...)
				n++
			}
			if err := w.flush(); err != nil {
				return err
			}
			if key == nil {
				done = true
				s.blocks.loaded()
				return tx.Bucket(bucketMeta).Put(keySearchIndex, []byte(searchIndexVersion))
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("build search index: %w", err)
		}
	}
	return nil
}

// vocabulary is the set of words and junctions of the search index, in
// memory, with the trigrams of each word, so that a part of a word finds
// the stored words that contain it without reading them all, and the
// junctions by the characters on each side of their separator. It may
// hold words that no certificate has (a write that failed after add),
// never lack one.
type vocabulary struct {
	mu    sync.RWMutex
	index map[string]int32
	// inFile holds the words known to be in the vocabulary bucket.
	inFile map[string]bool
	words  []string
	// tri maps a trigram to the words (indexes into words) that hold it.
	tri map[string][]int32
	// junctions maps the last character of a junction's first word, its
	// separator and the first character of its second word ("a b" for
	// "hua bei") to the junctions.
	junctions map[string][]string
}

func (v *vocabulary) isStored(w string) bool {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.inFile[w]
}

func (v *vocabulary) stored(ws []string) {
	if len(ws) == 0 {
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.inFile == nil {
		v.inFile = map[string]bool{}
	}
	for _, w := range ws {
		v.inFile[w] = true
	}
}

func (v *vocabulary) add(w string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if _, ok := v.index[w]; ok {
		return
	}
	if v.index == nil {
		v.index, v.tri, v.junctions = map[string]int32{}, map[string][]int32{}, map[string][]string{}
	}
	if !store.IsWordTerm(w) {
		v.index[w] = -1
		if k := junctionKey(w); k != "" {
			v.junctions[k] = append(v.junctions[k], w)
		}
		return
	}
	i := int32(len(v.words))
	v.index[w] = i
	v.words = append(v.words, w)
	for j := 0; j+3 <= len(w); j++ {
		t := w[j : j+3]
		if l := v.tri[t]; len(l) == 0 || l[len(l)-1] != i {
			v.tri[t] = append(l, i)
		}
	}
}

// junctionKey is the key of the junction j in vocabulary.junctions: the
// characters on each side of its separator and the separator.
func junctionKey(j string) string {
	tail, sep, head := store.SplitJunction(j)
	if tail == "" || head == "" {
		return ""
	}
	return tail[len(tail)-1:] + sep + head[:1]
}

// expandJunction returns the stored junctions that satisfy c, and false
// when there are more than maxExpansion.
func (v *vocabulary) expandJunction(c store.JunctionCondition) ([]string, bool) {
	if c.Tail == "" || c.Head == "" {
		return nil, false
	}
	v.mu.RLock()
	defer v.mu.RUnlock()
	var out []string
	for _, j := range v.junctions[c.Tail[len(c.Tail)-1:]+c.Sep+c.Head[:1]] {
		if c.Matches(j) {
			if out = append(out, j); len(out) > maxExpansion {
				return nil, false
			}
		}
	}
	return out, true
}

// maxExpansion bounds the stored words a part of a word may stand for in
// a search; a part found in more words (a short or common one) is not
// looked up, and the confirmation decides.
const maxExpansion = 256

// expand returns the stored words that satisfy c, and false when there
// are more than maxExpansion.
func (v *vocabulary) expand(c store.WordCondition) ([]string, bool) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	if c.Part == store.WholeWord {
		if _, ok := v.index[c.Word]; ok {
			return []string{c.Word}, true
		}
		return nil, true
	}
	var out []string
	test := func(w string) bool {
		if c.Matches(w) {
			out = append(out, w)
		}
		return len(out) <= maxExpansion
	}
	if len(c.Word) < 3 {
		for _, w := range v.words {
			if !test(w) {
				return nil, false
			}
		}
		return out, true
	}
	// The rarest trigram of the word lists every word that can hold it.
	var best []int32
	for j := 0; j+3 <= len(c.Word); j++ {
		l := v.tri[c.Word[j:j+3]]
		if len(l) == 0 {
			return nil, true
		}
		if best == nil || len(l) < len(best) {
			best = l
		}
	}
	for _, i := range best {
		if !test(v.words[i]) {
			return nil, false
		}
	}
	return out, true
}

// termBlocks lists, in memory, the blocks in which each term has postings,
// so that a search looks up a term only in the blocks that hold every
// condition of its text: a text that matches nothing then costs a few
// list intersections instead of a lookup in every block. With each block
// it keeps the ordinals of the term there when they are at most two (most
// terms are rare in a block), so that the conditions of a text are
// intersected inside a block without reading its postings, and only the
// terms common in the block are looked up. It takes sixteen bytes per block
// and term (the keys of search.postings), built at Open and kept by every
// write before its commit: it may list a block or an ordinal that a
// rolled-back write left out of the file, never lack one.
//
// At Open the lists are read from search.postings in the background
// (startLoad): reading every key of a large index takes seconds, and
// certd serves verifications meanwhile. Until the lists are complete
// (ready), a search looks in every block.
type termBlocks struct {
	mu sync.RWMutex
	m  map[string][]blockEntry
	// ready is set once the lists hold every posting of the file.
	ready atomic.Bool
	// stop ends the load early (Close), done says it ended.
	stop, done chan struct{}
}

// loadBatch is how many postings the load reads between two looks at
// stop.
const loadBatch = 4096

// startLoad reads the lists of the file in the background; writes may
// add postings meanwhile: load merges.
func (b *termBlocks) startLoad(db *countedDB) {
	b.stop, b.done = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(b.done)
		stopped := errors.New("stopped")
		n := 0
		err := db.View(func(tx *bbolt.Tx) error {
			return tx.Bucket(bucketSearchPostings).ForEach(func(k, v []byte) error {
				if n++; n%loadBatch == 0 {
					select {
					case <-b.stop:
						return stopped
					default:
					}
				}
				if len(k) > 4 {
					b.load(string(k[4:]), binary.BigEndian.Uint32(k), v)
				}
				return nil
			})
		})
		if err == nil {
			b.loaded()
		}
	}()
}

// loaded says that the lists are complete.
func (b *termBlocks) loaded() { b.ready.Store(true) }

// stopLoad ends a load in progress and waits for it.
func (b *termBlocks) stopLoad() {
	if b.stop != nil {
		close(b.stop)
		<-b.done
		b.stop = nil
	}
}

// blockEntry is a block of a term, with the ordinals of the term there:
// ords[1] is noOrd when there is one; both are manyOrds when there are
// more than two. mask has bit i set when an ordinal of the term lies in
// the i-th sixty-fourth of the block: a certificate with every term of a
// text sets the same bit in the masks of all of them, so masks that have
// no bit in common rule the block out, however many ordinals each has.
type blockEntry struct {
	n    uint32
	ords [2]uint16
	mask uint64
	// pos has bit p set when the term stands at a position p (modulo
	// 64) in a name of the block (appendPosting).
	pos uint64
}

// segment is the bit of the ordinal o in a mask.
func segment(o uint16) uint64 { return 1 << (o / (blockSize / 64)) }

const (
	noOrd   = 0xffff
	manyOrd = 0xfffe
)

// many reports whether the ordinals of the entry are not kept: the
// postings must be read.
func (e blockEntry) many() bool { return e.ords[0] == manyOrd }

// with returns the entry with the ordinal o at the positions pos added.
func (e blockEntry) with(o uint16, pos uint64) blockEntry {
	e.mask |= segment(o)
	e.pos |= pos
	switch {
	case e.many() || e.ords[0] == o || e.ords[1] == o:
	case e.ords[1] == noOrd:
		e.ords[1] = o
	default:
		e.ords = [2]uint16{manyOrd, manyOrd}
	}
	return e
}

// addValues records the postings a write added to the terms of block n:
// those of values[term] from the offset terms[term] on. The postings
// before are known already (from the load at Open or an earlier write),
// and an entry learns new ordinals without losing those it holds, so a
// write parses its own postings, not all of the block's.
func (b *termBlocks) addValues(n uint32, terms map[string]int, values map[string]*[]byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for t, from := range terms {
		b.loadLocked(t, n, (*values[t])[from:])
	}
}

// load records the postings v of term in block n (at Open they come in
// key order: blocks ascending), with the ordinals already known.
func (b *termBlocks) load(term string, n uint32, v []byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.loadLocked(term, n, v)
}

func (b *termBlocks) loadLocked(term string, n uint32, v []byte) {
	if b.m == nil {
		b.m = map[string][]blockEntry{}
	}
	e := blockEntry{n: n, ords: [2]uint16{noOrd, noOrd}}
	count := 0
	for {
		o, pos, rest, ok := nextPosting(v)
		if !ok {
			break
		}
		if count < 2 {
			e.ords[count] = o
		}
		count++
		e.mask |= segment(o)
		e.pos |= pos
		v = rest
	}
	switch {
	case count == 0:
		return
	case count > 2:
		e.ords = [2]uint16{manyOrd, manyOrd}
	}
	l := b.m[term]
	if len(l) > 0 && l[len(l)-1].n >= n {
		// Known before (a write, or the load meanwhile): keep the
		// ordinals of both.
		i, found := slices.BinarySearchFunc(l, n, func(e blockEntry, n uint32) int { return cmp.Compare(e.n, n) })
		if !found {
			b.m[term] = slices.Insert(l, i, e)
		} else if e.many() {
			e.mask |= l[i].mask
			e.pos |= l[i].pos
			l[i] = e
		} else {
			for _, o := range e.ords {
				if o != noOrd {
					l[i] = l[i].with(o, e.pos)
				}
			}
		}
		return
	}
	b.m[term] = append(l, e)
}

// union returns the blocks that hold any of the terms, sorted, each with
// the ordinals of the terms together.
func (b *termBlocks) union(terms []string) []blockEntry {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if len(terms) == 1 {
		return slices.Clone(b.m[terms[0]])
	}
	// The entries merge in an array by block number, not in a sort: a
	// part of a word or a junction may stand for hundreds of terms, each
	// in most blocks.
	last := -1
	for _, t := range terms {
		if l := b.m[t]; len(l) > 0 {
			last = max(last, int(l[len(l)-1].n))
		}
	}
	if last < 0 {
		return nil
	}
	merged := make([]blockEntry, last+1)
	have := make([]bool, last+1)
	count := 0
	for _, t := range terms {
		for _, e := range b.m[t] {
			m := &merged[e.n]
			switch {
			case !have[e.n]:
				*m, have[e.n] = e, true
				count++
			case e.many():
				m.ords = e.ords
				m.mask |= e.mask
				m.pos |= e.pos
			default:
				for _, o := range e.ords {
					if o != noOrd {
						*m = m.with(o, e.pos)
					}
				}
			}
		}
	}
	out := make([]blockEntry, 0, count)
	for n, ok := range have {
		if ok {
			out = append(out, merged[n])
		}
	}
	return out
}

// intersect returns the blocks in both sorted lists.
func intersect(a []uint32, b []blockEntry) []uint32 {
	var out []uint32
	for i, j := 0, 0; i < len(a) && j < len(b); {
		switch {
		case a[i] < b[j].n:
			i++
		case a[i] > b[j].n:
			j++
		default:
			out = append(out, a[i])
			i, j = i+1, j+1
		}
	}
	return out
}

// txPostings returns the postings written so far in the write transaction
// tx, shared by the writers of its grouped commits (the committer runs many
// single writes in one transaction): each writer then reads a value once
// per transaction, not once per certificate. The entry is dropped at the
// commit; the entry of a transaction rolled back is dropped by the next
// transaction's first call, and since the map holds the transaction, its
// address is never reused while it is there.
func (s *Store) txPostings(tx *bbolt.Tx) map[uint32]map[string]*[]byte {
	s.txMu.Lock()
	defer s.txMu.Unlock()
	if p, ok := s.txPend[tx]; ok {
		return p
	}
	// bbolt runs one write transaction at a time: any other entry is of
	// a transaction that was rolled back.
	clear(s.txPend)
	if s.txPend == nil {
		s.txPend = map[*bbolt.Tx]map[uint32]map[string]*[]byte{}
	}
	p := map[uint32]map[string]*[]byte{}
	s.txPend[tx] = p
	tx.OnCommit(func() {
		s.txMu.Lock()
		defer s.txMu.Unlock()
		delete(s.txPend, tx)
	})
	return p
}
