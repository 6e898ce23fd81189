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
	i := bytes.Index(v2, []byte("\x00\x00\x00\x00\x00\x0bIDEMPOTENCY"))
	if i < 0 || v2[0] != certFormat {
		t.Fatalf("unexpected encoding %q", v2)
	}
	v1 := append([]byte{certFormatV1}, v2[1:i]...)
	v1 = append(v1, v2[i+5:]...)
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
	mark := "\x01\x0fcert@example.cn\x00\x0bIDEMPOTENCY"
	i := bytes.Index(v3, []byte(mark))
	if i < 0 {
		t.Fatalf("unexpected encoding %q", v3)
	}
	v2 := append([]byte{certFormatV2}, v3[1:i+1]...)
	v2 = append(v2, v3[i+1+17:]...)
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

// A record of format 3, written before audit records, still decodes: it
// is the current record without the audit records' bytes, and its
// reason codes, confidential flag and e-mail are kept.
func TestCodecReadsFormat3WithoutAudits(t *testing.T) {
	at := time.Date(2027, 1, 5, 0, 0, 0, 0, time.UTC)
	c := cert.Certificate{
		ID: "ID", Number: "N-1", Scheme: "iso17021", TimeZone: "UTC",
		Events:         []cert.Event{{Seq: 1, Type: cert.EventSuspended, At: at, RecordedAt: at, Actor: "a", Reason: "r", ReasonCode: "0111"}},
		Confidential:   true,
		Organization:   cert.Organization{Name: "示例", Email: "a@b.cn"},
		IdempotencyKey: "IDEMPOTENCY", Credential: "CRED",
	}
	v4, err := encodeCert(&c)
	if err != nil {
		t.Fatal(err)
	}
	// reason code "0111", the event's empty audit, ..., the flag (1),
	// the e-mail, the certificate's empty audit, then the idempotency key.
	v3 := bytes.Replace(v4, []byte("\x040111\x00"), []byte("\x040111"), 1)
	v3 = bytes.Replace(v3, []byte("\x01\x06a@b.cn\x00\x0bIDEMPOTENCY"), []byte("\x01\x06a@b.cn\x0bIDEMPOTENCY"), 1)
	if len(v3) != len(v4)-2 || v4[0] != certFormat {
		t.Fatalf("could not build a format 3 record from %q", v4)
	}
	v3[0] = certFormatV3
	var got cert.Certificate
	if err := decodeCert(v3, &got); err != nil {
		t.Fatalf("decode format 3: %v", err)
	}
	if !reflect.DeepEqual(got.Events, c.Events) || !got.Confidential || got.Organization.Email != "a@b.cn" || got.Audit != nil || got.Credential != c.Credential {
		t.Errorf("format 3 decoded to %+v", got)
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
