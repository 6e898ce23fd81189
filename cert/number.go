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
