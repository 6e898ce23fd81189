package bolt

import (
	"errors"
	"fmt"
	"slices"
	"sync"

	"go.etcd.io/bbolt"
)

// committer groups the writes of concurrent callers into shared
// transactions: one commit, and so one pair of fsyncs, for every write that
// arrived while the previous commit ran. It replaces bbolt's DB.Batch, which
// closes a group on a timer (MaxBatchDelay) rather than when the file is
// free: under a steady load its groups hold only the writes of one delay,
// and a lone writer waits the delay for nobody. Here a lone writer commits
// at once, and under load each commit takes everything that queued behind
// the one before, so groups grow with the load by themselves.
//
// The contract is Batch's: a function may run more than once (every
// function of a group runs again when another one fails, and the failing
// one runs again alone), so it must write only to results it resets on
// every run; each caller returns only after its write is committed and
// synced, or with the error that kept it from being.
type committer struct {
	db *countedDB

	mu      sync.Mutex
	pending []commitCall
	running bool
}

type commitCall struct {
	fn  func(*bbolt.Tx) error
	err chan error
	// shown: fn may change what a verdict shows (countedDB.write); a
	// group is counted when any of its functions is.
	shown bool
}

// maxGroup bounds the functions of one commit (a function of
// CreateCertificates holds a whole batch).
const maxGroup = 1000

// errAlone tells a caller that its function failed inside a group and must
// be run again in a transaction of its own.
var errAlone = errors.New("run alone")

// update runs fn in a write transaction shared with the concurrent
// callers' and returns after its commit; shown as for countedDB.write.
func (c *committer) update(shown bool, fn func(*bbolt.Tx) error) error {
	call := commitCall{fn: fn, err: make(chan error, 1), shown: shown}
	c.mu.Lock()
	c.pending = append(c.pending, call)
	if !c.running {
		c.running = true
		go c.loop()
	}
	c.mu.Unlock()
	err := <-call.err
	if err == errAlone {
		return c.db.write(shown, func(tx *bbolt.Tx) error { return safely(fn, tx) })
	}
	return err
}

// loop commits the queued calls, group after group, until none is left.
func (c *committer) loop() {
	for {
		c.mu.Lock()
		n := min(len(c.pending), maxGroup)
		if n == 0 {
			c.running = false
			c.pending = nil
			c.mu.Unlock()
			return
		}
		group := slices.Clone(c.pending[:n])
		c.pending = slices.Delete(c.pending, 0, n)
		c.mu.Unlock()
		c.commit(group)
	}
}

// commit runs the group's functions in one transaction. When one fails,
// the transaction is rolled back, that call is told to run alone, and the
// others run again together.
func (c *committer) commit(group []commitCall) {
	for len(group) > 0 {
		failed := -1
		shown := slices.ContainsFunc(group, func(call commitCall) bool { return call.shown })
		err := c.db.write(shown, func(tx *bbolt.Tx) error {
			for i, call := range group {
				if err := safely(call.fn, tx); err != nil {
					failed = i
					return err
				}
			}
			return nil
		})
		if failed < 0 {
			for _, call := range group {
				call.err <- err
			}
			return
		}
		group[failed].err <- errAlone
		group = slices.Delete(group, failed, failed+1)
	}
}

// safely runs fn, turning a panic into an error so that one caller's bug
// neither stops the committer nor leaves the other callers waiting.
func safely(fn func(*bbolt.Tx) error, tx *bbolt.Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic in a write transaction: %v", p)
		}
	}()
	return fn(tx)
}
