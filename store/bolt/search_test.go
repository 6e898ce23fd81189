package bolt

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/store"
	"github.com/certd/certd/store/storetest"
)

func openTemp(t testing.TB, path string) *Store {
	t.Helper()
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// TestSearchMatchesScan compares the indexed search with a full scan on a
// randomized store of 10,000 certificates.
func TestSearchMatchesScan(t *testing.T) {
	s := openTemp(t, filepath.Join(t.TempDir(), "certd.db"))
	storetest.SearchMatchesScan(t, s, 10_000, 300, 1)
}

// rawUpdate changes the closed file at path with bbolt itself.
func rawUpdate(t testing.TB, path string, fn func(tx *bbolt.Tx) error) {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(fn); err != nil {
		t.Fatal(err)
	}
}

// TestSearchIndexRebuiltAtOpen removes the search index and its marker, as
// in a file written before the index, and checks that Open builds it again
// (across several build transactions) and that searches find the same.
func TestSearchIndexRebuiltAtOpen(t *testing.T) {
	defer func(n int) { buildChunk = n }(buildChunk)
	buildChunk = 7
	path := filepath.Join(t.TempDir(), "certd.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	var cs []*cert.Certificate
	for i := range 40 {
		c := storetest.NewCertificate(t, "default")
		c.Organization.Name = fmt.Sprintf("重建%d索引有限公司", i%5)
		c.Organization.NameEn = fmt.Sprintf("Rebuilt Index %d Ltd.", i%5)
		cs = append(cs, c)
	}
	if errs, err := s.CreateCertificates(t.Context(), cs); err != nil || errs[0] != nil {
		t.Fatal(err, errs)
	}
	texts := []string{"重建3索引", "建", "index 2", "rebuilt", "ebuil", "不存在", cs[7].Number}
	before := map[string][]string{}
	for _, text := range texts {
		got, _, err := s.Search(t.Context(), store.SearchQuery{Text: text, Limit: 50})
		if err != nil {
			t.Fatal(err)
		}
		before[text] = ids(got)
	}
	_ = s.Close()
	rawUpdate(t, path, func(tx *bbolt.Tx) error {
		for _, name := range searchBuckets {
			if err := tx.DeleteBucket(name); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketMeta).Delete(keySearchIndex)
	})
	s = openTemp(t, path)
	for _, text := range texts {
		got, _, err := s.Search(t.Context(), store.SearchQuery{Text: text, Limit: 50})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(ids(got), before[text]) {
			t.Errorf("Search(%q) after the rebuild = %v, want %v", text, ids(got), before[text])
		}
	}
	if n := len(before["rebuilt"]); n != 40 {
		t.Errorf("Search(rebuilt) found %d certificates, want 40", n)
	}
	_ = s.Close()
	var postings int
	rawUpdate(t, path, func(tx *bbolt.Tx) error {
		postings = tx.Bucket(bucketSearchPostings).Stats().KeyN
		if v := tx.Bucket(bucketMeta).Get(keySearchIndex); string(v) != searchIndexVersion {
			t.Errorf("marker %q after the rebuild, want %q", v, searchIndexVersion)
		}
		return nil
	})
	if postings == 0 {
		t.Error("no postings after the rebuild")
	}
}

// TestSearchReadsOnlyCandidates makes every certificate but one unreadable
// behind the store's back: a text that matches nothing and a text that
// matches the readable one must still be answered, which they can only be
// when the search reads no certificate outside the candidates of the
// index. Before the index, both read every certificate and failed.
func TestSearchReadsOnlyCandidates(t *testing.T) {
	path := filepath.Join(t.TempDir(), "certd.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	var cs []*cert.Certificate
	for i := range 30 {
		c := storetest.NewCertificate(t, "default")
		c.Organization.Name, c.Organization.NameEn = fmt.Sprintf("普通%d公司", i), fmt.Sprintf("Ordinary %d Co.", i)
		if i%3 == 0 {
			// Every pair of "北京中科中科中科", some twice.
			c.Organization.Name = "北京中科中科信息技术有限公司"
		}
		// Words enough that "...n" and "t..." each fit more than
		// maxExpansion of them, never with one space between.
		for j := range 10 {
			c.Organization.NameEn += fmt.Sprintf(", q%dv%dn, t%dv%dq", i, j, i, j)
		}
		cs = append(cs, c)
	}
	target := cs[11]
	target.Organization.Name, target.Organization.NameEn = "独特名称有限公司", "Unique Name Ltd. Yan Tao"
	if errs, err := s.CreateCertificates(t.Context(), cs); err != nil || errs[0] != nil {
		t.Fatal(err, errs)
	}
	_ = s.Close()
	rawUpdate(t, path, func(tx *bbolt.Tx) error {
		for _, c := range cs {
			if c != target {
				if err := tx.Bucket(bucketCerts).Put([]byte(c.ID), []byte("not a certificate")); err != nil {
					return err
				}
			}
		}
		return nil
	})
	s = openTemp(t, path)
	for _, tc := range []struct {
		text string
		want []string
	}{
		{"不存在的公司", nil},
		{"Nonexistent Holdings", nil},
		{"特名", []string{target.ID}},
		{"unique name", []string{target.ID}},
		{"niqu", []string{target.ID}},
		{"Nonexistent", nil},
		// Words that every corrupted certificate has, never together:
		// their junction ("ary co") rules them all out.
		{"Ordinary Co.", nil},
		{"独", []string{target.ID}},
		// Common pairs that the corrupted names hold, never in this
		// order: their positions rule them out.
		{"北京中科中科中科", nil},
		{"北京中科信息", nil},
		// Parts of words, each in more than maxExpansion words: their
		// junctions decide.
		{"n-t", nil},
		{"n t", []string{target.ID}},
		{"n, q", nil},
	} {
		got, next, err := s.Search(t.Context(), store.SearchQuery{Text: tc.text})
		if err != nil {
			t.Errorf("Search(%q): %v", tc.text, err)
			continue
		}
		if !slices.Equal(ids(got), tc.want) || next != "" {
			t.Errorf("Search(%q) = %v, %q; want %v, no next page", tc.text, ids(got), next, tc.want)
		}
	}
	// Punctuation alone has no term: it is refused as invalid, where it
	// was answered by reading every certificate (and failed here).
	for _, text := range []string{"&", "., ", "()"} {
		if _, _, err := s.Search(t.Context(), store.SearchQuery{Text: text}); !errors.Is(err, cert.ErrInvalid) {
			t.Errorf("Search(%q): err = %v, want %v", text, err, cert.ErrInvalid)
		}
		if _, err := s.CountSearch(t.Context(), text, 100); !errors.Is(err, cert.ErrInvalid) {
			t.Errorf("CountSearch(%q): err = %v, want %v", text, err, cert.ErrInvalid)
		}
	}
}

func ids(cs []*cert.Certificate) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.ID
	}
	return out
}

// TestSearchIndexUpgraded opens a file whose search index is of version 2
// (postings without positions, a vocabulary without junctions): Open
// indexes it again, and the searches find what they found, now with the
// positions and junctions.
func TestSearchIndexUpgraded(t *testing.T) {
	path := filepath.Join(t.TempDir(), "certd.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	var cs []*cert.Certificate
	rng := rand.New(rand.NewPCG(9, 9))
	for range 300 {
		c := storetest.NewCertificate(t, "default")
		c.Organization.Name, c.Organization.NameEn = storetest.PairedNames(rng)
		cs = append(cs, c)
	}
	if errs, err := s.CreateCertificates(t.Context(), cs); err != nil || errs[0] != nil {
		t.Fatal(err, errs)
	}
	texts := []string{"北京中科中科中科", "中科中科", "华信中科", "g z", "Zhongke Dongfang", "n-t", cs[9].Organization.Name}
	before := map[string][]string{}
	for _, text := range texts {
		got, _, err := s.Search(t.Context(), store.SearchQuery{Text: text, Limit: store.SearchMaxLimit})
		if err != nil {
			t.Fatal(err)
		}
		before[text] = ids(got)
	}
	_ = s.Close()
	// Rewrite the index as version 2 wrote it.
	rawUpdate(t, path, func(tx *bbolt.Tx) error {
		postings := tx.Bucket(bucketSearchPostings)
		old := map[string][]byte{}
		if err := postings.ForEach(func(k, v []byte) error {
			var ords []byte
			for {
				o, _, rest, ok := nextPosting(v)
				if !ok {
					break
				}
				ords, v = binary.BigEndian.AppendUint16(ords, o), rest
			}
			old[string(k)] = ords
			return nil
		}); err != nil {
			return err
		}
		for k, v := range old {
			if err := postings.Put([]byte(k), v); err != nil {
				return err
			}
		}
		words := tx.Bucket(bucketSearchWords)
		var junctions [][]byte
		if err := words.ForEach(func(k, _ []byte) error {
			if store.IsJunctionTerm(string(k)) {
				junctions = append(junctions, bytes.Clone(k))
			}
			return nil
		}); err != nil {
			return err
		}
		if len(junctions) == 0 {
			t.Error("no junction in the vocabulary")
		}
		for _, k := range junctions {
			if err := words.Delete(k); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketMeta).Put(keySearchIndex, []byte("2"))
	})
	s = openTemp(t, path)
	if !s.blocks.ready.Load() {
		t.Error("the lists in memory are not complete after the upgrade")
	}
	for _, text := range texts {
		got, _, err := s.Search(t.Context(), store.SearchQuery{Text: text, Limit: store.SearchMaxLimit})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(ids(got), before[text]) {
			t.Errorf("Search(%q) after the upgrade = %v, want %v", text, ids(got), before[text])
		}
	}
	if len(before["中科中科"]) == 0 || len(before["北京中科中科中科"]) != 0 {
		t.Errorf("中科中科: %d, 北京中科中科中科: %d; want some and none", len(before["中科中科"]), len(before["北京中科中科中科"]))
	}
	if js, ok := s.vocab.expandJunction(store.JunctionCondition{Tail: "g", Sep: " ", Head: "z", TailOpen: true, HeadOpen: true}); !ok || len(js) == 0 {
		t.Errorf("junctions of \"g z\" after the upgrade: %q, %v", js, ok)
	}
	_ = s.Close()
	rawUpdate(t, path, func(tx *bbolt.Tx) error {
		if v := tx.Bucket(bucketMeta).Get(keySearchIndex); string(v) != searchIndexVersion {
			t.Errorf("marker %q after the upgrade, want %q", v, searchIndexVersion)
		}
		v := tx.Bucket(bucketSearchPostings).Get(postingKey(0, "中科"))
		if _, pos, _, ok := nextPosting(v); !ok || pos == ^uint64(0) {
			t.Errorf("postings of 中科 after the upgrade: %x, no positions", v)
		}
		return nil
	})
}

// TestPostings checks the encoding of a posting: two bytes for one
// position below 62, a set of positions after them otherwise, and the
// ordinals alone of version 2 read as postings without positions.
func TestPostings(t *testing.T) {
	var v []byte
	cases := []struct {
		ord       uint16
		positions uint64
		size      int
	}{
		{0, 1 << 0, 2}, {5, 1 << 61, 2}, {1023, 1 << 7, 2}, {7, 1 << 62, 3 + 9 - 1}, {8, 1<<2 | 1<<4, 3},
		{9, 1 << 63, 2 + 10}, {10, ^uint64(0), 2 + 10},
	}
	for _, c := range cases {
		n := len(v)
		v = appendPosting(v, c.ord, c.positions)
		if len(v)-n != c.size {
			t.Errorf("posting %d %b: %d bytes, want %d", c.ord, c.positions, len(v)-n, c.size)
		}
	}
	for _, c := range cases {
		o, pos, rest, ok := nextPosting(v)
		if !ok || o != c.ord || pos != c.positions {
			t.Errorf("read %d %b %v, want %d %b", o, pos, ok, c.ord, c.positions)
		}
		v = rest
	}
	if _, _, _, ok := nextPosting(v); ok || len(v) != 0 {
		t.Errorf("%x left", v)
	}
	if o, pos, _, ok := nextPosting([]byte{3, 255}); !ok || o != 1023 || pos != ^uint64(0) {
		t.Errorf("ordinal of version 2: %d %b %v", o, pos, ok)
	}
	if _, _, _, ok := nextPosting([]byte{posSet << 2, 1, 0x80}); ok {
		t.Error("a cut set of positions read as a posting")
	}
}

// TestNameMatcher checks that the comparison folds case as documented.
func TestNameMatcher(t *testing.T) {
	names := []string{
		"北京示例科技有限公司", "Beijing Example Technology Co., Ltd.", `A&B "Quoted" <Tag> Co.\Ltd.`,
		"Société Générale (China)", "ÉCOLE", "Kelvin \u212a sign", "line\u2028separator", "",
		"ΣΟΦΙΑ Trading", "σοφία",
	}
	tests := []struct {
		text string
		want []string // names that match
	}{
		{"示例科技", []string{"北京示例科技有限公司"}},
		{"beijing EXAMPLE", []string{"Beijing Example Technology Co., Ltd."}},
		{"co.", []string{"Beijing Example Technology Co., Ltd.", `A&B "Quoted" <Tag> Co.\Ltd.`}},
		{`"quoted" <tag>`, []string{`A&B "Quoted" <Tag> Co.\Ltd.`}},
		{`co.\ltd`, []string{`A&B "Quoted" <Tag> Co.\Ltd.`}},
		{"SOCIÉTÉ", []string{"Société Générale (China)"}},
		{"école", []string{"ÉCOLE"}},
		{"ecole", nil},
		{"kelvin k", nil}, // ASCII k does not fold to the Kelvin sign
		{"\u2028sep", []string{"line\u2028separator"}},
		{"(china)", []string{"Société Générale (China)"}},
		{"σοφ", []string{"ΣΟΦΙΑ Trading", "σοφία"}},
		{"ΣΟΦΊΑ", []string{"σοφία"}},
		{"\u212a", []string{"Kelvin \u212a sign"}},
	}
	for _, tc := range tests {
		m := newNameMatcher(tc.text)
		for _, name := range names {
			want := slices.Contains(tc.want, name)
			if got := m.matches(name); got != want {
				t.Errorf("%q matches %q = %v, want %v", tc.text, name, got, want)
			}
		}
	}
}

// BenchmarkSearch measures searches over 100,000 certificates with names
// like registered ones (storetest.RandomNames, and every other one
// storetest.PairedNames, made of a few common pairs of characters, as the
// scale benchmark's); CERTD_BENCH_SEARCH_N sets another number (e.g.
// 1000000). Texts that match nothing cost a few
// lookups per block of the index; common words fill their page from the
// newest block; a rare name reads its few candidates.
func BenchmarkSearch(b *testing.B) {
	n := 100_000
	credential := strings.Repeat("x", 1100) // the size of a real compact JWS
	var numbers []string
	var rare *cert.Certificate
	if v, err := strconv.Atoi(os.Getenv("CERTD_BENCH_SEARCH_N")); err == nil && v > 0 {
		n = v
	}
	path := filepath.Join(b.TempDir(), "certd.db")
	// CERTD_BENCH_SEARCH_FILE keeps the store in that file, seeded by the
	// first run and searched again by the next ones.
	reuse := os.Getenv("CERTD_BENCH_SEARCH_FILE")
	seeded := false
	if reuse != "" {
		path = reuse
		_, err := os.Stat(reuse + ".number")
		seeded = err == nil
	}
	start := time.Now()
	s, err := Open(path)
	if err != nil {
		b.Fatal(err)
	}
	if seeded {
		// An index of an older version is built again here.
		b.Logf("opened %s in %v", path, time.Since(start))
	}
	b.Cleanup(func() { _ = s.Close() })
	rng := rand.New(rand.NewPCG(3, 3))
	if seeded {
		v, err := os.ReadFile(reuse + ".number")
		if err != nil {
			b.Fatal(err)
		}
		n = 0
		numbers = []string{string(v)}
	}
	for i := 0; i < n; i += 1000 {
		cs := make([]*cert.Certificate, min(1000, n-i))
		for j := range cs {
			c := storetest.NewCertificate(b, "default")
			if j%2 == 0 {
				c.Organization.Name, c.Organization.NameEn = storetest.RandomNames(rng)
			} else {
				c.Organization.Name, c.Organization.NameEn = storetest.PairedNames(rng)
			}
			c.Credential = credential
			cs[j] = c
			numbers = append(numbers, c.Number)
		}
		if i <= n/2 && n/2 < i+len(cs) {
			rare = cs[n/2-i]
			rare.Organization.Name, rare.Organization.NameEn = "宁波甬江罕见材料有限公司", "Ningbo Yongjiang Rarematerial Co., Ltd."
		}
		errs, err := s.CreateCertificates(b.Context(), cs)
		if err != nil {
			b.Fatal(err)
		}
		for _, err := range errs {
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	if reuse != "" && !seeded {
		if err := os.WriteFile(reuse+".number", []byte(numbers[0]), 0o600); err != nil {
			b.Fatal(err)
		}
	}
	if s.blocks.done != nil {
		<-s.blocks.done // the lists in memory, read after Open
	}
	for _, bc := range []struct{ name, text string }{
		{"miss/zh", "不存在的公司"},
		{"miss/zh-common-chars", "北京华信通信"},
		{"miss/en", "Nonexistent Holdings"},
		{"miss/en-common-words", "Huaxin Cloud Electronics"},
		{"miss/one-char", "鲸"},
		// Every pair common, and all in one name ("北京中科中科信息技术"),
		// but never in this sequence.
		{"miss/zh-repeated-pairs", "北京中科中科中科"},
		{"miss/zh-pairs-apart", "华信中科东方"},
		// Parts of words that each match more than maxExpansion stored
		// words ("...n" and "t..."), never with this separator.
		{"miss/en-word-parts", "n-t"},
		{"number/oldest", numbers[0]},
		{"hit/common-zh", "科技有限"},
		{"hit/common-en", "technology"},
		{"hit/rare-zh", "甬江罕见"},
		{"hit/rare-en", "yongjiang rarem"},
		{"hit/rare-en-part", "arematerial"},
		{"hit/one-char", "鑫"},
		{"hit/en-word-parts", "g h"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var took []time.Duration
			for b.Loop() {
				start := time.Now()
				if _, _, err := s.Search(b.Context(), store.SearchQuery{Text: bc.text}); err != nil {
					b.Fatal(err)
				}
				took = append(took, time.Since(start))
			}
			reportMedian(b, took)
		})
		b.Run("count/"+bc.name, func(b *testing.B) {
			var took []time.Duration
			for b.Loop() {
				start := time.Now()
				if _, err := s.CountSearch(b.Context(), bc.text, 100); err != nil {
					b.Fatal(err)
				}
				took = append(took, time.Since(start))
			}
			reportMedian(b, took)
		})
	}
}

// reportMedian reports the median of the durations as p50-ns.
func reportMedian(b *testing.B, took []time.Duration) {
	if len(took) > 0 {
		slices.Sort(took)
		b.ReportMetric(float64(took[len(took)/2].Nanoseconds()), "p50-ns")
	}
}

// TestTermBlocksLoadMerges: the lists are read from the file in the
// background while writes add postings; a block that a write reached
// first keeps the ordinals of both, so that no stored posting is lost.
func TestTermBlocksLoadMerges(t *testing.T) {
	var b termBlocks
	b.addValues(3, map[string]int{"华信": 0, "cloud": 0}, map[string]*[]byte{"华信": {0, 7}, "cloud": {0, 1, 0, 2}})
	b.load("华信", 2, []byte{0, 5})                // an older block
	b.load("华信", 3, []byte{0, 4})                // the block the write reached
	b.load("cloud", 3, []byte{0, 1, 0, 2, 0, 9}) // many in the file, all in the first sixty-fourth
	b.load("new", 1, []byte{0, 1, 0, 2})
	// Postings of version 2 (ordinals alone): their positions are
	// unknown, every one possible.
	all := ^uint64(0)
	want := map[string][]blockEntry{
		"华信":    {{2, [2]uint16{5, noOrd}, segment(5), all}, {3, [2]uint16{7, 4}, segment(7), all}},
		"cloud": {{3, [2]uint16{manyOrd, manyOrd}, segment(1), all}},
		"new":   {{1, [2]uint16{1, 2}, segment(1), all}},
	}
	for term, w := range want {
		if got := b.union([]string{term}); !slices.Equal(got, w) {
			t.Errorf("%s: %v, want %v", term, got, w)
		}
	}
	// Three distinct ordinals are "many"; the same one twice is one.
	b.load("new", 1, []byte{0, 2})
	if got := b.union([]string{"new"}); got[0].many() {
		t.Errorf("the same ordinal again made the entry many: %v", got)
	}
	b.load("new", 1, []byte{0, 1, 0, 2, 0, 3, 3, 255})
	if got := b.union([]string{"new"}); !got[0].many() || got[0].mask != segment(1)|segment(1023) || got[0].mask != 1|1<<63 {
		t.Errorf("four ordinals: %v, want many, in the first and the last sixty-fourth", got)
	}
	if got := b.union([]string{"华信", "new"}); len(got) != 3 || got[0].n != 1 || got[2].ords != [2]uint16{7, 4} {
		t.Errorf("union of two terms: %v", got)
	}
}

// TestTermBlocksLearnWritesPostings: a write tells the lists in memory the
// postings it added to a value, from its offset on, and the entry keeps
// those it knew.
func TestTermBlocksLearnWritesPostings(t *testing.T) {
	var b termBlocks
	b.load("t", 5, []byte{0, 1})
	v := []byte{0, 1, 0, 3}
	b.addValues(5, map[string]int{"t": 2}, map[string]*[]byte{"t": &v})
	all := ^uint64(0)
	if got := b.union([]string{"t"}); !slices.Equal(got, []blockEntry{{5, [2]uint16{1, 3}, segment(1), all}}) {
		t.Errorf("after one write: %v", got)
	}
	v = append(v, 0, 3, 0x03, 0xff)
	b.addValues(5, map[string]int{"t": 6}, map[string]*[]byte{"t": &v})
	if got := b.union([]string{"t"}); !got[0].many() || got[0].mask != segment(1)|segment(1024-1) {
		t.Errorf("after a third ordinal: %v", got)
	}
}

// TestSearchFindsConcurrentSingleWrites: single writes grouped into one
// transaction share the values of their terms; each tells the lists in
// memory its own postings, and every certificate is found by its name.
func TestSearchFindsConcurrentSingleWrites(t *testing.T) {
	s := openTemp(t, filepath.Join(t.TempDir(), "certd.db"))
	words := []string{"华信", "云网", "数据", "智能", "科技", "有限公司"}
	var cs []*cert.Certificate
	for i := range 400 {
		c := storetest.NewCertificate(t, "default")
		c.Organization.Name = words[i%6] + words[(i/6)%6] + words[(i/36)%6] + fmt.Sprint(i%7)
		c.Organization.NameEn = "Grouped Writes " + strings.Fields("Alpha Bravo Charlie Delta Echo Foxtrot Golf Hotel India Juliet Kilo")[i%11]
		cs = append(cs, c)
	}
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for i := g; i < len(cs); i += 16 {
				if err := s.CreateCertificate(t.Context(), cs[i]); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if !s.blocks.ready.Load() {
		t.Fatal("the lists in memory are not in use")
	}
	for _, c := range cs {
		for _, text := range []string{c.Organization.Name, c.Organization.NameEn} {
			got, _, err := s.Search(t.Context(), store.SearchQuery{Text: text, Limit: 1000})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Contains(ids(got), c.ID) {
				t.Fatalf("Search(%q) misses %s among %d", text, c.ID, len(got))
			}
		}
	}
}

// TestSearchMatchesScanReopened compares the search with a full scan on a
// store opened again: before its lists in memory are loaded (every block
// is looked at) and after.
func TestSearchMatchesScanReopened(t *testing.T) {
	path := filepath.Join(t.TempDir(), "certd.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	var cs []*cert.Certificate
	rng := rand.New(rand.NewPCG(5, 5))
	for range 3000 {
		c := storetest.NewCertificate(t, "default")
		c.Organization.Name, c.Organization.NameEn = storetest.RandomNames(rng)
		cs = append(cs, c)
	}
	if errs, err := s.CreateCertificates(t.Context(), cs); err != nil || errs[0] != nil {
		t.Fatal(err, errs)
	}
	_ = s.Close()
	texts := []string{"北京华信", "华信通信", "Huaxin Cloud", "Cloud Computing Co", "technology co., ltd", "xin data serv", "鑫", "Nonexistent"}
	for _, loaded := range []bool{false, true} {
		s := openTemp(t, path)
		if loaded {
			<-s.blocks.done
		} else {
			s.blocks.stopLoad() // as if the load had not finished
		}
		if s.blocks.ready.Load() != loaded {
			t.Fatalf("lists loaded = %v, want %v", s.blocks.ready.Load(), loaded)
		}
		for _, text := range texts {
			var want []string
			lower := strings.ToLower(text)
			for i := len(cs) - 1; i >= 0; i-- {
				c := cs[i]
				if strings.Contains(strings.ToLower(c.Organization.Name), lower) || strings.Contains(strings.ToLower(c.Organization.NameEn), lower) {
					want = append(want, c.ID)
				}
			}
			got, _, err := s.Search(t.Context(), store.SearchQuery{Text: text, Limit: store.SearchMaxLimit})
			if err != nil {
				t.Fatal(err)
			}
			n, err := s.CountSearch(t.Context(), text, 1000)
			if err != nil {
				t.Fatal(err)
			}
			if w := want[:min(len(want), store.SearchMaxLimit)]; !slices.Equal(ids(got), w) || n != min(len(want), 1001) {
				t.Errorf("loaded %v: Search(%q) = %d results, count %d; want %d, count %d", loaded, text, len(got), n, len(w), len(want))
			}
		}
		_ = s.Close()
	}
}
