package keys_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/certd/certd/keys"
)

// hasDuplicate reports, with encoding/json's own tokenizer, whether some
// object of b at any depth names a member twice.
func hasDuplicate(b []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(b))
	type frame struct {
		object bool
		names  map[string]bool
		key    bool // the next token of an object is a name
	}
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		if len(stack) > 0 {
			top := stack[len(stack)-1]
			if top.object && top.key {
				if d, ok := tok.(json.Delim); ok && d == '}' {
					stack = stack[:len(stack)-1]
					if len(stack) > 0 && stack[len(stack)-1].object {
						stack[len(stack)-1].key = true
					}
					continue
				}
				name := tok.(string)
				if top.names[name] {
					return true
				}
				top.names[name] = true
				top.key = false
				continue
			}
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &frame{object: true, names: map[string]bool{}, key: true})
			continue
		case json.Delim('['):
			stack = append(stack, &frame{})
			continue
		case json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
		if len(stack) > 0 && stack[len(stack)-1].object {
			stack[len(stack)-1].key = true
		}
	}
}

// FuzzUnmarshalStrict: the strict reader never panics, accepts only what
// encoding/json accepts, and never accepts a document in which
// encoding/json's tokenizer finds a member twice in one object.
func FuzzUnmarshalStrict(f *testing.F) {
	for _, s := range []string{
		`{"alg":"EdDSA","kid":"k","typ":"vc+jwt","cty":"vc"}`,
		`{"alg":"EdDSA","typ":"JWT","typ":"vc+jwt"}`,
		`{"ALG":"EdDSA","TYP":"vc+jwt"}`,
		`{"crit":["exp"],"in":{"name":"a","name":"b"}}`,
		`{"list":[{"name":"n"},{"Name":"m"}],"map":{"k":{"x":1,"x":2}}}`,
		`{"a":"\u0061","\u0061":1}`,
		`{"a":1} {}`,
		`[` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + `]`,
	} {
		f.Add([]byte(s))
	}
	type inner struct {
		Name string `json:"name"`
	}
	type doc struct {
		Alg  *string                    `json:"alg"`
		Typ  *string                    `json:"typ"`
		In   inner                      `json:"in"`
		List []inner                    `json:"list"`
		Map  map[string]json.RawMessage `json:"map"`
		Crit json.RawMessage            `json:"crit"`
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var d doc
		if keys.UnmarshalStrict(b, &d) != nil {
			return
		}
		if !json.Valid(b) {
			t.Fatalf("accepted what encoding/json refuses: %q", b)
		}
		if hasDuplicate(b) {
			t.Fatalf("accepted a duplicate member: %q", b)
		}
	})
}
