package cert

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
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

// tricky are strings that exercise every escaping rule of encoding/json.
var tricky = []string{
	"", "plain", `quote " and \ backslash`, "<script>&amp;</script>", "tab\tnew\nline\rcr\bbs\fff",
	"\x00\x01\x1f\x7f", "北京示例科技有限公司", "line\u2028para\u2029", "bad \xff\xfe utf8 \xe4\xb8", "emoji 😀",
}

// fillVerdict sets every field reachable from v (slices get two elements,
// pointers a value, booleans alternate), strings taken from tricky.
func fillVerdict(t *testing.T, v reflect.Value, n *int) {
	*n++
	switch v.Kind() {
	case reflect.String:
		v.SetString(tricky[*n%len(tricky)] + "x")
	case reflect.Bool:
		v.SetBool(*n%2 == 0)
	case reflect.Int:
		v.SetInt(int64(*n))
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(time.Date(2026, 1, *n, 3, 4, 5, *n*1000, time.FixedZone("", 8*3600))))
			return
		}
		for i := range v.NumField() {
			fillVerdict(t, v.Field(i), n)
		}
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		for i := range 2 {
			fillVerdict(t, v.Index(i), n)
		}
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fillVerdict(t, v.Elem(), n)
	default:
		t.Fatalf("fillVerdict: %s of kind %s: teach it (and AppendJSON) about it", v.Type(), v.Kind())
	}
}

func TestVerdictJSON(t *testing.T) {
	var full Verdict
	n := 0
	fillVerdict(t, reflect.ValueOf(&full).Elem(), &n)
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
	inputs := append([]string{all.String()}, tricky...)
	for b := range 256 {
		inputs = append(inputs, string([]byte{byte(b)}), "a"+string([]byte{byte(b)})+"z")
	}
	for _, s := range inputs {
		want, _ := json.Marshal(s)
		if got := appendJSONString(nil, s); string(got) != string(want) {
			t.Errorf("%q:\n got %s\nwant %s", s, got, want)
		}
	}
	if !utf8.ValidString(string(appendJSONString(nil, "\xff"))) {
		t.Error("invalid UTF-8 passed through")
	}
}

func FuzzAppendJSONString(f *testing.F) {
	for _, s := range tricky {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := appendJSONString(nil, s); string(got) != string(want) {
			t.Errorf("%q:\n got %s\nwant %s", s, got, want)
		}
	})
}

func BenchmarkVerdictJSON(b *testing.B) {
	var v Verdict
	n := 0
	fillVerdict(&testing.T{}, reflect.ValueOf(&v).Elem(), &n)
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
