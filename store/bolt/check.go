package bolt

import (
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"time"

	"go.etcd.io/bbolt"
)

// ErrDamaged reports a database file that is truncated or whose pages are
// not consistent: certd does not start on it.
var ErrDamaged = errors.New("database file is damaged")

// maxReported bounds the problems a damaged file's error lists.
const maxReported = 3

// checkFile reads every page of an existing, non-empty file before Open
// maps it for writing. bbolt trusts the file: a truncated file faults when
// a page past its end is touched, and a page with garbage trips its
// assertions (panics); both are turned into an error matching ErrDamaged
// here, where faults are made recoverable, instead of a crash of the
// process at some later request. The check reads every page in use once,
// so it takes time in proportion to the data.
func checkFile(path string, lockTimeout time.Duration) (Check, error) {
	fi, err := os.Stat(path)
	if err != nil || fi.Size() == 0 {
		// Missing or empty: Open creates the file.
		return CheckNew, nil
	}
	done := make(chan error, 1)
	// A goroutine of its own, so that SetPanicOnFault covers only the check.
	go func() { done <- checkPages(path, fi.Size(), lockTimeout) }()
	return CheckFull, <-done
}

func checkPages(path string, size int64, lockTimeout time.Duration) (err error) {
	debug.SetPanicOnFault(true)
	var db *bbolt.DB
	defer func() {
		if r := recover(); r != nil {
			err = damaged(path, fmt.Sprint(r))
			if db != nil {
				func() {
					defer func() { _ = recover() }()
					_ = db.Close()
				}()
			}
		}
	}()
	db, err = bbolt.Open(path, 0o600, &bbolt.Options{
		ReadOnly: true, Timeout: lockTimeout,
		// Load the freelist here, under the recover, rather than in
		// tx.Check's own goroutine.
		PreLoadFreelist: true,
	})
	if errors.Is(err, bbolt.ErrTimeout) {
		// Locked by another process: Open reports it.
		return nil
	}
	if err != nil {
		return damaged(path, err.Error())
	}
	defer db.Close()
	return db.View(func(tx *bbolt.Tx) error {
		// Pages up to the high-water mark must be in the file; touching
		// one past its end would fault.
		if hwm := tx.Size(); hwm > size {
			return damaged(path, fmt.Sprintf("truncated: %d bytes, the data reaches to byte %d", size, hwm))
		}
		// Walk every bucket and key here (faults recoverable), then let
		// bbolt check the structure: pages reachable once, freelist.
		if err := tx.ForEach(func(name []byte, b *bbolt.Bucket) error { return walk(b) }); err != nil {
			return damaged(path, err.Error())
		}
		var problems []string
		for cerr := range tx.Check() {
			if len(problems) < maxReported {
				problems = append(problems, cerr.Error())
			}
		}
		if len(problems) > 0 {
			return damaged(path, fmt.Sprint(problems))
		}
		return nil
	})
}

// walk touches every key and value of b and of its nested buckets.
func walk(b *bbolt.Bucket) error {
	return b.ForEach(func(k, v []byte) error {
		if v == nil {
			if nb := b.Bucket(k); nb != nil {
				return walk(nb)
			}
		}
		return nil
	})
}

func damaged(path, detail string) error {
	return fmt.Errorf("bolt: %s: %w (%s); restore it from a backup", path, ErrDamaged, detail)
}
