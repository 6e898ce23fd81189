package bolt_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/store"
	"github.com/certd/certd/store/bolt"
	"github.com/certd/certd/store/storetest"
)

// open opens a store in a fresh temporary directory, closed at cleanup.
func open(t testing.TB, opts ...bolt.Option) (*bolt.Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "certd.db")
	s, err := bolt.Open(path, opts...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s, path
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t testing.TB) store.Store {
		s, _ := open(t)
		return s
	})
}

func TestReopenKeepsData(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "certd.db")
	s, err := bolt.Open(path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	c := storetest.NewCertificate(t, "default")
	c.IdempotencyKey = "first-start"
	if err := s.CreateCertificate(ctx, c); err != nil {
		t.Fatalf("CreateCertificate: %v", err)
	}
	if err := s.CreateIssuer(ctx, &cert.Issuer{ID: "default", Name: "Default CB"}); err != nil {
		t.Fatalf("CreateIssuer: %v", err)
	}
	if err := s.PutKeyRing(ctx, &cert.KeyRing{Issuer: "default", Keys: []cert.KeyRecord{{Kid: "k1", State: cert.KeyActive}}}); err != nil {
		t.Fatalf("PutKeyRing: %v", err)
	}
	if err := s.CreateAPIKey(ctx, &cert.APIKey{ID: "admin", Hash: "abc123", Role: cert.RoleAdmin}); err != nil {
		t.Fatalf("CreateAPIKey: %v", err)
	}
	if _, err := s.NextSequence(ctx, "default/2026", 5); err != nil {
		t.Fatalf("NextSequence: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s, err = bolt.Open(path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	got, err := s.CertificateByIdempotencyKey(ctx, "default", "first-start")
	if err != nil || got.ID != c.ID || got.Version != 1 {
		t.Errorf("certificate after reopen = %+v, %v; want %s version 1", got, err, c.ID)
	}
	if page, next, err := s.ListCertificates(ctx, store.Query{Issuer: "default"}); err != nil || len(page) != 1 || next != "" {
		t.Errorf("ListCertificates after reopen = %d, %q, %v; want 1 certificate", len(page), next, err)
	}
	if is, err := s.Issuer(ctx, "default"); err != nil || is.Name != "Default CB" {
		t.Errorf("issuer after reopen = %v, %v", is, err)
	}
	if r, err := s.KeyRing(ctx, "default"); err != nil || r.Version != 1 || len(r.Keys) != 1 {
		t.Errorf("key ring after reopen = %+v, %v; want version 1 with one key", r, err)
	}
	if k, err := s.APIKeyByHash(ctx, "abc123"); err != nil || k.ID != "admin" {
		t.Errorf("api key after reopen = %v, %v", k, err)
	}
	if n, err := s.NextSequence(ctx, "default/2026", 1); err != nil || n != 6 {
		t.Errorf("NextSequence after reopen = %d, %v; want 6", n, err)
	}
}

func TestOpenLocked(t *testing.T) {
	_, path := open(t)
	s, err := bolt.Open(path, bolt.WithLockTimeout(50*time.Millisecond))
	if err == nil {
		s.Close()
		t.Fatal("second Open of a file in use succeeded, want an error")
	}
	if !errors.Is(err, bolt.ErrLocked) || !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("second Open: err = %v, want one matching ErrLocked and store.ErrUnavailable", err)
	}
	if !strings.Contains(err.Error(), "database file is locked by another process") || !strings.Contains(err.Error(), path) {
		t.Errorf("second Open: message %q should say the file %s is locked by another process", err, path)
	}
}

func TestOpenMissingDirectory(t *testing.T) {
	_, err := bolt.Open(filepath.Join(t.TempDir(), "missing", "certd.db"))
	if !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("Open in a missing directory: err = %v, want store.ErrUnavailable", err)
	}
}

func TestOpenNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "certd.db")
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		b, err := tx.CreateBucket([]byte("meta"))
		if err != nil {
			return err
		}
		return b.Put([]byte("schema"), []byte("2"))
	})
	if cerr := db.Close(); err != nil || cerr != nil {
		t.Fatal(err, cerr)
	}
	s, err := bolt.Open(path)
	if err == nil {
		s.Close()
		t.Fatal("Open of a file with schema version 2 succeeded, want an error")
	}
	if !strings.Contains(err.Error(), "newer version of certd") {
		t.Errorf("Open: message %q should say the file was written by a newer certd", err)
	}
}

func TestClosed(t *testing.T) {
	s, err := bolt.Open(filepath.Join(t.TempDir(), "certd.db"))
	if err != nil {
		t.Fatal(err)
	}
	c := storetest.NewCertificate(t, "default")
	if err := s.CreateCertificate(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	checks := map[string]error{
		"Ping":              s.Ping(ctx),
		"CreateCertificate": s.CreateCertificate(ctx, storetest.NewCertificate(t, "default")),
		"UpdateCertificate": s.UpdateCertificate(ctx, c),
		"PutKeyRing":        s.PutKeyRing(ctx, &cert.KeyRing{Issuer: "default"}),
	}
	_, checks["Certificate"] = s.Certificate(ctx, c.ID)
	_, _, checks["ListCertificates"] = s.ListCertificates(ctx, store.Query{})
	_, checks["NextSequence"] = s.NextSequence(ctx, "n", 1)
	_, checks["CreateCertificates"] = s.CreateCertificates(ctx, []*cert.Certificate{storetest.NewCertificate(t, "default")})
	for op, err := range checks {
		if !errors.Is(err, store.ErrUnavailable) || !errors.Is(err, bbolt.ErrDatabaseNotOpen) {
			t.Errorf("%s after Close: err = %v, want store.ErrUnavailable wrapping bbolt.ErrDatabaseNotOpen", op, err)
		}
	}
}

func TestCanceledContext(t *testing.T) {
	s, _ := open(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err := s.CreateCertificate(ctx, storetest.NewCertificate(t, "default"))
	if !errors.Is(err, context.Canceled) || !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("CreateCertificate(canceled): err = %v, want context.Canceled and store.ErrUnavailable", err)
	}
	_, err = s.Issuers(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Issuers(canceled): err = %v, want context.Canceled", err)
	}
}

func TestInvalidCursor(t *testing.T) {
	s, _ := open(t)
	cs := make([]*cert.Certificate, 3)
	for i := range cs {
		cs[i] = storetest.NewCertificate(t, "default")
	}
	if _, err := s.CreateCertificates(t.Context(), cs); err != nil {
		t.Fatal(err)
	}
	_, byIssuer, err := s.ListCertificates(t.Context(), store.Query{Issuer: "default", Limit: 1})
	if err != nil || byIssuer == "" {
		t.Fatalf("first page: cursor %q, %v", byIssuer, err)
	}
	for name, q := range map[string]store.Query{
		"garbage":            {Issuer: "default", Cursor: "not base64!"},
		"other index":        {Cursor: byIssuer},
		"other issuer":       {Issuer: "other", Cursor: byIssuer},
		"other number query": {Number: cs[0].Number, Cursor: byIssuer},
	} {
		_, _, err := s.ListCertificates(t.Context(), q)
		if !errors.Is(err, cert.ErrInvalid) {
			t.Errorf("%s: err = %v, want cert.ErrInvalid", name, err)
		}
	}
}

func TestUpdateImmutableRefused(t *testing.T) {
	s, _ := open(t)
	c := storetest.NewCertificate(t, "default")
	if err := s.CreateCertificate(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	c.Number += "-R1"
	err := s.UpdateCertificate(t.Context(), c)
	var v *cert.ValidationError
	if !errors.As(err, &v) || len(v.Fields) != 1 || v.Fields[0].Field != "number" {
		t.Errorf("UpdateCertificate(changed number): err = %v, want a validation error on the field number", err)
	}
	if c.Version != 1 {
		t.Errorf("c.Version = %d after a refused update, want 1", c.Version)
	}
}

func TestInvalidKeys(t *testing.T) {
	s, _ := open(t)
	for name, change := range map[string]func(*cert.Certificate){
		"empty id":         func(c *cert.Certificate) { c.ID = "" },
		"empty issuer":     func(c *cert.Certificate) { c.Issuer = "" },
		"NUL in number":    func(c *cert.Certificate) { c.Number = "A\x00B" },
		"huge idempotency": func(c *cert.Certificate) { c.IdempotencyKey = strings.Repeat("k", 40_000) },
		"NUL in issuer":    func(c *cert.Certificate) { c.Issuer = "a\x00b" },
		"empty number":     func(c *cert.Certificate) { c.Number = "" },
	} {
		c := storetest.NewCertificate(t, "default")
		change(c)
		if err := s.CreateCertificate(t.Context(), c); !errors.Is(err, cert.ErrInvalid) {
			t.Errorf("%s: err = %v, want cert.ErrInvalid", name, err)
		}
	}
}

func TestAPIKeyHashChange(t *testing.T) {
	s, _ := open(t)
	ctx := t.Context()
	for _, k := range []*cert.APIKey{{ID: "k1", Hash: "h1", Role: cert.RoleAdmin}, {ID: "k2", Hash: "h2", Role: cert.RoleAdmin}} {
		if err := s.CreateAPIKey(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	err := s.UpdateAPIKey(ctx, &cert.APIKey{ID: "k1", Hash: "h2", Role: cert.RoleAdmin})
	if !errors.Is(err, store.ErrAlreadyExists) {
		t.Errorf("UpdateAPIKey to another key's hash: err = %v, want ErrAlreadyExists", err)
	}
	if err := s.UpdateAPIKey(ctx, &cert.APIKey{ID: "k1", Hash: "h3", Role: cert.RoleAdmin}); err != nil {
		t.Fatalf("UpdateAPIKey(new hash): %v", err)
	}
	if k, err := s.APIKeyByHash(ctx, "h3"); err != nil || k.ID != "k1" {
		t.Errorf("APIKeyByHash(new hash) = %v, %v; want k1", k, err)
	}
	if _, err := s.APIKeyByHash(ctx, "h1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("APIKeyByHash(old hash): err = %v, want ErrNotFound", err)
	}
	if k, err := s.APIKeyByHash(ctx, "h2"); err != nil || k.ID != "k2" {
		t.Errorf("APIKeyByHash(h2) = %v, %v; want k2 untouched", k, err)
	}
}

func TestListLimitClamped(t *testing.T) {
	s, _ := open(t)
	cs := make([]*cert.Certificate, 1001)
	for i := range cs {
		cs[i] = storetest.NewCertificate(t, "default")
	}
	if _, err := s.CreateCertificates(t.Context(), cs); err != nil {
		t.Fatal(err)
	}
	page, next, err := s.ListCertificates(t.Context(), store.Query{Limit: 5000})
	if err != nil || len(page) != 1000 || next == "" {
		t.Errorf("Limit 5000: %d certificates, cursor %q, %v; want 1000 and a cursor", len(page), next, err)
	}
}

// The benchmarks measure the store alone, on the real file system with
// fsync. BenchmarkCreateCertificate runs 16 goroutines per P (32 on two
// cores), like 32 clients issuing one certificate each at a time.

func BenchmarkCreateCertificate(b *testing.B) {
	s, _ := open(b)
	ctx := context.Background()
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := s.CreateCertificate(ctx, storetest.NewCertificate(b, "default")); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "certs/s")
}

// BenchmarkSingleIssueWrites makes the store calls of a single issue (its
// number, then the certificate) from 32 goroutines, as the issuer makes
// them: the number from memory, one grouped commit per certificate.
func BenchmarkSingleIssueWrites(b *testing.B) {
	s, _ := open(b)
	ctx := context.Background()
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.NextSequence(ctx, "number/default/all", 1); err != nil {
				b.Error(err)
				return
			}
			if err := s.CreateCertificate(ctx, storetest.NewCertificate(b, "default")); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "certs/s")
}

func BenchmarkCreateCertificates1000(b *testing.B) {
	s, _ := open(b)
	ctx := context.Background()
	n := 0
	for b.Loop() {
		b.StopTimer()
		cs := make([]*cert.Certificate, 1000)
		for i := range cs {
			cs[i] = storetest.NewCertificate(b, "default")
			cs[i].Credential = strings.Repeat("x", 1900) // a credential's size
		}
		b.StartTimer()
		errs, err := s.CreateCertificates(ctx, cs)
		if err != nil {
			b.Fatal(err)
		}
		for _, err := range errs {
			if err != nil {
				b.Fatal(err)
			}
		}
		n += len(cs)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "certs/s")
}

// BenchmarkCreateCertificatesNamed is BenchmarkCreateCertificates1000 with
// a different organization name on every certificate, as in a real
// registry, so that the search index has its real cost; it also reports
// the size of the file per certificate.
func BenchmarkCreateCertificatesNamed(b *testing.B) {
	s, path := open(b)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(7, 7))
	n := 0
	for b.Loop() {
		b.StopTimer()
		cs := make([]*cert.Certificate, 1000)
		for i := range cs {
			cs[i] = storetest.NewCertificate(b, "default")
			cs[i].Organization.Name, cs[i].Organization.NameEn = storetest.RandomNames(rng)
			cs[i].Credential = strings.Repeat("x", 1900) // a credential's size
		}
		b.StartTimer()
		errs, err := s.CreateCertificates(ctx, cs)
		if err != nil {
			b.Fatal(err)
		}
		for _, err := range errs {
			if err != nil {
				b.Fatal(err)
			}
		}
		n += len(cs)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "certs/s")
	if fi, err := os.Stat(path); err == nil {
		b.ReportMetric(float64(fi.Size())/float64(n), "file-B/cert")
	}
}

func BenchmarkGetCertificate(b *testing.B) {
	const stored = 100_000
	s, _ := open(b)
	ctx := context.Background()
	ids := make([]string, 0, stored)
	for len(ids) < stored {
		cs := make([]*cert.Certificate, 1000)
		for i := range cs {
			cs[i] = storetest.NewCertificate(b, "default")
			ids = append(ids, cs[i].ID)
		}
		if _, err := s.CreateCertificates(ctx, cs); err != nil {
			b.Fatal(err)
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for b.Loop() {
		id := ids[r.IntN(len(ids))]
		c, err := s.Certificate(ctx, id)
		if err != nil || c.ID != id {
			b.Fatalf("Certificate(%s) = %v, %v", id, c, err)
		}
	}
}

// TestOpenDamaged damages a file with data in several ways: each gives an
// error matching bolt.ErrDamaged, not a fault or a panic.
func TestOpenDamaged(t *testing.T) {
	s, path := open(t)
	ctx := t.Context()
	for i := range 300 {
		c := storetest.NewCertificate(t, "cesa-itss")
		if err := s.CreateCertificate(ctx, c); err != nil {
			t.Fatalf("CreateCertificate %d: %v", i, err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// bbolt grows the file ahead of the data: damage what lies below the
	// high-water mark, where the pages in use are.
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true, PreLoadFreelist: true})
	if err != nil {
		t.Fatal(err)
	}
	var (
		hwm   int
		inUse []int // offsets of branch and leaf pages
	)
	_ = db.View(func(tx *bbolt.Tx) error {
		hwm = int(tx.Size())
		for id := 2; id < hwm/4096; id++ {
			if pi, err := tx.Page(id); err == nil && pi != nil && (pi.Type == "leaf" || pi.Type == "branch") {
				inUse = append(inUse, id*4096)
			}
		}
		return nil
	})
	db.Close()
	if hwm < 64<<10 || len(inUse) < 8 {
		t.Fatalf("data of %d bytes, want a few pages more", hwm)
	}
	garbage := func(at int) []byte {
		b := slices.Clone(good)
		for i := at; i < at+4096; i++ {
			b[i] = byte(i*7 + 13)
		}
		return b
	}
	cases := []struct {
		name string
		data []byte
	}{
		{"truncated/1-byte", good[:1]},
		{"truncated/one-page", good[:4096]},
		{"truncated/three-pages", good[:3*4096]},
		{"truncated/half", good[:hwm/2]},
		{"truncated/last-page", good[:hwm-4096]},
		{"truncated/odd", good[:hwm-1]},
		{"garbage/meta", garbage(0)},
		{"garbage/first-in-use", garbage(inUse[0])},
		{"garbage/quarter", garbage(inUse[len(inUse)/4])},
		{"garbage/middle", garbage(inUse[len(inUse)/2])},
		{"garbage/three-quarters", garbage(inUse[len(inUse)*3/4])},
		{"garbage/last-in-use", garbage(inUse[len(inUse)-1])},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "certd.db")
			if err := os.WriteFile(p, tc.data, 0o600); err != nil {
				t.Fatal(err)
			}
			s, err := bolt.Open(p, bolt.WithLockTimeout(100*time.Millisecond))
			if err == nil {
				s.Close()
				t.Fatalf("Open of a damaged file succeeded")
			}
			if !errors.Is(err, bolt.ErrDamaged) {
				t.Fatalf("Open error = %v, want one matching ErrDamaged", err)
			}
			if !strings.Contains(err.Error(), "restore it from a backup") {
				t.Errorf("error %q does not say what to do", err)
			}
		})
	}
	// The undamaged copy still opens.
	p := filepath.Join(t.TempDir(), "certd.db")
	if err := os.WriteFile(p, good, 0o600); err != nil {
		t.Fatal(err)
	}
	s2, err := bolt.Open(p)
	if err != nil {
		t.Fatalf("Open of the intact copy: %v", err)
	}
	s2.Close()
}

// TestOpenIndexesDeliveryGroups: a file written before the group index
// existed gets it on open, so that its pending deliveries hold the later
// ones of their groups.
func TestOpenIndexesDeliveryGroups(t *testing.T) {
	path := filepath.Join(t.TempDir(), "certd.db")
	s, err := bolt.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	for i, id := range []string{"msg_b", "msg_a"} { // msg_a is the later event
		d := &cert.Delivery{ID: id, Webhook: "wh1", Certificate: "CERTA", Seq: i + 1, Issuer: "cesa-itss",
			EventType: cert.WebhookCertificateIssued, Status: cert.DeliveryPending, NextAttemptAt: at, CreatedAt: at}
		if err := s.EnqueueDelivery(t.Context(), d); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bbolt.Tx) error { return tx.DeleteBucket([]byte("deliveries.group")) }); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s, err = bolt.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.LeaseDeliveries(t.Context(), "a", at, at.Add(time.Minute), 1)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, d := range got {
		ids = append(ids, fmt.Sprintf("%s (seq %d)", d.ID, d.Seq))
	}
	if len(got) != 1 || got[0].ID != "msg_b" || got[0].Seq != 1 {
		t.Errorf("leased %v, want msg_b (seq 1; msg_a waits for it)", ids)
	}
}
