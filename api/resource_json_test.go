package api

import (
	"encoding/json"
	"testing"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/cert/certtest"
)

// plainResource has certificateResource's fields and tags but not its
// MarshalJSON: encoding/json writes it by reflection, the reference.
type plainResource certificateResource

func TestResourceJSON(t *testing.T) {
	var full certificateResource
	certtest.Fill(t, &full)
	sparse := certificateResource{ID: "X", Surveillance: cert.Surveillance{State: cert.SurveillanceNone}}
	for name, r := range map[string]certificateResource{"every field": full, "zero": {}, "sparse": sparse} {
		want, err := json.Marshal((*plainResource)(&r))
		if err != nil {
			t.Fatal(err)
		}
		if got := r.appendJSON(nil); string(got) != string(want) {
			t.Errorf("%s:\n got %s\nwant %s", name, got, want)
		}
	}
}

func TestBatchResultsJSON(t *testing.T) {
	var res certificateResource
	certtest.Fill(t, &res)
	var p Problem
	certtest.Fill(t, &p)
	results := []batchResult{
		{Index: 0, Status: 201, Certificate: &res},
		{Index: 1, Status: 422, Problem: &p},
		{Index: 2, Status: 201, Certificate: &certificateResource{ID: "Y"}},
	}
	for _, rs := range [][]batchResult{results, {}, nil} {
		want, err := json.Marshal(struct {
			Results []batchResult `json:"results"`
		}{rs})
		if err != nil {
			t.Fatal(err)
		}
		got := appendBatchResults(nil, rs)
		if rs == nil {
			want = []byte(`{"results":[]}`) // the handler always has a list
		}
		if string(got) != string(want) {
			t.Errorf("batch:\n got %s\nwant %s", got, want)
		}
	}
}

func BenchmarkResourceJSON(b *testing.B) {
	var r certificateResource
	certtest.Fill(b, &r)
	b.Run("appendJSON", func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]byte, 0, 8192)
		for b.Loop() {
			buf = r.appendJSON(buf[:0])
		}
	})
	b.Run("encoding/json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal((*plainResource)(&r)); err != nil {
				b.Fatal(err)
			}
		}
	})
}
