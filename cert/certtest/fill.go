// Package certtest helps tests of hand-written encoders: Fill gives every
// field of a value a distinct, non-zero value, so that a field an encoder
// forgets shows up when its output is compared with encoding/json's.
package certtest

import (
	"reflect"
	"strconv"
	"testing"
	"time"
)

// Strings exercise every escaping rule of encoding/json: quotes,
// backslashes, control characters, HTML characters, U+2028/U+2029,
// invalid UTF-8, and CJK text.
var Strings = []string{
	"", "plain", `quote " and \ backslash`, "<script>&amp;</script>", "tab\tnew\nline\rcr\bbs\fff",
	"\x00\x01\x1f\x7f", "北京示例科技有限公司", "line\u2028para\u2029", "bad \xff\xfe utf8 \xe4\xb8", "emoji 😀",
}

// Fill sets every field reachable from the pointer v: strings from Strings
// made distinct by a counter, numbers from the counter, booleans
// alternating, times at varied instants and offsets, two elements in each
// slice and a value behind each pointer. A kind it does not know fails
// the test.
func Fill(t testing.TB, v any) {
	t.Helper()
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		t.Fatalf("certtest.Fill: want a non-nil pointer, got %T", v)
	}
	n := 0
	fill(t, rv.Elem(), &n)
}

func fill(t testing.TB, v reflect.Value, n *int) {
	*n++
	switch v.Kind() {
	case reflect.String:
		v.SetString(Strings[*n%len(Strings)] + "#" + strconv.Itoa(*n))
	case reflect.Bool:
		v.SetBool(*n%2 == 0)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(int64(*n) * 1001)
	case reflect.Float32, reflect.Float64:
		v.SetFloat(float64(*n) + 0.25)
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			zone := time.FixedZone("", (*n%5)*3600)
			t := time.Date(2020+*n%9, time.Month(1+*n%12), 1+*n%28, *n%24, 7, 9, *n*1000, zone)
			v.Set(reflect.ValueOf(t))
			return
		}
		for i := range v.NumField() {
			// A field encoding/json skips is no part of the encoding.
			if f := v.Type().Field(i); f.IsExported() && f.Tag.Get("json") != "-" {
				fill(t, v.Field(i), n)
			}
		}
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		for i := range 2 {
			fill(t, v.Index(i), n)
		}
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(t, v.Elem(), n)
	default:
		t.Fatalf("certtest.Fill: %s of kind %s: teach Fill (and the encoder under test) about it", v.Type(), v.Kind())
	}
}
