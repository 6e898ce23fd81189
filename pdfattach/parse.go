package pdfattach

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strconv"
)

// ref is an indirect reference "n g R".
type ref struct{ num, gen int }

// name is a name object (/Name), without the slash.
type name string

// dict is a dictionary object.
type dict = map[name]any

// maxDepth bounds the nesting of arrays and dictionaries.
const maxDepth = 32

// parser reads PDF objects (ISO 32000-1 section 7.3) from b at i.
type parser struct {
	b []byte
	i int
}

func (p *parser) hasPrefix(s string) bool { return bytes.HasPrefix(p.b[p.i:], []byte(s)) }

func isPDFSpace(c byte) bool {
	return c == 0 || c == '\t' || c == '\n' || c == '\f' || c == '\r' || c == ' '
}

func isPDFDelim(c byte) bool {
	switch c {
	case '(', ')', '<', '>', '[', ']', '{', '}', '/', '%':
		return true
	}
	return false
}

// skipSpace skips white space and comments.
func (p *parser) skipSpace() {
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case isPDFSpace(c):
			p.i++
		case c == '%':
			for p.i < len(p.b) && p.b[p.i] != '\n' && p.b[p.i] != '\r' {
				p.i++
			}
		default:
			return
		}
	}
}

// nextObjHeader advances past the next "n g obj" and returns n and the
// offset of its "obj".
func (p *parser) nextObjHeader() (num, at int, ok bool) {
	for {
		j := bytes.Index(p.b[p.i:], []byte("obj"))
		if j < 0 {
			p.i = len(p.b)
			return 0, 0, false
		}
		at := p.i + j
		p.i = at + 3
		if p.i < len(p.b) && !isPDFSpace(p.b[p.i]) && !isPDFDelim(p.b[p.i]) {
			continue
		}
		// Walk back over "n g ".
		k := at
		back := func() (int, bool) {
			e := k
			// A bounded walk: a run of blanks before every "obj" must not
			// make the scan quadratic.
			for k > 0 && e-k < 64 && isPDFSpace(p.b[k-1]) {
				k--
			}
			if k == e {
				return 0, false
			}
			e = k
			for k > 0 && p.b[k-1] >= '0' && p.b[k-1] <= '9' {
				k--
			}
			if k == e || e-k > 10 {
				return 0, false
			}
			n, err := strconv.Atoi(string(p.b[k:e]))
			return n, err == nil
		}
		if _, ok := back(); !ok {
			continue
		}
		num, ok := back()
		if !ok || (k > 0 && !isPDFSpace(p.b[k-1]) && !isPDFDelim(p.b[k-1])) {
			continue
		}
		return num, at, true
	}
}

var errSyntax = errors.New("pdf syntax")

// value reads one object: dictionary, array, name, string, number,
// reference, boolean or null.
func (p *parser) value(depth int) (any, error) {
	if depth > maxDepth {
		return nil, errSyntax
	}
	p.skipSpace()
	if p.i >= len(p.b) {
		return nil, errSyntax
	}
	switch c := p.b[p.i]; {
	case p.hasPrefix("<<"):
		p.i += 2
		d := dict{}
		for {
			p.skipSpace()
			if p.hasPrefix(">>") {
				p.i += 2
				return d, nil
			}
			k, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			key, ok := k.(name)
			if !ok {
				return nil, errSyntax
			}
			v, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			d[key] = v
		}
	case c == '<':
		end := bytes.IndexByte(p.b[p.i:], '>')
		if end < 0 {
			return nil, errSyntax
		}
		hexText := bytes.Map(func(r rune) rune {
			if isPDFSpace(byte(r)) {
				return -1
			}
			return r
		}, p.b[p.i+1:p.i+end])
		p.i += end + 1
		if len(hexText)%2 == 1 {
			hexText = append(hexText, '0')
		}
		out, err := hex.DecodeString(string(hexText))
		if err != nil {
			return nil, errSyntax
		}
		return out, nil
	case c == '(':
		return p.literal()
	case c == '[':
		p.i++
		var arr []any
		for {
			p.skipSpace()
			if p.hasPrefix("]") {
				p.i++
				return arr, nil
			}
			v, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			arr = append(arr, v)
		}
	case c == '/':
		p.i++
		var n []byte
		for p.i < len(p.b) && !isPDFSpace(p.b[p.i]) && !isPDFDelim(p.b[p.i]) {
			if p.b[p.i] == '#' && p.i+2 < len(p.b) {
				if v, err := strconv.ParseUint(string(p.b[p.i+1:p.i+3]), 16, 8); err == nil {
					n = append(n, byte(v))
					p.i += 3
					continue
				}
			}
			n = append(n, p.b[p.i])
			p.i++
		}
		return name(n), nil
	case c >= '0' && c <= '9' || c == '-' || c == '+' || c == '.':
		return p.number()
	default:
		start := p.i
		for p.i < len(p.b) && !isPDFSpace(p.b[p.i]) && !isPDFDelim(p.b[p.i]) {
			p.i++
		}
		switch string(p.b[start:p.i]) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		case "null":
			return nil, nil
		}
		return nil, errSyntax
	}
}

// number reads an integer, a real, or an "n g R" reference.
func (p *parser) number() (any, error) {
	start := p.i
	for p.i < len(p.b) && (p.b[p.i] >= '0' && p.b[p.i] <= '9' || p.b[p.i] == '.' || p.b[p.i] == '-' || p.b[p.i] == '+') {
		p.i++
	}
	n, ok := atoi(p.b[start:p.i])
	if !ok {
		f, err := strconv.ParseFloat(string(p.b[start:p.i]), 64)
		if err != nil {
			return nil, errSyntax
		}
		return f, nil
	}
	// Look ahead for "g R", without allocating: numbers are most of what
	// a large PDF holds.
	save := p.i
	p.skipSpace()
	g := p.i
	for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
		p.i++
	}
	if gen, ok := atoi(p.b[g:p.i]); ok && n >= 0 {
		p.skipSpace()
		if p.i < len(p.b) && p.b[p.i] == 'R' && (p.i+1 == len(p.b) || isPDFSpace(p.b[p.i+1]) || isPDFDelim(p.b[p.i+1])) {
			p.i++
			return ref{num: n, gen: gen}, nil
		}
	}
	p.i = save
	return n, nil
}

// atoi reads a decimal integer of at most 18 digits with an optional sign.
func atoi(b []byte) (int, bool) {
	neg := false
	if len(b) > 0 && (b[0] == '-' || b[0] == '+') {
		neg = b[0] == '-'
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

// literal reads a (string) with its escapes and balanced parentheses.
func (p *parser) literal() (any, error) {
	p.i++ // (
	var out []byte
	depth := 1
	for p.i < len(p.b) {
		c := p.b[p.i]
		p.i++
		switch c {
		case '(':
			depth++
			out = append(out, c)
		case ')':
			depth--
			if depth == 0 {
				return out, nil
			}
			out = append(out, c)
		case '\\':
			if p.i >= len(p.b) {
				return nil, errSyntax
			}
			e := p.b[p.i]
			p.i++
			switch e {
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case '\r':
				if p.i < len(p.b) && p.b[p.i] == '\n' {
					p.i++
				}
			case '\n':
			default:
				if e >= '0' && e <= '7' {
					v := int(e - '0')
					for k := 0; k < 2 && p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '7'; k++ {
						v = v*8 + int(p.b[p.i]-'0')
						p.i++
					}
					out = append(out, byte(v))
				} else {
					out = append(out, e)
				}
			}
		default:
			out = append(out, c)
		}
	}
	return nil, errSyntax
}
