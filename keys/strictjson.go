package keys

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"
)

// maxStrictDepth bounds the nesting of a strictly read JSON document; a
// credential nests four levels deep.
const maxStrictDepth = 32

// UnmarshalStrict decodes the JSON object b into v, a pointer to a struct,
// as encoding/json does, after checking what encoding/json lets through:
// every member name in every object, at any depth, appears once; a member
// that v has a field for is spelt exactly as the field's JSON name (one that
// differs only in case, which encoding/json would still match, is refused);
// the object nests at most 32 levels; nothing follows it. Members v has no
// field for are ignored. The error is a short reason a person can read.
//
// It is the one reader of the protected header and of the claims of a
// presented token, so certd and certctl read a token the same way.
func UnmarshalStrict(b []byte, v any) error {
	if err := checkStrict(b, reflect.TypeOf(v), false); err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return fmt.Errorf("member %s must be a %s", truncate(te.Field, 40), jsonKind(te.Type))
		}
		return errors.New("not a JSON object of the expected shape")
	}
	return nil
}

// jsonKind names the JSON kind a Go type is read from.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Bool:
		return "boolean"
	case reflect.Slice, reflect.Array:
		return "array"
	}
	return "object"
}

// errNotObject is the reason for anything that is not one JSON object.
var errNotObject = errors.New("not a JSON object")

// checkStrict checks the JSON document b, read into a value of type t, by
// the rules of UnmarshalStrict. With onlyKnown, a top-level member that t
// has no field for is refused too. It scans b once without decoding it
// (json.Valid has checked the syntax), which keeps the strict read of a
// credential within a few times the cost of encoding/json.
func checkStrict(b []byte, t reflect.Type, onlyKnown bool) error {
	if !json.Valid(b) {
		var first json.RawMessage
		if json.NewDecoder(bytes.NewReader(b)).Decode(&first) == nil && first[0] == '{' {
			return errors.New("data after the JSON object")
		}
		return errNotObject
	}
	w := strictWalker{p: b, onlyKnown: onlyKnown}
	w.i = skipWS(b, 0)
	if w.i >= len(b) || b[w.i] != '{' {
		return errNotObject
	}
	return w.object(readType(t), 1)
}

// strictWalker scans a syntactically valid JSON document.
type strictWalker struct {
	p         []byte
	i         int
	onlyKnown bool
}

// value checks the value at w.i, read into t, at nesting depth.
func (w *strictWalker) value(t reflect.Type, depth int) error {
	w.i = skipWS(w.p, w.i)
	if w.i >= len(w.p) {
		return errNotObject
	}
	switch w.p[w.i] {
	case '{':
		return w.object(readType(t), depth+1)
	case '[':
		return w.array(readType(t), depth+1)
	}
	j := skipValue(w.p, w.i)
	if j < 0 {
		return errNotObject
	}
	w.i = j
	return nil
}

// object checks the object at w.i ('{'), read into t.
func (w *strictWalker) object(t reflect.Type, depth int) error {
	if depth > maxStrictDepth {
		return fmt.Errorf("nested more than %d levels deep", maxStrictDepth)
	}
	var names []string
	w.i = skipWS(w.p, w.i+1)
	if w.i < len(w.p) && w.p[w.i] == '}' {
		w.i++
		return nil
	}
	for {
		if w.i >= len(w.p) || w.p[w.i] != '"' {
			return errNotObject
		}
		end := skipString(w.p, w.i)
		if end < 0 {
			return errNotObject
		}
		raw := w.p[w.i+1 : end-1]
		name := string(raw)
		if bytes.IndexByte(raw, '\\') >= 0 {
			if json.Unmarshal(w.p[w.i:end], &name) != nil {
				return errNotObject
			}
		}
		// encoding/json reads every invalid byte as U+FFFD, which would make
		// different names the same one.
		if !utf8.ValidString(name) {
			return errors.New("a member name is not UTF-8")
		}
		if slices.Contains(names, name) {
			return fmt.Errorf("member %q appears twice", truncate(name, 20))
		}
		names = append(names, name)
		next, err := memberType(t, name, w.onlyKnown && depth == 1)
		if err != nil {
			return err
		}
		w.i = skipWS(w.p, end)
		if w.i >= len(w.p) || w.p[w.i] != ':' {
			return errNotObject
		}
		w.i++
		if err := w.value(next, depth); err != nil {
			return err
		}
		w.i = skipWS(w.p, w.i)
		if w.i >= len(w.p) {
			return errNotObject
		}
		switch w.p[w.i] {
		case ',':
			w.i = skipWS(w.p, w.i+1)
		case '}':
			w.i++
			return nil
		default:
			return errNotObject
		}
	}
}

// array checks the array at w.i ('['), read into t.
func (w *strictWalker) array(t reflect.Type, depth int) error {
	if depth > maxStrictDepth {
		return fmt.Errorf("nested more than %d levels deep", maxStrictDepth)
	}
	w.i = skipWS(w.p, w.i+1)
	if w.i < len(w.p) && w.p[w.i] == ']' {
		w.i++
		return nil
	}
	elem := elemType(t)
	for {
		if err := w.value(elem, depth); err != nil {
			return err
		}
		w.i = skipWS(w.p, w.i)
		if w.i >= len(w.p) {
			return errNotObject
		}
		switch w.p[w.i] {
		case ',':
			w.i++
		case ']':
			w.i++
			return nil
		default:
			return errNotObject
		}
	}
}

var rawMessageType = reflect.TypeFor[json.RawMessage]()

// readType is the struct, map or slice type a JSON value is read into, or
// nil when its members are not read by name.
func readType(t reflect.Type) reflect.Type {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t == rawMessageType {
		return nil
	}
	switch t.Kind() {
	case reflect.Struct, reflect.Map, reflect.Slice, reflect.Array:
		return t
	}
	return nil
}

// elemType is the type of the elements of an array read into t.
func elemType(t reflect.Type) reflect.Type {
	if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
		return t.Elem()
	}
	return nil
}

// memberType is the type the member name of an object read into t is read
// into: the field whose JSON name is exactly name, the element type of a
// map, or nil for a member that is not read. A name that differs from a
// field's only in case is refused, and with onlyKnown so is a name with no
// field.
func memberType(t reflect.Type, name string, onlyKnown bool) (reflect.Type, error) {
	if t == nil {
		return nil, nil
	}
	if t.Kind() == reflect.Map {
		return t.Elem(), nil
	}
	if t.Kind() != reflect.Struct {
		return nil, nil
	}
	if ft, spelt, ok := field(t, name); ok {
		if spelt != name {
			return nil, fmt.Errorf("member %q must be spelt %q", truncate(name, 20), spelt)
		}
		return ft, nil
	}
	if onlyKnown {
		return nil, fmt.Errorf("member %q is not accepted", truncate(name, 20))
	}
	return nil, nil
}

// structFields is what memberType needs of a struct type: the type of each
// JSON name encoding/json reads, embedded structs included, outer names
// first.
type structFields struct {
	byName map[string]reflect.Type
	names  []string
}

// fieldsCache maps a struct type to its *structFields.
var fieldsCache sync.Map

func fieldsOf(t reflect.Type) *structFields {
	if f, ok := fieldsCache.Load(t); ok {
		return f.(*structFields)
	}
	f := &structFields{byName: map[string]reflect.Type{}}
	var add func(t reflect.Type)
	var embedded []reflect.Type
	add = func(t reflect.Type) {
		for i := 0; i < t.NumField(); i++ {
			sf := t.Field(i)
			tag := sf.Tag.Get("json")
			if tag == "-" {
				continue
			}
			jn, _, _ := strings.Cut(tag, ",")
			if sf.Anonymous && jn == "" && sf.Type.Kind() == reflect.Struct {
				embedded = append(embedded, sf.Type)
				continue
			}
			if !sf.IsExported() {
				continue
			}
			if jn == "" {
				jn = sf.Name
			}
			if _, ok := f.byName[jn]; !ok {
				f.byName[jn] = sf.Type
				f.names = append(f.names, jn)
			}
		}
	}
	add(t)
	// Outer fields shadow those of embedded structs, as in encoding/json.
	for len(embedded) > 0 {
		e := embedded[0]
		embedded = embedded[1:]
		add(e)
	}
	fieldsCache.Store(t, f)
	return f
}

// field finds the field of struct t that encoding/json reads the member
// name into: the exact JSON name first, else one equal under case folding.
// spelt is the field's JSON name.
func field(t reflect.Type, name string) (ft reflect.Type, spelt string, ok bool) {
	f := fieldsOf(t)
	if ft, ok := f.byName[name]; ok {
		return ft, name, true
	}
	for _, n := range f.names {
		if strings.EqualFold(n, name) {
			return f.byName[n], n, true
		}
	}
	return nil, "", false
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
