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
	// The empty reason code (length 0) and the confidential flag (0)
	// precede the idempotency key.
	i := bytes.Index(v2, []byte("\x00\x00\x0bIDEMPOTENCY"))
	if i < 0 || v2[0] != certFormat {
		t.Fatalf("unexpected encoding %q", v2)
	}
	v1 := append([]byte{certFormatV1}, v2[1:i]...)
	v1 = append(v1, v2[i+2:]...)
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
