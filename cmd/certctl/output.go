package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode"
)

// printJSON writes v as indented JSON; raw JSON bytes are re-indented
// as they are, so an API answer is shown exactly as certd sent it.
func printJSON(w io.Writer, v any) error {
	if raw, ok := v.(json.RawMessage); ok {
		var buf bytes.Buffer
		if err := json.Indent(&buf, raw, "", "  "); err != nil {
			return fmt.Errorf("answer is not JSON: %w", err)
		}
		buf.WriteByte('\n')
		_, err := w.Write(buf.Bytes())
		return err
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// displayWidth is the number of terminal columns s takes: East Asian wide
// and full-width characters take two, so tables of Chinese names line up.
func displayWidth(s string) int {
	w := 0
	for _, r := range s {
		switch {
		case r == '\t':
			w += 1
		case unicode.Is(unicode.Mn, r) || !unicode.IsPrint(r):
		case wide(r):
			w += 2
		default:
			w++
		}
	}
	return w
}

// wide reports East Asian wide and full-width characters (the common
// ranges of Unicode's EastAsianWidth W and F).
func wide(r rune) bool {
	return r >= 0x1100 && (r <= 0x115f ||
		r >= 0x2e80 && r <= 0x303e ||
		r >= 0x3041 && r <= 0x33ff ||
		r >= 0x3400 && r <= 0x4dbf ||
		r >= 0x4e00 && r <= 0x9fff ||
		r >= 0xa000 && r <= 0xa4cf ||
		r >= 0xac00 && r <= 0xd7a3 ||
		r >= 0xf900 && r <= 0xfaff ||
		r >= 0xfe30 && r <= 0xfe4f ||
		r >= 0xff00 && r <= 0xff60 ||
		r >= 0xffe0 && r <= 0xffe6 ||
		r >= 0x20000 && r <= 0x3fffd)
}

// printTable writes rows under a header, columns padded by display width.
func printTable(w io.Writer, header []string, rows [][]string) {
	widths := make([]int, len(header))
	for i, h := range header {
		widths[i] = displayWidth(h)
	}
	for _, r := range rows {
		for i := range header {
			if i < len(r) {
				widths[i] = max(widths[i], displayWidth(r[i]))
			}
		}
	}
	line := func(cells []string) {
		var b strings.Builder
		for i := range header {
			cell := ""
			if i < len(cells) {
				cell = cells[i]
			}
			b.WriteString(cell)
			if i < len(header)-1 {
				b.WriteString(strings.Repeat(" ", widths[i]-displayWidth(cell)+2))
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
	line(header)
	for _, r := range rows {
		line(r)
	}
}

// printFields writes "label: value" lines aligned on the colon, skipping
// empty values.
func printFields(w io.Writer, fields [][2]string) {
	width := 0
	for _, f := range fields {
		if f[1] != "" {
			width = max(width, displayWidth(f[0]))
		}
	}
	for _, f := range fields {
		if f[1] == "" {
			continue
		}
		fmt.Fprintf(w, "%s:%s %s\n", f[0], strings.Repeat(" ", width-displayWidth(f[0])), f[1])
	}
}

// isTerminal reports whether w is a terminal (a character device).
func isTerminal(w io.Writer) bool {
	f, ok := rawWriter(w).(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
