package api

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/certd/certd/cert"
)

func TestJSONPathAt(t *testing.T) {
	tests := []struct {
		body string
		want string
	}{
		{`{"a":"~"}`, "a"},
		{`{"a":{"b":"x","c":"~"}}`, "a.c"},
		{`{"items":[{"x":1},{"y":"~"}]}`, "items[1].y"},
		{`{"items":["ok",["n"],"~"]}`, "items[2]"},
		{`{"a":1,"~":2}`, "(body)"},
		{`{"o":{"k":1,"~":2}}`, "o"},
		{"~{}", "(body)"},
		{`["~"]`, "[0]"},
	}
	for _, tc := range tests {
		// ~ stands for a byte that is not UTF-8.
		err := checkUTF8([]byte(strings.ReplaceAll(tc.body, "~", "\xff")))
		var v *cert.ValidationError
		if !errors.As(err, &v) || len(v.Fields) != 1 || v.Fields[0].Field != tc.want {
			t.Errorf("checkUTF8(%q) = %v, want a field error on %s", tc.body, err, tc.want)
		}
	}
	if err := checkUTF8([]byte(`{"a":"北京"}`)); err != nil {
		t.Errorf("checkUTF8(UTF-8) = %v", err)
	}
}

// FuzzCheckUTF8 holds checkUTF8 to its contract for any body: nil exactly
// for UTF-8, else one field error, never a panic.
func FuzzCheckUTF8(f *testing.F) {
	for _, s := range []string{"{\"a\":\"\xff\"}", "{\"items\":[{\"x\":1},{\"y\":\"\xb1\xb1\"}]}", `{"a":"北京"}`, "\xff", `[[[[`, "}}]]\"\xff"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		err := checkUTF8(body)
		if utf8.Valid(body) != (err == nil) {
			t.Fatalf("checkUTF8(%q) = %v for valid=%v", body, err, utf8.Valid(body))
		}
		var v *cert.ValidationError
		if err != nil && (!errors.As(err, &v) || len(v.Fields) != 1 || v.Fields[0].Field == "") {
			t.Fatalf("checkUTF8(%q) = %v, want one field error", body, err)
		}
	})
}
