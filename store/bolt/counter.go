package bolt

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"sync"

	"go.etcd.io/bbolt"

	"github.com/certd/certd/cert"
)

// counters hands out the values of the named counters from memory. The
// bucket holds, for each name, the last value handed out (8 bytes
// big-endian) as of the last write transaction: every write transaction
// of the store first puts the values handed out since (countedDB.write),
// and Close puts what is left.
//
// A value is used only in a write that comes after it was handed out (a
// certificate's number or status position, stored with the certificate),
// and that write puts the counter too, in the same transaction: whatever
// the file holds after a crash, no value a committed write used is handed
// out again. A value handed out to a write that never committed may be
// handed out again after a crash, which is harmless: nothing holds it.
// So a certificate costs one commit, not a commit for its number and
// another for itself.
type counters struct {
	mu sync.Mutex
	// last is the last value handed out, by name, for the names read
	// from the file since Open; dirty holds the names whose last value the
	// file does not have yet.
	last, dirty map[string]int64
	closed      bool
}

// NextSequence reserves n values of the named counter and returns the
// first; see store.Counters, and counters for when they reach the file.
func (s *Store) NextSequence(ctx context.Context, name string, n int64) (int64, error) {
	if err := checkContext(ctx, "next sequence"); err != nil {
		return 0, err
	}
	if err := checkKey("name", name); err != nil {
		return 0, err
	}
	if n < 1 {
		return 0, cert.Invalid("n", "must be at least 1")
	}
	c := &s.counters
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return 0, unavailable("next sequence of "+name, bbolt.ErrDatabaseNotOpen)
	}
	last, ok := c.last[name]
	if !ok {
		err := s.db.View(func(tx *bbolt.Tx) error {
			var err error
			last, err = storedCounter(tx, name)
			return err
		})
		if err != nil {
			return 0, unavailable("next sequence of "+name, err)
		}
	}
	if last > math.MaxInt64-n {
		return 0, fmt.Errorf("counter %s: %w", name, cert.Invalid("n", "would overflow the counter"))
	}
	if c.last == nil {
		c.last, c.dirty = map[string]int64{}, map[string]int64{}
	}
	c.last[name], c.dirty[name] = last+n, last+n
	return last + 1, nil
}

// storedCounter is the last value of the named counter that the file
// holds (0 for a counter never used).
func storedCounter(tx *bbolt.Tx, name string) (int64, error) {
	v := tx.Bucket(bucketCounters).Get([]byte(name))
	if v == nil {
		return 0, nil
	}
	if len(v) != 8 {
		return 0, fmt.Errorf("counter %s: stored value has %d bytes, want 8", name, len(v))
	}
	return int64(binary.BigEndian.Uint64(v)), nil
}

// put writes the values handed out since the last write into tx and
// returns them, for written once tx committed.
func (c *counters) put(tx *bbolt.Tx) (map[string]int64, error) {
	c.mu.Lock()
	if len(c.dirty) == 0 {
		c.mu.Unlock()
		return nil, nil
	}
	put := make(map[string]int64, len(c.dirty))
	for name, v := range c.dirty {
		put[name] = v
	}
	c.mu.Unlock()
	b := tx.Bucket(bucketCounters)
	for name, v := range put {
		if err := b.Put([]byte(name), binary.BigEndian.AppendUint64(nil, uint64(v))); err != nil {
			return nil, err
		}
	}
	return put, nil
}

// written tells c that the values put are in the file: those not handed
// out further since are clean.
func (c *counters) written(put map[string]int64) {
	if len(put) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for name, v := range put {
		if c.dirty[name] == v {
			delete(c.dirty, name)
		}
	}
}

// close puts the values not yet in the file, in a last write, and makes
// NextSequence fail from then on.
func (s *Store) closeCounters() error {
	c := &s.counters
	c.mu.Lock()
	c.closed = true
	n := len(c.dirty)
	c.mu.Unlock()
	if n == 0 {
		return nil
	}
	return s.db.write(false, func(*bbolt.Tx) error { return nil })
}
