package main

import (
	"github.com/certd/certd/importfile"

	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// What certctl prints comes in part from outside: tokens, PDFs, QR codes
// and the server's answers. A control character in it (ESC, a carriage
// return, a C1 control) could rewrite the terminal, and a bidi override or
// a zero-width character could make one text read as another, such as a
// fake "VALID" line. Every stream certctl writes for people passes through
// a termWriter, which spells such runes out as escapes.

// termWriter writes to w with every rune escaped that is not graphic
// (letters, marks, numbers, punctuation, symbols, spaces), except newline
// and tab, as strconv.QuoteToGraphic spells it (\r, \x1b, \u202e); a
// byte that is not UTF-8 becomes \xNN.
// Inside a JSON string, the only place such runes can stand in JSON output
// (encoding/json escapes ASCII controls itself), \u escapes keep the
// document valid JSON with the same value.
type termWriter struct{ w io.Writer }

// escapeWriter wraps w for people's eyes; it is idempotent.
func escapeWriter(w io.Writer) io.Writer {
	if _, ok := w.(*termWriter); ok {
		return w
	}
	return &termWriter{w: w}
}

// rawWriter returns the stream under a termWriter, for output that is not
// text (a PDF written to a pipe) or that moves the cursor on purpose (the
// progress bar, whose text certctl makes itself).
func rawWriter(w io.Writer) io.Writer {
	if t, ok := w.(*termWriter); ok {
		return t.w
	}
	return w
}

func (t *termWriter) Write(p []byte) (int, error) {
	if !needsEscape(p) {
		return t.w.Write(p)
	}
	if _, err := io.WriteString(t.w, escapeTerminal(string(p))); err != nil {
		return 0, err
	}
	return len(p), nil
}

// needsEscape reports whether p holds a byte or rune escapeTerminal changes.
func needsEscape(p []byte) bool {
	for i := 0; i < len(p); {
		c := p[i]
		if c < utf8.RuneSelf {
			if (c < 0x20 && c != '\n' && c != '\t') || c == 0x7f {
				return true
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(p[i:])
		if !printable(r, n) {
			return true
		}
		i += n
	}
	return false
}

func printable(r rune, size int) bool {
	if r == utf8.RuneError && size <= 1 {
		return false
	}
	return r == '\n' || r == '\t' || unicode.IsGraphic(r)
}

// escapeTerminal spells out the runes of s a terminal must not interpret.
func escapeTerminal(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case printable(r, n):
			b.WriteString(s[i : i+n])
		case r == utf8.RuneError:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		default:
			// '\r', '\x1b', '\u202e': the rune's escape without its quotes.
			q := strconv.QuoteRuneToGraphic(r)
			b.WriteString(q[1 : len(q)-1])
		}
		i += n
	}
	return b.String()
}

// csvSafeRow applies csvSafe to every cell of a row.
func csvSafeRow(cells []string) []string {
	out := make([]string, len(cells))
	for i, c := range cells {
		out[i] = importfile.SafeCell(c)
	}
	return out
}
