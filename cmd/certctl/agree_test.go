package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certd/certd/api"
	"github.com/certd/certd/cert"
	"github.com/certd/certd/issuer"
	"github.com/certd/certd/keys"
	"github.com/certd/certd/keys/keystest"
	"github.com/certd/certd/store/bolt"
	"github.com/certd/certd/verifier"
)

// agreeEnv is certd wired in process (bbolt, keys, issuer, verifier and
// the api router) behind a loopback server, with keys of the test pinned as
// retired keys of issuer cb, so that hostile tokens carry genuine
// signatures.
type agreeEnv struct {
	url    string
	cert   *cert.Certificate
	other  *cert.Certificate
	ed, es *keystest.Key
	ks     *keySet
}

func newAgreeEnv(t *testing.T) *agreeEnv {
	t.Helper()
	ctx := context.Background()
	b, err := bolt.Open(filepath.Join(t.TempDir(), "certd.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	kek, err := keys.ParseKEK([]byte("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n"))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(nil)
	url := "http://" + srv.Listener.Addr().String()
	schemes, _ := cert.NewSchemes(cert.BuiltinSchemes())
	ks := keys.NewService(b, kek, nil)
	lists := issuer.NewStatusLists(issuer.StatusListConfig{Store: b, Signer: ks, Schemes: schemes, PublicURL: url})
	iss := issuer.New(issuer.Config{Store: b, Signer: ks, Rings: ks, Schemes: schemes, PublicURL: url, OnChange: lists.Invalidate})
	ver := verifier.New(verifier.Config{Store: b, Keys: ks, Schemes: schemes, PublicURL: url, StatusLists: lists})
	srv.Config.Handler = api.New(api.Config{Issuing: iss, Verifying: ver, Keys: ks, Store: b, Search: b, StatusLists: lists,
		PublicURL: url, PublicRate: 1000, PublicBurst: 1000})
	srv.Start()
	t.Cleanup(srv.Close)

	admin := cert.Principal{Role: cert.RoleAdmin, KeyID: "t"}
	if _, err := iss.CreateIssuer(ctx, admin, issuer.IssuerRequest{ID: "cb", Name: "Test CB"}); err != nil {
		t.Fatal(err)
	}
	e := &agreeEnv{url: url}
	for i, org := range []cert.Organization{
		{Name: "北京示例科技有限公司", USCC: "91110108MA0123456G"},
		{Name: "上海另一科技有限公司", USCC: "91310000MA1FL0000N"},
	} {
		c, _, err := iss.Issue(ctx, admin, issuer.Request{Issuer: "cb", Scheme: "itss", Category: "运行维护", Level: 3,
			Scope: "信息系统运行维护服务", Organization: org}, "")
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			e.cert = c
		} else {
			e.other = c
		}
	}
	if e.ed, err = keystest.AddRetired(ctx, b, "cb", "EdDSA", time.Now()); err != nil {
		t.Fatal(err)
	}
	if e.es, err = keystest.AddRetired(ctx, b, "cb", "ES256", time.Now()); err != nil {
		t.Fatal(err)
	}
	// certd reads a ring again at once for a kid it has not seen, and
	// about a second later otherwise: a token of each new key makes the
	// published set hold them.
	claims, _ := base64.RawURLEncoding.DecodeString(strings.Split(e.cert.Credential, ".")[1])
	for _, k := range []*keystest.Key{e.ed, e.es} {
		e.serverVerdict(t, k.Sign(k.Header(), string(claims)))
	}
	// certctl pins the keys certd publishes for the issuer.
	jwksURL := url + "/issuers/cb/jwks.json"
	body, err := fetch(ctx, 5*time.Second, jwksURL, "application/json", 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if e.ks, err = parseJWKS(body); err != nil {
		t.Fatal(err)
	}
	e.ks.source, e.ks.issuerURL = jwksURL, url+"/issuers/cb"
	return e
}

// serverVerdict asks certd through POST /api/v1/verify.
func (e *agreeEnv) serverVerdict(t testing.TB, token string) cert.Verdict {
	t.Helper()
	resp, err := http.Post(e.url+"/api/v1/verify", "application/vc+jwt", strings.NewReader(token))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v cert.Verdict
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		t.Fatalf("POST /api/v1/verify: HTTP %d: %v", resp.StatusCode, err)
	}
	return v
}

func payloadOf(t testing.TB, token string) map[string]any {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestServerAndOfflineAgree presents the same hostile tokens, each with a
// genuine signature of the issuer, to certd (the api router, POST
// /api/v1/verify) and to certctl's offline verification: both run the one
// strict verifier, so they give the same verdict, and none is valid.
func TestServerAndOfflineAgree(t *testing.T) {
	e := newAgreeEnv(t)
	ed, es := e.ed, e.es
	now := time.Now()
	payload := func(change func(m map[string]any)) string {
		m := payloadOf(t, e.cert.Credential)
		if change != nil {
			change(m)
		}
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	plain := payload(nil)
	kid := `"kid":"` + ed.Kid + `"`
	other := payloadOf(t, e.other.Credential)

	for name, tok := range map[string]string{
		"the credential certd wrote": e.cert.Credential,
		"a genuine EdDSA signature":  ed.Sign(ed.Header(), plain),
		"a low-S ES256 signature":    es.Sign(es.Header(), plain),
	} {
		sv, ov := e.serverVerdict(t, tok), verifyOffline(context.Background(), tok, e.ks, now, 5*time.Second)
		if sv.Verdict != cert.VerdictValid || ov.Verdict != cert.VerdictValid {
			t.Fatalf("control %s: certd %s (%s), certctl %s (%s); want both valid", name, sv.Verdict, sv.Reason, ov.Verdict, ov.Reason)
		}
	}
	hostile := map[string]string{
		"header member names upper case": ed.Sign(`{"ALG":"EdDSA","KID":"`+ed.Kid+`","TYP":"vc+jwt","CTY":"vc"}`, plain),
		"header typ upper case":          ed.Sign(`{"alg":"EdDSA",`+kid+`,"TYP":"vc+jwt"}`, plain),
		"header duplicate typ":           ed.Sign(`{"alg":"EdDSA",`+kid+`,"typ":"JWT","typ":"vc+jwt"}`, plain),
		"header extra member":            ed.Sign(`{"alg":"EdDSA",`+kid+`,"typ":"vc+jwt","zip":"DEF"}`, plain),
		"payload duplicate member":       ed.Sign(ed.Header(), strings.Replace(plain, `"uscc":`, `"uscc":"91110000000000000X","uscc":`, 1)),
		"payload member case variant":    ed.Sign(ed.Header(), strings.Replace(plain, `"exp":`, `"EXP":1,"exp":`, 1)),
		"ES256 high S":                   keystest.HighS(es.Sign(es.Header(), plain)),
		"nbf in the future":              ed.Sign(ed.Header(), payload(func(m map[string]any) { m["nbf"] = now.Add(time.Hour).Unix() })),
		"iss not issuer.id": ed.Sign(ed.Header(), payload(func(m map[string]any) {
			m["issuer"] = map[string]any{"id": e.url + "/issuers/other", "name": "Test CB"}
		})),
		"vc claim": ed.Sign(ed.Header(), payload(func(m map[string]any) { m["vc"] = map[string]any{} })),
	}
	// Only the server knows which certificate a jti names: offline, the
	// token is judged by its own content and status lists.
	jtiOther := ed.Sign(ed.Header(), payload(func(m map[string]any) { m["jti"], m["id"] = other["jti"], other["id"] }))
	if sv := e.serverVerdict(t, jtiOther); sv.Verdict != cert.VerdictInvalid {
		t.Errorf("jti names another certificate: certd %s (%s), want invalid", sv.Verdict, sv.Reason)
	}
	for name, tok := range hostile {
		t.Run(name, func(t *testing.T) {
			sv := e.serverVerdict(t, tok)
			ov := verifyOffline(context.Background(), tok, e.ks, now, 5*time.Second)
			if sv.Verdict != cert.VerdictInvalid || ov.Verdict != cert.VerdictInvalid {
				t.Fatalf("certd %s (%s), certctl %s (%s); want both invalid", sv.Verdict, sv.Reason, ov.Verdict, ov.Reason)
			}
			// One implementation: the same reason, word for word.
			if len(sv.Checks) == 0 || len(ov.Checks) == 0 || sv.Checks[0].Detail != ov.Checks[0].Detail {
				t.Errorf("reasons differ:\ncertd   %s\ncertctl %s", sv.Reason, ov.Reason)
			}
		})
	}
}
