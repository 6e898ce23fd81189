package keys_test

import (
	"encoding/json"
	"testing"

	"github.com/certd/certd/keys"
)

func peekPayload(payload string) (string, error) {
	return keys.PeekIssuer(b64url.EncodeToString([]byte(`{"alg":"EdDSA"}`)) + "." + b64url.EncodeToString([]byte(payload)) + ".c2ln")
}

func TestPeekIssuerPayloads(t *testing.T) {
	tests := []struct {
		name, payload, want string
	}{
		{"ok/first", `{"iss":"a","x":1}`, "a"},
		{"ok/last", `{"x":{"iss":"inner","y":[1,{"iss":"deep"}]},"s":"}\"{","iss":"a"}`, "a"},
		{"ok/whitespace", " {\n\t\"iss\" : \"a\" \r\n} ", "a"},
		{"ok/escaped-value", `{"iss":"https:\/\/x\u002fy"}`, "https://x/y"},
		{"ok/unicode", `{"iss":"认证"}`, "认证"},
		{"fail/nested-only", `{"x":{"iss":"inner"}}`, ""},
		{"fail/duplicate", `{"iss":"a","iss":"b"}`, ""},
		{"fail/case-variant", `{"iss":"a","ISS":"b"}`, ""},
		{"fail/escaped-duplicate", `{"iss":"a","\u0069ss":"b"}`, ""},
		{"ok/escaped-name", `{"\u0069ss":"a"}`, "a"},
		{"fail/array", `["iss","a"]`, ""},
		{"fail/string", `"iss"`, ""},
		{"fail/unclosed", `{"iss":"a"`, ""},
		{"fail/trailing", `{"iss":"a"}x`, ""},
		{"fail/two-objects", `{"iss":"a"}{}`, ""},
		{"fail/missing-colon", `{"iss" "a"}`, ""},
		{"fail/missing-comma", `{"x":1 "iss":"a"}`, ""},
		{"fail/bad-nesting", `{"x":[1}],"iss":"a"}`, ""},
		{"fail/iss-object", `{"iss":{"id":"a"}}`, ""},
		{"fail/iss-null", `{"iss":null}`, ""},
		{"fail/empty-object", `{}`, ""},
		{"fail/empty", ``, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := peekPayload(tc.payload)
			if tc.want == "" {
				if err == nil {
					t.Fatalf("PeekIssuer(%s) = %q, want an error", tc.payload, got)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("PeekIssuer(%s) = %q, %v; want %q", tc.payload, got, err, tc.want)
			}
		})
	}
}

// FuzzPeekIssuer: on valid JSON, whenever the one-pass scan returns an
// issuer, encoding/json reads the same one, whether into a map or,
// case-insensitively, a struct. (Invalid JSON elsewhere in the payload is
// left to the full decoding of the claims after verification.)
func FuzzPeekIssuer(f *testing.F) {
	for _, s := range []string{`{"iss":"a"}`, `{"a":[{"iss":1}],"iss":"b"}`, `{"iss":"a","iss":"b"}`,
		`{"s":"\"iss\":","iss":"\u0041"}`, `{"ISS":"a"}`, `{"iss":"a","Iss":"b"}`, `{"\u0069ss":"a"}`,
		`{"iſs":"a","iss":"b"}`, `{"0":[{""}],"iss":"0"}`, string(benchPayload)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, payload string) {
		got, err := peekPayload(payload)
		if err != nil || !json.Valid([]byte(payload)) {
			return
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(payload), &m); err != nil {
			t.Fatalf("PeekIssuer(%s) = %q, but encoding/json refuses it: %v", payload, got, err)
		}
		if want, _ := m["iss"].(string); got != want {
			t.Fatalf("PeekIssuer(%s) = %q, encoding/json reads %q into a map", payload, got, want)
		}
		var st struct {
			Iss string `json:"iss"`
		}
		if err := json.Unmarshal([]byte(payload), &st); err != nil || st.Iss != got {
			t.Fatalf("PeekIssuer(%s) = %q, encoding/json reads %q, %v into a struct", payload, got, st.Iss, err)
		}
	})
}
