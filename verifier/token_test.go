package verifier_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/keys"
	"github.com/certd/certd/keys/keystest"
	"github.com/certd/certd/verifier"
)

// claimsOf returns the payload of a compact JWS as a map.
func claimsOf(t testing.TB, token string) map[string]any {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestTokenClaimRules presents tokens whose signature is genuine (a retired
// key of the issuer's own ring) but whose header or claims break one rule
// of the strict verification each: none may verify, and each says why.
func TestTokenClaimRules(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	rings := e.st.Store.(keys.RingStore)
	ed, err := keystest.AddRetired(ctx, rings, "cb", "EdDSA", now)
	if err != nil {
		t.Fatal(err)
	}
	es, err := keystest.AddRetired(ctx, rings, "cb", "ES256", now)
	if err != nil {
		t.Fatal(err)
	}
	// A second certificate of the same issuer, for a jti that names it.
	other := issueOther(t, e)

	payload := func(change func(m map[string]any)) string {
		m := claimsOf(t, e.cert.Credential)
		if change != nil {
			change(m)
		}
		return mustJSON(t, m)
	}
	plain := payload(nil)
	hdr := func(members string) string { return `{` + members + `}` }
	kid := `"kid":"` + ed.Kid + `"`

	cases := []struct {
		name, token, reason string
	}{
		{"fail/header-member-names-upper-case", ed.Sign(`{"ALG":"EdDSA","KID":"`+ed.Kid+`","TYP":"vc+jwt","CTY":"vc"}`, plain), `must be spelt "alg"`},
		{"fail/header-typ-upper-case", ed.Sign(hdr(`"alg":"EdDSA",`+kid+`,"TYP":"vc+jwt"`), plain), `must be spelt "typ"`},
		{"fail/header-kid-mixed-case", ed.Sign(hdr(`"alg":"EdDSA","Kid":"`+ed.Kid+`","typ":"vc+jwt"`), plain), `must be spelt "kid"`},
		{"fail/header-duplicate-typ", ed.Sign(hdr(`"alg":"EdDSA",`+kid+`,"typ":"JWT","typ":"vc+jwt"`), plain), `"typ" appears twice`},
		{"fail/header-duplicate-typ-same-value", ed.Sign(hdr(`"alg":"EdDSA",`+kid+`,"typ":"vc+jwt","typ":"vc+jwt"`), plain), `"typ" appears twice`},
		{"fail/header-duplicate-alg", ed.Sign(hdr(`"alg":"HS256","alg":"EdDSA",`+kid+`,"typ":"vc+jwt"`), plain), `"alg" appears twice`},
		{"fail/header-extra-member", ed.Sign(hdr(`"alg":"EdDSA",`+kid+`,"typ":"vc+jwt","x5t":"abc"`), plain), `header member "x5t" is not accepted`},
		{"fail/header-escaped-name", ed.Sign(hdr(`"alg":"EdDSA",`+kid+`,"typ":"vc+jwt","\u0074yp":"vc+jwt"`), plain), `"typ" appears twice`},
		{"fail/payload-duplicate-iss", ed.Sign(ed.Header(), strings.Replace(plain, `"iss":`, `"iss":"https://evil.example/issuers/cb","iss":`, 1)), `"iss" more than once`},
		{"fail/payload-duplicate-nested", ed.Sign(ed.Header(), strings.Replace(plain, `"uscc":`, `"uscc":"91110000000000000X","uscc":`, 1)), `"uscc" appears twice`},
		{"fail/payload-member-case-variant", ed.Sign(ed.Header(), strings.Replace(plain, `"exp":`, `"EXP":1,"exp":`, 1)), `must be spelt "exp"`},
		{"fail/payload-nested-case-variant", ed.Sign(ed.Header(), strings.Replace(plain, `"number":`, `"Number":"X-1","number":`, 1)), `must be spelt "number"`},
		{"fail/es256-high-s", keystest.HighS(es.Sign(es.Header(), plain)), "high S"},
		{"fail/nbf-in-the-future", ed.Sign(ed.Header(), payload(func(m map[string]any) { m["nbf"] = now.Add(time.Hour).Unix() })), "nbf lies in the future"},
		{"fail/nbf-not-a-number", ed.Sign(ed.Header(), payload(func(m map[string]any) { m["nbf"] = "soon" })), "nbf must be a number"},
		{"fail/iat-in-the-future", ed.Sign(ed.Header(), payload(func(m map[string]any) { m["iat"] = now.Add(time.Hour).Unix() })), "iat lies in the future"},
		{"fail/jti-names-another-certificate", ed.Sign(ed.Header(), payload(func(m map[string]any) {
			m["jti"], m["id"] = other["jti"], other["id"]
		})), "is not that certificate's"},
		{"fail/jti-lower-case-id", ed.Sign(ed.Header(), payload(func(m map[string]any) {
			m["jti"] = "https://verify.example.cn/v/" + strings.ToLower(e.cert.ID)
			m["id"] = m["jti"]
		})), "does not end with a certificate id"},
		{"fail/jti-not-id", ed.Sign(ed.Header(), payload(func(m map[string]any) { m["jti"] = other["jti"] })), "jti must equal id"},
		{"fail/jti-missing", ed.Sign(ed.Header(), payload(func(m map[string]any) { delete(m, "jti") })), `lacks the required "jti" claim`},
		{"fail/iss-not-issuer-id", ed.Sign(ed.Header(), payload(func(m map[string]any) {
			m["issuer"] = map[string]any{"id": "https://verify.example.cn/issuers/other", "name": "Test CB"}
		})), "must equal issuer.id"},
		{"fail/iss-other-service", ed.Sign(ed.Header(), payload(func(m map[string]any) {
			m["iss"] = "https://evil.example/issuers/cb"
			m["issuer"] = map[string]any{"id": m["iss"], "name": "Test CB"}
		})), "not an issuer of this service"},
		{"fail/vc-claim", ed.Sign(ed.Header(), payload(func(m map[string]any) { m["vc"] = map[string]any{} })), `"vc" claim`},
		{"fail/exp-missing", ed.Sign(ed.Header(), payload(func(m map[string]any) { delete(m, "exp") })), `lacks the required "exp" claim`},
		{"fail/exp-not-valid-until", ed.Sign(ed.Header(), payload(func(m map[string]any) { m["exp"] = m["exp"].(float64) + 86400 })), "exp must equal validUntil"},
		{"fail/expired", ed.Sign(ed.Header(), payload(func(m map[string]any) {
			m["exp"], m["validUntil"] = now.Add(-time.Hour).Unix(), now.Add(-time.Hour).Format(time.RFC3339)
		})), "expired"},
		{"fail/not-a-certificate", ed.Sign(ed.Header(), payload(func(m map[string]any) { m["type"] = []string{"VerifiableCredential"} })), "type must include"},
		{"fail/deep-nesting", ed.Sign(ed.Header(), strings.Replace(plain, `"uscc":`, `"x":`+strings.Repeat("[", 40)+strings.Repeat("]", 40)+`,"uscc":`, 1)), "nested more than"},
	}
	// Controls: the same key, header and claims as certd writes them, an
	// ES256 signature in its low-S form and a past nbf all verify; so each
	// case above fails for its own reason.
	for name, tok := range map[string]string{
		"ed":       ed.Sign(ed.Header(), plain),
		"es-low-s": es.Sign(es.Header(), plain),
		"nbf-past": ed.Sign(ed.Header(), payload(func(m map[string]any) { m["nbf"] = now.Add(-time.Hour).Unix() })),
	} {
		if v := e.ver.ByToken(ctx, tok); v.Verdict != cert.VerdictValid {
			t.Fatalf("control %s: verdict %s: %s", name, v.Verdict, v.Reason)
		}
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := e.ver.ByToken(ctx, tc.token)
			if v.Verdict != cert.VerdictInvalid {
				t.Fatalf("verdict %s (%s), want invalid", v.Verdict, v.Reason)
			}
			if !strings.Contains(v.Reason, tc.reason) {
				t.Errorf("reason %q, want it to mention %q", v.Reason, tc.reason)
			}
		})
	}
}

// issueOther issues a second certificate of issuer cb and returns its claims.
func issueOther(t testing.TB, e *env) map[string]any {
	t.Helper()
	c, err := e.issue(t, "上海另一科技有限公司", "91310000MA1FL0000N")
	if err != nil {
		t.Fatal(err)
	}
	return claimsOf(t, c.Credential)
}

// TestParseClaimsIsStrict holds the claim rules on payloads directly.
func TestParseClaimsIsStrict(t *testing.T) {
	e := newEnv(t)
	good := claimsOf(t, e.cert.Credential)
	if _, err := verifier.ParseClaims([]byte(mustJSON(t, good))); err != nil {
		t.Fatalf("the credential certd wrote: %v", err)
	}
	for name, p := range map[string]string{
		"not an object":   `[]`,
		"trailing data":   mustJSON(t, good) + `{}`,
		"duplicate @ctx":  strings.Replace(mustJSON(t, good), `"@context":`, `"@context":[],"@context":`, 1),
		"type not array":  strings.Replace(mustJSON(t, good), `"type":["VerifiableCredential"`, `"type":"x","t":["VerifiableCredential"`, 1),
		"iss as a number": strings.Replace(mustJSON(t, good), `"iss":"`, `"iss":1,"i":"`, 1),
	} {
		if c, err := verifier.ParseClaims([]byte(p)); err == nil {
			t.Errorf("%s: accepted: %+v", name, c)
		}
	}
}

// BenchmarkParseClaims is the strict read of a credential's claims, paid
// once per distinct presented token (the claims are cached by token).
func BenchmarkParseClaims(b *testing.B) {
	e := newEnv(b)
	p, err := base64.RawURLEncoding.DecodeString(strings.Split(e.cert.Credential, ".")[1])
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := verifier.ParseClaims(p); err != nil {
			b.Fatal(err)
		}
	}
}
