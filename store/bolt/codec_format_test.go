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
	// The empty reason code and audit record (length 0), the
	// confidential flag (0) and the certificate's empty audit record
	// precede the idempotency key.
	i := bytes.Index(v2, []byte("\x00\x00\x00\x00\x0bIDEMPOTENCY"))
	if i < 0 || v2[0] != certFormat {
		t.Fatalf("unexpected encoding %q", v2)
	}
	v1 := append([]byte{certFormatV1}, v2[1:i]...)
	v1 = append(v1, v2[i+4:]...)
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

// A record of format 2, written before audit records, still decodes: it
// is the current record without the audit records' bytes, and its
// reason codes and confidential flag are kept.
func TestCodecReadsFormat2WithoutAudits(t *testing.T) {
	at := time.Date(2027, 1, 5, 0, 0, 0, 0, time.UTC)
	c := cert.Certificate{
		ID: "ID", Number: "N-1", Scheme: "iso17021", TimeZone: "UTC",
		Events:         []cert.Event{{Seq: 1, Type: cert.EventSuspended, At: at, RecordedAt: at, Actor: "a", Reason: "r", ReasonCode: "0111"}},
		Confidential:   true,
		IdempotencyKey: "IDEMPOTENCY", Credential: "CRED",
	}
	v3, err := encodeCert(&c)
	if err != nil {
		t.Fatal(err)
	}
	// reason code "0111", the event's empty audit, the flag (1), the
	// certificate's empty audit, then the idempotency key.
	v2 := bytes.Replace(v3, []byte("\x040111\x00\x01\x00\x0bIDEMPOTENCY"), []byte("\x040111\x01\x0bIDEMPOTENCY"), 1)
	if len(v2) != len(v3)-2 || v3[0] != certFormat {
		t.Fatalf("could not build a format 2 record from %q", v3)
	}
	v2[0] = certFormatV2
	var got cert.Certificate
	if err := decodeCert(v2, &got); err != nil {
		t.Fatalf("decode format 2: %v", err)
	}
	if !reflect.DeepEqual(got.Events, c.Events) || !got.Confidential || got.Audit != nil || got.Credential != c.Credential {
		t.Errorf("format 2 decoded to %+v", got)
	}
}

// An audit record on the certificate and on an event survives the round
// trip.
func TestCodecAudits(t *testing.T) {
	a := &cert.Audit{Type: "initial", Mode: "FS03", FirstDay: "2026-11-02", LastDay: "2026-11-04",
		Team: []cert.AuditMember{{Name: "张三", Role: "leader"}}, PersonDays: 2.5, TechnicalAreas: []string{"33", "19.1"}, Employees: 120}
	c := cert.Certificate{ID: "ID", Audit: a, Events: []cert.Event{{Seq: 1, Type: cert.EventSurveillancePassed, Audit: &cert.Audit{Type: "surveillance", Mode: "FS02"}}}}
	v, err := encodeCert(&c)
	if err != nil {
		t.Fatal(err)
	}
	var got cert.Certificate
	if err := decodeCert(v, &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Audit, c.Audit) || !reflect.DeepEqual(got.Events[0].Audit, c.Events[0].Audit) {
		t.Errorf("got %+v / %+v", got.Audit, got.Events[0].Audit)
	}
}
