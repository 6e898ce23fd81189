package main

import (
	"context"
	"fmt"

	"github.com/certd/certd/api"
	"github.com/certd/certd/store"
)

// DefaultMinFreeDisk is the free space under which the data directory's
// file system makes /readyz fail: bbolt grows its file in steps of up to
// 16 MiB, and a write that cannot grow it fails.
const DefaultMinFreeDisk = 64 << 20

// writeProber is a store that can commit a small write on demand (bbolt).
type writeProber interface {
	ProbeWrite(ctx context.Context) error
}

// readyChecks are the conditions of /readyz: the store answers (store),
// every issuer's active key is there and the KEK opens it (keys), a small
// write transaction commits (write, bbolt), and the data directory's file
// system has room (disk, bbolt). On MongoDB, write errors of a full or
// read-only database show in the store check only when they stop reads.
func (m *Main) readyChecks(st store.Store) []api.ReadyCheck {
	checks := []api.ReadyCheck{
		{Name: "store", Check: st.Ping},
		{Name: "keys", Check: m.keysReady},
	}
	if w, ok := st.(writeProber); ok {
		checks = append(checks, api.ReadyCheck{Name: "write", Check: w.ProbeWrite})
	}
	if m.Config.MongoURI == "" {
		checks = append(checks, api.ReadyCheck{Name: "disk", Check: m.diskReady})
	}
	return checks
}

// keysReady reads every issuer and its key ring, and checks that the
// active key unseals (once per key: unsealed keys are cached).
func (m *Main) keysReady(ctx context.Context) error {
	all, err := m.store.Issuers(ctx)
	if err != nil {
		return fmt.Errorf("read issuers: %w", err)
	}
	for _, is := range all {
		if err := m.Keys.CheckSigning(ctx, is.ID); err != nil {
			return err
		}
	}
	return nil
}

// diskReady fails when the data directory's file system has less than
// MinFreeDisk bytes free for certd's user.
func (m *Main) diskReady(context.Context) error {
	min := m.MinFreeDisk
	if min == 0 {
		min = DefaultMinFreeDisk
	}
	free, err := freeBytes(m.Config.DataDir)
	if err != nil {
		return fmt.Errorf("free space of %s: %w", m.Config.DataDir, err)
	}
	if free >= 0 && free < min {
		return fmt.Errorf("%s: %d bytes free, less than %d", m.Config.DataDir, free, min)
	}
	return nil
}
