package bolt

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/cert/certtest"
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
	v3, err := encodeCert(&c)
	if err != nil {
		t.Fatal(err)
	}
	v2 := asFormat2(t, v3, c.Credential)
	// The empty reason code (length 0) and the confidential flag (0)
	// precede the idempotency key.
	i := bytes.Index(v2, []byte("\x00\x00\x0bIDEMPOTENCY"))
	if i < 0 || v2[0] != certFormatV2 {
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

// asFormat2 turns v, the current record of a certificate whose credential
// is not a compact JWS (stored as credPlain), into the record format 2 had:
// the credential as a plain string, without the byte of its kind.
func asFormat2(t testing.TB, v []byte, credential string) []byte {
	t.Helper()
	w := writer{}
	w.str(credential)
	at := len(v) - len(w.b) - 1
	if v[0] != certFormat || at < 1 || v[at] != credPlain || !bytes.Equal(v[at+1:], w.b) {
		t.Fatalf("cannot make a format 2 record of %q", v)
	}
	v2 := append([]byte{certFormatV2}, v[1:at]...)
	return append(v2, w.b...)
}

// A record of format 2, whose credential is a plain string, still decodes,
// and so does a credential of format 3 that is not a compact JWS.
func TestCodecReadsFormat2(t *testing.T) {
	var c cert.Certificate
	certtest.Fill(t, &c)
	c.Credential = "not a compact JWS"
	v3, err := encodeCert(&c)
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string][]byte{"format 2": asFormat2(t, v3, c.Credential), "format 3 plain": v3} {
		var got cert.Certificate
		if err := decodeCert(v, &got); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		want, _ := json.Marshal(&c)
		have, _ := json.Marshal(&got)
		if string(want) != string(have) {
			t.Errorf("%s decoded to\n%s\nwant\n%s", name, have, want)
		}
	}
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
