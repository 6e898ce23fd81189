package cert

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/certd/certd/cert/certtest"
)

// plainVerdict has Verdict's fields and tags but not its MarshalJSON, so
// encoding/json writes it by reflection: the reference AppendJSON is held to.
type plainVerdict Verdict

func reference(t *testing.T, v *Verdict) string {
	t.Helper()
	b, err := json.Marshal((*plainVerdict)(v))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestVerdictJSON(t *testing.T) {
	var full Verdict
	certtest.Fill(t, &full)
	cases := map[string]Verdict{
		"every field": full,
		"zero":        {},
		"not found":   {Verdict: VerdictInvalid, Status: StatusNotFound, Reason: "no such certificate", Checks: []Check{}, CheckedAt: time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)},
	}
	// Every omitempty field empty, the others set.
	sparse := full
	sparse.Surveillance = &Surveillance{State: SurveillanceNone}
	sparse.Certificate = &VerdictCertificate{ID: "X"}
	sparse.Issuer = &VerdictIssuer{ID: "default", Name: "CB"}
	sparse.History = []Change{}
	cases["sparse"] = sparse
	for name, v := range cases {
		got := string(v.AppendJSON(nil))
		if want := reference(t, &v); got != want {
			t.Errorf("%s:\n got %s\nwant %s", name, got, want)
		}
		// Inside a larger answer, encoding/json uses it too.
		b, err := json.Marshal(map[string]any{"v": v})
		if err != nil || string(b) != `{"v":`+got+`}` {
			t.Errorf("%s nested: %v %s", name, err, b)
		}
	}
}

func TestAppendJSONString(t *testing.T) {
	var all strings.Builder
	for r := rune(0); r < 0x3000; r++ {
		all.WriteRune(r)
	}
	inputs := append([]string{all.String()}, certtest.Strings...)
	for b := range 256 {
		inputs = append(inputs, string([]byte{byte(b)}), "a"+string([]byte{byte(b)})+"z")
	}
	for _, s := range inputs {
		want, _ := json.Marshal(s)
		if got := AppendJSONString(nil, s); string(got) != string(want) {
			t.Errorf("%q:\n got %s\nwant %s", s, got, want)
		}
	}
	if !utf8.ValidString(string(AppendJSONString(nil, "\xff"))) {
		t.Error("invalid UTF-8 passed through")
	}
}

func FuzzAppendJSONString(f *testing.F) {
	for _, s := range certtest.Strings {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := AppendJSONString(nil, s); string(got) != string(want) {
			t.Errorf("%q:\n got %s\nwant %s", s, got, want)
		}
	})
}

func BenchmarkVerdictJSON(b *testing.B) {
	var v Verdict
	certtest.Fill(b, &v)
	b.Run("AppendJSON", func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]byte, 0, 4096)
		for b.Loop() {
			buf = v.AppendJSON(buf[:0])
		}
	})
	b.Run("encoding/json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal((*plainVerdict)(&v)); err != nil {
				b.Fatal(err)
			}
		}
	})
}
