package cert

import (
	"encoding/base64"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

// signedIssuerReference is SignedIssuer as it was first written: split the
// token, decode the payload, json.Unmarshal it whole. SignedIssuer must
// answer what it answers, for every input.
func signedIssuerReference(token string) (CredentialIssuer, bool) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return CredentialIssuer{}, false
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return CredentialIssuer{}, false
	}
	var cred struct {
		Issuer CredentialIssuer `json:"issuer"`
	}
	if err := json.Unmarshal(payload, &cred); err != nil {
		return CredentialIssuer{}, false
	}
	return cred.Issuer, true
}

func tokenOf(payload string) string {
	return "eyJhbGciOiJFZERTQSJ9." + base64.RawURLEncoding.EncodeToString([]byte(payload)) + ".c2ln"
}

// A real credential's payload, with an accreditation.
func credentialPayload(t testing.TB) string {
	t.Helper()
	c := &Certificate{ID: "0000000000000000000000000Z", Number: "CESA-2026-000001", Scheme: "itss",
		Organization: Organization{Name: "北京示例科技有限公司", USCC: "91110108MA0123456G"},
		ValidFrom:    time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC), ValidUntil: time.Date(2029, 11, 27, 0, 0, 0, 0, time.UTC)}
	is := &Issuer{ID: "cesa", Name: "CESA", NameZh: "中国电子工业标准化技术协会",
		Accreditation: []Accreditation{{Body: "CNAS", Number: "CNAS C123-M"}}, ApprovalNumber: "CNCA-R-2002-001"}
	b, err := json.Marshal(NewCredential(c, is, "https://verify.example.cn", c.ValidFrom))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestSignedIssuerAsUnmarshal(t *testing.T) {
	real := credentialPayload(t)
	cases := map[string]string{
		"ok/credential":             tokenOf(real),
		"ok/no-issuer":              tokenOf(`{"a":1}`),
		"ok/null-issuer":            tokenOf(`{"issuer":null}`),
		"ok/empty":                  tokenOf(`{}`),
		"ok/spaces":                 tokenOf(" {\n\"issuer\" : {\"name\":\"x\"} , \"b\":[1,2.5e-3,true,false,null,{}] }\t"),
		"ok/folded-name":            tokenOf(`{"ISSUER":{"name":"x"}}`),
		"ok/escaped-name":           tokenOf(`{"iss\u0075er":{"name":"x"}}`),
		"ok/long-s":                 tokenOf(`{"iſſuer":{"name":"x"}}`),
		"ok/twice-merged":           tokenOf(`{"issuer":{"name":"x"},"issuer":{"id":"y"}}`),
		"ok/invalid-utf8":           tokenOf("{\"issuer\":{\"name\":\"\xff\"}}"),
		"ok/escapes":                tokenOf(`{"issuer":{"name":"a\"\\\/\b\f\n\r\t\u00e9"}}`),
		"fail/issuer-string":        tokenOf(`{"issuer":"x"}`),
		"fail/name-number":          tokenOf(`{"issuer":{"name":5}}`),
		"fail/trailing":             tokenOf(`{"issuer":{}} x`),
		"fail/array":                tokenOf(`[]`),
		"fail/bad-number":           tokenOf(`{"a":01}`),
		"fail/bad-literal":          tokenOf(`{"a":tru}`),
		"fail/control":              tokenOf("{\"a\":\"\x01\"}"),
		"fail/bad-escape":           tokenOf(`{"a":"\x"}`),
		"fail/unclosed":             tokenOf(`{"issuer":{"name":"x"}`),
		"fail/two-parts":            "a.b",
		"fail/four-parts":           "a.b.c.d",
		"fail/not-base64":           "a.!!.c",
		"ok/deep":                   tokenOf(`{"a":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`),
		"fail/deep-after-issuer":    tokenOf(`{"issuer":{},"a":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}`),
		"fail/trailing-comma":       tokenOf(`{"issuer":{},}`),
		"fail/missing-colon":        tokenOf(`{"issuer" {}}`),
		"fail/number-dot":           tokenOf(`{"a":1.}`),
		"fail/number-exponent":      tokenOf(`{"a":1e}`),
		"fail/short-unicode-escape": tokenOf(`{"a":"\u12"}`),
	}
	for name, token := range cases {
		t.Run(name, func(t *testing.T) {
			for range 2 { // the second time from the cache
				got, ok := SignedIssuer(token)
				want, wantOK := signedIssuerReference(token)
				if ok != wantOK || !reflect.DeepEqual(got, want) {
					t.Fatalf("SignedIssuer = %+v, %v; want %+v, %v", got, ok, want, wantOK)
				}
				if ok != strings.HasPrefix(name, "ok/") {
					t.Fatalf("ok = %v for a case named %s", ok, name)
				}
			}
		})
	}
	if is, _ := SignedIssuer(tokenOf(real)); is.Name != "中国电子工业标准化技术协会" || is.Accreditation == nil || is.Accreditation.ApprovalNumber != "CNCA-R-2002-001" {
		t.Errorf("issuer of a credential = %+v", is)
	}
}

// The objects kept stay within their bound, however many credentials
// are read.
func TestSignedIssuerCacheBounded(t *testing.T) {
	for i := range 3 * maxSignedIssuers {
		SignedIssuer(tokenOf(`{"issuer":{"name":"` + strings.Repeat("x", i) + `"}}`))
		signedIssuers.mu.RLock()
		n := len(signedIssuers.m)
		signedIssuers.mu.RUnlock()
		if n > maxSignedIssuers {
			t.Fatalf("%d objects kept, bound %d", n, maxSignedIssuers)
		}
	}
}

// FuzzSignedIssuerAsUnmarshal: SignedIssuer answers what reading the
// whole payload with json.Unmarshal answers, for any payload.
func FuzzSignedIssuerAsUnmarshal(f *testing.F) {
	f.Add(credentialPayload(f))
	f.Add(`{"issuer":{"name":"x","accreditation":{"accreditations":[{"body":"CNAS"}]}}}`)
	f.Add(`{"ISSUER":1,"issuer":null}`)
	f.Add(`{"a":[1,-0.5E+3,"\u00e9"],"issuer":{"id":"\ud800"}}`)
	f.Fuzz(func(t *testing.T, payload string) {
		for _, token := range []string{tokenOf(payload), payload} {
			got, ok := SignedIssuer(token)
			want, wantOK := signedIssuerReference(token)
			if ok != wantOK || !reflect.DeepEqual(got, want) {
				t.Fatalf("SignedIssuer(%q) = %+v, %v; want %+v, %v", token, got, ok, want, wantOK)
			}
		}
	})
}

func BenchmarkSignedIssuer(b *testing.B) {
	token := tokenOf(credentialPayload(b))
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := SignedIssuer(token); !ok {
			b.Fatal("not read")
		}
	}
}
