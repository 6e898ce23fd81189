package cert

import (
	"strings"
	"testing"
)

func TestOrganizationEmail(t *testing.T) {
	base := Organization{Name: "北京示例科技有限公司", USCC: "91110108MA0123456G"}
	ok := []string{"", "cert@example.cn", "Zhang.San+cert@example.cn", "a@b.example.com.cn", strings.Repeat("a", 243) + "@example.cn"}
	bad := []string{"cert", "cert@", "@example.cn", "张三 <cert@example.cn>", "<cert@example.cn>", "a@b.cn, c@d.cn",
		"cert@localhost", "cert@[127.0.0.1]", "cert@example.cn.", " cert@example.cn", "cert@exa mple.cn", "cert@example.cn\n",
		strings.Repeat("a", 244) + "@example.cn"}
	for _, e := range ok {
		o := base
		o.Email = e
		if v := o.Validate(); len(v.Fields) != 0 {
			t.Errorf("email %q: %v", e, v.Fields)
		}
	}
	for _, e := range bad {
		o := base
		o.Email = e
		v := o.Validate()
		if len(v.Fields) != 1 || v.Fields[0].Field != "email" {
			t.Errorf("email %q accepted or wrongly reported: %v", e, v.Fields)
		}
	}
	if got := NormalizeEmail("  Zhang.San@Example.CN "); got != "Zhang.San@example.cn" {
		t.Errorf("NormalizeEmail = %q", got)
	}
	if got := (Organization{Name: "n", Email: "a@b.cn"}).Public(); got.Email != "" || got.Name != "n" {
		t.Errorf("Public() = %+v", got)
	}
}
