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
	}
}
