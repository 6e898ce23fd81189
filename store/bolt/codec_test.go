package bolt

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/store/storetest"
)

func TestCodecRoundTrip(t *testing.T) {
	c := storetest.NewCertificate(t, "default")
	c.Credential = "eyJhbGciOiJFZERTQSJ9." + strings.Repeat("x", 1500) + ".sig"
	v, err := encodeCert(c)
	if err != nil {
		t.Fatal(err)
	}
	var got cert.Certificate
	if err := decodeCert(v, &got); err != nil {
		t.Fatal(err)
	}
	if got.Credential != c.Credential || got.ID != c.ID || got.Organization != c.Organization || !got.ValidFrom.Equal(c.ValidFrom) {
		t.Errorf("round trip changed the certificate:\n got %+v\nwant %+v", got, *c)
	}
	// A certificate without a credential round-trips too.
	c.Credential = ""
	v, _ = encodeCert(c)
	got = cert.Certificate{}
	if err := decodeCert(v, &got); err != nil || got.Credential != "" || got.ID != c.ID {
		t.Errorf("no credential: %v %+v", err, got)
	}
}

func benchCert(b *testing.B) *cert.Certificate {
	c := storetest.NewCertificate(b, "default")
	c.Credential = "eyJhbGciOiJFZERTQSJ9." + strings.Repeat("eyJAY29udGV4dCI6", 120) + ".sig"
	return c
}

// The split encoding against plain JSON of the whole certificate.
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
