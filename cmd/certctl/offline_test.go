package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/certd/certd/cert"
)

// fakeIssuer is an issuer with its own keys, serving its status lists
// from an httptest server, for the offline verifier's unit tests.
type fakeIssuer struct {
	t     testing.TB
	srv   *httptest.Server
	id    string
	ed    ed25519.PrivateKey
	edKid string
	ec    *ecdsa.PrivateKey
	ecKid string
	// other signs what must not verify.
	other    ed25519.PrivateKey
	otherKid string
	now      time.Time

	mu sync.Mutex
	// bits are the set indexes per purpose; mode changes what the status
	// endpoint answers: "", "404", "forged", "stale", "swapped".
	bits map[string]map[int]bool
	mode string
}

func newFakeIssuer(t testing.TB) *fakeIssuer {
	t.Helper()
	f := &fakeIssuer{t: t, id: "acme", now: time.Now(), bits: map[string]map[int]bool{"revocation": {}, "suspension": {}}}
	_, f.ed, _ = ed25519.GenerateKey(rand.Reader)
	_, f.other, _ = ed25519.GenerateKey(rand.Reader)
	f.ec, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	f.edKid = edThumb(f.ed.Public().(ed25519.PublicKey))
	f.otherKid = edThumb(f.other.Public().(ed25519.PublicKey))
	x, y := ecXY(f.ec)
	f.ecKid = thumb(fmt.Sprintf(`{"crv":"P-256","kty":"EC","x":"%s","y":"%s"}`, x, y))
	f.srv = httptest.NewServer(http.HandlerFunc(f.serveStatus))
	t.Cleanup(f.srv.Close)
	return f
}

func thumb(canonical string) string {
	sum := sha256.Sum256([]byte(canonical))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func edThumb(pub ed25519.PublicKey) string {
	return thumb(fmt.Sprintf(`{"crv":"Ed25519","kty":"OKP","x":"%s"}`, base64.RawURLEncoding.EncodeToString(pub)))
}

func ecXY(k *ecdsa.PrivateKey) (string, string) {
	b, _ := k.PublicKey.Bytes() // 0x04 || x || y
	return base64.RawURLEncoding.EncodeToString(b[1:33]), base64.RawURLEncoding.EncodeToString(b[33:])
}

func (f *fakeIssuer) issuerURL() string { return f.srv.URL + "/issuers/" + f.id }

// jwks is the published key set: the Ed25519 and the P-256 key.
func (f *fakeIssuer) jwks() []byte {
	x, y := ecXY(f.ec)
	b, _ := json.Marshal(map[string]any{"keys": []map[string]string{
		{"kty": "OKP", "crv": "Ed25519", "x": base64.RawURLEncoding.EncodeToString(f.ed.Public().(ed25519.PublicKey)), "kid": f.edKid, "alg": "EdDSA", "use": "sig"},
		{"kty": "EC", "crv": "P-256", "x": x, "y": y, "kid": f.ecKid, "alg": "ES256", "use": "sig"},
	}})
	return b
}

func (f *fakeIssuer) keySet(bound bool) *keySet {
	ks, err := parseJWKS(f.jwks())
	if err != nil {
		f.t.Fatal(err)
	}
	ks.source = "test JWKS"
	if bound {
		ks.issuerURL = f.issuerURL()
	}
	return ks
}

// signRaw signs a raw header and payload with the key named by kid.
func (f *fakeIssuer) signRaw(header, payload []byte, kid string) string {
	input := base64.RawURLEncoding.EncodeToString(header) + "." + base64.RawURLEncoding.EncodeToString(payload)
	var sig []byte
	switch kid {
	case f.edKid:
		sig = ed25519.Sign(f.ed, []byte(input))
	case f.otherKid:
		sig = ed25519.Sign(f.other, []byte(input))
	case f.ecKid:
		h := sha256.Sum256([]byte(input))
		r, s, err := ecdsa.Sign(rand.Reader, f.ec, h[:])
		if err != nil {
			f.t.Fatal(err)
		}
		if half := new(big.Int).Rsh(elliptic.P256().Params().N, 1); s.Cmp(half) > 0 {
			s.Sub(elliptic.P256().Params().N, s) // the low-S form certd writes
		}
		sig = make([]byte, 64)
		r.FillBytes(sig[:32])
		s.FillBytes(sig[32:])
	default:
		sig = []byte("not a signature")
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func (f *fakeIssuer) sign(header, payload map[string]any, kid string) string {
	h, _ := json.Marshal(header)
	p, _ := json.Marshal(payload)
	return f.signRaw(h, p, kid)
}

func (f *fakeIssuer) header(kid, alg string) map[string]any {
	return map[string]any{"alg": alg, "kid": kid, "typ": "vc+jwt", "cty": "vc"}
}

// credential is the payload of a certificate valid from a year ago for
// three years, at status index 12345.
func (f *fakeIssuer) credential() map[string]any {
	from := time.Date(f.now.Year()-1, f.now.Month(), 1, 0, 0, 0, 0, time.FixedZone("CST", 8*3600))
	until := from.AddDate(3, 0, 0)
	id := f.srv.URL + "/v/" + cert.NewID()
	status := func(purpose string) map[string]any {
		return map[string]any{"type": "BitstringStatusListEntry", "statusPurpose": purpose, "statusListIndex": "12345",
			"statusListCredential": f.srv.URL + "/status/" + f.id + "/" + purpose + "/1"}
	}
	return map[string]any{
		"@context": []string{"https://www.w3.org/ns/credentials/v2"},
		"id":       id, "type": []string{"VerifiableCredential", "ConformityCertificate"},
		"issuer":    map[string]any{"id": f.issuerURL(), "name": "Acme Certification"},
		"validFrom": from.Format(time.RFC3339), "validUntil": until.Format(time.RFC3339),
		"credentialSubject": map[string]any{"type": "Organization", "name": "北京示例科技有限公司", "uscc": "91110108MA0123456G",
			"certificate": map[string]any{"number": "ACME-2025-000001", "scheme": "itss", "level": 3}},
		"credentialStatus": []any{status("revocation"), status("suspension")},
		"iss":              f.issuerURL(), "jti": id, "iat": from.Unix(), "exp": until.Unix(),
	}
}

func (f *fakeIssuer) token(change func(h, p map[string]any)) string {
	h, p := f.header(f.edKid, "EdDSA"), f.credential()
	if change != nil {
		change(h, p)
	}
	return f.sign(h, p, f.edKid)
}

func (f *fakeIssuer) set(purpose string, idx int, mode string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if idx >= 0 {
		f.bits[purpose][idx] = true
	}
	f.mode = mode
}

// serveStatus serves /status/acme/{purpose}/1 as a signed
// BitstringStatusListCredential.
func (f *fakeIssuer) serveStatus(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	mode := f.mode
	var purpose string
	for p := range f.bits {
		if r.URL.Path == "/status/"+f.id+"/"+p+"/1" {
			purpose = p
		}
	}
	raw := make([]byte, cert.StatusListSize/8)
	if purpose != "" {
		for i := range f.bits[purpose] {
			raw[i/8] |= 0x80 >> (i % 8)
		}
	}
	f.mu.Unlock()
	if purpose == "" || mode == "404" {
		http.NotFound(w, r)
		return
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(raw)
	zw.Close()
	listPurpose, exp, kid := purpose, f.now.Add(time.Hour), f.edKid
	switch mode {
	case "stale":
		exp = f.now.Add(-time.Hour)
	case "forged":
		kid = f.otherKid
	case "swapped":
		listPurpose = map[string]string{"revocation": "suspension", "suspension": "revocation"}[purpose]
	}
	url := f.srv.URL + r.URL.Path
	if mode == "moved" {
		// A genuine list of the issuer, but another one than the URL names.
		url = strings.TrimSuffix(url, "/1") + "/2"
	}
	payload := map[string]any{
		"@context": []string{"https://www.w3.org/ns/credentials/v2"},
		"id":       url, "type": []string{"VerifiableCredential", "BitstringStatusListCredential"},
		"issuer":    f.issuerURL(),
		"validFrom": f.now.Add(-time.Minute).Format(time.RFC3339),
		"credentialSubject": map[string]any{"id": url + "#list", "type": "BitstringStatusList", "statusPurpose": listPurpose,
			"encodedList": "u" + base64.RawURLEncoding.EncodeToString(gz.Bytes())},
		"iss": f.issuerURL(), "iat": f.now.Unix(), "exp": exp.Unix(),
	}
	w.Header().Set("Content-Type", "application/vc+jwt")
	fmt.Fprint(w, f.sign(f.header(kid, "EdDSA"), payload, kid))
}

func (f *fakeIssuer) verify(token string, bound bool) cert.Verdict {
	return verifyOffline(context.Background(), token, f.keySet(bound), f.now, 5*time.Second)
}

func TestOfflineVerdicts(t *testing.T) {
	f := newFakeIssuer(t)
	check := func(t *testing.T, v cert.Verdict, verdict string, status cert.Status, reason string) {
		t.Helper()
		if v.Verdict != verdict || v.Status != status || !strings.Contains(v.Reason+fmt.Sprint(v.Checks), reason) {
			t.Fatalf("verdict %s/%s (%s, %+v); want %s/%s mentioning %q", v.Verdict, v.Status, v.Reason, v.Checks, verdict, status, reason)
		}
	}
	t.Run("ok/ed25519", func(t *testing.T) {
		v := f.verify(f.token(nil), true)
		check(t, v, cert.VerdictValid, cert.StatusActive, "Genuine and valid today")
		if v.Certificate.Number != "ACME-2025-000001" || v.Issuer.ID != "acme" || len(v.Checks) != 4 {
			t.Errorf("verdict %+v", v)
		}
	})
	t.Run("ok/es256", func(t *testing.T) {
		tok := f.sign(f.header(f.ecKid, "ES256"), f.credential(), f.ecKid)
		check(t, f.verify(tok, false), cert.VerdictValid, cert.StatusActive, "(ES256)")
	})
	t.Run("invalid/expired", func(t *testing.T) {
		v := f.verify(f.token(func(_, p map[string]any) {
			until := f.now.Add(-24 * time.Hour)
			p["validUntil"], p["exp"] = until.Format(time.RFC3339), until.Unix()
		}), true)
		check(t, v, cert.VerdictInvalid, cert.StatusExpired, "expired")
		if !v.Checks[0].OK {
			t.Error("the signature of an expired credential is genuine")
		}
	})
	t.Run("invalid/not yet valid", func(t *testing.T) {
		check(t, f.verify(f.token(func(_, p map[string]any) {
			p["validFrom"] = f.now.Add(24 * time.Hour).Format(time.RFC3339)
		}), true), cert.VerdictInvalid, "", "not valid before")
	})
	t.Run("unknown/status list missing", func(t *testing.T) {
		f.set("revocation", -1, "404")
		defer f.set("revocation", -1, "")
		check(t, f.verify(f.token(nil), true), cert.VerdictUnknown, "", "HTTP 404")
	})
	t.Run("unknown/status list not signed by the issuer", func(t *testing.T) {
		f.set("revocation", -1, "forged")
		defer f.set("revocation", -1, "")
		check(t, f.verify(f.token(nil), true), cert.VerdictUnknown, "", "is not genuine")
	})
	t.Run("unknown/stale status list", func(t *testing.T) {
		f.set("revocation", -1, "stale")
		defer f.set("revocation", -1, "")
		check(t, f.verify(f.token(nil), true), cert.VerdictUnknown, "", "stale list")
	})
	t.Run("unknown/status list of the other purpose", func(t *testing.T) {
		f.set("revocation", -1, "swapped")
		defer f.set("revocation", -1, "")
		check(t, f.verify(f.token(nil), true), cert.VerdictUnknown, "", "is a suspension list, not a revocation list")
	})
	t.Run("unknown/status list served at another list's URL", func(t *testing.T) {
		f.set("revocation", -1, "moved")
		defer f.set("revocation", -1, "")
		check(t, f.verify(f.token(nil), true), cert.VerdictUnknown, "", "is not the URL it was fetched from")
	})
	t.Run("invalid/nbf in the future", func(t *testing.T) {
		check(t, f.verify(f.token(func(_, p map[string]any) { p["nbf"] = f.now.Add(time.Hour).Unix() }), true),
			cert.VerdictInvalid, cert.StatusNotFound, "nbf lies in the future")
	})
	t.Run("unknown/no status entry", func(t *testing.T) {
		check(t, f.verify(f.token(func(_, p map[string]any) { p["credentialStatus"] = []any{} }), true),
			cert.VerdictUnknown, "", "names no revocation status list")
	})
	t.Run("unknown/unreachable status list", func(t *testing.T) {
		tok := f.token(func(_, p map[string]any) {
			for _, e := range p["credentialStatus"].([]any) {
				e.(map[string]any)["statusListCredential"] = closedPort(t) + "/status/acme/x/1"
			}
		})
		check(t, f.verify(tok, true), cert.VerdictUnknown, "", "could not be read")
	})
	// Bits last: they stay set.
	t.Run("invalid/suspended", func(t *testing.T) {
		f.set("suspension", 12345, "")
		check(t, f.verify(f.token(nil), true), cert.VerdictInvalid, cert.StatusSuspended, "suspended")
	})
	t.Run("invalid/revoked", func(t *testing.T) {
		f.set("revocation", 12345, "")
		check(t, f.verify(f.token(nil), true), cert.VerdictInvalid, statusRevoked, "revoked")
	})
}

// TestOfflineRejects walks the strict rules of DESIGN.md section 5: every
// token is refused with a reason, and the verdict is invalid.
func TestOfflineRejects(t *testing.T) {
	f := newFakeIssuer(t)
	hs := func(h, p map[string]any) string {
		hb, _ := json.Marshal(h)
		pb, _ := json.Marshal(p)
		in := base64.RawURLEncoding.EncodeToString(hb) + "." + base64.RawURLEncoding.EncodeToString(pb)
		m := hmac.New(sha256.New, f.jwks()) // the public key set as HMAC secret: the classic confusion
		m.Write([]byte(in))
		return in + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
	}
	with := func(change func(h, p map[string]any)) string { return f.token(change) }
	good := f.token(nil)
	parts := strings.Split(good, ".")
	rawHeader := func(h string) string {
		p, _ := base64.RawURLEncoding.DecodeString(parts[1])
		return f.signRaw([]byte(h), p, f.edKid)
	}
	for _, tc := range []struct {
		name, token, reason string
	}{
		{"alg none", rawHeader(`{"alg":"none","kid":"` + f.edKid + `","typ":"vc+jwt"}`), "alg none is never accepted"},
		{"alg HS256", hs(map[string]any{"alg": "HS256", "kid": f.edKid, "typ": "vc+jwt"}, f.credential()), "alg HS256 is never accepted"},
		{"alg from the token", with(func(h, _ map[string]any) { h["alg"] = "ES256" }), "header alg must be EdDSA for key"},
		{"typ missing", with(func(h, _ map[string]any) { delete(h, "typ") }), "typ must be vc+jwt"},
		{"typ JWT", with(func(h, _ map[string]any) { h["typ"] = "JWT" }), "typ must be vc+jwt"},
		{"cty", with(func(h, _ map[string]any) { h["cty"] = "json" }), "cty must be vc"},
		{"crit", with(func(h, _ map[string]any) { h["crit"] = []string{"exp"} }), "crit is not accepted"},
		{"jku", with(func(h, _ map[string]any) { h["jku"] = "https://evil.example/jwks.json" }), "jku is not accepted"},
		{"x5u", with(func(h, _ map[string]any) { h["x5u"] = "https://evil.example/cert.pem" }), "x5u is not accepted"},
		{"jwk", with(func(h, _ map[string]any) { h["jwk"] = map[string]string{"kty": "OKP"} }), "jwk is not accepted"},
		{"x5c", with(func(h, _ map[string]any) { h["x5c"] = []string{"MII"} }), "x5c is not accepted"},
		{"unknown header member", with(func(h, _ map[string]any) { h["zip"] = "DEF" }), `header member "zip" is not accepted`},
		{"duplicate header member", rawHeader(`{"alg":"EdDSA","kid":"` + f.edKid + `","typ":"JWT","typ":"vc+jwt"}`), `member "typ" appears twice`},
		{"kid missing", with(func(h, _ map[string]any) { delete(h, "kid") }), "kid is required"},
		{"kid not pinned", f.sign(f.header(f.otherKid, "EdDSA"), f.credential(), f.otherKid), "is not in the trusted JWKS"},
		{"altered payload", parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"iss":"x"}`)) + "." + parts[2], "signature does not verify"},
		{"json serialization", `{"payload":"` + parts[1] + `"}`, "not the JSON serialization"},
		{"two signatures", good + "." + parts[2], "exactly one signature"},
		{"padding", parts[0] + "=." + parts[1] + "." + parts[2], "without padding"},
		{"too large", good + strings.Repeat("A", maxTokenSize), "larger than"},
		{"vc claim", with(func(_, p map[string]any) { p["vc"] = map[string]any{} }), `must not carry a "vc" claim`},
		{"vp claim", with(func(_, p map[string]any) { p["vp"] = map[string]any{} }), `must not carry a "vp" claim`},
		{"exp missing", with(func(_, p map[string]any) { delete(p, "exp") }), `lacks the required "exp" claim`},
		{"iat missing", with(func(_, p map[string]any) { delete(p, "iat") }), `lacks the required "iat" claim`},
		{"iat in the future", with(func(_, p map[string]any) { p["iat"] = f.now.Add(10 * time.Minute).Unix() }), "iat lies in the future"},
		{"iss is not issuer.id", with(func(_, p map[string]any) { p["iss"] = f.srv.URL + "/issuers/other" }), "must equal issuer.id"},
		{"issuer not the one of the keys", with(func(_, p map[string]any) {
			p["iss"] = f.srv.URL + "/issuers/other"
			p["issuer"] = map[string]any{"id": p["iss"]}
		}), "but the trusted keys are those of"},
		{"jti is not id", with(func(_, p map[string]any) { p["jti"] = f.srv.URL + "/v/" + cert.NewID() }), "jti must equal id"},
		{"exp is not validUntil", with(func(_, p map[string]any) { p["exp"] = p["exp"].(int64) + 86400 }), "exp must equal validUntil"},
		{"not a certificate", with(func(_, p map[string]any) { p["type"] = []string{"VerifiableCredential"} }), "type must include"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := f.verify(tc.token, true)
			if v.Verdict != cert.VerdictInvalid || v.Checks[0].OK || !strings.Contains(v.Reason, tc.reason) {
				t.Fatalf("verdict %s: %s; want invalid because %q", v.Verdict, v.Reason, tc.reason)
			}
		})
	}
}

func TestParseJWKS(t *testing.T) {
	f := newFakeIssuer(t)
	pub := base64.RawURLEncoding.EncodeToString(f.ed.Public().(ed25519.PublicKey))
	for _, tc := range []struct{ name, jwks, want string }{
		{"fail/private key", `{"keys":[{"kty":"OKP","crv":"Ed25519","x":"` + pub + `","d":"secret","kid":"` + f.edKid + `"}]}`, "private or symmetric key material"},
		{"fail/symmetric key", `{"keys":[{"kty":"oct","k":"c2VjcmV0","kid":"a"}]}`, "private or symmetric key material"},
		{"fail/not a set", `[]`, "not a JWK Set"},
		{"fail/no usable key", `{"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB","kid":"r"}]}`, "holds no Ed25519 or P-256 signing key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := parseJWKS([]byte(tc.jwks)); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
	// A kid that is not the key's thumbprint: the key is not used.
	ks, err := parseJWKS([]byte(`{"keys":[{"kty":"OKP","crv":"Ed25519","x":"` + pub + `","kid":"mislabelled"},` +
		`{"kty":"OKP","crv":"Ed25519","x":"` + pub + `","kid":"` + f.edKid + `","use":"enc"},` +
		`{"kty":"OKP","crv":"Ed25519","x":"` + pub + `","kid":"` + f.otherKid + `","alg":"ES256"},` +
		`{"kty":"OKP","crv":"Ed25519","x":"` + base64.RawURLEncoding.EncodeToString(f.other.Public().(ed25519.PublicKey)) + `","kid":"` + f.otherKid + `"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	for kid, want := range map[string]string{"mislabelled": "not the key's RFC 7638 thumbprint", f.edKid: `use is "enc"`} {
		tok := f.sign(f.header(kid, "EdDSA"), f.credential(), f.edKid)
		if _, _, err := verifyJWS(tok, ks, maxTokenSize); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("kid %s: err = %v, want %q", kid, err, want)
		}
	}
	if ks.keys[f.otherKid] == nil {
		t.Error("the valid key after an invalid one with the same kid was not kept")
	}
}

func TestBitstringOrder(t *testing.T) {
	raw := make([]byte, 4)
	raw[0] = 0x80 // index 0: the left-most bit of the first byte
	raw[3] = 0x01 // index 31
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(raw)
	zw.Close()
	bits, err := decodeBitstring("u" + base64.RawURLEncoding.EncodeToString(gz.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	l := &statusLists{lists: map[string]*bitstring{"x\x00i": {purpose: "revocation", bits: bits}}, errs: map[string]error{}}
	for idx, want := range map[int]bool{0: true, 1: false, 7: false, 8: false, 30: false, 31: true} {
		got, err := l.check(context.Background(), cert.StatusEntry{Type: "BitstringStatusListEntry", StatusPurpose: "revocation",
			StatusListIndex: fmt.Sprint(idx), StatusListCredential: "x"}, "i")
		if err != nil || got != want {
			t.Errorf("index %d: %v, %v; want %v", idx, got, err, want)
		}
	}
	if _, err := l.check(context.Background(), cert.StatusEntry{Type: "BitstringStatusListEntry", StatusPurpose: "revocation",
		StatusListIndex: "32", StatusListCredential: "x"}, "i"); err == nil {
		t.Error("an index beyond the list was accepted")
	}
	if _, err := decodeBitstring(base64.RawURLEncoding.EncodeToString(gz.Bytes())); err == nil {
		t.Error("an encodedList without the multibase prefix was accepted")
	}
}

// TestOfflineCLI runs verify --offline in-process against the fake issuer:
// the exit codes and the JSON verdict.
func TestOfflineCLI(t *testing.T) {
	f := newFakeIssuer(t)
	jwks := writeFile(t, "jwks.json", string(f.jwks()))
	tok := writeFile(t, "credential.jwt", f.token(nil))
	env := map[string]string{"CERTD_SERVER": closedPort(t)}
	r := cli(t, env, "verify", tok, "--offline", "--jwks", jwks, "--output", "json")
	var v cert.Verdict
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil || r.code != exitValid || v.Verdict != cert.VerdictValid {
		t.Fatalf("exit %d, %v\n%s%s", r.code, err, r.stdout, r.stderr)
	}
	f.set("revocation", -1, "404")
	if r := cli(t, env, "verify", tok, "--jwks", jwks); r.code != exitUnknown || !strings.Contains(r.stdout, "UNKNOWN") {
		t.Fatalf("status lists missing: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	f.set("revocation", 12345, "")
	if r := cli(t, env, "verify", tok, "--jwks", jwks); r.code != exitInvalid || !strings.Contains(r.stdout, "INVALID") {
		t.Fatalf("revoked: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := cli(t, env, "verify", tok, "--jwks", writeFile(t, "bad.json", "{}")); r.code != exitUnknown || !strings.Contains(r.stderr, "not a JWK Set") {
		t.Fatalf("bad JWKS: exit %d %s", r.code, r.stderr)
	}
}
