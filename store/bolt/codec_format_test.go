package bolt

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/store/storetest"
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
	v2 = asFormat4(t, v2, c.Credential)
	// The empty reason code (length 0), the confidential flag (0) and the
	// empty e-mail (length 0) precede the idempotency key.
	i := bytes.Index(v2, []byte("\x00\x00\x00\x00\x00\x0bIDEMPOTENCY"))
	if i < 0 || v2[0] != certFormatV4 {
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
	v3 = asFormat4(t, v3, c.Credential)
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
	v4 = asFormat4(t, v4, c.Credential)
	// reason code "0111", the event's empty audit, ..., the flag (1),
	// the e-mail, the certificate's empty audit, then the idempotency key.
	v3 := bytes.Replace(v4, []byte("\x040111\x00"), []byte("\x040111"), 1)
	v3 = bytes.Replace(v3, []byte("\x01\x06a@b.cn\x00\x0bIDEMPOTENCY"), []byte("\x01\x06a@b.cn\x0bIDEMPOTENCY"), 1)
	if len(v3) != len(v4)-2 || v4[0] != certFormatV4 {
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

// asFormat4 turns v, the current record of a certificate whose credential
// is not a compact JWS (stored as credPlain), into the record format 4 had:
// the credential as a plain string, without the byte of its kind.
func asFormat4(t testing.TB, v []byte, credential string) []byte {
	t.Helper()
	w := writer{}
	w.str(credential)
	at := len(v) - len(w.b) - 1
	if v[0] != certFormat || at < 1 || v[at] != credPlain || !bytes.Equal(v[at+1:], w.b) {
		t.Fatalf("cannot make a format 4 record of %q", v)
	}
	v4 := append([]byte{certFormatV4}, v[1:at]...)
	return append(v4, w.b...)
}

// The credential of a record is stored compressed and read back byte for
// byte; tokens whose parts are not canonical base64url (padding, trailing
// bits, other characters) are kept as they are.
func TestCodecCredential(t *testing.T) {
	payload := `{"@context":["https://www.w3.org/ns/credentials/v2"],"id":"https://certs.example.com/v/01JDQ7Z8R3M4N5P6Q7R8S9T0VW",` +
		`"type":["VerifiableCredential","ConformityCertificate"],"issuer":{"id":"https://certs.example.com/issuers/default","name":"中认示例认证有限公司"},` +
		`"validFrom":"2026-11-27T00:00:00+08:00","validUntil":"2029-11-27T00:00:00+08:00","credentialSubject":{"type":"Organization",` +
		`"name":"北京示例科技有限公司","nameEn":"Beijing Example Technology Co., Ltd.","uscc":"91110108MA01234567","address":"北京市海淀区中关村大街1号",` +
		`"certificate":{"number":"ITSS-2026-000123","scheme":"itss","standard":"GB/T 28827.1-2022","category":"运行维护","level":3,` +
		`"scope":"信息系统运行维护服务","assessmentBody":"北京示例审核中心"}},"credentialStatus":[{"type":"BitstringStatusListEntry",` +
		`"statusPurpose":"revocation","statusListIndex":"48213","statusListCredential":"https://certs.example.com/status/default/revocation/1"},` +
		`{"type":"BitstringStatusListEntry","statusPurpose":"suspension","statusListIndex":"48213",` +
		`"statusListCredential":"https://certs.example.com/status/default/suspension/1"}],"iss":"https://certs.example.com/issuers/default",` +
		`"jti":"https://certs.example.com/v/01JDQ7Z8R3M4N5P6Q7R8S9T0VW","iat":1795737600,"exp":1890432000}`
	header := `{"alg":"EdDSA","kid":"Xa3-9ZzWg1h2rT0vYqLk5mNpQs7uVwXy8zAbCdEfGh0","typ":"vc+jwt","cty":"vc"}`
	sig := bytes.Repeat([]byte{0xA5, 0x3C}, 32)
	jws := b64.EncodeToString([]byte(header)) + "." + b64.EncodeToString([]byte(payload)) + "." + b64.EncodeToString(sig)
	for _, tc := range []struct {
		name, token string
		compressed  bool
	}{
		{"jws", jws, true},
		{"jws/empty-signature", b64.EncodeToString([]byte(header)) + "." + b64.EncodeToString([]byte(payload)) + ".", true},
		{"plain/padded", jws + "=", false},
		{"plain/trailing-bits", b64.EncodeToString([]byte(header)) + "." + b64.EncodeToString([]byte(payload)) + ".AB", false},
		{"plain/two-parts", "eyJhbGciOiJFZERTQSJ9.e30", false},
		{"plain/four-parts", jws + ".e30", false},
		{"plain/empty", "", false},
		{"plain/std-alphabet", strings.ReplaceAll(jws, "-", "+"), false},
		{"plain/line-break", jws[:40] + "\n" + jws[40:], false},
		{"plain/carriage-return", jws[:40] + "\r\n" + jws[40:], false},
		{"plain/line-break-in-signature", jws[:len(jws)-4] + "\n" + jws[len(jws)-4:], false},
		{"plain/trailing-bits-in-header", b64.EncodeToString([]byte(header))[:10] + "B." + b64.EncodeToString([]byte(payload)) + ".", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := cert.Certificate{ID: "X", Credential: tc.token}
			v, err := encodeCert(&c)
			if err != nil {
				t.Fatal(err)
			}
			var got cert.Certificate
			if err := decodeCert(v, &got); err != nil {
				t.Fatal(err)
			}
			if got.Credential != tc.token {
				t.Fatalf("credential read back as %q, want %q", got.Credential, tc.token)
			}
			if compressed := !bytes.Contains(v, []byte(tc.token)); compressed != tc.compressed {
				t.Errorf("stored compressed: %v, want %v", compressed, tc.compressed)
			}
		})
	}
	c := cert.Certificate{ID: "X", Credential: jws}
	v, err := encodeCert(&c)
	if err != nil {
		t.Fatal(err)
	}
	// The record holds the credential in well under half its length, so
	// that two or three certificates share a 4 KiB page.
	if len(v) > len(jws)/2 {
		t.Errorf("record of %d bytes for a credential of %d", len(v), len(jws))
	}
	// A record whose credential another S2 mode compressed (the better
	// one) reads back alike: the mode is the writer's choice alone.
	var tail writer
	tail.credential(jws)
	hp, headerLen, sigBytes, _ := jwsParts(jws)
	other := writer{b: []byte{credS2}}
	other.uint(uint64(headerLen))
	block := credDict.EncodeBetter(nil, hp)
	other.uint(uint64(len(block)))
	other.b = append(other.b, block...)
	other.uint(uint64(len(sigBytes)))
	other.b = append(other.b, sigBytes...)
	if !bytes.HasSuffix(v, tail.b) || len(other.b) >= len(tail.b) {
		t.Fatalf("record tail %d bytes, the better mode's %d", len(tail.b), len(other.b))
	}
	var earlier cert.Certificate
	if err := decodeCert(append(slices.Clone(v[:len(v)-len(tail.b)]), other.b...), &earlier); err != nil || earlier.Credential != jws {
		t.Errorf("a record of the better mode reads as %q, %v", earlier.Credential, err)
	}
	// A damaged compressed credential is an error, never a panic.
	for i := len(v) - 80; i < len(v); i++ {
		bad := slices.Clone(v)
		bad[i] ^= 0xff
		var got cert.Certificate
		if err := decodeCert(bad, &got); err == nil && got.Credential == jws {
			t.Errorf("byte %d damaged, the credential still reads as the original", i)
		}
	}
}

// A record read for a verdict (decodeCertAs) is the record read whole,
// without its credential, and with what cert.SignedIssuer answers of that
// credential: for every kind of record and credential, damaged ones
// included.
func TestCodecReadsSignedIssuer(t *testing.T) {
	payload := `{"@context":["https://www.w3.org/ns/credentials/v2"],"id":"https://c.example/v/X","issuer":{"id":"https://c.example/issuers/cesa",` +
		`"name":"中国电子工业标准化技术协会","accreditation":{"accreditations":[{"body":"CNAS","number":"CNAS C123-M"}],"approvalNumber":"CNCA-R-2002-001"}},"iat":1}`
	header := `{"alg":"EdDSA","kid":"k","typ":"vc+jwt","cty":"vc"}`
	jws := b64.EncodeToString([]byte(header)) + "." + b64.EncodeToString([]byte(payload)) + "." + b64.EncodeToString(bytes.Repeat([]byte{7}, 64))
	records := map[string][]byte{}
	for name, token := range map[string]string{
		"jws": jws, "jws/no-issuer": b64.EncodeToString([]byte(header)) + "." + b64.EncodeToString([]byte(`{"iss":"x"}`)) + ".",
		"jws/not-json": b64.EncodeToString([]byte(header)) + "." + b64.EncodeToString([]byte(`not json`)) + ".AAAA",
		"plain/padded": jws + "=", "plain/empty": "", "plain/two-parts": "a.b",
	} {
		c := cert.Certificate{ID: "X", Number: "N-1", Credential: token}
		v, err := encodeCert(&c)
		if err != nil {
			t.Fatal(err)
		}
		records[name] = v
		if strings.HasPrefix(name, "plain/") {
			records[name+"/format4"] = asFormat4(t, v, token)
		}
		cp := c
		cp.Credential = ""
		doc, _ := json.Marshal(&cp)
		records[name+"/json"] = append(append(doc, 0), token...)
	}
	v := records["jws"]
	for i := len(v) - 60; i < len(v); i += 7 {
		bad := slices.Clone(v)
		bad[i] ^= 0xff
		records[fmt.Sprintf("jws/damaged-%d", i)] = bad
	}
	for name, v := range records {
		t.Run(name, func(t *testing.T) {
			var whole, part cert.Certificate
			werr := decodeCert(v, &whole)
			var si signedIssuer
			perr := decodeCertAs(v, &part, &si)
			if (werr == nil) != (perr == nil) {
				t.Fatalf("errors %v and %v", werr, perr)
			}
			if werr != nil {
				return
			}
			is, ok := cert.SignedIssuer(whole.Credential)
			if si.ok != ok || !reflect.DeepEqual(si.is, is) {
				t.Errorf("signed issuer %+v %v, want %+v %v", si.is, si.ok, is, ok)
			}
			if part.Credential != "" {
				t.Errorf("credential %q read", part.Credential)
			}
			whole.Credential = ""
			if !reflect.DeepEqual(part, whole) {
				t.Errorf("read for a verdict %+v, whole %+v", part, whole)
			}
		})
	}
	if _, ok := records["jws/format4"]; ok {
		t.Error("a compressed credential made into format 4")
	}
	st, err := Open(filepath.Join(t.TempDir(), "certd.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	c := storetest.NewCertificate(t, "default")
	c.Credential = jws
	if err := st.CreateCertificate(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	got, is, ok, err := st.CertificateForVerdict(context.Background(), c.ID)
	if err != nil || !ok || is.Name != "中国电子工业标准化技术协会" || is.Accreditation.ApprovalNumber != "CNCA-R-2002-001" || got.ID != c.ID || got.Credential != "" {
		t.Errorf("CertificateForVerdict = %v, %+v, %v, %v", got, is, ok, err)
	}
	if _, _, _, err := st.CertificateForVerdict(context.Background(), "0000000000000000000000000Z"); !errors.Is(err, cert.ErrNotFound) {
		t.Errorf("an unknown id: %v", err)
	}
}
