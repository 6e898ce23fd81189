package keys

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
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

// strictFrame is one open object or array of checkStrict.
type strictFrame struct {
	object bool
	names  map[string]bool
	// typ is the Go type the object or array is read into, nil when it is
	// not read (an unknown member, json.RawMessage, any).
	typ reflect.Type
	// next is the type of the value that follows the member name just read.
	next reflect.Type
}

// checkStrict walks the JSON document b, read into a value of type t, and
// applies the rules of UnmarshalStrict. With onlyKnown, a top-level member
// that t has no field for is refused too.
func checkStrict(b []byte, t reflect.Type, onlyKnown bool) error {
	bad := errors.New("not a JSON object")
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return bad
	}
	stack := []*strictFrame{{object: true, names: map[string]bool{}, typ: readType(t)}}
	for len(stack) > 0 {
		top := stack[len(stack)-1]
		tok, err := dec.Token()
		if err != nil {
			return bad
		}
		if top.object {
			if tok == json.Delim('}') {
				stack = stack[:len(stack)-1]
				continue
			}
			name, _ := tok.(string)
			if top.names[name] {
				return fmt.Errorf("member %q appears twice", truncate(name, 20))
			}
			top.names[name] = true
			next, err := memberType(top.typ, name, onlyKnown && len(stack) == 1)
			if err != nil {
				return err
			}
			if tok, err = dec.Token(); err != nil {
				return bad
			}
			top.next = next
		} else if tok == json.Delim(']') {
			stack = stack[:len(stack)-1]
			continue
		} else {
			top.next = elemType(top.typ)
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			if len(stack) >= maxStrictDepth {
				return fmt.Errorf("nested more than %d levels deep", maxStrictDepth)
			}
			stack = append(stack, &strictFrame{object: tok == json.Delim('{'), names: map[string]bool{}, typ: readType(top.next)})
		}
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("data after the JSON object")
	}
	return nil
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

// field finds the field of struct t (embedded structs included) that
// encoding/json reads the member name into: the exact JSON name first, else
// one equal under case folding. spelt is the field's JSON name.
func field(t reflect.Type, name string) (ft reflect.Type, spelt string, ok bool) {
	var fold reflect.Type
	var foldName string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		jn, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && jn == "" && f.Type.Kind() == reflect.Struct {
			if et, s, ok := field(f.Type, name); ok {
				if s == name {
					return et, s, true
				}
				if fold == nil {
					fold, foldName = et, s
				}
			}
			continue
		}
		if !f.IsExported() {
			continue
		}
		if jn == "" {
			jn = f.Name
		}
		if jn == name {
			return f.Type, jn, true
		}
		if fold == nil && strings.EqualFold(jn, name) {
			fold, foldName = f.Type, jn
		}
	}
	if fold != nil {
		return fold, foldName, true
	}
	return nil, "", false
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
