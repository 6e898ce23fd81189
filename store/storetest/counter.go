package storetest

import (
	"testing"

	"github.com/certd/certd/store"
)

var counterTests = []test{
	{"counters/start-at-one", testCounterStart},
	{"counters/reserve-n", testCounterReserve},
	{"counters/independent-names", testCounterNames},
	{"counters/invalid-n", testCounterInvalid},
}

// wantNext calls NextSequence and checks the first value it returns.
func wantNext(t testing.TB, s store.Store, name string, n, want int64) {
	t.Helper()
	got, err := s.NextSequence(t.Context(), name, n)
	if err != nil {
		t.Fatalf("NextSequence(%q, %d): %v", name, n, err)
	}
	if got != want {
		t.Errorf("NextSequence(%q, %d) = %d, want %d", name, n, got, want)
	}
}

func testCounterStart(t *testing.T, s store.Store) {
	wantNext(t, s, "cesa-itss/2026", 1, 1)
	wantNext(t, s, "cesa-itss/2026", 1, 2)
}

func testCounterReserve(t *testing.T, s store.Store) {
	wantNext(t, s, "batch", 5, 1) // 1-5
	wantNext(t, s, "batch", 1, 6)
	wantNext(t, s, "batch", 1000, 7) // 7-1006
	wantNext(t, s, "batch", 1, 1007)
}

func testCounterNames(t *testing.T, s store.Store) {
	wantNext(t, s, "issuer-a/2026", 3, 1)
	wantNext(t, s, "issuer-b/2026", 1, 1)
	wantNext(t, s, "issuer-a/2027", 1, 1)
	wantNext(t, s, "issuer-a/2026", 1, 4)
	wantNext(t, s, "issuer-b/2026", 1, 2)
}

// testCounterInvalid asks for zero or a negative number of values: a
// backend must refuse rather than hand out a value it did not reserve.
func testCounterInvalid(t *testing.T, s store.Store) {
	for _, n := range []int64{0, -1} {
		if got, err := s.NextSequence(t.Context(), "seq", n); err == nil {
			t.Errorf("NextSequence(n=%d) = %d, nil; want an error", n, got)
		}
	}
	wantNext(t, s, "seq", 1, 1)
}
