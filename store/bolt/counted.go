package bolt

import (
	"sync/atomic"

	"go.etcd.io/bbolt"
)

// countedDB is the bbolt file as the Store uses it: reads as bbolt's, and
// write transactions only through write, which counts those that may
// change what a verdict shows (Store.Changes). Nothing else in the
// package holds the *bbolt.DB (TestEveryWriteCounted).
type countedDB struct {
	boltDB  *bbolt.DB
	changes atomic.Uint64
	// counters are put by every write transaction first (counter.go).
	counters *counters
}

func (d *countedDB) View(fn func(*bbolt.Tx) error) error { return d.boltDB.View(fn) }

func (d *countedDB) Close() error { return d.boltDB.Close() }

// write runs fn in a write transaction. A write that may change what a
// verdict shows (shown) grows the count before the transaction begins,
// since bbolt shows a commit to new readers before its Update returns,
// and again after it ended, before the writer's caller is answered: a
// reader that takes the count, reads, and finds the count the same
// afterwards read nothing of a write in progress or made since. Writes
// of bookkeeping no verdict reads (outbox and delivery leases, the
// readiness probe) are not counted, so that the workers' rounds and the
// probes do not set the kept verdicts aside.
func (d *countedDB) write(shown bool, fn func(*bbolt.Tx) error) error {
	if shown {
		d.changes.Add(1)
	}
	var put map[string]int64
	err := d.boltDB.Update(func(tx *bbolt.Tx) error {
		var err error
		if put, err = d.counters.put(tx); err != nil {
			return err
		}
		return fn(tx)
	})
	if err == nil {
		d.counters.written(put)
	}
	if shown {
		d.changes.Add(1)
	}
	return err
}

// Changes counts the write transactions that may change what a verdict
// shows (certificates, their indexes, issuers, key rings: every write but
// the bookkeeping of notifications and the readiness probe), twice each:
// once before it begins and once after it ended, committed or not, before
// its caller is answered. Only this process writes the file (Open locks
// it), so a reader that takes the count before it reads and finds it the
// same later read what is current: a cache of what was read here (the
// verifier's verdicts) is exact while the count stays the same.
func (s *Store) Changes() uint64 { return s.db.changes.Load() }
