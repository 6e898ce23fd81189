package bolt

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/store"
	"github.com/certd/certd/store/storetest"
)

// TestConformanceSearchWindow runs the suite with tiny index windows, so
// that searches go through the sequential read of the certificates.
func TestConformanceSearchWindow(t *testing.T) {
	defer func(w int) { searchWindow = w }(searchWindow)
	for _, w := range []int{0, 1, 3} {
		searchWindow = w
		t.Run(fmt.Sprintf("window-%d", w), func(t *testing.T) {
			storetest.Run(t, func(t testing.TB) store.Store {
				s, err := Open(filepath.Join(t.TempDir(), "certd.db"))
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = s.Close() })
				return s
			})
		})
	}
}

// TestNameMatcher checks that the raw-bytes pre-filter never rejects a
// certificate the decoded comparison accepts, and that the comparison
// folds case as documented.
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
			c := storetest.NewCertificate(t, "a")
			c.Organization.Name, c.Organization.NameEn = name, "Other Name Ltd."
			v, err := encodeCert(c)
			if err != nil {
				t.Fatal(err)
			}
			if want && !m.mayMatch(v) {
				t.Errorf("pre-filter rejects %q for %q", name, tc.text)
			}
			c.Organization.Name, c.Organization.NameEn = "其他名称", name
			if v, _ = encodeCert(c); want && !m.mayMatch(v) {
				t.Errorf("pre-filter rejects English name %q for %q", name, tc.text)
			}
		}
	}
	// Plain text is pre-filtered: a certificate without the text is not
	// decoded.
	c := storetest.NewCertificate(t, "a")
	v, _ := encodeCert(c)
	for _, text := range []string{"上海", "A&B", `"Q" <T>`, "Société", "ＡＢＣ商行"} {
		if m := newNameMatcher(text); m.mayMatch(v) {
			t.Errorf("pre-filter of %q (needle %q) accepts a certificate without the text", text, m.needle)
		}
	}
	if m := newNameMatcher("ΣΩ"); m.needle != nil || len(m.firsts) != 3 || m.mayMatch(v) {
		t.Errorf("text of cased non-ASCII letters only: needle %q, firsts %q; want the three sigmas, and no match", m.needle, m.firsts)
	}
	// A value of an earlier version (JSON) is never rejected unread.
	legacy, _ := json.Marshal(c)
	if m := newNameMatcher("上海"); !m.mayMatch(legacy) {
		t.Error("pre-filter rejects a JSON value without decoding it")
	}
}

// BenchmarkSearch measures a search over 100,000 certificates: a text that
// matches nothing reads every certificate (the pre-filter's cost), a common
// word fills its page from the newest certificates, and a text the
// pre-filter cannot handle decodes everything.
func BenchmarkSearch(b *testing.B) {
	const n = 100_000
	s, err := Open(filepath.Join(b.TempDir(), "certd.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close() })
	credential := strings.Repeat("x", 1100) // the size of a real compact JWS
	var numbers []string
	for i := 0; i < n; i += 1000 {
		cs := make([]*cert.Certificate, 1000)
		for j := range cs {
			c := storetest.NewCertificate(b, "default")
			c.Organization.Name = fmt.Sprintf("示例%d科技有限公司", i+j)
			c.Organization.NameEn = fmt.Sprintf("Example %d Technology Co., Ltd.", i+j)
			c.Credential = credential
			cs[j] = c
			numbers = append(numbers, c.Number)
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
	for _, bc := range []struct{ name, text string }{
		{"miss/zh", "不存在的公司"},
		{"miss/en", "Nonexistent Holdings"},
		{"number/oldest", numbers[0]},
		{"common/zh", "科技有限"},
		{"common/en", "technology"},
		{"escaped/ampersand", "A&B"},
		{"no-prefilter/greek", "ΣΩ"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if _, _, err := s.Search(b.Context(), store.SearchQuery{Text: bc.text}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
