package cert

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

var (
	seqToken    = regexp.MustCompile(`\{SEQ(?::(\d))?\}`)
	anyToken    = regexp.MustCompile(`\{[^}]*\}`)
	numberShape = regexp.MustCompile(`^[\p{L}\p{N}][\p{L}\p{N}\-/_.()（）〔〕]{0,63}$`)
)

// CheckNumberPattern validates a certificate number pattern. Tokens:
// {PREFIX}, {YYYY}, {YY}, {MM}, {SEQ} or {SEQ:n} (zero-padded to n digits).
// The pattern must contain exactly one SEQ token.
func CheckNumberPattern(p string) error {
	if len(seqToken.FindAllString(p, -1)) != 1 {
		return fmt.Errorf("must contain exactly one {SEQ} or {SEQ:n} token, e.g. %s", DefaultNumberPattern)
	}
	for _, t := range anyToken.FindAllString(p, -1) {
		switch {
		case t == "{PREFIX}", t == "{YYYY}", t == "{YY}", t == "{MM}", seqToken.MatchString(t):
		default:
			return fmt.Errorf("unknown token %s: use {PREFIX}, {YYYY}, {YY}, {MM}, {SEQ:n}", t)
		}
	}
	return nil
}

// CheckNumberPatternOutput checks a pattern as CheckNumberPattern does and
// that what it renders (with prefix, for any date and sequence) is a valid
// certificate number, so that no pattern can give an empty number or one
// that verification by number could not find.
func CheckNumberPatternOutput(p, prefix string) error {
	if err := CheckNumberPattern(p); err != nil {
		return err
	}
	for _, seq := range []int64{1, 9999999} {
		n := FormatNumber(p, prefix, time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC), seq)
		if err := CheckNumber(n); err != nil {
			return fmt.Errorf("gives numbers such as %q, which is not a valid certificate number: a number %v", n, err)
		}
	}
	return nil
}

// NumberPatternFor returns the number pattern of the issuer for a scheme:
// the issuer's entry for the scheme in NumberPatterns, else its
// NumberPattern (DefaultNumberPattern when empty), which applies to every
// scheme without an entry. {PREFIX} is always the issuer's NumberPrefix.
func (is *Issuer) NumberPatternFor(s *Scheme) string {
	if p := is.NumberPatterns[s.ID]; p != "" {
		return p
	}
	if is.NumberPattern != "" {
		return is.NumberPattern
	}
	return DefaultNumberPattern
}

// DefaultNumberPatterns returns the default pattern of every scheme that
// has one (Scheme.NumberPattern: ITSS-…, QMS-…), for an issuer that numbers
// each scheme with its own prefix.
func (s Schemes) DefaultNumberPatterns() map[string]string {
	out := map[string]string{}
	for id, sc := range s {
		if sc.NumberPattern != "" {
			out[id] = sc.NumberPattern
		}
	}
	return out
}

// NumberCounter names the counter that numbers certificates of the issuer
// made from pattern at time at. Two patterns that render the same text
// apart from the sequence share one counter, so no two patterns of one
// issuer can hand out the same number; the text of the issuer's original
// pattern keeps the counter it always used ("number/{issuer}/{scope}").
func NumberCounter(is *Issuer, pattern string, at time.Time) string {
	text := func(p string) string {
		marked := seqToken.ReplaceAllLiteralString(p, "\x00")
		return strings.ReplaceAll(FormatNumber(marked, is.NumberPrefix, at, 0), "\x00", "{SEQ}")
	}
	legacy := is.NumberPattern
	if legacy == "" {
		legacy = DefaultNumberPattern
	}
	t := text(pattern)
	if t == text(legacy) {
		return "number/" + is.ID + "/" + CounterScope(legacy, at)
	}
	return "number/" + is.ID + "/n/" + t
}

// CounterScope returns the part of a number pattern that names a sequence:
// a pattern with {YYYY} restarts its sequence each year.
func CounterScope(pattern string, at time.Time) string {
	switch {
	case strings.Contains(pattern, "{YYYY}") || strings.Contains(pattern, "{YY}"):
		if strings.Contains(pattern, "{MM}") {
			return at.Format("2006-01")
		}
		return at.Format("2006")
	default:
		return "all"
	}
}

// FormatNumber renders a number pattern for sequence seq at time at.
func FormatNumber(pattern, prefix string, at time.Time, seq int64) string {
	r := strings.NewReplacer("{PREFIX}", prefix, "{YYYY}", at.Format("2006"), "{YY}", at.Format("06"), "{MM}", at.Format("01"))
	out := r.Replace(pattern)
	return seqToken.ReplaceAllStringFunc(out, func(t string) string {
		m := seqToken.FindStringSubmatch(t)
		if m[1] == "" {
			return strconv.FormatInt(seq, 10)
		}
		w, _ := strconv.Atoi(m[1])
		return fmt.Sprintf("%0*d", w, seq)
	})
}

// CheckNumber validates a certificate number supplied by a CB.
func CheckNumber(n string) error {
	if err := CheckText(n, SingleLine); err != nil {
		return err
	}
	if !numberShape.MatchString(n) {
		return fmt.Errorf("must be 1-64 letters, digits and - / _ . ( ), starting with a letter or digit")
	}
	return nil
}

// RevisionNumber appends the revision suffix to a base number.
func RevisionNumber(base string, revision int) string {
	if revision == 0 {
		return base
	}
	return fmt.Sprintf("%s-R%d", base, revision)
}
