package main

import (
	"bytes"
	"compress/zlib"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf16"
)

// A certd certificate PDF carries its signed credential as a document
// attachment named credential.jwt: a /Filespec dictionary whose /UF (or
// /F) is the name and whose /EF /F refers to an /EmbeddedFile stream,
// FlateDecode-compressed, with /Params /Size and /CheckSum (MD5). This
// file reads just that: it walks the objects of the file (never the inside
// of a stream whose /Length it knows), finds the named file specification
// and decodes its stream. It does not render or trust anything else of the
// PDF: the credential's signature decides.

// credentialAttachment is the attachment name certd gives the credential.
const credentialAttachment = "credential.jwt"

// maxAttachment bounds a decoded attachment (a credential is at most 16 KiB).
const maxAttachment = 1 << 20

// pdfAttachment is one embedded file.
type pdfAttachment struct {
	data []byte
	// checksumOK is false when the stream declares an MD5 /CheckSum or a
	// /Size that the content does not match: the file was changed after it
	// was made.
	checksumOK bool
}

// pdfRef is an indirect reference "n g R".
type pdfRef struct{ num, gen int }

// pdfName is a name object (/Name), without the slash.
type pdfName string

// pdfObject is an indirect object: its value and, for a stream, its raw
// (still encoded) data.
type pdfObject struct {
	value  any
	stream []byte
	// streamAt is the offset of the stream data when its length was not
	// known while scanning (an indirect /Length).
	streamAt int
}

// extractAttachment returns the embedded file called name.
func extractAttachment(pdf []byte, name string) (*pdfAttachment, error) {
	if i := bytes.Index(pdf, []byte("%PDF-")); i < 0 || i > 1024 {
		return nil, errors.New("not a PDF file")
	}
	objs := scanObjects(pdf)
	var specs []map[pdfName]any
	for _, o := range objs {
		d, ok := o.value.(map[pdfName]any)
		if !ok {
			continue
		}
		if _, ok := d["EF"]; ok {
			specs = append(specs, d)
		}
	}
	if len(specs) == 0 {
		return nil, errors.New("the PDF has no attached files (a certificate PDF of certd attaches credential.jwt)")
	}
	var names []string
	for _, spec := range specs {
		fname := ""
		for _, k := range []pdfName{"UF", "F"} {
			if s, ok := spec[k].([]byte); ok && len(s) > 0 {
				fname = pdfText(s)
				break
			}
		}
		names = append(names, fname)
		if fname != name {
			continue
		}
		ef, _ := resolve(objs, spec["EF"]).(map[pdfName]any)
		ref, ok := ef["F"].(pdfRef)
		if !ok {
			ref, ok = ef["UF"].(pdfRef)
		}
		if !ok {
			return nil, fmt.Errorf("attachment %s: no embedded file stream", name)
		}
		return embeddedFile(pdf, objs, ref)
	}
	return nil, fmt.Errorf("the PDF has no attachment named %s (attachments: %q)", name, names)
}

// embeddedFile decodes the stream object ref.
func embeddedFile(pdf []byte, objs map[int]*pdfObject, ref pdfRef) (*pdfAttachment, error) {
	o := objs[ref.num]
	if o == nil {
		return nil, fmt.Errorf("embedded file object %d is missing", ref.num)
	}
	dict, ok := o.value.(map[pdfName]any)
	if !ok {
		return nil, fmt.Errorf("embedded file object %d is not a stream", ref.num)
	}
	raw := o.stream
	if raw == nil {
		n, ok := resolve(objs, dict["Length"]).(int)
		if !ok || o.streamAt < 0 || n < 0 || o.streamAt+n > len(pdf) {
			return nil, fmt.Errorf("embedded file object %d: bad stream length", ref.num)
		}
		raw = pdf[o.streamAt : o.streamAt+n]
	}
	var filters []pdfName
	switch f := resolve(objs, dict["Filter"]).(type) {
	case nil:
	case pdfName:
		filters = []pdfName{f}
	case []any:
		for _, x := range f {
			n, _ := x.(pdfName)
			filters = append(filters, n)
		}
	}
	if dict["DecodeParms"] != nil && len(filters) > 0 {
		return nil, errors.New("embedded file: stream predictors are not supported")
	}
	data := raw
	for _, f := range filters {
		if f != "FlateDecode" {
			return nil, fmt.Errorf("embedded file: filter /%s is not supported", f)
		}
		zr, err := zlib.NewReader(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("embedded file: %v", err)
		}
		out, err := io.ReadAll(io.LimitReader(zr, maxAttachment+1))
		if err != nil {
			return nil, fmt.Errorf("embedded file: %v", err)
		}
		if len(out) > maxAttachment {
			return nil, errors.New("embedded file: larger than a credential can be")
		}
		data = out
	}
	att := &pdfAttachment{data: data, checksumOK: true}
	if params, ok := resolve(objs, dict["Params"]).(map[pdfName]any); ok {
		if size, ok := params["Size"].(int); ok && size != len(data) {
			att.checksumOK = false
		}
		if sum, ok := params["CheckSum"].([]byte); ok {
			got := md5.Sum(data)
			if !bytes.Equal(sum, got[:]) {
				att.checksumOK = false
			}
		}
	}
	return att, nil
}

// resolve follows an indirect reference (one level is all certd's PDFs use).
func resolve(objs map[int]*pdfObject, v any) any {
	for range 8 {
		r, ok := v.(pdfRef)
		if !ok {
			return v
		}
		o := objs[r.num]
		if o == nil {
			return nil
		}
		v = o.value
	}
	return nil
}

// pdfText decodes a PDF text string: UTF-16BE with a byte order mark, or
// PDFDocEncoding (read as Latin-1, which agrees on what names use).
func pdfText(b []byte) string {
	if len(b) >= 2 && b[0] == 0xfe && b[1] == 0xff {
		u := make([]uint16, 0, (len(b)-2)/2)
		for i := 2; i+1 < len(b); i += 2 {
			u = append(u, uint16(b[i])<<8|uint16(b[i+1]))
		}
		return string(utf16.Decode(u))
	}
	r := make([]rune, len(b))
	for i, c := range b {
		r[i] = rune(c)
	}
	return string(r)
}

// scanObjects reads every "n g obj ... endobj" of the file in order; a
// later definition of a number replaces an earlier one, as incremental
// updates do. Streams with a direct /Length are skipped over, so their
// content is never mistaken for objects.
func scanObjects(pdf []byte) map[int]*pdfObject {
	objs := map[int]*pdfObject{}
	p := &pdfParser{b: pdf}
	for p.i < len(pdf) {
		num, ok := p.nextObjHeader()
		if !ok {
			break
		}
		v, err := p.value(0)
		if err != nil {
			continue
		}
		o := &pdfObject{value: v, streamAt: -1}
		p.skipSpace()
		if p.hasPrefix("stream") {
			p.i += len("stream")
			if p.hasPrefix("\r\n") {
				p.i += 2
			} else if p.hasPrefix("\n") || p.hasPrefix("\r") {
				p.i++
			}
			start := p.i
			n := -1
			if d, ok := v.(map[pdfName]any); ok {
				if l, ok := d["Length"].(int); ok {
					n = l
				}
			}
			if n >= 0 && start+n <= len(pdf) && bytes.HasPrefix(bytes.TrimLeft(pdf[start+n:], "\r\n \t"), []byte("endstream")) {
				o.stream = pdf[start : start+n]
				p.i = start + n
			} else {
				o.streamAt = start
				end := bytes.Index(pdf[start:], []byte("endstream"))
				if end < 0 {
					objs[num] = o
					break
				}
				p.i = start + end
			}
		}
		objs[num] = o
	}
	return objs
}

// pdfParser reads PDF objects (ISO 32000-1 section 7.3) from b at i.
type pdfParser struct {
	b []byte
	i int
}

func (p *pdfParser) hasPrefix(s string) bool { return bytes.HasPrefix(p.b[p.i:], []byte(s)) }

func isPDFSpace(c byte) bool {
	return c == 0 || c == '\t' || c == '\n' || c == '\f' || c == '\r' || c == ' '
}

func isPDFDelim(c byte) bool {
	return bytes.IndexByte([]byte("()<>[]{}/%"), c) >= 0
}

// skipSpace skips white space and comments.
func (p *pdfParser) skipSpace() {
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

// nextObjHeader advances past the next "n g obj" and returns n.
func (p *pdfParser) nextObjHeader() (int, bool) {
	for {
		j := bytes.Index(p.b[p.i:], []byte("obj"))
		if j < 0 {
			p.i = len(p.b)
			return 0, false
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
			for k > 0 && isPDFSpace(p.b[k-1]) {
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
		return num, true
	}
}

var errPDFSyntax = errors.New("pdf syntax")

// value reads one object: dictionary, array, name, string, number,
// reference, boolean or null.
func (p *pdfParser) value(depth int) (any, error) {
	if depth > 32 {
		return nil, errPDFSyntax
	}
	p.skipSpace()
	if p.i >= len(p.b) {
		return nil, errPDFSyntax
	}
	switch c := p.b[p.i]; {
	case p.hasPrefix("<<"):
		p.i += 2
		d := map[pdfName]any{}
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
			name, ok := k.(pdfName)
			if !ok {
				return nil, errPDFSyntax
			}
			v, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			d[name] = v
		}
	case c == '<':
		end := bytes.IndexByte(p.b[p.i:], '>')
		if end < 0 {
			return nil, errPDFSyntax
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
			return nil, errPDFSyntax
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
		var name []byte
		for p.i < len(p.b) && !isPDFSpace(p.b[p.i]) && !isPDFDelim(p.b[p.i]) {
			if p.b[p.i] == '#' && p.i+2 < len(p.b) {
				if v, err := strconv.ParseUint(string(p.b[p.i+1:p.i+3]), 16, 8); err == nil {
					name = append(name, byte(v))
					p.i += 3
					continue
				}
			}
			name = append(name, p.b[p.i])
			p.i++
		}
		return pdfName(name), nil
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
		return nil, errPDFSyntax
	}
}

// number reads an integer, a real, or an "n g R" reference.
func (p *pdfParser) number() (any, error) {
	tok := func() string {
		start := p.i
		for p.i < len(p.b) && (p.b[p.i] >= '0' && p.b[p.i] <= '9' || p.b[p.i] == '.' || p.b[p.i] == '-' || p.b[p.i] == '+') {
			p.i++
		}
		return string(p.b[start:p.i])
	}
	first := tok()
	n, err := strconv.Atoi(first)
	if err != nil {
		f, ferr := strconv.ParseFloat(first, 64)
		if ferr != nil {
			return nil, errPDFSyntax
		}
		return f, nil
	}
	// Look ahead for "g R".
	save := p.i
	p.skipSpace()
	gen, err := strconv.Atoi(tok())
	if err == nil && n >= 0 && gen >= 0 {
		p.skipSpace()
		if p.hasPrefix("R") && (p.i+1 == len(p.b) || isPDFSpace(p.b[p.i+1]) || isPDFDelim(p.b[p.i+1])) {
			p.i++
			return pdfRef{num: n, gen: gen}, nil
		}
	}
	p.i = save
	return n, nil
}

// literal reads a (string) with its escapes and balanced parentheses.
func (p *pdfParser) literal() (any, error) {
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
				return nil, errPDFSyntax
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
	return nil, errPDFSyntax
}
