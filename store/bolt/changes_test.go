package bolt

import (
	"context"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/store/storetest"
)

// TestEveryWriteCounted holds the promise of Changes: only countedDB
// holds the *bbolt.DB of the Store, and it writes only through write,
// which counts. Any other write of bbolt (Update, Batch, Begin, a raw
// *bbolt.DB kept elsewhere) in the package's code fails this test; Open
// (before the Store exists) and the read-only page check are the
// exceptions.
func TestEveryWriteCounted(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") || name == "counted.go" {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		exempt := map[ast.Node]bool{}
		for _, d := range f.Decls {
			if fn, ok := d.(*ast.FuncDecl); ok && (name == "bolt.go" && fn.Name.Name == "Open" || name == "check.go" && fn.Name.Name == "checkPages") {
				exempt[fn] = true
			}
		}
		var stack []ast.Node
		ast.Inspect(f, func(n ast.Node) bool {
			if n == nil {
				stack = stack[:len(stack)-1]
				return true
			}
			stack = append(stack, n)
			for _, a := range stack {
				if exempt[a] {
					return true
				}
			}
			switch x := n.(type) {
			case *ast.SelectorExpr:
				switch x.Sel.Name {
				case "boltDB", "Update", "Batch", "Begin":
					t.Errorf("%s: .%s outside countedDB: a write Changes would not count", fset.Position(x.Pos()), x.Sel.Name)
				case "DB":
					if id, ok := x.X.(*ast.Ident); ok && id.Name == "bbolt" {
						t.Errorf("%s: a *bbolt.DB outside countedDB: it could write without Changes counting", fset.Position(x.Pos()))
					}
				}
			}
			return true
		})
	}
}

// TestChangesCountsWrites: a write is counted by the time it returns,
// through the committer and through updateTx alike.
func TestChangesCountsWrites(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "certd.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	before := s.Changes()
	if err := s.CreateCertificate(ctx, storetest.NewCertificate(t, "cb")); err != nil { // the committer
		t.Fatal(err)
	}
	if s.Changes() <= before {
		t.Fatalf("a certificate created: changes %d, was %d", s.Changes(), before)
	}
	before = s.Changes()
	if err := s.CreateIssuer(ctx, &cert.Issuer{ID: "cb", Name: "CB", TimeZone: "Asia/Shanghai"}); err != nil { // updateTx
		t.Fatal(err)
	}
	if s.Changes() <= before {
		t.Fatalf("an issuer created: changes %d, was %d", s.Changes(), before)
	}
}

// A delivery worker's round that finds nothing due writes nothing: an
// idle server does not commit every two seconds, and the verdicts the
// verifier keeps stay.
func TestLeaseNothingDueWritesNothing(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "certd.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	before := s.Changes()
	now := time.Now()
	ds, err := s.LeaseDeliveries(context.Background(), "instance-1", now, now.Add(time.Minute), 10)
	if err != nil || len(ds) != 0 {
		t.Fatalf("lease: %v, %d deliveries", err, len(ds))
	}
	if s.Changes() != before {
		t.Fatalf("a round with nothing due wrote: changes %d, was %d", s.Changes(), before)
	}
}

// TestWriteVisibleOnlyOnceCounted: a reader that takes the count and
// then reads must never find the count unchanged while it already sees a
// write's data; else a verdict kept under that count is answered though an
// uncached verifier would already read the new data. The count grows only
// after bbolt's Update returns, and bbolt makes a commit visible to new
// read transactions before that (its commit handlers run in between).
func TestWriteVisibleOnlyOnceCounted(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "certd.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	if err := s.CreateIssuer(ctx, &cert.Issuer{ID: "cb", Name: "CB", TimeZone: "Asia/Shanghai"}); err != nil {
		t.Fatal(err)
	}
	is, err := s.Issuer(ctx, "cb")
	if err != nil {
		t.Fatal(err)
	}
	before := s.Changes()
	renamed := *is
	renamed.Name = "CB renamed"
	raw, err := json.Marshal(&renamed)
	if err != nil {
		t.Fatal(err)
	}
	committed, release := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- s.updateTx(func(tx *bbolt.Tx) error {
			// The commit is visible from here on; the goroutine is held
			// as a scheduler may hold it anyway.
			tx.OnCommit(func() { close(committed); <-release })
			return tx.Bucket(bucketIssuers).Put([]byte("cb"), raw)
		})
	}()
	<-committed
	cur := s.Changes()
	got, err := s.Issuer(ctx, "cb")
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if got.Name == "CB renamed" && cur == before {
		t.Fatalf("the write is read while Changes is still %d, as before it: a verdict kept under %d would be answered with the old data", cur, before)
	}
}
