package bolt

import (
	"bytes"
	"reflect"
	"testing"
	"time"

	"github.com/certd/certd/cert"
)

// A record of format 1, written before events had reason codes, still
// decodes: it is the current record without the codes' bytes.
func TestCodecReadsFormat1WithoutCodes(t *testing.T) {
	at := time.Date(2027, 1, 5, 0, 0, 0, 0, time.UTC)
	c := cert.Certificate{
		ID: "ID", Number: "N-1", Scheme: "iso17021", TimeZone: "UTC",
		Events:         []cert.Event{{Seq: 1, Type: cert.EventSuspended, At: at, RecordedAt: at, Actor: "a", Reason: "r"}},
		IdempotencyKey: "IDEMPOTENCY", Credential: "CRED",
	}
	v2, err := encodeCert(&c)
	if err != nil {
		t.Fatal(err)
	}
	// The empty reason code (length 0), the confidential flag (0) and the
	// empty e-mail (length 0) precede the idempotency key.
	i := bytes.Index(v2, []byte("\x00\x00\x00\x0bIDEMPOTENCY"))
	if i < 0 || v2[0] != certFormat {
		t.Fatalf("unexpected encoding %q", v2)
	}
	v1 := append([]byte{certFormatV1}, v2[1:i]...)
	v1 = append(v1, v2[i+3:]...)
	var got cert.Certificate
	if err := decodeCert(v1, &got); err != nil {
		t.Fatalf("decode format 1: %v", err)
	}
	if !reflect.DeepEqual(got.Events, c.Events) || got.IdempotencyKey != c.IdempotencyKey || got.Credential != c.Credential {
		t.Errorf("format 1 decoded to %+v", got)
	}
	if _, name, _, ok := searchFields(v1); !ok || name != nil && len(name) != 0 {
		t.Errorf("searchFields on format 1: ok=%v name=%q", ok, name)
	}
}

// A record of format 2, written before organizations had an e-mail, still
// decodes, without an e-mail; a record of the current format keeps it.
func TestCodecReadsFormat2WithoutEmail(t *testing.T) {
	c := cert.Certificate{
		ID: "ID", Number: "N-1", Scheme: "itss", TimeZone: "UTC", Confidential: true,
		Organization:   cert.Organization{Name: "示例", USCC: "91110108MA0123456G", Email: "cert@example.cn"},
		IdempotencyKey: "IDEMPOTENCY", Credential: "CRED",
	}
	v3, err := encodeCert(&c)
	if err != nil {
		t.Fatal(err)
	}
	var got cert.Certificate
	if err := decodeCert(v3, &got); err != nil || got.Organization.Email != "cert@example.cn" {
		t.Fatalf("format 3: email %q, %v", got.Organization.Email, err)
	}
	// Format 2: the confidential flag (1) is followed by the idempotency key.
	mark := "\x01\x0fcert@example.cn\x0bIDEMPOTENCY"
	i := bytes.Index(v3, []byte(mark))
	if i < 0 {
		t.Fatalf("unexpected encoding %q", v3)
	}
	v2 := append([]byte{certFormatV2}, v3[1:i+1]...)
	v2 = append(v2, v3[i+1+16:]...)
	got = cert.Certificate{Organization: cert.Organization{Email: "stale@example.cn"}}
	if err := decodeCert(v2, &got); err != nil {
		t.Fatalf("decode format 2: %v", err)
	}
	if got.Organization.Email != "" || !got.Confidential || got.IdempotencyKey != "IDEMPOTENCY" || got.Credential != "CRED" || got.Organization.Name != "示例" {
		t.Errorf("format 2 decoded to %+v", got)
	}
	if _, name, _, ok := searchFields(v2); !ok || string(name) != "示例" {
		t.Errorf("searchFields on format 2: ok=%v name=%q", ok, name)
	}
}
