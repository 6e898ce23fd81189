package verifier_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/issuer"
	"github.com/certd/certd/keys"
	"github.com/certd/certd/store/bolt"
	"github.com/certd/certd/verifier"
)

// FuzzClaims: the claims of a token carry a genuine signature of the
// issuer here (the fuzzer's payload, signed with the issuer's key), so
// everything after the signature check is exercised: decoding the
// payload, the claim rules, the lookup of the certificate it names.
// Whatever the payload, ByToken answers without panicking, never
// "unknown" (the store and keys are up), and "valid" only for claims that
// name the registered certificate of this issuer, with exp and iat in
// range and no vc or vp claim.
func FuzzClaims(f *testing.F) {
	const publicURL = "https://verify.example.cn"
	b, err := bolt.Open(filepath.Join(f.TempDir(), "certd.db"))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = b.Close() })
	kek, err := keys.ParseKEK([]byte("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n"))
	if err != nil {
		f.Fatal(err)
	}
	now := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	ks := keys.NewService(b, kek, clock)
	schemes, _ := cert.NewSchemes(cert.BuiltinSchemes())
	iss := issuer.New(issuer.Config{Store: b, Signer: ks, Rings: ks, Schemes: schemes, PublicURL: publicURL, Now: clock})
	admin := cert.Principal{Role: cert.RoleAdmin, KeyID: "t"}
	ctx := context.Background()
	if _, err := iss.CreateIssuer(ctx, admin, issuer.IssuerRequest{ID: "cb", Name: "Test CB"}); err != nil {
		f.Fatal(err)
	}
	c, _, err := iss.Issue(ctx, admin, issuer.Request{
		Issuer: "cb", Scheme: "itss", Category: "运行维护", Level: 3, Scope: "信息系统运行维护服务",
		Organization: cert.Organization{Name: "北京示例科技有限公司", USCC: "91110108MA0123456G"},
	}, "")
	if err != nil {
		f.Fatal(err)
	}
	ver := verifier.New(verifier.Config{Store: b, Keys: ks, Schemes: schemes, PublicURL: publicURL, Now: clock})

	if v := ver.ByToken(ctx, c.Credential); v.Verdict != cert.VerdictValid {
		f.Fatalf("the genuine credential: %s (%s)", v.Verdict, v.Reason)
	}
	genuine, err := base64.RawURLEncoding.DecodeString(strings.Split(c.Credential, ".")[1])
	if err != nil {
		f.Fatal(err)
	}
	g := string(genuine)
	issuerURL := publicURL + "/issuers/cb"
	f.Add(genuine)
	for _, s := range []string{
		strings.Replace(g, `"iss"`, `"ISS"`, 1),
		strings.Replace(g, `{`, `{"iss":"`+publicURL+`/issuers/other",`, 1),
		strings.Replace(g, `"exp"`, `"vc":{},"exp"`, 1),
		strings.Replace(g, `"exp"`, `"nbf":1,"exp"`, 1),
		strings.Replace(g, `"exp"`, `"expires"`, 1),
		strings.Replace(g, `"iat"`, `"iat":1e30,"x"`, 1),
		strings.ReplaceAll(g, c.ID, "0000000000000000000000000Z"),
		strings.ReplaceAll(g, c.ID, "../"+c.ID),
		`{"iss":"` + issuerURL + `","issuer":{"id":"` + issuerURL + `"},"jti":"` + publicURL + `/v/` + c.ID + `","id":"` + publicURL + `/v/` + c.ID + `","type":["ConformityCertificate"],"exp":1,"iat":0}`,
		`{"iss":"` + issuerURL + `","issuer":"` + issuerURL + `"}`,
		`{"iss":"` + issuerURL + `","credentialSubject":[],"credentialStatus":{}}`,
		`[]`, `null`, `{"iss":"` + issuerURL + `"`, "\xff",
	} {
		f.Add([]byte(s))
	}

	f.Fuzz(func(t *testing.T, payload []byte) {
		token, _, err := ks.Sign(ctx, "cb", payload)
		if err != nil {
			return // empty or too large: never a token
		}
		v := ver.ByToken(ctx, token)
		switch v.Verdict {
		case cert.VerdictInvalid:
			return
		case cert.VerdictValid:
		default:
			t.Fatalf("verdict %q (%s) for claims %s", v.Verdict, v.Reason, payload)
		}
		var claims map[string]any
		if err := json.Unmarshal(payload, &claims); err != nil {
			t.Fatalf("claims that encoding/json refuses verify as valid: %s: %v", payload, err)
		}
		exp, _ := claims["exp"].(float64)
		iat, _ := claims["iat"].(float64)
		switch {
		case claims["iss"] != issuerURL:
			t.Fatalf("valid with iss %v: %s", claims["iss"], payload)
		case claims["jti"] != publicURL+"/v/"+c.ID:
			t.Fatalf("valid with jti %v: %s", claims["jti"], payload)
		case claims["vc"] != nil || claims["vp"] != nil:
			t.Fatalf("valid with a vc or vp claim: %s", payload)
		case !time.Unix(int64(exp), 0).After(now.Add(-2*time.Minute)) || time.Unix(int64(iat), 0).After(now.Add(2*time.Minute)):
			t.Fatalf("valid with exp %v, iat %v at %s: %s", claims["exp"], claims["iat"], now, payload)
		case v.Certificate == nil || v.Certificate.ID != c.ID:
			t.Fatalf("valid verdict about %+v, not the registered certificate", v.Certificate)
		}
	})
}
