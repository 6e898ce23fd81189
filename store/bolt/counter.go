package bolt

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"

	"go.etcd.io/bbolt"

	"github.com/certd/certd/cert"
)

// NextSequence reserves n values of the named counter and returns the
// first; see store.Counters. The bucket holds the last value handed out,
// 8 bytes big-endian. Concurrent calls share commits.
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
	var first int64
	var derr error
	err := s.commits.update(true, func(tx *bbolt.Tx) error {
		first, derr = 0, nil
		b := tx.Bucket(bucketCounters)
		var last int64
		if v := b.Get([]byte(name)); v != nil {
			if len(v) != 8 {
				return fmt.Errorf("counter %s: stored value has %d bytes, want 8", name, len(v))
			}
			last = int64(binary.BigEndian.Uint64(v))
		}
		if last > math.MaxInt64-n {
			derr = fmt.Errorf("counter %s: %w", name, cert.Invalid("n", "would overflow the counter"))
			return nil
		}
		if err := b.Put([]byte(name), binary.BigEndian.AppendUint64(nil, uint64(last+n))); err != nil {
			return err
		}
		first = last + 1
		return nil
	})
	if err != nil {
		return 0, unavailable("next sequence of "+name, err)
	}
	if derr != nil {
		return 0, derr
	}
	return first, nil
}
