package bolt

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"

	"go.etcd.io/bbolt"
)

var bucketTest = []byte("test")

// waitPending waits until exactly n calls queue in c (and, with taken,
// until the committer has taken the calls before them).
func waitPending(c *committer, n int, taken bool) {
	for {
		c.mu.Lock()
		k, running := len(c.pending), c.running
		c.mu.Unlock()
		if k == n && (!taken || running) {
			return
		}
		runtime.Gosched()
	}
}

// The writes that queue while a transaction holds the file share the next
// commit; a function that fails (or panics) gets its own error, runs
// again alone, and leaves nothing behind, while the others are committed.
func TestCommitterGroups(t *testing.T) {
	s := openTemp(t, t.TempDir()+"/c.db")
	if err := s.updateTx(func(tx *bbolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucketTest)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		fail map[int]string // call -> how it fails
	}{
		{"ok/all", nil},
		{"fail/error", map[int]string{3: "error"}},
		{"fail/panic", map[int]string{5: "panic"}},
		{"fail/two", map[int]string{0: "error", 9: "panic"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const n = 10
			// Hold the writer so that every call queues first.
			hold, held := make(chan struct{}), make(chan struct{})
			go func() {
				_ = s.updateTx(func(*bbolt.Tx) error {
					close(held)
					<-hold
					return nil
				})
			}()
			<-held
			var (
				mu   sync.Mutex
				txs  = map[*bbolt.Tx]bool{}
				runs = map[int]int{}
				errs = make([]error, n)
				wg   sync.WaitGroup
			)
			call := func(i int) {
				key := fmt.Appendf(nil, "%s/%d", tc.name, i)
				wg.Add(1)
				go func() {
					defer wg.Done()
					errs[i] = s.commits.update(true, func(tx *bbolt.Tx) error {
						mu.Lock()
						txs[tx] = true
						runs[i]++
						mu.Unlock()
						if err := tx.Bucket(bucketTest).Put(key, []byte("v")); err != nil {
							return err
						}
						switch tc.fail[i] {
						case "error":
							return errors.New("refused")
						case "panic":
							panic("broken")
						}
						return nil
					})
				}()
			}
			// The first call is taken at once and waits for the writer;
			// the other calls queue behind it.
			call(0)
			waitPending(&s.commits, 0, true)
			for i := 1; i < n; i++ {
				call(i)
			}
			waitPending(&s.commits, n-1, false)
			close(hold)
			wg.Wait()

			for i := range n {
				key := fmt.Appendf(nil, "%s/%d", tc.name, i)
				var stored bool
				_ = s.db.View(func(tx *bbolt.Tx) error {
					stored = tx.Bucket(bucketTest).Get(key) != nil
					return nil
				})
				switch how := tc.fail[i]; {
				case how == "" && (errs[i] != nil || !stored):
					t.Errorf("call %d: error %v, stored %v; want committed", i, errs[i], stored)
				case how == "error" && (errs[i] == nil || errs[i].Error() != "refused" || stored):
					t.Errorf("call %d: error %v, stored %v; want its own error and nothing stored", i, errs[i], stored)
				case how == "panic" && (errs[i] == nil || !strings.Contains(errs[i].Error(), "broken") || stored):
					t.Errorf("call %d: error %v, stored %v; want the panic as an error and nothing stored", i, errs[i], stored)
				}
			}
			// One transaction for the first call, one for the queued
			// ones, and for each failure one more try of the group and
			// one of the failing call alone.
			if want := 2 + 2*len(tc.fail); len(txs) > want {
				t.Errorf("%d calls ran in %d transactions, want at most %d", n, len(txs), want)
			}
			for i, failing := range tc.fail {
				if failing != "" && runs[i] < 2 {
					t.Errorf("failing call %d ran %d times, want again alone after failing in the group", i, runs[i])
				}
			}
		})
	}
}
