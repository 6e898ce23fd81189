package store_test

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/certd/certd/store"
)

func TestSearchTerms(t *testing.T) {
	got := store.SearchTerms("北京华信有限公司", "Beijing Huaxin Co., Ltd. beijing")
	want := []string{"北", "北京", "京", "京华", "华", "华信", "信", "信有", "有", "有限", "限", "限公", "公", "公司", "司", "beijing", "huaxin", "ing hua", "co", "xin co", "ltd", "co., ltd", "ltd. bei"}
	if !slices.Equal(got, want) {
		t.Errorf("SearchTerms = %q\nwant %q", got, want)
	}
	if got := store.SearchTerms("", "., &"); got != nil {
		t.Errorf("SearchTerms of punctuation = %q, want nil", got)
	}
	p := store.PlanSearch("Huaxin Co., L")
	if !slices.Equal(p.Terms, []string{"co", "xin co"}) || len(p.Words) != 2 ||
		p.Words[0] != (store.WordCondition{Word: "huaxin", Part: store.WordSuffix}) ||
		p.Words[1] != (store.WordCondition{Word: "l", Part: store.WordPrefix}) {
		t.Errorf("PlanSearch = %+v", p)
	}
	if p := store.PlanSearch("ech"); len(p.Terms) != 0 || p.Words[0].Part != store.WordInfix {
		t.Errorf("PlanSearch(ech) = %+v, want one infix word", p)
	}
	if p := store.PlanSearch("&"); !p.Empty() {
		t.Errorf("PlanSearch(&) = %+v, want empty", p)
	}
	// Junctions: where the text fixes the three characters on each side.
	for _, tc := range []struct {
		text  string
		terms []string
	}{
		{"Huaxin Cloud Electronics", []string{"cloud", "xin clo", "oud ele"}},
		{"xin Cloud El", []string{"cloud", "xin clo"}},               // "El" may start a longer word
		{"in Cloud Electr", []string{"cloud", "oud ele"}},            // "in" may end a longer word
		{"Co., Ltd. (China)", []string{"ltd", "china", "ltd. (chi"}}, // "Co" may end a longer word
		{"ab - - cd", []string{}},                                    // a separator of more than three characters
		{"ab·cd", []string{"·c"}},                                    // a separator outside ASCII: its own terms
	} {
		if p := store.PlanSearch(tc.text); !slices.Equal(p.Terms, tc.terms) && !(len(p.Terms) == 0 && len(tc.terms) == 0) {
			t.Errorf("PlanSearch(%q).Terms = %q, want %q", tc.text, p.Terms, tc.terms)
		}
	}
	for _, term := range []string{"xin co", "co., ltd", "北京", "北"} {
		if store.IsWordTerm(term) {
			t.Errorf("IsWordTerm(%q) = true", term)
		}
	}
}

// TestSearchPlanIsNecessary checks the property the indexes rely on: a
// name that contains a text holds every term of the text's plan, and a
// word for each of its word conditions.
func TestSearchPlanIsNecessary(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	mixed := []rune("北京华信有限公司ABCabc xyz019.,&()（）ÉéΣσς\u212aK")
	// Words and short separators: many junctions.
	words := []rune("abcdeABC0 .,&- ")
	for n := range 40_000 {
		alphabet := mixed
		if n%2 == 1 {
			alphabet = words
		}
		rs := make([]rune, 1+rng.IntN(30))
		for i := range rs {
			rs[i] = alphabet[rng.IntN(len(alphabet))]
		}
		name := string(rs)
		i := rng.IntN(len(rs))
		j := i + 1 + rng.IntN(len(rs)-i)
		text := string(rs[i:j])
		if rng.IntN(2) == 0 {
			text = strings.ToUpper(text)
		}
		terms := store.SearchTerms(name)
		plan := store.PlanSearch(text)
		for _, term := range plan.Terms {
			if !slices.Contains(terms, term) {
				t.Fatalf("name %q contains %q, but lacks its term %q (terms %q)", name, text, term, terms)
			}
		}
		for _, w := range plan.Words {
			if !slices.ContainsFunc(terms, func(t string) bool { return store.IsWordTerm(t) && w.Matches(t) }) {
				t.Fatalf("name %q contains %q, but no word of %q fits %+v", name, text, terms, w)
			}
		}
		for _, j := range plan.Junctions {
			if !slices.ContainsFunc(terms, func(t string) bool { return store.IsJunctionTerm(t) && j.Matches(t) }) {
				t.Fatalf("name %q contains %q, but no junction of %q fits %+v", name, text, terms, j)
			}
		}
		// The terms stand in the name where they stand in the text, from
		// the position of the text in the name (rs[i:j]).
		at := map[string]uint64{}
		store.EachSearchTermPositions(func(term []byte, positions uint64) { at[string(term)] = positions }, name)
		for _, p := range plan.Positions {
			if at[p.Term]&(1<<((i+p.At)%64)) == 0 {
				t.Fatalf("name %q holds %q at %d, but not its term %q at %d (positions %b)", name, text, i, p.Term, i+p.At, at[p.Term])
			}
		}
	}
}

// TestSearchTermPositions checks the positions of the terms of a name, and
// those of a text's plan.
func TestSearchTermPositions(t *testing.T) {
	got := map[string]uint64{}
	var order []string
	store.EachSearchTermPositions(func(term []byte, positions uint64) {
		order = append(order, string(term))
		got[string(term)] = positions
	}, "北京中科中科", "Zhongke Zhongke Co.")
	want := map[string]uint64{
		"北": 1 << 0, "北京": 1 << 0, "京": 1 << 1, "京中": 1 << 1, "中": 1<<2 | 1<<4, "中科": 1<<2 | 1<<4,
		"科": 1<<3 | 1<<5, "科中": 1 << 3,
		// The second name counts from 0 too.
		"zhongke": 1<<0 | 1<<8, "gke zho": 1 << 4, "co": 1 << 16, "gke co": 1 << 12,
	}
	if len(got) != len(want) || len(order) != len(got) {
		t.Errorf("terms %q, want %d distinct", order, len(want))
	}
	for term, w := range want {
		if got[term] != w {
			t.Errorf("positions of %q = %b, want %b", term, got[term], w)
		}
	}
	// Positions beyond 63 wrap.
	store.EachSearchTermPositions(func(term []byte, positions uint64) {
		if string(term) == "z" && positions != 1<<6 {
			t.Errorf("positions of z at 70 = %b, want %b", positions, uint64(1<<6))
		}
	}, strings.Repeat(". ", 35)+"z")

	// Against a map of EachSearchTermAt, for names short and long (more
	// terms than the hash table holds).
	rng := rand.New(rand.NewPCG(4, 4))
	for n := range 200 {
		rs := make([]rune, 1+rng.IntN(10+n*2))
		for i := range rs {
			if rng.IntN(3) == 0 {
				rs[i] = rune("ab .c"[rng.IntN(5)])
			} else {
				rs[i] = 0x4e00 + rune(rng.IntN(20+n))
			}
		}
		names := []string{string(rs), string(rs[:len(rs)/2])}
		want := map[string]uint64{}
		var order []string
		store.EachSearchTermAt(func(term []byte, pos int) {
			if _, ok := want[string(term)]; !ok {
				order = append(order, string(term))
			}
			want[string(term)] |= 1 << (pos % 64)
		}, names...)
		i := 0
		store.EachSearchTermPositions(func(term []byte, positions uint64) {
			if i >= len(order) || string(term) != order[i] || positions != want[order[i]] {
				t.Fatalf("term %d of %d: %q %b, want %q %b", i, len(order), term, positions, order[min(i, len(order)-1)], want[string(term)])
			}
			i++
		}, names...)
		if i != len(order) {
			t.Fatalf("%d terms, want %d", i, len(order))
		}
	}

	p := store.PlanSearch("北京中科中科中科")
	wantAt := []store.TermAt{{"北京", 0}, {"京中", 1}, {"中科", 2}, {"科中", 3}, {"中科", 4}, {"科中", 5}, {"中科", 6}, {"科", 7}}
	if !slices.Equal(p.Positions, wantAt[:7]) || !slices.Equal(p.Terms, []string{"北京", "京中", "中科", "科中"}) {
		t.Errorf("PlanSearch positions %v, terms %q; want %v", p.Positions, p.Terms, wantAt[:7])
	}
	if p := store.PlanSearch("in Cloud Electr"); !slices.Equal(p.Positions, []store.TermAt{{"cloud", 3}, {"oud ele", 5}}) {
		t.Errorf("PlanSearch(in Cloud Electr).Positions = %v", p.Positions)
	}
}

// TestJunctionConditions checks the junctions that a text leaves open and
// which stored junctions fit them.
func TestJunctionConditions(t *testing.T) {
	for _, tc := range []struct {
		text string
		want []store.JunctionCondition
		fit  []string
		miss []string
	}{
		{"a b", []store.JunctionCondition{{Tail: "a", Sep: " ", Head: "b", TailOpen: true, HeadOpen: true}},
			[]string{"hua bei", "a b", "ua bo"}, []string{"hua-bei", "hua  bei", "hub bei", "hua ebi"}},
		{"ng-t", []store.JunctionCondition{{Tail: "ng", Sep: "-", Head: "t", TailOpen: true, HeadOpen: true}},
			[]string{"ing-tec", "ng-t"}, []string{"ing tec", "ingx-tec", "ing-ate"}},
		{"xin co", []store.JunctionCondition{{Tail: "xin", Sep: " ", Head: "co", HeadOpen: true}},
			[]string{"xin co", "xin com"}, []string{"axin co", "in co"}},
		{"ab cd ef", []store.JunctionCondition{
			{Tail: "ab", Sep: " ", Head: "cd", TailOpen: true},
			{Tail: "cd", Sep: " ", Head: "ef", HeadOpen: true},
		}, nil, nil},
		{"Huaxin Cloud Electronics", nil, nil, nil},
		{"ab - - cd", nil, nil, nil},
	} {
		p := store.PlanSearch(tc.text)
		if !slices.Equal(p.Junctions, tc.want) {
			t.Errorf("PlanSearch(%q).Junctions = %+v, want %+v", tc.text, p.Junctions, tc.want)
			continue
		}
		for _, j := range tc.fit {
			if !p.Junctions[0].Matches(j) || !store.IsJunctionTerm(j) {
				t.Errorf("%q: junction %q does not fit", tc.text, j)
			}
		}
		for _, j := range tc.miss {
			if p.Junctions[0].Matches(j) {
				t.Errorf("%q: junction %q fits", tc.text, j)
			}
		}
	}
	for term, want := range map[string]bool{"xin co": true, "co., ltd": true, "co": false, "北京": false, "北": false, "·c": false} {
		if got := store.IsJunctionTerm(term); got != want {
			t.Errorf("IsJunctionTerm(%q) = %v, want %v", term, got, want)
		}
	}
}
