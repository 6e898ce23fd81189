package storetest

import (
	"cmp"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/store"
)

// Alphabets of the randomized search test: few enough characters that
// random queries hit, and letters of both cases.
var (
	zhAlphabet = []rune("北京上海深圳科技有限公司示例华信息数据服务中心")
	enWords    = []string{"Beijing", "Shanghai", "Tech", "Technology", "Info", "Holdings", "Co.", "Ltd.", "Group", "Data", "Example", "ALPHA", "beta"}
	// zhPairs make names of a few common pairs, the same pair often twice
	// in a name ("北京中科中科"), and texts of them that many names hold
	// pair by pair and few in this order.
	zhPairs = []string{"北京", "中科", "科中", "华信", "信息", "中心", "京中", "科技"}
	// enSeps join the words of some names, so that junctions differ in
	// their separators.
	enSeps = []string{" ", " ", " ", ", ", "-", " & "}
)

// SearchMatchesScan fills the empty store s with n random certificates of
// two issuers (random Chinese and English names, half from small alphabets
// and half like registered names (RandomNames), shared USCCs and numbers
// across issuers, equal creation times, some confidential), changes the
// names of some of them with updates, then runs about that many random
// queries and compares every page, and the count, with a full scan of
// what was written, made here by the rule of store.Searcher. Names hold
// only ASCII and Chinese characters, whose folding every backend agrees
// on.
func SearchMatchesScan(t *testing.T, s store.Store, n, queries int, seed uint64) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	zh := func(lo, hi int) string {
		rs := make([]rune, lo+rng.IntN(hi-lo+1))
		for i := range rs {
			rs[i] = zhAlphabet[rng.IntN(len(zhAlphabet))]
		}
		return string(rs)
	}
	en := func() string {
		ws := make([]string, 2+rng.IntN(3))
		for i := range ws {
			ws[i] = enWords[rng.IntN(len(enWords))]
		}
		if rng.IntN(4) == 0 {
			var b strings.Builder
			for i, w := range ws {
				if i > 0 {
					b.WriteString(enSeps[rng.IntN(len(enSeps))])
				}
				b.WriteString(w)
			}
			return b.String()
		}
		return strings.Join(ws, " ")
	}
	pairs := func(lo, hi int) string {
		var b strings.Builder
		for range lo + rng.IntN(hi-lo+1) {
			b.WriteString(zhPairs[rng.IntN(len(zhPairs))])
		}
		if rng.IntN(3) == 0 {
			b.WriteRune(zhAlphabet[rng.IntN(len(zhAlphabet))])
		}
		return b.String()
	}
	// parts are short ends and starts of words around a separator ("a b",
	// "ng-t"): each part fits many stored words.
	parts := func() string {
		letters := "abcdeghilnostxy"
		part := func() string {
			b := make([]byte, 1+rng.IntN(2))
			for i := range b {
				b[i] = letters[rng.IntN(len(letters))]
			}
			return string(b)
		}
		return part() + enSeps[rng.IntN(len(enSeps))] + part()
	}
	epoch := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	all := make([]*cert.Certificate, 0, n)
	byID := map[string]*cert.Certificate{}
	sharedNumber := map[string]bool{} // numbers of issuer-a that issuer-b has too
	for len(all) < n {
		batch := make([]*cert.Certificate, 0, 1000)
		for len(batch) < 1000 && len(all)+len(batch) < n {
			issuer := "issuer-a"
			if rng.IntN(3) == 0 {
				issuer = "issuer-b"
			}
			c := NewCertificate(t, issuer)
			switch rng.IntN(5) {
			case 0, 1:
				c.Organization.Name, c.Organization.NameEn = zh(2, 8), en()
			case 2:
				c.Organization.Name, c.Organization.NameEn = pairs(1, 6), en()
			default:
				c.Organization.Name, c.Organization.NameEn = RandomNames(rng)
			}
			c.Confidential = rng.IntN(20) == 0
			// Equal creation times are common: the order falls back to
			// the id.
			c.CreatedAt = epoch.Add(time.Duration(rng.IntN(n/4+1)) * time.Millisecond)
			if len(all) > 0 && rng.IntN(20) == 0 {
				c.Organization.USCC = all[rng.IntN(len(all))].Organization.USCC
			}
			if issuer == "issuer-b" && len(all) > 0 && rng.IntN(20) == 0 {
				if o := all[rng.IntN(len(all))]; o.Issuer == "issuer-a" && !sharedNumber[o.Number] {
					c.Number, sharedNumber[o.Number] = o.Number, true
				}
			}
			batch = append(batch, c)
		}
		errs, err := s.CreateCertificates(t.Context(), batch)
		if err != nil {
			t.Fatalf("CreateCertificates: %v", err)
		}
		for i, err := range errs {
			if err != nil {
				t.Fatalf("CreateCertificates, item %d: %v", i, err)
			}
			all = append(all, batch[i])
			byID[batch[i].ID] = batch[i]
		}
	}
	var renamed []string // names that some certificate no longer has
	for range n / 30 {
		c := all[rng.IntN(len(all))]
		renamed = append(renamed, c.Organization.Name, c.Organization.NameEn)
		c.Organization.Name = zh(2, 8)
		if rng.IntN(2) == 0 {
			c.Organization.NameEn = en()
		}
		if err := s.UpdateCertificate(t.Context(), c); err != nil {
			t.Fatalf("UpdateCertificate %s: %v", c.ID, err)
		}
	}

	part := func(s string) string {
		rs := []rune(s)
		i := rng.IntN(len(rs))
		j := i + 1 + rng.IntN(min(len(rs)-i, 9))
		return string(rs[i:j])
	}
	flipCase := func(s string) string {
		b := []byte(s)
		for i, c := range b {
			if rng.IntN(2) == 0 && ('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
				b[i] = c ^ 0x20
			}
		}
		return string(b)
	}
	texts := []string{"不存在", "Nonexistent Holdings", "q", "Zz", "北", "公司", "ltd. ", " tech", "ech", "Co., L", "Xinhua", "huax",
		// Words that are common but seldom or never stand together, in
		// this order, with these separators.
		"Technology Co., Ltd.", "Group Co.", "Data Example Group", "beta ALPHA", "Tech  Info", "co ltd", "Ltd. Group",
		// Common pairs, several times, in orders few names have.
		"北京中科中科中科", "中科中科中科", "科中科中", "华信中科信息", "京中科中心",
		// Short parts of words: each fits many stored words.
		"a b", "g h", "o-t", "a, b", "n-t", "a & b", "y b", "g-d"}
	for range queries {
		c := all[rng.IntN(len(all))]
		var q string
		switch rng.IntN(13) {
		case 0, 1:
			q = part(c.Organization.Name)
		case 2, 3:
			q = flipCase(part(c.Organization.NameEn))
		case 4:
			q = zh(1, 3)
		case 5:
			q = strings.ToLower(c.Number)
			if rng.IntN(2) == 0 {
				q = strings.ToLower(c.Organization.USCC)
			}
		case 6:
			q = part(renamed[rng.IntN(len(renamed))])
		case 7:
			q = flipCase(enWords[rng.IntN(len(enWords))] + " " + enWords[rng.IntN(len(enWords))])
		case 8:
			// A part of one English word: the vocabulary answers it.
			ws := strings.Fields(c.Organization.NameEn)
			q = flipCase(part(ws[rng.IntN(len(ws))]))
		case 9:
			// The end of one word and the start of the next.
			if ws := strings.Fields(c.Organization.NameEn); len(ws) > 1 {
				i := rng.IntN(len(ws) - 1)
				a, b := []rune(ws[i]), []rune(ws[i+1])
				q = string(a[rng.IntN(len(a)):]) + " " + string(b[:1+rng.IntN(len(b))])
			}
		case 10:
			q = pairs(2, 5)
		case 11:
			q = parts()
		case 12:
			// The end of one word and the start of the next, with the
			// separator of the name.
			rs := []rune(c.Organization.NameEn)
			i := rng.IntN(len(rs))
			q = string(rs[i:min(len(rs), i+2+rng.IntN(5))])
		}
		if strings.TrimSpace(q) != "" {
			texts = append(texts, q)
		}
	}

	texts = append(texts, "&", "., ", ") (")
	for _, q := range texts {
		text := strings.TrimSpace(q)
		if !store.HasSearchWord(text) {
			// Punctuation alone is refused, by both calls.
			if _, _, err := s.Search(t.Context(), store.SearchQuery{Text: q}); !errors.Is(err, cert.ErrInvalid) {
				t.Errorf("Search(%q): err = %v, want %v", q, err, cert.ErrInvalid)
			}
			if _, err := s.CountSearch(t.Context(), q, 100); !errors.Is(err, cert.ErrInvalid) {
				t.Errorf("CountSearch(%q): err = %v, want %v", q, err, cert.ErrInvalid)
			}
			continue
		}
		lower, upper := strings.ToLower(text), strings.ToUpper(text)
		var want []*cert.Certificate
		for _, c := range byID {
			if c.Number == text || c.Number == upper || c.Organization.USCC == upper ||
				strings.Contains(strings.ToLower(c.Organization.Name), lower) ||
				strings.Contains(strings.ToLower(c.Organization.NameEn), lower) {
				want = append(want, c)
			}
		}
		slices.SortFunc(want, func(a, b *cert.Certificate) int {
			return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), strings.Compare(b.ID, a.ID))
		})
		limit := 1 + rng.IntN(store.SearchMaxLimit)
		query := store.SearchQuery{Text: q, Limit: limit}
		var got []string
		more := false
		for page := 0; page < 4; page++ {
			cs, next, err := s.Search(t.Context(), query)
			if err != nil {
				t.Fatalf("Search(%q), page %d: %v", q, page, err)
			}
			for _, c := range cs {
				got = append(got, c.ID)
				if w := byID[c.ID]; w == nil || c.Organization.Name != w.Organization.Name {
					t.Fatalf("Search(%q) returned %s with name %q, want the stored %q", q, c.ID, c.Organization.Name, describeName(w))
				}
			}
			more = next != ""
			if !more {
				break
			}
			query.Cursor = next
		}
		public := 0
		for _, c := range want {
			if !c.Confidential {
				public++
			}
		}
		const upTo = 100
		if n, err := s.CountSearch(t.Context(), q, upTo); err != nil {
			t.Errorf("CountSearch(%q): %v", q, err)
		} else if w := min(public, upTo+1); n != w {
			t.Errorf("CountSearch(%q, %d) = %d, want %d", q, upTo, n, w)
		}
		wantIDs := ids(want)
		if len(wantIDs) > len(got) {
			if !more {
				t.Errorf("Search(%q, limit %d): %d results then no next page, want %d", q, limit, len(got), len(wantIDs))
			}
			wantIDs = wantIDs[:len(got)]
		} else if more {
			t.Errorf("Search(%q, limit %d): a next page after all %d results", q, limit, len(got))
		}
		if !slices.Equal(got, wantIDs) {
			t.Errorf("Search(%q, limit %d):\n got %d %v\nwant %d %v", q, limit, len(got), head(got), len(wantIDs), head(wantIDs))
		}
	}
}

func describeName(c *cert.Certificate) string {
	if c == nil {
		return "(not stored)"
	}
	return c.Organization.Name
}

func head(ids []string) []string {
	if len(ids) > 5 {
		return append(slices.Clone(ids[:5]), fmt.Sprintf("... %d more", len(ids)-5))
	}
	return ids
}
