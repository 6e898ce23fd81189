package storetest

import (
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/store"
)

var searchTests = []test{
	{"search/empty-store", testSearchEmpty},
	{"search/by-number", testSearchByNumber},
	{"search/by-uscc", testSearchByUSCC},
	{"search/by-name-zh", testSearchByNameZh},
	{"search/by-name-en-any-case", testSearchByNameEn},
	{"search/literal-text", testSearchLiteral},
	{"search/pagination-newest-first", testSearchPagination},
	{"search/pages-stable-under-inserts", testSearchStablePages},
	{"search/limits", testSearchLimits},
	{"search/invalid", testSearchInvalid},
	{"search/follows-updates", testSearchFollowsUpdates},
	{"search/renamed-back", testSearchRenamedBack},
	{"search/revision-renames", testSearchRevisionRenames},
	{"search/count", testSearchCount},
}

// named returns a new certificate of the issuer with the organization's
// names.
func named(t testing.TB, issuer, name, nameEn string) *cert.Certificate {
	t.Helper()
	c := NewCertificate(t, issuer)
	c.Organization.Name, c.Organization.NameEn = name, nameEn
	return c
}

// search returns every page of the search for text with the limit, and
// checks the paging: full pages but the last, "" after the last, no id
// twice.
func search(t testing.TB, s store.Store, text string, limit int) []string {
	t.Helper()
	full := limit
	if full == 0 {
		full = store.SearchDefaultLimit
	}
	q := store.SearchQuery{Text: text, Limit: limit}
	var got []string
	for page := 1; ; page++ {
		cs, next, err := s.Search(t.Context(), q)
		if err != nil {
			t.Fatalf("Search(%q), page %d: %v", text, page, err)
		}
		if len(cs) > full {
			t.Fatalf("Search(%q), page %d: %d certificates, more than the limit %d", text, page, len(cs), full)
		}
		for _, c := range cs {
			if c == nil {
				t.Fatalf("Search(%q), page %d: nil certificate", text, page)
			}
		}
		got = append(got, ids(cs)...)
		if next == "" {
			break
		}
		if len(cs) != full {
			t.Errorf("Search(%q), page %d: %d certificates and a next cursor; want a full page of %d", text, page, len(cs), full)
		}
		if page > 100 {
			t.Fatalf("Search(%q): still a next cursor after %d pages", text, page)
		}
		q.Cursor = next
	}
	seen := map[string]bool{}
	for _, id := range got {
		if seen[id] {
			t.Errorf("Search(%q): %s returned twice", text, id)
		}
		seen[id] = true
	}
	return got
}

// wantSearch checks that the search for text finds exactly want, in order.
func wantSearch(t testing.TB, s store.Store, text string, limit int, want ...*cert.Certificate) {
	t.Helper()
	if got, w := search(t, s, text, limit), ids(want); !slices.Equal(got, w) {
		t.Errorf("Search(%q, limit %d):\n got %v\nwant %v", text, limit, got, w)
	}
}

// newest returns cs in the order Search returns them: newest first.
func newest(cs ...*cert.Certificate) []*cert.Certificate {
	out := slices.Clone(cs)
	slices.Reverse(out)
	return out
}

func testSearchEmpty(t *testing.T, s store.Store) {
	cs, next, err := s.Search(t.Context(), store.SearchQuery{Text: "北京示例"})
	if err != nil || len(cs) != 0 || next != "" {
		t.Errorf("Search on an empty store = %d certificates, cursor %q, %v; want none, \"\", nil", len(cs), next, err)
	}
}

func testSearchByNumber(t *testing.T, s store.Store) {
	a := NewCertificate(t, "issuer-a")
	a.Number = "ITSS-2026-000123"
	b := NewCertificate(t, "issuer-b")
	b.Number = "ITSS-2026-000123" // the same number at another issuer
	other := NewCertificate(t, "issuer-a")
	other.Number = "ITSS-2026-001230"
	create(t, s, a, b, other)

	wantSearch(t, s, "ITSS-2026-000123", 0, b, a)
	wantSearch(t, s, "  itss-2026-000123 ", 0, b, a)
	wantSearch(t, s, "ITSS-2026-00012", 0) // a part of a number is not a number
	wantSearch(t, s, other.Number, 0, other)
}

func testSearchByUSCC(t *testing.T, s store.Store) {
	a, b := NewCertificate(t, "issuer-a"), NewCertificate(t, "issuer-b")
	renewed := NewCertificate(t, "issuer-a")
	renewed.Organization.USCC = a.Organization.USCC
	create(t, s, a, b, renewed)

	wantSearch(t, s, a.Organization.USCC, 0, renewed, a)
	wantSearch(t, s, strings.ToLower(a.Organization.USCC), 0, renewed, a)
	wantSearch(t, s, a.Organization.USCC[:17], 0) // exact only
	wantSearch(t, s, b.Organization.USCC, 0, b)
}

func testSearchByNameZh(t *testing.T, s store.Store) {
	bj := named(t, "issuer-a", "北京示例科技有限公司", "Beijing Example Technology Co., Ltd.")
	sh := named(t, "issuer-b", "上海样本信息技术有限公司", "Shanghai Sample Information Technology Co., Ltd.")
	gz := named(t, "issuer-a", "广州测试数据服务有限公司", "")
	create(t, s, bj, sh, gz)

	wantSearch(t, s, "样本信息", 0, sh)
	wantSearch(t, s, "有限公司", 0, newest(bj, sh, gz)...)
	wantSearch(t, s, "广州测试数据服务有限公司", 0, gz)
	wantSearch(t, s, "深圳", 0)
	wantSearch(t, s, "北京示例科技有限公司（", 0) // longer than the name
}

func testSearchByNameEn(t *testing.T, s store.Store) {
	bj := named(t, "issuer-a", "北京示例科技有限公司", "Beijing Example Technology Co., Ltd.")
	sh := named(t, "issuer-a", "上海样本信息技术有限公司", "Shanghai Sample Information Technology Co., Ltd.")
	create(t, s, bj, sh)

	wantSearch(t, s, "sample INFORMATION", 0, sh)
	wantSearch(t, s, "beijing example", 0, bj)
	wantSearch(t, s, "TECHNOLOGY CO.", 0, sh, bj)
	wantSearch(t, s, "Sample Info Tech", 0)
	wantSearch(t, s, "Example Information", 0)
}

func testSearchLiteral(t *testing.T, s store.Store) {
	c := named(t, "issuer-a", "甲乙（中国）有限公司", `A&B (China) "Quoted" <Tag> Co.\Ltd.`)
	create(t, s, c, named(t, "issuer-a", "丙丁有限公司", "AxB Trading"))

	for _, text := range []string{"A&B (China)", "(China", `"Quoted" <Tag>`, `Co.\Ltd`, "（中国）", "a&b (CHINA)"} {
		wantSearch(t, s, text, 0, c)
	}
	for _, text := range []string{"A.B", "A[&x]B", "^A", "China)$"} {
		wantSearch(t, s, text, 0)
	}
}

func testSearchPagination(t *testing.T, s store.Store) {
	var match []*cert.Certificate
	for i := range 7 {
		c := named(t, "issuer-a", fmt.Sprintf("分页测试有限公司%d", i), "")
		create(t, s, c, NewCertificate(t, "issuer-b"))
		match = append(match, c)
	}
	for _, limit := range []int{1, 3, 7, 50} {
		wantSearch(t, s, "分页测试", limit, newest(match...)...)
	}
}

// testSearchStablePages creates a matching certificate between two pages:
// the second page continues where the first ended.
func testSearchStablePages(t *testing.T, s store.Store) {
	var match []*cert.Certificate
	for i := range 4 {
		match = append(match, named(t, "issuer-a", fmt.Sprintf("翻页稳定公司%d", i), ""))
	}
	create(t, s, match...)
	first, next, err := s.Search(t.Context(), store.SearchQuery{Text: "翻页稳定", Limit: 2})
	if err != nil || next == "" {
		t.Fatalf("Search page 1 = %d, cursor %q, %v; want a next cursor", len(first), next, err)
	}
	create(t, s, named(t, "issuer-a", "翻页稳定公司新", ""))
	second, last, err := s.Search(t.Context(), store.SearchQuery{Text: "翻页稳定", Limit: 2, Cursor: next})
	if err != nil {
		t.Fatalf("Search page 2: %v", err)
	}
	got := append(ids(first), ids(second)...)
	if want := ids(newest(match...)); !slices.Equal(got, want) || last != "" {
		t.Errorf("pages = %v, cursor %q; want %v and \"\"", got, last, want)
	}
}

func testSearchLimits(t *testing.T, s store.Store) {
	cs := make([]*cert.Certificate, store.SearchMaxLimit+5)
	for i := range cs {
		cs[i] = named(t, "issuer-a", fmt.Sprintf("限额测试公司%d", i), "")
	}
	createAll(t, s, cs)
	for _, tc := range []struct{ limit, want int }{{0, store.SearchDefaultLimit}, {-3, store.SearchDefaultLimit}, {1, 1}, {store.SearchMaxLimit + 1, store.SearchMaxLimit}} {
		got, next, err := s.Search(t.Context(), store.SearchQuery{Text: "限额测试", Limit: tc.limit})
		if err != nil || len(got) != tc.want || next == "" {
			t.Errorf("Search(limit %d) = %d certificates, cursor %q, %v; want %d and a cursor", tc.limit, len(got), next, err, tc.want)
		}
	}
}

func testSearchInvalid(t *testing.T, s store.Store) {
	create(t, s, NewCertificate(t, "issuer-a"))
	for _, q := range []store.SearchQuery{
		{Text: ""},
		{Text: "  \t "},
		{Text: strings.Repeat("长", store.SearchMaxText/3+1)},
		{Text: "a\x00b"},
		{Text: "\xff\xfe"},
		// Punctuation alone: nothing a number, a USCC or the index of
		// names holds.
		{Text: "&"},
		{Text: ".*"},
		{Text: " ., -() "},
		{Text: "北京", Cursor: "!!not base64!!"},
		{Text: "北京", Cursor: base64.RawURLEncoding.EncodeToString([]byte("x"))},
	} {
		cs, next, err := s.Search(t.Context(), q)
		wantErr(t, fmt.Sprintf("Search(%q, cursor %q)", q.Text, q.Cursor), err, cert.ErrInvalid)
		if len(cs) != 0 || next != "" {
			t.Errorf("Search(%q) failed but returned %d certificates and cursor %q", q.Text, len(cs), next)
		}
		if q.Cursor == "" {
			_, err := s.CountSearch(t.Context(), q.Text, 10)
			wantErr(t, fmt.Sprintf("CountSearch(%q)", q.Text), err, cert.ErrInvalid)
		}
	}
}

// testSearchFollowsUpdates renames an organization in an update: the new
// name is found, the old one no more.
func testSearchFollowsUpdates(t *testing.T, s store.Store) {
	c := named(t, "issuer-a", "旧名称科技有限公司", "Old Name Technology Co., Ltd.")
	create(t, s, c)
	c.Organization.Name, c.Organization.NameEn = "新名称科技有限公司", "New Name Technology Co., Ltd."
	if err := s.UpdateCertificate(t.Context(), c); err != nil {
		t.Fatalf("UpdateCertificate: %v", err)
	}
	wantSearch(t, s, "旧名称", 0)
	wantSearch(t, s, "old name", 0)
	wantSearch(t, s, "新名称", 0, c)
	wantSearch(t, s, "new NAME", 0, c)
}

// testSearchRenamedBack renames an organization and back again: the
// certificate is found once under the name it has, never under the one it
// had in between.
func testSearchRenamedBack(t *testing.T, s store.Store) {
	c := named(t, "issuer-a", "来回改名科技有限公司", "Back Forth Technology Co., Ltd.")
	other := named(t, "issuer-a", "来回其他有限公司", "Back Other Co., Ltd.")
	create(t, s, c, other)
	for _, names := range [][2]string{{"中间名称有限公司", "Middle Name Co., Ltd."}, {"来回改名科技有限公司", "Back Forth Technology Co., Ltd."}} {
		c.Organization.Name, c.Organization.NameEn = names[0], names[1]
		if err := s.UpdateCertificate(t.Context(), c); err != nil {
			t.Fatalf("UpdateCertificate: %v", err)
		}
	}
	wantSearch(t, s, "来回改名", 0, c)
	wantSearch(t, s, "来回", 1, other, c)
	wantSearch(t, s, "orth tech", 0, c)
	wantSearch(t, s, "中间", 0)
	wantSearch(t, s, "middle", 0)
	if n, err := s.CountSearch(t.Context(), "来回", 10); err != nil || n != 2 {
		t.Errorf("CountSearch(来回) = %d, %v; want 2", n, err)
	}
}

// testSearchRevisionRenames follows a revision that changes the name: the
// new certificate has the new name, the superseded one keeps its own.
func testSearchRevisionRenames(t *testing.T, s store.Store) {
	old := named(t, "issuer-a", "改版前名称有限公司", "Before Revision Ltd.")
	create(t, s, old)
	rev := named(t, "issuer-a", "改版后名称有限公司", "After Revision Ltd.")
	rev.Supersedes = old.ID
	create(t, s, rev)
	old.SupersededBy = rev.ID
	if err := s.UpdateCertificate(t.Context(), old); err != nil {
		t.Fatalf("UpdateCertificate: %v", err)
	}
	wantSearch(t, s, "改版后", 0, rev)
	wantSearch(t, s, "改版前", 0, old)
	wantSearch(t, s, "revision", 0, rev, old)
}

// testSearchCount counts matches up to a bound, without the confidential
// ones.
func testSearchCount(t *testing.T, s store.Store) {
	var cs []*cert.Certificate
	for i := range 12 {
		c := named(t, "issuer-a", fmt.Sprintf("计数测试公司%d", i), fmt.Sprintf("Counting Test %d Ltd.", i))
		c.Confidential = i%4 == 0
		cs = append(cs, c)
	}
	createAll(t, s, cs)
	for _, tc := range []struct {
		text       string
		upTo, want int
	}{
		{"计数测试", 100, 9}, {"计数测试", 9, 9}, {"计数测试", 5, 6}, {"counting test", 0, 1},
		{"计数测试公司3", 100, 1}, {"计数测试公司4", 100, 0}, {"不存在", 100, 0}, {cs[1].Number, 100, 1},
	} {
		if n, err := s.CountSearch(t.Context(), tc.text, tc.upTo); err != nil || n != tc.want {
			t.Errorf("CountSearch(%q, %d) = %d, %v; want %d", tc.text, tc.upTo, n, err, tc.want)
		}
	}
	if _, err := s.CountSearch(t.Context(), " ", 10); !errors.Is(err, cert.ErrInvalid) {
		t.Errorf("CountSearch of blank text: %v, want ErrInvalid", err)
	}
}
