package bolt_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"go.etcd.io/bbolt"

	"github.com/certd/certd/store/bolt"
	"github.com/certd/certd/store/storetest"
)

// fill creates n certificates in a store at path that is then closed
// cleanly.
func fill(t *testing.T, path string, n int) {
	t.Helper()
	s, err := bolt.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	for range n {
		if err := s.CreateCertificate(t.Context(), storetest.NewCertificate(t, "cesa-itss")); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

// reopen opens path and returns how Open checked it.
func reopen(t *testing.T, path string) bolt.Check {
	t.Helper()
	s, err := bolt.Open(path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	if _, err := os.Stat(path + ".clean"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the clean-close marker is still there while the file is open (%v): a crash now would leave it", err)
	}
	return s.Check()
}

// A file closed cleanly opens without the full check; one that was not
// (no marker: a crash, kill -9) or that changed since its marker was
// written gets the full check.
func TestOpenCheck(t *testing.T) {
	path := filepath.Join(t.TempDir(), "certd.db")
	s, err := bolt.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Check(); got != bolt.CheckNew {
		t.Errorf("first Open: Check() = %q, want %q", got, bolt.CheckNew)
	}
	s.Close()
	fill(t, path, 50)
	if _, err := os.Stat(path + ".clean"); err != nil {
		t.Fatalf("Close wrote no clean-close marker: %v", err)
	}
	if got := reopen(t, path); got != bolt.CheckClean {
		t.Errorf("after a clean close: Check() = %q, want %q", got, bolt.CheckClean)
	}

	// Unclean shutdown: the process never reached Close, so there is no
	// marker (Open removed it).
	if err := os.Remove(path + ".clean"); err != nil {
		t.Fatal(err)
	}
	if got := reopen(t, path); got != bolt.CheckFull {
		t.Errorf("without a marker: Check() = %q, want %q", got, bolt.CheckFull)
	}

	// A stale marker: written at an earlier close, the file written since.
	stale, err := os.ReadFile(path + ".clean")
	if err != nil {
		t.Fatal(err)
	}
	fill(t, path, 1)
	if err := os.WriteFile(path+".clean", stale, 0o600); err != nil {
		t.Fatal(err)
	}
	if got := reopen(t, path); got != bolt.CheckFull {
		t.Errorf("with a stale marker: Check() = %q, want %q", got, bolt.CheckFull)
	}
	for _, junk := range []string{"", "{", `{"size":0,"crc32c":0}`} {
		if err := os.WriteFile(path+".clean", []byte(junk), 0o600); err != nil {
			t.Fatal(err)
		}
		if got := reopen(t, path); got != bolt.CheckFull {
			t.Errorf("with marker %q: Check() = %q, want %q", junk, got, bolt.CheckFull)
		}
	}
}

// A file damaged after a clean close, its marker left in place, is still
// refused: the marker no longer matches, so the full check runs.
func TestOpenDamagedAfterCleanClose(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "certd.db")
	fill(t, path, 300)
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	mark, err := os.ReadFile(path + ".clean")
	if err != nil {
		t.Fatal(err)
	}
	// Damage where the data is: below the high-water mark, in leaf pages.
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true, PreLoadFreelist: true})
	if err != nil {
		t.Fatal(err)
	}
	var hwm int
	var leaves []int
	_ = db.View(func(tx *bbolt.Tx) error {
		hwm = int(tx.Size())
		for id := 2; id < hwm/4096; id++ {
			if pi, err := tx.Page(id); err == nil && pi != nil && pi.Type == "leaf" {
				leaves = append(leaves, id*4096)
			}
		}
		return nil
	})
	db.Close()
	if len(leaves) < 4 {
		t.Fatalf("%d leaf pages, want more", len(leaves))
	}
	garbage := func(at int) []byte {
		b := append([]byte(nil), good...)
		for i := at; i < at+4096; i++ {
			b[i] = byte(i*7 + 13)
		}
		return b
	}
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"truncated/half", good[:hwm/2]},
		{"garbage/meta", garbage(0)},
		{"garbage/leaf", garbage(leaves[len(leaves)/2])},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "certd.db")
			if err := os.WriteFile(p, tc.data, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p+".clean", mark, 0o600); err != nil {
				t.Fatal(err)
			}
			s, err := bolt.Open(p)
			if err == nil {
				s.Close()
				t.Fatal("Open of a damaged file with the marker of its intact self succeeded")
			}
			if !errors.Is(err, bolt.ErrDamaged) {
				t.Fatalf("Open error = %v, want one matching ErrDamaged", err)
			}
		})
	}
}
