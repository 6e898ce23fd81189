package cert

import (
	"fmt"
	"strconv"
	"unicode"
	"unicode/utf8"
)

// TextKind says which characters a text field may hold besides the
// visible ones (see CheckText).
type TextKind int

const (
	// SingleLine is for names, numbers, codes, addresses and short texts:
	// no control character at all.
	SingleLine TextKind = iota
	// MultiLine is for free prose (a scope, a reason): line feeds,
	// carriage returns and tabs are allowed, as people paste paragraphs;
	// every other control character is refused.
	MultiLine
)

// CheckText is the rule for every text certd stores from outside: the text
// must be valid UTF-8 and hold none of these characters, which are
// invisible or change how the text around them is shown, so that two names
// that look the same on a page could compare different (or the reverse):
//   - C0 and C1 control characters (U+0000-U+001F, U+007F-U+009F), except
//     tab, line feed and carriage return in MultiLine text;
//   - format characters (Unicode category Cf): bidi embeddings, overrides
//     and isolates (U+202A-U+202E, U+2066-U+2069), marks (U+200E, U+200F,
//     U+061C), zero-width characters (U+200B-U+200D, U+2060, U+FEFF), the
//     soft hyphen, tags;
//   - line and paragraph separators (U+2028, U+2029);
//   - private-use code points, noncharacters and U+FFFD, the replacement
//     character (the trace of text decoded in the wrong encoding).
//
// The error names the first such character by its code point, as in
// "must not contain U+202E (a bidi control character)"; it is meant to be
// the message of a FieldError.
func CheckText(s string, kind TextKind) error {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			return fmt.Errorf("must be valid UTF-8: byte 0x%02X at offset %d is not (send text in UTF-8)", s[i], i)
		}
		i += size
		if why := forbiddenRune(r, kind); why != "" {
			return fmt.Errorf("must not contain %U (%s)", r, why)
		}
	}
	return nil
}

// forbiddenRune says why r may not appear in text of the kind, or "".
func forbiddenRune(r rune, kind TextKind) string {
	switch {
	case r == '\t' || r == '\n' || r == '\r':
		if kind == MultiLine {
			return ""
		}
		return "a line break or tab: this field is one line"
	case unicode.IsControl(r):
		return "a control character"
	case r == 0x061C || r == 0x200E || r == 0x200F || (r >= 0x202A && r <= 0x202E) || (r >= 0x2066 && r <= 0x2069):
		return "a bidi control character"
	case (r >= 0x200B && r <= 0x200D) || r == 0x2060 || r == 0xFEFF:
		return "a zero-width character"
	case unicode.Is(unicode.Cf, r):
		return "an invisible format character"
	case r == 0x2028 || r == 0x2029:
		return "a line or paragraph separator"
	case unicode.Is(unicode.Co, r):
		return "a private-use character"
	case r == utf8.RuneError:
		return "the replacement character: the text was decoded in the wrong encoding somewhere"
	case r&0xFFFE == 0xFFFE || (r >= 0xFDD0 && r <= 0xFDEF):
		return "a noncharacter"
	}
	return ""
}

// FieldText is one text of a certificate and the JSON name of its field.
type FieldText struct {
	Field string
	Text  string
}

// Texts lists every text of the certificate that people typed, with its
// JSON field name: what the rules for stored and printed text apply to.
func (c *Certificate) Texts() []FieldText {
	out := []FieldText{
		{"number", c.Number},
		{"standard", c.Standard},
		{"category", c.Category},
		{"scope", c.Scope},
		{"scopeEn", c.ScopeEn},
		{"assessmentBody", c.AssessmentBody},
		{"organization.name", c.Organization.Name},
		{"organization.nameEn", c.Organization.NameEn},
		{"organization.uscc", c.Organization.USCC},
		{"organization.address", c.Organization.Address},
		{"organization.country", c.Organization.Country},
	}
	for i, s := range c.Sites {
		f := "sites[" + strconv.Itoa(i) + "]."
		out = append(out, FieldText{f + "name", s.Name}, FieldText{f + "address", s.Address}, FieldText{f + "scope", s.Scope})
	}
	return out
}
