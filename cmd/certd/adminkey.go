package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/issuer"
	"github.com/certd/certd/store"
	"github.com/certd/certd/store/bolt"
)

// adminKeyLockTimeout is how long `certd admin-key` waits for the embedded
// store's lock: a running certd holds it for as long as it runs.
const adminKeyLockTimeout = time.Second

// runAdminKey is `certd admin-key`, the operator's way back in when no
// admin API key works any more (lost, revoked): run on the host, it creates
// a new admin key in the store and prints its token on stdout. It needs no
// KEK (API keys are not sealed). The embedded store admits one process, so
// certd must be stopped first; with --mongo-uri it works while certd runs.
// admin.token is left as it is unless --write-token is given.
func runAdminKey(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("certd admin-key", flag.ContinueOnError)
	fs.SetOutput(stderr)
	env := func(name, def string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		return def
	}
	dataDir := fs.String("data-dir", env("CERTD_DATA_DIR", "./data"), "data directory of the embedded store ($CERTD_DATA_DIR)")
	mongoURI := fs.String("mongo-uri", env("CERTD_MONGO_URI", ""), "MongoDB connection string, when certd runs on MongoDB ($CERTD_MONGO_URI)")
	mongoDB := fs.String("mongo-database", env("CERTD_MONGO_DATABASE", "certd"), "MongoDB database name ($CERTD_MONGO_DATABASE)")
	name := fs.String("name", "recovery admin", "`name` of the new key, shown in GET /api/v1/apikeys and in events")
	writeToken := fs.Bool("write-token", false, "also replace DATA-DIR/admin.token with the new token (default: leave it)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: certd admin-key [--data-dir DIR | --mongo-uri URI] [--name NAME] [--write-token]\n\n"+
			"Creates a new admin API key and prints its token. Stop certd first when it uses\n"+
			"the embedded store (--data-dir); with --mongo-uri it works while certd runs.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (see certd admin-key -h)", fs.Arg(0))
	}
	if len(*name) > 100 {
		return errors.New("--name: must be at most 100 characters")
	}
	st, where, err := openForAdminKey(ctx, *dataDir, *mongoURI, *mongoDB)
	if err != nil {
		return err
	}
	defer st.Close()
	op := cert.Principal{Role: cert.RoleAdmin, KeyID: "operator", Name: "certd admin-key"}
	k, token, err := issuer.New(issuer.Config{Store: st}).CreateAPIKey(ctx, op, issuer.APIKeyRequest{Role: cert.RoleAdmin, Name: *name})
	if err != nil {
		return fmt.Errorf("create admin key in %s: %w", where, err)
	}
	fmt.Fprintln(stdout, token)
	fmt.Fprintf(stderr, "certd admin-key: created admin API key %s (%s) in %s.\n"+
		"The token above is shown only this once; certd keeps only its hash.\n", k.ID, k.Name, where)
	if *writeToken {
		path := filepath.Join(*dataDir, tokenFile)
		if err := writeTokenFile(path, token, true); err != nil {
			return fmt.Errorf("the key was created, but %s was not written: %w", path, err)
		}
		fmt.Fprintf(stderr, "Replaced %s with it.\n", path)
	}
	return nil
}

// openForAdminKey opens the store that certd uses, refusing to create one.
func openForAdminKey(ctx context.Context, dataDir, mongoURI, mongoDB string) (store.Store, string, error) {
	if mongoURI != "" {
		cfg := &Config{MongoURI: mongoURI, MongoDatabase: mongoDB, StoreTimeout: 10 * time.Second}
		st, err := openMongo(ctx, cfg)
		if err != nil {
			return nil, "", err
		}
		return st, "MongoDB database " + mongoDB, nil
	}
	path := filepath.Join(dataDir, dbFile)
	if fi, err := os.Stat(path); err != nil || fi.Size() == 0 {
		return nil, "", fmt.Errorf("no store at %s: nothing to recover (point --data-dir at certd's data directory, or use --mongo-uri)", path)
	}
	st, err := bolt.Open(path, bolt.WithLockTimeout(adminKeyLockTimeout))
	if errors.Is(err, bolt.ErrLocked) {
		return nil, "", fmt.Errorf("%s is in use: stop certd first (the embedded store admits one process), then run certd admin-key again", path)
	}
	if err != nil {
		return nil, "", fmt.Errorf("open store: %w", err)
	}
	return st, path, nil
}
