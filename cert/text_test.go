package cert

import (
	"fmt"
	"strings"
	"testing"
)

func TestCheckText(t *testing.T) {
	tests := []struct {
		name string
		text string
		kind TextKind
		want string // "" for accepted; else a part of the error
	}{
		{"ok/chinese", "北京示例科技有限公司", SingleLine, ""},
		{"ok/latin-symbols", "Example® Widgets™ – 100 € · Ωмега", SingleLine, ""},
		{"ok/ideographic-space", "北京　示例", SingleLine, ""},
		{"ok/nbsp", "Example\u00a0Co.", SingleLine, ""},
		{"ok/empty", "", SingleLine, ""},
		{"ok/multiline-newlines", "第一行\n第二行\r\n\t第三行", MultiLine, ""},
		{"fail/newline-single", "北京\n示例", SingleLine, "U+000A"},
		{"fail/tab-single", "a\tb", SingleLine, "U+0009"},
		{"fail/nul", "a\x00b", MultiLine, "U+0000 (a control character)"},
		{"fail/escape", "\x1b[2J", MultiLine, "U+001B (a control character)"},
		{"fail/del", "a\x7fb", SingleLine, "U+007F (a control character)"},
		{"fail/c1-nel", "a\u0085b", MultiLine, "U+0085 (a control character)"},
		{"fail/c1-csi", "a\u009bb", SingleLine, "U+009B (a control character)"},
		{"fail/invalid-utf8", "\xb1\xb1\xbe\xa9", SingleLine, "valid UTF-8: byte 0xB1 at offset 0"},
		{"fail/invalid-utf8-later", "北京\xff", MultiLine, "byte 0xFF at offset 6"},
		{"fail/replacement", "北京\uFFFD", SingleLine, "U+FFFD"},
		{"fail/noncharacter", "a\uFFFE", SingleLine, "U+FFFE (a noncharacter)"},
		{"fail/noncharacter-fdd0", "a\uFDD0", SingleLine, "U+FDD0 (a noncharacter)"},
		{"fail/private-use", "a\uE000", SingleLine, "U+E000 (a private-use character)"},
		{"fail/line-separator", "a\u2028b", MultiLine, "U+2028 (a line or paragraph separator)"},
		{"fail/soft-hyphen", "Ex\u00adample", SingleLine, "U+00AD (an invisible format character)"},
		{"fail/tag", "a\U000E0041", SingleLine, "U+E0041 (an invisible format character)"},
	}
	// Every bidi control and zero-width character, in both kinds of text.
	for _, r := range []rune{0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2066, 0x2067, 0x2068, 0x2069, 0x200E, 0x200F, 0x061C} {
		for _, kind := range []TextKind{SingleLine, MultiLine} {
			tests = append(tests, struct {
				name, text string
				kind       TextKind
				want       string
			}{fmt.Sprintf("fail/bidi-%04X-%d", r, kind), "北京" + string(r) + "示例", kind, fmt.Sprintf("%U (a bidi control character)", r)})
		}
	}
	for _, r := range []rune{0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF} {
		for _, kind := range []TextKind{SingleLine, MultiLine} {
			tests = append(tests, struct {
				name, text string
				kind       TextKind
				want       string
			}{fmt.Sprintf("fail/zero-width-%04X-%d", r, kind), "北京" + string(r) + "示例", kind, fmt.Sprintf("%U (a zero-width character)", r)})
		}
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckText(tc.text, tc.kind)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("CheckText(%q) = %v, want nil", tc.text, err)
			case tc.want != "" && err == nil:
				t.Errorf("CheckText(%q) = nil, want an error with %q", tc.text, tc.want)
			case tc.want != "" && !strings.Contains(err.Error(), tc.want):
				t.Errorf("CheckText(%q) = %q, want it to contain %q", tc.text, err, tc.want)
			}
		})
	}
}

// TestOrganizationValidateText checks that every text field of an
// organization is held to CheckText, named, with the character.
func TestOrganizationValidateText(t *testing.T) {
	ok := Organization{Name: "北京示例科技有限公司", NameEn: "Example", USCC: "91110108MA01234567", Address: "北京", Country: "CN"}
	// A valid USCC for the base case.
	first := ok.USCC[:17]
	c, _ := USCCCheckChar(first)
	ok.USCC = first + string(c)
	if v := ok.Validate(); v.Err() != nil {
		t.Fatalf("base organization: %v", v)
	}
	fields := map[string]func(*Organization) *string{
		"name":    func(o *Organization) *string { return &o.Name },
		"nameEn":  func(o *Organization) *string { return &o.NameEn },
		"uscc":    func(o *Organization) *string { return &o.USCC },
		"address": func(o *Organization) *string { return &o.Address },
		"country": func(o *Organization) *string { return &o.Country },
	}
	for field, at := range fields {
		for _, r := range []rune{0x202E, 0x200B, 0x0007, 0xFEFF} {
			t.Run(fmt.Sprintf("fail/%s-%04X", field, r), func(t *testing.T) {
				o := ok
				p := at(&o)
				*p += string(r)
				v := o.Validate()
				if len(v.Fields) != 1 || v.Fields[0].Field != field || !strings.Contains(v.Fields[0].Message, fmt.Sprintf("%U", r)) {
					t.Errorf("Validate() = %v, want one error on %s naming %U", v, field, r)
				}
			})
		}
	}
}

func TestCheckNumberText(t *testing.T) {
	if err := CheckNumber("ITSS-2026-\u202E000001"); err == nil || !strings.Contains(err.Error(), "U+202E") {
		t.Errorf("CheckNumber with U+202E: %v, want an error naming it", err)
	}
}
