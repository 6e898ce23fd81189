package bolt

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/certd/certd/store/storetest"
)

// crashCopy copies the file at path as it is now, as a crash would leave
// it (bbolt's pages are written at each commit; the copy is of the file,
// not of the process's memory), and opens the copy.
func crashCopy(t *testing.T, path string) *Store {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cp := filepath.Join(t.TempDir(), "crashed.db")
	if err := os.WriteFile(cp, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return openTemp(t, cp)
}

// TestCountersReachFileWithNextWrite: values handed out reach the file
// with the next write transaction (the write that uses them), and at
// Close; after a crash no value that a committed write used is handed out
// again, while values no write used may be.
func TestCountersReachFileWithNextWrite(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "certd.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	next := func(s *Store, name string, n, want int64) {
		t.Helper()
		if got, err := s.NextSequence(ctx, name, n); err != nil || got != want {
			t.Fatalf("NextSequence(%s, %d) = %d, %v; want %d", name, n, got, err, want)
		}
	}
	next(s, "number", 5, 1) // 1-5
	next(s, "position", 1, 1)
	// No write since: a crash now hands the same values out again,
	// which is harmless, since nothing holds them.
	next(crashCopy(t, path), "number", 1, 1)

	c := storetest.NewCertificate(t, "default")
	if err := s.CreateCertificate(ctx, c); err != nil {
		t.Fatal(err)
	}
	// The write put both counters in its own transaction.
	crashed := crashCopy(t, path)
	next(crashed, "number", 1, 6)
	next(crashed, "position", 1, 2)

	// Values handed out after a write are in memory until the next one,
	// and Close puts them.
	next(s, "number", 2, 6) // 6-7
	next(crashCopy(t, path), "number", 1, 6)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openTemp(t, path)
	next(s, "number", 1, 8)
	next(s, "position", 1, 2)
}
