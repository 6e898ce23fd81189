package bolt

import (
	"bytes"
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/store"
	"github.com/certd/certd/store/storetest"
)

var listingBuckets = [][]byte{bucketCertCreated, bucketCertIssuer, bucketCertByNumber, bucketCertUSCC, bucketCertValidFrom, bucketCertValidUntil}

// TestListingEntriesHoldNoID checks that a listing entry of a certificate
// whose id certd made holds no value (its key ends with the id), that one
// of an id of another length still holds it, and that every reader of the
// listing indexes answers the same on a file whose entries all hold the
// id, as files written before did.
func TestListingEntriesHoldNoID(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "certd.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	var cs []*cert.Certificate
	for i := range 30 {
		c := storetest.NewCertificate(t, []string{"cb-a", "cb-b"}[i%2])
		if i%7 == 3 {
			c.ID = "imp-" + c.Number // an id of another length
		}
		cs = append(cs, c)
	}
	if errs, err := s.CreateCertificates(ctx, cs[:20]); err != nil || slices.ContainsFunc(errs, func(e error) bool { return e != nil }) {
		t.Fatal(err, errs)
	}
	for _, c := range cs[20:] {
		if err := s.CreateCertificate(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	// A replace that moves the entries (a new USCC).
	moved := cs[21]
	moved.Organization.USCC = storetest.NewCertificate(t, "cb-b").Organization.USCC
	if err := s.UpdateCertificate(ctx, moved); err != nil {
		t.Fatal(err)
	}
	answers := listingAnswers(t, s, cs)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	entries := 0
	rawUpdate(t, path, func(tx *bbolt.Tx) error {
		for _, name := range listingBuckets {
			err := tx.Bucket(name).ForEach(func(k, v []byte) error {
				entries++
				id := listedID(k, v)
				if tx.Bucket(bucketCerts).Get(id) == nil {
					t.Errorf("%s entry %q: id %q not stored", name, k, id)
				}
				want := []byte{}
				if len(id) != cert.IDLength {
					want = id
				}
				if !bytes.HasSuffix(k, id) || !bytes.Equal(v, want) {
					t.Errorf("%s entry %q holds %q, want %q", name, k, v, want)
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if want := 6 * len(cs); entries != want {
		t.Errorf("%d listing entries, want %d", entries, want)
	}

	// The file as earlier versions wrote it: every entry holds the id,
	// and the search index is built again from the creation index.
	rawUpdate(t, path, func(tx *bbolt.Tx) error {
		for _, name := range listingBuckets {
			b := tx.Bucket(name)
			var ks [][]byte
			_ = b.ForEach(func(k, v []byte) error {
				ks = append(ks, bytes.Clone(k))
				return nil
			})
			for _, k := range ks {
				if err := b.Put(k, bytes.Clone(listedID(k, b.Get(k)))); err != nil {
					return err
				}
			}
		}
		for _, name := range searchBuckets {
			if err := tx.DeleteBucket(name); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketMeta).Delete(keySearchIndex)
	})
	s = openTemp(t, path)
	again := listingAnswers(t, s, cs)
	for q, want := range answers {
		if got := again[q]; !slices.Equal(got, want) {
			t.Errorf("%s on a file whose entries hold ids: %v, want %v", q, got, want)
		}
	}
}

// listingAnswers asks every reader of the listing indexes about cs and
// returns the ids each answered, by question.
func listingAnswers(t *testing.T, s *Store, cs []*cert.Certificate) map[string][]string {
	t.Helper()
	ctx := context.Background()
	out := map[string][]string{}
	// pages reads every page of a listing whose cursor fetch takes.
	pages := func(name string, fetch func(cursor string) ([]*cert.Certificate, string, error)) {
		for cursor := ""; ; {
			page, next, err := fetch(cursor)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			out[name] = append(out[name], ids(page)...)
			if cursor = next; next == "" {
				return
			}
		}
	}
	list := func(name string, q store.Query) {
		q.Limit = 7
		pages(name, func(cursor string) ([]*cert.Certificate, string, error) {
			q.Cursor = cursor
			return s.ListCertificates(ctx, q)
		})
	}
	list("all", store.Query{})
	list("issuer cb-a", store.Query{Issuer: "cb-a"})
	for _, c := range []*cert.Certificate{cs[3], cs[21], cs[25]} {
		list("number "+c.Number, store.Query{Number: c.Number})
		list("uscc "+c.Organization.USCC, store.Query{USCC: c.Organization.USCC})
		for _, text := range []string{c.Number, c.Organization.USCC, c.Organization.Name, strings.ToLower(c.Number)} {
			got, _, err := s.Search(ctx, store.SearchQuery{Text: text, Limit: 50})
			if err != nil {
				t.Fatal(err)
			}
			out["search "+text] = ids(got)
		}
	}
	for _, until := range []bool{false, true} {
		q := store.ValidityQuery{Issuer: "cb-b", Until: until, From: time.Unix(0, 0), To: time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC), Limit: 4}
		name := "validity"
		if until {
			name += " until"
		}
		pages(name, func(cursor string) ([]*cert.Certificate, string, error) {
			q.Cursor = cursor
			return s.CertificatesByValidity(ctx, q)
		})
	}
	for name, got := range out {
		if len(got) == 0 {
			t.Errorf("%s found nothing", name)
		}
	}
	if n := len(out["all"]); n != len(cs) {
		t.Errorf("the listing of all holds %d certificates, want %d", n, len(cs))
	}
	return out
}
