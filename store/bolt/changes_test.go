package bolt

import (
	"context"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certd/certd/cert"
)

// TestEveryWriteCounted holds the promise of Changes: every write
// transaction of the package goes through updateTx or the committer,
// which count it. A bbolt Update, Batch or Begin(true) anywhere else
// would change the file without the count, and the verifier would answer
// verdicts kept from before it.
func TestEveryWriteCounted(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Body == nil {
				continue
			}
			// The two that count, and Open, which writes before the Store
			// exists.
			allowed := fn.Name.Name == "updateTx" || fn.Name.Name == "update" && name == "commit.go" ||
				fn.Name.Name == "commit" && name == "commit.go" || fn.Name.Name == "Open"
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok {
					return true
				}
				sel, ok := call.Fun.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				write := sel.Sel.Name == "Update" || sel.Sel.Name == "Batch" ||
					sel.Sel.Name == "Begin" && len(call.Args) == 1 && isTrue(call.Args[0])
				if recv, ok := sel.X.(*ast.SelectorExpr); ok && recv.Sel.Name != "db" {
					write = false // not a bbolt.DB (s.commits.update...)
				}
				if id, ok := sel.X.(*ast.Ident); ok && id.Name != "db" {
					write = false
				}
				if write && !allowed {
					t.Errorf("%s: %s writes outside updateTx and the committer: Changes would not count it", fset.Position(call.Pos()), fn.Name.Name)
				}
				return true
			})
		}
	}
}

func isTrue(e ast.Expr) bool {
	id, ok := e.(*ast.Ident)
	return ok && id.Name == "true"
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
	if _, err := s.NextSequence(ctx, "c", 1); err != nil { // the committer
		t.Fatal(err)
	}
	if s.Changes() <= before {
		t.Fatalf("a sequence reserved: changes %d, was %d", s.Changes(), before)
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
