package bolt

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"path/filepath"
	"testing"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/cert/certtest"
	"github.com/certd/certd/store"
	"github.com/certd/certd/store/storetest"
)

// FuzzDecodeCert: any bytes read from the certificates bucket decode to an
// error or to a certificate, never a panic; and a certificate that decodes
// is stored again unchanged (encode then decode gives the same fields).
func FuzzDecodeCert(f *testing.F) {
	var full cert.Certificate
	certtest.Fill(f, &full)
	sample := storetest.NewCertificate(f, "default")
	sample.Credential = "eyJhbGciOiJFZERTQSJ9.e30.sig"
	for _, c := range []*cert.Certificate{&full, sample, {}, {Events: []cert.Event{{}}}} {
		v, err := encodeCert(c)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(v)
		f.Add(v[:len(v)/2])
	}
	legacy, err := json.Marshal(sample)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(append(append(legacy, 0), "eyJ.e30.sig"...))
	f.Add([]byte(`{"events":[{"until":null}]}`))
	f.Add([]byte{certFormat, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Add([]byte{})

	f.Fuzz(func(t *testing.T, v []byte) {
		var c cert.Certificate
		if err := decodeCert(v, &c); err != nil {
			return
		}
		again, err := encodeCert(&c)
		if err != nil {
			t.Fatalf("a decoded certificate cannot be encoded again: %v", err)
		}
		var back cert.Certificate
		if err := decodeCert(again, &back); err != nil {
			t.Fatalf("the encoding of a decoded certificate does not decode: %v", err)
		}
		want, _ := json.Marshal(&c)
		got, _ := json.Marshal(&back)
		if string(got) != string(want) {
			t.Fatalf("round trip changed the certificate:\n got %s\nwant %s", got, want)
		}
		searchFields(v) // reads the same records; must not panic either
	})
}

// FuzzCursor: a cursor from outside (the query string of GET
// /api/v1/certificates and of the search) is refused as cert.ErrInvalid or
// gives a page, whose own next cursor is accepted in turn; never a panic.
func FuzzCursor(f *testing.F) {
	s, err := Open(filepath.Join(f.TempDir(), "certd.db"))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = s.Close() })
	ctx := context.Background()
	var first *cert.Certificate
	for range 5 {
		c := storetest.NewCertificate(f, "default")
		if err := s.CreateCertificate(ctx, c); err != nil {
			f.Fatal(err)
		}
		first = c
	}
	enc := base64.RawURLEncoding.EncodeToString
	_, next, err := s.ListCertificates(ctx, store.Query{Limit: 2})
	if err != nil || next == "" {
		f.Fatalf("first page: next %q, %v", next, err)
	}
	f.Add(next, uint8(0))
	_, snext, err := s.Search(ctx, store.SearchQuery{Text: first.Organization.Name[:3], Limit: 1})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(snext, uint8(4))
	for _, seed := range []string{"", "a", "=", enc([]byte("a")), enc([]byte("n")), enc([]byte("i\x00")),
		enc([]byte("s")), enc([]byte("s0123456789ab")), enc([]byte("s\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"))} {
		for kind := range uint8(5) {
			f.Add(seed, kind)
		}
	}

	f.Fuzz(func(t *testing.T, cursor string, kind uint8) {
		q := store.Query{Cursor: cursor, Limit: 2}
		switch kind % 5 {
		case 1:
			q.Issuer = "default"
		case 2:
			q.Number = first.Number
		case 3:
			q.USCC = first.Organization.USCC
		case 4:
			sq := store.SearchQuery{Text: first.Organization.Name[:3], Cursor: cursor, Limit: 1}
			_, next, err := s.Search(ctx, sq)
			if err != nil {
				if !errors.Is(err, cert.ErrInvalid) {
					t.Fatalf("Search(cursor %q): %v, want an error matching cert.ErrInvalid", cursor, err)
				}
				return
			}
			if next != "" {
				sq.Cursor = next
				if _, _, err := s.Search(ctx, sq); err != nil {
					t.Fatalf("Search refuses its own next cursor %q (after %q): %v", next, cursor, err)
				}
			}
			return
		}
		_, next, err := s.ListCertificates(ctx, q)
		if err != nil {
			if !errors.Is(err, cert.ErrInvalid) {
				t.Fatalf("ListCertificates(cursor %q): %v, want an error matching cert.ErrInvalid", cursor, err)
			}
			return
		}
		if next != "" {
			q.Cursor = next
			if _, _, err := s.ListCertificates(ctx, q); err != nil {
				t.Fatalf("ListCertificates refuses its own next cursor %q (after %q): %v", next, cursor, err)
			}
		}
	})
}
