package bolt

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/cert/certtest"
	"github.com/certd/certd/store/storetest"
)

// TestCodecKeepsEveryField fills every field of a certificate and checks
// that decoding the stored value gives the certificate back, field by
// field as its JSON shows it, times to the nanosecond with their offsets.
func TestCodecKeepsEveryField(t *testing.T) {
	var c cert.Certificate
	certtest.Fill(t, &c)
	v, err := encodeCert(&c)
	if err != nil {
		t.Fatal(err)
	}
	var got cert.Certificate
	if err := decodeCert(v, &got); err != nil {
		t.Fatal(err)
	}
	want, _ := json.Marshal(&c)
	have, _ := json.Marshal(&got)
	if string(want) != string(have) {
		t.Errorf("round trip changed the certificate:\n got %s\nwant %s", have, want)
	}
	if !got.Events[1].Until.Equal(*c.Events[1].Until) || got.CreatedAt.Nanosecond() != c.CreatedAt.Nanosecond() {
		t.Error("times lost precision")
	}
}

func TestCodecEmptyAndNil(t *testing.T) {
	for _, c := range []*cert.Certificate{
		{},
		{Events: []cert.Event{}},
		{Sites: []cert.Site{{}}, Events: []cert.Event{{}}},
	} {
		v, err := encodeCert(c)
		if err != nil {
			t.Fatal(err)
		}
		var got cert.Certificate
		if err := decodeCert(v, &got); err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(c)
		have, _ := json.Marshal(&got)
		if string(want) != string(have) {
			t.Errorf("round trip:\n got %s\nwant %s", have, want)
		}
	}
}

// TestCodecCorrupt: a damaged value is an error, never a panic or a
// partly filled certificate passed off as whole.
func TestCodecCorrupt(t *testing.T) {
	c := storetest.NewCertificate(t, "default")
	c.Credential = "eyJhbGciOiJFZERTQSJ9.e30.sig"
	v, err := encodeCert(c)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(v); i++ {
		var got cert.Certificate
		if err := decodeCert(v[:i], &got); err == nil {
			t.Fatalf("a value cut after %d of %d bytes decodes", i, len(v))
		}
	}
	var got cert.Certificate
	if err := decodeCert(append(v, 0), &got); err == nil {
		t.Error("a value with a trailing byte decodes")
	}
	// A huge count is refused before anything is allocated.
	bad := []byte{certFormat}
	bad = append(bad, v[1:1+1+int(v[1])]...) // createdAt
	bad = append(bad, 0xff, 0xff, 0xff, 0xff, 0x0f)
	if err := decodeCert(bad, &got); err == nil {
		t.Error("a value with an impossible length decodes")
	}
}

// TestCodecReadsFormat1: records of format 1 held a site as its name only.
func TestCodecReadsFormat1(t *testing.T) {
	c := &cert.Certificate{ID: "X", Sites: []cert.Site{{Name: "SiteOne"}, {Name: "SiteTwo"}}, IdempotencyKey: "IDEMPOTENCY", Credential: "tok"}
	v3, err := encodeCert(c)
	if err != nil {
		t.Fatal(err)
	}
	v2 := asFormat4(t, v3, c.Credential)
	// Format 1 has neither the sites' address and scope nor the
	// confidential flag, the organization's e-mail and the audit record
	// (the three bytes before the idempotency key).
	v1 := bytes.Replace(v2, []byte("\x02\x07SiteOne\x00\x00\x07SiteTwo\x00\x00"), []byte("\x02\x07SiteOne\x07SiteTwo"), 1)
	v1 = bytes.Replace(v1, []byte("\x00\x00\x00\x0bIDEMPOTENCY"), []byte("\x0bIDEMPOTENCY"), 1)
	if len(v1) != len(v2)-7 {
		t.Fatalf("could not build a format 1 record from %q", v2)
	}
	v1[0] = certFormatV1
	var got cert.Certificate
	if err := decodeCert(v1, &got); err != nil {
		t.Fatalf("decode format 1: %v", err)
	}
	if len(got.Sites) != 2 || got.Sites[0].Name != "SiteOne" || got.Sites[1].Name != "SiteTwo" || got.Credential != "tok" {
		t.Errorf("format 1 record decoded as sites %+v, credential %q", got.Sites, got.Credential)
	}
}

// TestCodecReadsEarlierValues: stores written before the binary format
// (JSON without the credential, NUL, credential) still read.
func TestCodecReadsEarlierValues(t *testing.T) {
	c := storetest.NewCertificate(t, "default")
	c.Credential = "eyJhbGciOiJFZERTQSJ9." + strings.Repeat("x", 1500) + ".sig"
	cp := *c
	cp.Credential = ""
	doc, _ := json.Marshal(&cp)
	legacy := append(append(doc, 0), c.Credential...)
	var got cert.Certificate
	if err := decodeCert(legacy, &got); err != nil {
		t.Fatal(err)
	}
	want, _ := json.Marshal(c)
	have, _ := json.Marshal(&got)
	if string(want) != string(have) {
		t.Errorf("earlier value:\n got %s\nwant %s", have, want)
	}
	if _, _, _, ok := searchFields(legacy); ok {
		t.Error("searchFields reads a JSON value")
	}
}

func TestSearchFields(t *testing.T) {
	c := storetest.NewCertificate(t, "default")
	c.Organization.NameEn = `A "quoted" \ name`
	v, _ := encodeCert(c)
	created, name, nameEn, ok := searchFields(v)
	if !ok || !created.Equal(c.CreatedAt) || string(name) != c.Organization.Name || string(nameEn) != c.Organization.NameEn {
		t.Errorf("searchFields = %v %q %q %v", created, name, nameEn, ok)
	}
}

func benchCert(b *testing.B) *cert.Certificate {
	c := storetest.NewCertificate(b, "default")
	c.Credential = "eyJhbGciOiJFZERTQSJ9." + strings.Repeat("eyJAY29udGV4dCI6", 120) + ".sig"
	return c
}

// The binary record against the JSON of earlier versions (which already
// kept the credential out of the JSON) and plain JSON of everything.
func BenchmarkDecodeCert(b *testing.B) {
	v, _ := encodeCert(benchCert(b))
	b.ReportAllocs()
	for b.Loop() {
		var c cert.Certificate
		if err := decodeCert(v, &c); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeCertEarlierJSON(b *testing.B) {
	c := benchCert(b)
	cp := *c
	cp.Credential = ""
	doc, _ := json.Marshal(&cp)
	v := append(append(doc, 0), c.Credential...)
	b.ReportAllocs()
	for b.Loop() {
		var c cert.Certificate
		if err := decodeCert(v, &c); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeCertPlainJSON(b *testing.B) {
	v, _ := json.Marshal(benchCert(b))
	b.ReportAllocs()
	for b.Loop() {
		var c cert.Certificate
		if err := json.Unmarshal(v, &c); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeCert(b *testing.B) {
	c := benchCert(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := encodeCert(c); err != nil {
			b.Fatal(err)
		}
	}
}
