package issuer

import (
	"testing"

	"github.com/certd/certd/cert"
)

func TestStatusPositionIsAPermutation(t *testing.T) {
	key := []byte("fixed test key")
	seen := make([]bool, cert.StatusListSize)
	inOrder := 0
	for n := int64(0); n < cert.StatusListSize; n++ {
		list, idx := statusPosition(key, n)
		if list != 1 {
			t.Fatalf("n=%d: list = %d, want 1", n, list)
		}
		if idx < 0 || idx >= cert.StatusListSize {
			t.Fatalf("n=%d: index %d out of range", n, idx)
		}
		if seen[idx] {
			t.Fatalf("n=%d: index %d handed out twice", n, idx)
		}
		seen[idx] = true
		if int64(idx) == n {
			inOrder++
		}
	}
	if inOrder > 100 {
		t.Errorf("%d of %d indexes equal their allocation number; the permutation does not spread them", inOrder, cert.StatusListSize)
	}
	if list, _ := statusPosition(key, cert.StatusListSize); list != 2 {
		t.Errorf("allocation %d: list = %d, want 2", cert.StatusListSize, list)
	}
	_, a := statusPosition([]byte("key a"), 7)
	_, b := statusPosition([]byte("key b"), 7)
	_, c := statusPosition([]byte("key c"), 7)
	if a == b && b == c {
		t.Errorf("three keys gave the same index %d: the key is not used", a)
	}
}
