package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/certd/certd/cert"
)

// checkUTF8 refuses a request body that is not UTF-8 (RFC 8259 section
// 8.1). encoding/json would turn every bad byte into U+FFFD, so a body in
// GBK would be signed as garbage. The error is a ValidationError naming
// the field whose text holds the first bad byte ("organization.name",
// "certificates[2].scope"), or "(body)" when it lies outside a value.
func checkUTF8(body []byte) error {
	if utf8.Valid(body) {
		return nil
	}
	off := 0
	for off < len(body) {
		r, size := utf8.DecodeRune(body[off:])
		if r == utf8.RuneError && size == 1 {
			break
		}
		off += size
	}
	return cert.Invalid(jsonPathAt(body, off),
		fmt.Sprintf("must be valid UTF-8: byte 0x%02X at offset %d of the body is not (send the body in UTF-8, not GBK or another encoding)", body[off], off))
}

// jsonPathAt returns the path, in the field names of validation errors, of
// the JSON value that the byte at off belongs to: "a.b", "items[2].c", or
// "(body)" when it belongs to none.
func jsonPathAt(body []byte, off int) string {
	type frame struct {
		object  bool
		key     string
		index   int
		wantKey bool // in an object, before the next member's name
	}
	var stack []frame
	next := func() { // a value of the innermost container is complete
		if n := len(stack); n > 0 {
			if stack[n-1].object {
				stack[n-1].wantKey = true
			} else {
				stack[n-1].index++
			}
		}
	}
	dec := json.NewDecoder(bytes.NewReader(body[:off]))
	for {
		tok, err := dec.Token()
		if err != nil {
			break // the end of the prefix: the bad byte is next
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			stack = append(stack, frame{object: tok == json.Delim('{'), wantKey: true})
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
			next()
			continue
		}
		if n := len(stack); n > 0 && stack[n-1].object && stack[n-1].wantKey {
			stack[n-1].key, _ = tok.(string)
			stack[n-1].wantKey = false
			continue
		}
		next()
	}
	path := ""
	for _, f := range stack {
		switch {
		case f.object && f.wantKey:
			// In a member's name: the path of the object itself.
		case f.object:
			if path != "" {
				path += "."
			}
			path += f.key
		default:
			path += "[" + strconv.Itoa(f.index) + "]"
		}
	}
	if path == "" {
		return "(body)"
	}
	return path
}
