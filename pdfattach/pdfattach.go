package pdfattach

import (
	"bytes"
	"cmp"
	"compress/zlib"
	"crypto/md5"
	"errors"
	"fmt"
	"io"
	"slices"
	"unicode/utf16"
)

// Limits of what is read from one PDF.
const (
	// MaxAttachment bounds a decoded attachment (a credential is at most
	// 16 KiB).
	MaxAttachment = 1 << 20
	// maxInflated bounds the bytes inflated from all the streams of one
	// file together (object streams and the attachment).
	maxInflated = 32 << 20
	// maxObjects bounds the objects read, object streams included.
	maxObjects = 1 << 20
	// maxParsed bounds the bytes parsed for the objects of object
	// streams together.
	maxParsed = 16 << 20
	// maxTreeDepth bounds the nesting of the name tree.
	maxTreeDepth = 16
)

// Errors of Extract; callers compare with errors.Is.
var (
	// ErrNotPDF: the input does not start like a PDF file.
	ErrNotPDF = errors.New("not a PDF file")
	// ErrNoAttachment: the PDF has no embedded file of the name asked for.
	ErrNoAttachment = errors.New("no such attachment")
	// ErrUnreadable: the attachment exists but cannot be decoded (an
	// unsupported filter, a broken stream, a size beyond the limits).
	ErrUnreadable = errors.New("attachment unreadable")
)

// failed is an error of one of the kinds above, with its own message.
type failed struct {
	kind error
	msg  string
}

func (e *failed) Error() string { return e.msg }
func (e *failed) Unwrap() error { return e.kind }

func failure(kind error, format string, args ...any) error {
	return &failed{kind: kind, msg: fmt.Sprintf(format, args...)}
}

// Attachment is one embedded file.
type Attachment struct {
	Data []byte
	// ChecksumOK is false when the stream declares an MD5 /CheckSum or a
	// /Size that the content does not match: the file was changed after
	// it was made.
	ChecksumOK bool
}

// object is an indirect object: its value and, for a stream, its raw
// (still encoded) data.
type object struct {
	value any
	// pos orders definitions: the offset of the object, or of the object
	// stream that holds it. The last definition of a number wins, as with
	// incremental updates.
	pos    int
	stream []byte
	// streamAt is the offset of the stream data when its length was not
	// known while scanning (an indirect /Length), else -1.
	streamAt int
}

// file is a PDF being read.
type file struct {
	b    []byte
	objs map[int]*object
	// inflated counts the bytes inflated so far, against maxInflated.
	inflated int
}

// Extract returns the embedded file called name.
func Extract(pdf []byte, name string) (*Attachment, error) {
	if i := bytes.Index(pdf, []byte("%PDF-")); i < 0 || i > 1024 {
		return nil, ErrNotPDF
	}
	f := &file{b: pdf, objs: map[int]*object{}}
	f.scan()
	f.expandObjectStreams()

	spec, names := f.fromNameTree(name)
	if spec == nil {
		spec, names = f.fromAnySpec(name)
	}
	if spec == nil {
		if len(names) == 0 {
			return nil, failure(ErrNoAttachment, "the PDF has no attached files (a certificate PDF of certd attaches %s)", CredentialName)
		}
		return nil, failure(ErrNoAttachment, "the PDF has no attachment named %s (attachments: %q)", name, names)
	}
	ef, _ := f.resolve(spec["EF"]).(dict)
	r, ok := ef["F"].(ref)
	if !ok {
		r, ok = ef["UF"].(ref)
	}
	if !ok {
		return nil, failure(ErrUnreadable, "attachment %s has no embedded file stream", name)
	}
	return f.embeddedFile(r)
}

// specName is the file name of a file specification: /UF, else /F.
func specName(spec dict) string {
	for _, k := range []name{"UF", "F"} {
		if s, ok := spec[k].([]byte); ok && len(s) > 0 {
			return text(s)
		}
	}
	return ""
}

// root is the document catalog of the last revision: the /Root of the
// trailer (or cross-reference stream) that comes last in the file.
func (f *file) root() dict {
	var trailer dict
	if i := bytes.LastIndex(f.b, []byte("trailer")); i >= 0 {
		p := &parser{b: f.b, i: i + len("trailer")}
		if v, err := p.value(0); err == nil {
			trailer, _ = v.(dict)
		}
		// A trailer after the last cross-reference stream is the one
		// that counts; one before it belongs to an older revision.
		for _, o := range f.objs {
			if d, ok := o.value.(dict); ok && d["Type"] == name("XRef") && o.pos > i {
				trailer = nil
				break
			}
		}
	}
	if trailer == nil {
		last := -1
		for _, o := range f.objs {
			if d, ok := o.value.(dict); ok && d["Type"] == name("XRef") && o.pos > last {
				trailer, last = d, o.pos
			}
		}
	}
	r, _ := f.resolve(trailer["Root"]).(dict)
	return r
}

// fromNameTree finds the file specification called want in the catalog's
// /Names /EmbeddedFiles tree, and lists the names it holds.
func (f *file) fromNameTree(want string) (dict, []string) {
	names, _ := f.resolve(f.root()["Names"]).(dict)
	tree, _ := f.resolve(names["EmbeddedFiles"]).(dict)
	if tree == nil {
		return nil, nil
	}
	var found dict
	var all []string
	visits := 0
	var walk func(node dict, depth int)
	walk = func(node dict, depth int) {
		visits++
		if depth > maxTreeDepth || visits > 4096 || found != nil {
			return
		}
		pairs, _ := f.resolve(node["Names"]).([]any)
		for i := 0; i+1 < len(pairs); i += 2 {
			spec, ok := f.resolve(pairs[i+1]).(dict)
			if !ok {
				continue
			}
			n := specName(spec)
			if n == "" {
				if key, ok := f.resolve(pairs[i]).([]byte); ok {
					n = text(key)
				}
			}
			all = append(all, n)
			if n == want {
				found = spec
				return
			}
		}
		kids, _ := f.resolve(node["Kids"]).([]any)
		for _, k := range kids {
			if kid, ok := f.resolve(k).(dict); ok {
				walk(kid, depth+1)
			}
		}
	}
	walk(tree, 0)
	return found, all
}

// fromAnySpec finds the file specification called want among all the
// objects, the last defined first: the fallback for a PDF whose catalog
// cannot be followed.
func (f *file) fromAnySpec(want string) (dict, []string) {
	type spec struct {
		d   dict
		pos int
	}
	var specs []spec
	for _, o := range f.objs {
		if d, ok := o.value.(dict); ok && d["EF"] != nil {
			specs = append(specs, spec{d, o.pos})
		}
	}
	slices.SortFunc(specs, func(a, b spec) int { return cmp.Compare(b.pos, a.pos) })
	var names []string
	for _, s := range specs {
		n := specName(s.d)
		if n == want {
			return s.d, nil
		}
		names = append(names, n)
	}
	return nil, names
}

// embeddedFile decodes the stream object r.
func (f *file) embeddedFile(r ref) (*Attachment, error) {
	o := f.objs[r.num]
	if o == nil {
		return nil, failure(ErrUnreadable, "embedded file object %d is missing", r.num)
	}
	d, ok := o.value.(dict)
	if !ok {
		return nil, failure(ErrUnreadable, "embedded file object %d is not a stream", r.num)
	}
	data, err := f.streamData(o, MaxAttachment)
	if err != nil {
		return nil, failure(ErrUnreadable, "embedded file: %v", err)
	}
	att := &Attachment{Data: data, ChecksumOK: true}
	if params, ok := f.resolve(d["Params"]).(dict); ok {
		if size, ok := f.resolve(params["Size"]).(int); ok && size != len(data) {
			att.ChecksumOK = false
		}
		if sum, ok := f.resolve(params["CheckSum"]).([]byte); ok {
			got := md5.Sum(data)
			if !bytes.Equal(sum, got[:]) {
				att.ChecksumOK = false
			}
		}
	}
	return att, nil
}

// streamData returns the decoded data of stream object o, at most limit
// bytes.
func (f *file) streamData(o *object, limit int) ([]byte, error) {
	d, _ := o.value.(dict)
	raw := o.stream
	if raw == nil {
		n, ok := f.resolve(d["Length"]).(int)
		if !ok || o.streamAt < 0 || n < 0 || n > len(f.b)-o.streamAt {
			return nil, errors.New("bad stream length")
		}
		raw = f.b[o.streamAt : o.streamAt+n]
	}
	var filters []any
	switch v := f.resolve(d["Filter"]).(type) {
	case nil:
	case name:
		filters = []any{v}
	case []any:
		filters = v
	default:
		return nil, errors.New("bad /Filter")
	}
	var parms []any
	switch v := f.resolve(d["DecodeParms"]).(type) {
	case nil:
	case dict:
		parms = []any{v}
	case []any:
		parms = v
	}
	if len(filters) > 2 {
		return nil, errors.New("too many filters")
	}
	data := raw
	if len(filters) == 0 && len(data) > limit {
		return nil, fmt.Errorf("larger than %d bytes", limit)
	}
	for i, fl := range filters {
		if fl != name("FlateDecode") {
			return nil, fmt.Errorf("filter %v is not supported", fl)
		}
		out, err := f.inflate(data, limit)
		if err != nil {
			return nil, err
		}
		if i < len(parms) {
			if p, ok := f.resolve(parms[i]).(dict); ok {
				if out, err = f.unpredict(out, p); err != nil {
					return nil, err
				}
			}
		}
		data = out
	}
	return data, nil
}

// inflate decompresses zlib data, at most limit bytes and within what is
// left of the file's budget: a small stream that inflates to gigabytes is
// cut off, never read to its end.
func (f *file) inflate(data []byte, limit int) ([]byte, error) {
	limit = min(limit, maxInflated-f.inflated)
	if limit <= 0 {
		return nil, errors.New("too much compressed data")
	}
	zr, err := zlib.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("flate: %v", err)
	}
	out, err := io.ReadAll(io.LimitReader(zr, int64(limit)+1))
	f.inflated += len(out)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, fmt.Errorf("flate: %v", err)
	}
	if err != nil && len(out) == 0 {
		return nil, fmt.Errorf("flate: %v", err)
	}
	if len(out) > limit {
		return nil, fmt.Errorf("larger than %d bytes", limit)
	}
	return out, nil
}

// unpredict undoes a PNG predictor (/Predictor 10-15), as writers use on
// cross-reference and object streams. TIFF predictor 2 is not supported.
func (f *file) unpredict(data []byte, p dict) ([]byte, error) {
	pred, _ := f.resolve(p["Predictor"]).(int)
	if pred <= 1 {
		return data, nil
	}
	if pred < 10 || pred > 15 {
		return nil, fmt.Errorf("predictor %d is not supported", pred)
	}
	param := func(k name, def int) int {
		if v, ok := f.resolve(p[k]).(int); ok {
			return v
		}
		return def
	}
	colors, bpc, columns := param("Colors", 1), param("BitsPerComponent", 8), param("Columns", 1)
	if colors < 1 || colors > 32 || bpc < 1 || bpc > 16 || columns < 1 || columns > 1<<20 {
		return nil, errors.New("bad predictor parameters")
	}
	bpp := max(1, (colors*bpc+7)/8)
	row := (colors*bpc*columns + 7) / 8
	out := make([]byte, 0, len(data))
	prev := make([]byte, row)
	for len(data) > 0 {
		if len(data) < row+1 {
			return nil, errors.New("short predictor row")
		}
		kind, cur := data[0], bytes.Clone(data[1:row+1])
		data = data[row+1:]
		for i := range cur {
			var left, up, upLeft byte
			if i >= bpp {
				left, upLeft = cur[i-bpp], prev[i-bpp]
			}
			up = prev[i]
			switch kind {
			case 0:
			case 1:
				cur[i] += left
			case 2:
				cur[i] += up
			case 3:
				cur[i] += byte((int(left) + int(up)) / 2)
			case 4:
				cur[i] += paeth(left, up, upLeft)
			default:
				return nil, fmt.Errorf("bad PNG filter type %d", kind)
			}
		}
		out = append(out, cur...)
		prev = cur
	}
	return out, nil
}

func paeth(a, b, c byte) byte {
	p := int(a) + int(b) - int(c)
	pa, pb, pc := abs(p-int(a)), abs(p-int(b)), abs(p-int(c))
	switch {
	case pa <= pb && pa <= pc:
		return a
	case pb <= pc:
		return b
	}
	return c
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// resolve follows indirect references, a bounded number of times.
func (f *file) resolve(v any) any {
	for range 8 {
		r, ok := v.(ref)
		if !ok {
			return v
		}
		o := f.objs[r.num]
		if o == nil {
			return nil
		}
		v = o.value
	}
	return nil
}

// text decodes a PDF text string: UTF-16BE with a byte order mark, or
// PDFDocEncoding (read as Latin-1, which agrees on what names use).
func text(b []byte) string {
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

// CredentialName is the name of the attachment that carries a
// certificate's signed credential in certd's PDFs (templates writes it
// under the same name).
const CredentialName = "credential.jwt"

// Credential returns the credential attached to a certificate PDF, with
// surrounding white space removed.
func Credential(pdf []byte) (token string, checksumOK bool, err error) {
	att, err := Extract(pdf, CredentialName)
	if err != nil {
		return "", false, err
	}
	return string(bytes.TrimSpace(att.Data)), att.ChecksumOK, nil
}
