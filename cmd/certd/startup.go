package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/keys"
	"github.com/certd/certd/store"
)

// The files of an embedded data directory.
const (
	dbFile    = "certd.db"
	kekFile   = "kek"
	tokenFile = "admin.token"
)

// checkDataDir refuses a data directory whose store is missing or empty
// while files of an earlier start (the generated KEK, admin.token) are
// there: starting would be taken for a first start and create a new issuer
// whose keys verify no earlier certificate. Only the embedded store lives
// in the data directory, so this applies without --mongo-uri.
func checkDataDir(cfg *Config) error {
	if cfg.MongoURI != "" {
		return nil
	}
	db := filepath.Join(cfg.DataDir, dbFile)
	fi, err := os.Stat(db)
	var state string
	switch {
	case errors.Is(err, fs.ErrNotExist):
		state = "missing"
	case err != nil:
		return fmt.Errorf("store %s: %w", db, err)
	case fi.Size() == 0:
		state = "empty (0 bytes)"
	default:
		return nil
	}
	// A KEK given with --kek-file may be put in place before a first
	// start; only one certd generated is a trace of an earlier start.
	names := []string{kekFile, tokenFile}
	if cfg.KEKFile != "" {
		names = names[1:]
	}
	var traces []string
	for _, name := range names {
		if _, err := os.Lstat(filepath.Join(cfg.DataDir, name)); err == nil {
			traces = append(traces, name)
		}
	}
	if len(traces) == 0 {
		return nil
	}
	return fmt.Errorf("store %s is %s, but %s holds %s from an earlier start: this is not a first start, "+
		"and starting would create a new issuer and new keys that no earlier certificate verifies against. "+
		"Restore %s from a backup; to start afresh on purpose, move %s out of %s",
		db, state, cfg.DataDir, strings.Join(traces, " and "), dbFile, strings.Join(traces, " and "), cfg.DataDir)
}

// storeHolds names what the store holds that only a KEK can open: the
// issuers, and the default issuer's key ring (made before the issuer on a
// first start). It returns "" for a store with neither.
func storeHolds(ctx context.Context, st store.Store) (string, error) {
	all, err := st.Issuers(ctx)
	if err != nil {
		return "", fmt.Errorf("read issuers: %w", err)
	}
	if len(all) > 0 {
		ids := make([]string, len(all))
		for i, is := range all {
			ids[i] = is.ID
		}
		return "issuers " + strings.Join(ids, ", "), nil
	}
	_, err = st.KeyRing(ctx, DefaultIssuer)
	switch {
	case err == nil:
		return "the key ring of issuer " + DefaultIssuer, nil
	case errors.Is(err, cert.ErrNotFound):
		return "", nil
	default:
		return "", fmt.Errorf("read key ring %s: %w", DefaultIssuer, err)
	}
}

// checkSigning makes sure the KEK opens the active key of every issuer, so
// that a KEK file replaced by another (restored from the wrong backup,
// generated anew) stops the start instead of failing every issue.
func (m *Main) checkSigning(ctx context.Context) error {
	all, err := m.store.Issuers(ctx)
	if err != nil {
		return fmt.Errorf("read issuers: %w", err)
	}
	for _, is := range all {
		err := m.Keys.CheckSigning(ctx, is.ID)
		switch {
		case err == nil:
		case errors.Is(err, keys.ErrUnseal):
			return fmt.Errorf("key-encryption key %s does not open the signing key of issuer %q: it is not the KEK "+
				"that sealed the keys in this store. Start certd with that KEK file (--kek-file, or %s in the data directory); "+
				"certd does not start with another one", m.Config.kekPath(), is.ID, kekFile)
		case errors.Is(err, cert.ErrNotFound):
			m.Logger.Warn("issuer cannot sign: it has no active key", "issuer", is.ID, "error", err.Error())
		default:
			return fmt.Errorf("check the signing key of issuer %q: %w", is.ID, err)
		}
	}
	return nil
}
