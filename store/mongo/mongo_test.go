package mongo_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	driver "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/store"
	"github.com/certd/certd/store/mongo"
	"github.com/certd/certd/store/mongo/mongotest"
	"github.com/certd/certd/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t testing.TB) store.Store { return mongotest.Open(t) })
}

// indexInfo is what TestIndexes checks of one index.
type indexInfo struct {
	keys    string
	unique  bool
	partial bool
}

func TestIndexes(t *testing.T) {
	uri := mongotest.URI(t)
	mongotest.OpenURI(t, uri)
	// A second Open on the same database (another certd instance, a
	// restart) finds the indexes in place and succeeds.
	mongotest.OpenURI(t, uri)

	client, err := driver.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Disconnect(context.Background())
	db := client.Database(databaseOf(t, uri))
	ferret := isFerret(t, client)

	want := map[string]map[string]indexInfo{
		"certificates": {
			"uniq_issuer_number":          {keys: "issuer,number", unique: true},
			"uniq_issuer_status_position": {keys: "issuer,statusList,statusIndex", unique: true},
			"uniq_issuer_idempotency_key": {keys: "issuer,idempotencyKey", unique: true, partial: !ferret},
			"idx_issuer_created":          {keys: "issuer,createdAt,createdAtNs,_id"},
			"idx_created":                 {keys: "createdAt,createdAtNs,_id"},
			"idx_search_terms":            {keys: "searchTerms"},
		},
		"apikeys": {
			"uniq_hash": {keys: "hash", unique: true},
		},
	}
	for coll, indexes := range want {
		got := listIndexes(t, db.Collection(coll))
		for name, w := range indexes {
			g, ok := got[name]
			if !ok {
				t.Errorf("%s: index %s missing; have %v", coll, name, got)
				continue
			}
			if g != w {
				t.Errorf("%s: index %s = %+v, want %+v", coll, name, g, w)
			}
		}
	}
}

func listIndexes(t *testing.T, coll *driver.Collection) map[string]indexInfo {
	t.Helper()
	cur, err := coll.Indexes().List(t.Context())
	if err != nil {
		t.Fatalf("list indexes of %s: %v", coll.Name(), err)
	}
	defer cur.Close(context.Background())
	out := map[string]indexInfo{}
	for cur.Next(t.Context()) {
		spec := cur.Current
		elems, err := spec.Lookup("key").Document().Elements()
		if err != nil {
			t.Fatal(err)
		}
		var keys []string
		for _, e := range elems {
			keys = append(keys, e.Key())
		}
		var info indexInfo
		info.keys = strings.Join(keys, ",")
		if v, err := spec.LookupErr("unique"); err == nil {
			info.unique = v.Boolean()
		}
		_, err = spec.LookupErr("partialFilterExpression")
		info.partial = err == nil
		out[spec.Lookup("name").StringValue()] = info
	}
	if err := cur.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func databaseOf(t *testing.T, uri string) string {
	t.Helper()
	// mongotest puts the database in the path: mongodb://host/NAME[?opts]
	_, rest, _ := strings.Cut(uri, "://")
	_, path, _ := strings.Cut(rest, "/")
	name, _, _ := strings.Cut(path, "?")
	if name == "" {
		t.Fatalf("no database in %s", uri)
	}
	return name
}

func isFerret(t *testing.T, client *driver.Client) bool {
	t.Helper()
	raw, err := client.Database("admin").RunCommand(t.Context(), bson.D{{Key: "buildInfo", Value: 1}}).Raw()
	if err != nil {
		t.Fatal(err)
	}
	_, err = raw.LookupErr("ferretdbVersion")
	return err == nil
}

func TestOpenDatabaseName(t *testing.T) {
	uri := mongotest.URI(t)
	a := mongotest.OpenURI(t, uri)
	c := storetest.NewCertificate(t, "issuer-a")
	if err := a.CreateCertificate(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	// The explicit name wins over the URI path.
	other := mongotest.DatabaseName(t)
	b, err := mongo.Open(t.Context(), uri, other)
	if err != nil {
		t.Fatalf("Open(explicit database): %v", err)
	}
	t.Cleanup(func() { b.Close() })
	if _, err := b.Certificate(t.Context(), c.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("certificate of database A read through database %s: err = %v, want ErrNotFound", other, err)
	}
	t.Cleanup(func() { dropDatabase(t, uri, other) })
}

func dropDatabase(t *testing.T, uri, name string) {
	client, err := driver.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		t.Log(err)
		return
	}
	defer client.Disconnect(context.Background())
	if err := client.Database(name).Drop(context.Background()); err != nil {
		t.Log(err)
	}
}

func TestOpenErrors(t *testing.T) {
	ctx := t.Context()
	if _, err := mongo.Open(ctx, "mongodb://127.0.0.1:1/", ""); err == nil {
		t.Error("Open without a database name: err = nil")
	}
	for _, uri := range []string{
		"postgres://user:topsecret@host/db",
		"mongodb://user:topsecret@host:notaport/",
		"mongodb://user:topsecret@host/?w=maybe&wtimeoutMS=-1",
		"mongodb://user:topsecret@host/?unknownOption=1&authMechanism=NOPE",
	} {
		if _, err := mongo.Open(ctx, uri, "certd", mongo.WithTimeout(300*time.Millisecond)); err == nil {
			t.Errorf("Open(%s): err = nil", uri)
		} else if strings.Contains(err.Error(), "topsecret") {
			t.Errorf("Open(%s) error shows the password: %v", uri, err)
		}
	}
	// Nothing listens on port 1: Open gives up after the timeout.
	_, err := mongo.Open(ctx, "mongodb://127.0.0.1:1/", "certd", mongo.WithTimeout(300*time.Millisecond))
	if !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("Open(no server): err = %v, want ErrUnavailable", err)
	}
}

func TestTimeZone(t *testing.T) {
	s := mongotest.Open(t)
	c := storetest.NewCertificate(t, "issuer-a")
	c.ValidFrom, c.ValidUntil = c.ValidFrom.UTC(), c.ValidUntil.UTC()
	c.CreatedAt = time.Date(2026, 11, 27, 1, 2, 3, 456789012, time.UTC)
	if err := s.CreateCertificate(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	got, err := s.Certificate(t.Context(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if loc := got.ValidFrom.Location().String(); loc != "Asia/Shanghai" {
		t.Errorf("ValidFrom location = %s, want Asia/Shanghai (the certificate's zone)", loc)
	}
	if got.ValidFrom.Hour() != 0 || !got.ValidFrom.Equal(c.ValidFrom) {
		t.Errorf("ValidFrom = %s, want %s at midnight in Shanghai", got.ValidFrom, c.ValidFrom)
	}
	if !got.CreatedAt.Equal(c.CreatedAt) {
		t.Errorf("CreatedAt = %s, want %s", got.CreatedAt.Format(time.RFC3339Nano), c.CreatedAt.Format(time.RFC3339Nano))
	}
}

func TestListBadCursor(t *testing.T) {
	s := mongotest.Open(t)
	for _, cur := range []string{"not base64!", "bm9wZQ", "MTIzLjQ1Ng"} {
		_, _, err := s.ListCertificates(t.Context(), store.Query{Cursor: cur})
		if !errors.Is(err, cert.ErrInvalid) {
			t.Errorf("ListCertificates(cursor %q): err = %v, want ErrInvalid", cur, err)
		}
	}
}

// TestServerGoesAway stops the database under an open store: every call
// fails with ErrUnavailable within the timeout instead of hanging, and
// after a restart on the same address and data the same store works again.
func TestServerGoesAway(t *testing.T) {
	srv := mongotest.Start(t)
	s := mongotest.OpenURI(t, srv.DatabaseURI(t), mongo.WithTimeout(500*time.Millisecond))
	ctx := t.Context()
	c := storetest.NewCertificate(t, "issuer-a")
	if err := s.CreateCertificate(ctx, c); err != nil {
		t.Fatal(err)
	}

	srv.Stop()

	calls := []struct {
		name string
		call func() error
	}{
		{"Ping", func() error { return s.Ping(ctx) }},
		{"Certificate", func() error { _, err := s.Certificate(ctx, c.ID); return err }},
		{"CertificateByNumber", func() error { _, err := s.CertificateByNumber(ctx, c.Issuer, c.Number); return err }},
		{"CreateCertificate", func() error { return s.CreateCertificate(ctx, storetest.NewCertificate(t, "issuer-a")) }},
		{"CreateCertificates", func() error {
			_, err := s.CreateCertificates(ctx, []*cert.Certificate{storetest.NewCertificate(t, "issuer-a")})
			return err
		}},
		{"UpdateCertificate", func() error { u := *c; return s.UpdateCertificate(ctx, &u) }},
		{"ListCertificates", func() error { _, _, err := s.ListCertificates(ctx, store.Query{}); return err }},
		{"Issuers", func() error { _, err := s.Issuers(ctx); return err }},
		{"KeyRing", func() error { _, err := s.KeyRing(ctx, "issuer-a"); return err }},
		{"APIKeyByHash", func() error { _, err := s.APIKeyByHash(ctx, "00"); return err }},
		{"NextSequence", func() error { _, err := s.NextSequence(ctx, "seq", 1); return err }},
	}
	for _, tc := range calls {
		if err := tc.call(); !errors.Is(err, store.ErrUnavailable) {
			t.Errorf("%s with the server stopped: err = %v, want ErrUnavailable", tc.name, err)
		}
	}

	srv.Restart(t)
	// The driver finds the server again by itself; wait for it, bounded.
	var err error
	for range 100 {
		if err = s.Ping(ctx); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("Ping after restart: %v", err)
	}
	got, err := s.Certificate(ctx, c.ID)
	if err != nil {
		t.Fatalf("Certificate after restart: %v", err)
	}
	if got.Number != c.Number {
		t.Errorf("after restart, number = %q, want %q", got.Number, c.Number)
	}
	if err := s.CreateCertificate(ctx, storetest.NewCertificate(t, "issuer-a")); err != nil {
		t.Errorf("CreateCertificate after restart: %v", err)
	}
	if n, err := s.NextSequence(ctx, "after-restart", 1); err != nil || n != 1 {
		t.Errorf("NextSequence after restart = %d, %v; want 1, nil", n, err)
	}
}

// TestUpdateAPIKeyDuplicateHash gives a key the hash of another: refused
// with ErrAlreadyExists, on MongoDB (duplicate key) and FerretDB (which
// reports an update that breaks a unique index as an internal error).
func TestUpdateAPIKeyDuplicateHash(t *testing.T) {
	s := mongotest.Open(t)
	created := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
	a := &cert.APIKey{ID: "key-a", Hash: "hash-a", Role: cert.RoleAdmin, CreatedAt: created}
	b := &cert.APIKey{ID: "key-b", Hash: "hash-b", Role: cert.RoleAdmin, CreatedAt: created}
	for _, k := range []*cert.APIKey{a, b} {
		if err := s.CreateAPIKey(t.Context(), k); err != nil {
			t.Fatal(err)
		}
	}
	changed := *b
	changed.Hash = a.Hash
	if err := s.UpdateAPIKey(t.Context(), &changed); !errors.Is(err, store.ErrAlreadyExists) {
		t.Errorf("UpdateAPIKey(hash of another key): err = %v, want ErrAlreadyExists", err)
	}
	got, err := s.APIKeyByHash(t.Context(), a.Hash)
	if err != nil || got.ID != a.ID {
		t.Errorf("APIKeyByHash(hash-a) = %v, %v; want key-a", got, err)
	}
}

// TestReadsOlderDocuments: documents written before sites had fields (a
// site was a string) and before an issuer's accreditation was a list
// still read, and an issuer stored without a version updates from 0.
func TestReadsOlderDocuments(t *testing.T) {
	uri := mongotest.URI(t)
	s := mongotest.OpenURI(t, uri)
	ctx := t.Context()
	c := storetest.NewCertificate(t, "issuer-a")
	c.Sites = []cert.Site{{Name: "placeholder"}}
	if err := s.CreateCertificate(ctx, c); err != nil {
		t.Fatal(err)
	}
	client, err := driver.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Disconnect(context.Background())
	db := client.Database(databaseOf(t, uri))
	if _, err := db.Collection("certificates").UpdateOne(ctx, bson.D{{Key: "_id", Value: c.ID}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "sites", Value: bson.A{"北京总部", "上海分部"}}}}}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Certificate(ctx, c.ID)
	if err != nil {
		t.Fatalf("Certificate with string sites: %v", err)
	}
	if len(got.Sites) != 2 || got.Sites[0] != (cert.Site{Name: "北京总部"}) || got.Sites[1].Name != "上海分部" {
		t.Errorf("sites = %+v, want the two names", got.Sites)
	}

	if _, err := db.Collection("issuers").InsertOne(ctx, bson.D{
		{Key: "_id", Value: "old"}, {Key: "name", Value: "Old CB"}, {Key: "nameZh", Value: ""},
		{Key: "accreditationBody", Value: "CNAS"}, {Key: "accreditationNumber", Value: "CNAS C123-M"},
		{Key: "timeZone", Value: "Asia/Shanghai"}, {Key: "numberPattern", Value: cert.DefaultNumberPattern},
		{Key: "numberPrefix", Value: "OLD"}, {Key: "keyType", Value: "Ed25519"}, {Key: "createdAt", Value: time.Now()},
	}); err != nil {
		t.Fatal(err)
	}
	is, err := s.Issuer(ctx, "old")
	if err != nil {
		t.Fatal(err)
	}
	if is.Version != 0 || len(is.Accreditation) != 1 || is.Accreditation[0].Number != "CNAS C123-M" {
		t.Errorf("old issuer = version %d, accreditation %v", is.Version, is.Accreditation)
	}
	is.Name = "Renamed"
	if err := s.UpdateIssuer(ctx, is); err != nil {
		t.Fatalf("UpdateIssuer from a document without version: %v", err)
	}
	if is, err = s.Issuer(ctx, "old"); err != nil || is.Name != "Renamed" || is.Version != 1 || len(is.Accreditation) != 1 {
		t.Errorf("after the update: %+v, %v", is, err)
	}
}
