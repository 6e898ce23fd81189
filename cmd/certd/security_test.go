package main

import (
	"context"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// signEd25519 makes a compact JWS with any header, signed by key.
func signEd25519(t testing.TB, key ed25519.PrivateKey, hdr map[string]any, body []byte) string {
	t.Helper()
	in := b64(mustJSON(t, hdr)) + "." + b64(body)
	return in + "." + b64(ed25519.Sign(key, []byte(in)))
}

func TestPresentedTokenAttacksNeverValid(t *testing.T) {
	ts := startServer(t, "")
	ctx := context.Background()
	c := ts.issue(t, "default")
	genuine := c["credential"].(string)
	kid := c["kid"].(string)
	parts := strings.Split(genuine, ".")
	claims := payload(t, genuine)

	// The genuine credential verifies: the attacks below are judged by the
	// same route that accepts it.
	v := ts.do("POST", "/api/v1/verify", "", genuine, "Content-Type", "application/vc+jwt").JSON(t)
	if v["verdict"] != "valid" {
		t.Fatalf("genuine credential: verdict %v: %v", v["verdict"], v["reason"])
	}

	// A second issuer, whose genuine key signs a token that claims the first.
	if r := ts.do("POST", "/api/v1/issuers", ts.Admin, map[string]any{"id": "other", "name": "Other CB"}); r.Status != 201 {
		t.Fatalf("create issuer: %d %s", r.Status, r.Body)
	}
	otherSigned, _, err := ts.m.Keys.Sign(ctx, "other", []byte(mustJSON(t, claims)))
	if err != nil {
		t.Fatal(err)
	}

	_, attacker, _ := ed25519.GenerateKey(rand.Reader)
	pub := attacker.Public().(ed25519.PublicKey)
	with := func(mod func(map[string]any)) []byte {
		m := map[string]any{}
		for k, v := range claims {
			m[k] = v
		}
		mod(m)
		return mustJSON(t, m)
	}
	ourSigned := func(body []byte) string {
		tok, _, err := ts.m.Keys.Sign(ctx, "default", body)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	hdr := func(extra map[string]any) map[string]any {
		h := map[string]any{"alg": "EdDSA", "kid": kid, "typ": "vc+jwt", "cty": "vc"}
		for k, v := range extra {
			h[k] = v
		}
		return h
	}
	jwks := ts.do("GET", "/issuers/default/jwks.json", "", nil)
	var set struct{ Keys []map[string]any }
	_ = json.Unmarshal(jwks.Body, &set)
	x, _ := base64.RawURLEncoding.DecodeString(set.Keys[0]["x"].(string))
	hs256 := func(secret []byte) string {
		in := b64(mustJSON(t, map[string]any{"alg": "HS256", "kid": kid, "typ": "vc+jwt"})) + "." + parts[1]
		m := hmac.New(sha256.New, secret)
		m.Write([]byte(in))
		return in + "." + b64(m.Sum(nil))
	}
	deep := strings.Repeat("[", 10000) + strings.Repeat("]", 10000)

	attacks := map[string]string{
		"alg none":             b64(mustJSON(t, map[string]any{"alg": "none", "typ": "vc+jwt", "kid": kid})) + "." + parts[1] + ".",
		"HS256 public key":     hs256(x),
		"HS256 jwks":           hs256(jwks.Body),
		"embedded jwk":         signEd25519(t, attacker, hdr(map[string]any{"jwk": map[string]any{"kty": "OKP", "crv": "Ed25519", "x": b64(pub)}}), []byte(parts[1])),
		"jku header":           signEd25519(t, attacker, hdr(map[string]any{"jku": "http://127.0.0.1:1/jwks.json"}), mustJSON(t, claims)),
		"x5u header":           signEd25519(t, attacker, hdr(map[string]any{"x5u": "http://127.0.0.1:1/cert.pem"}), mustJSON(t, claims)),
		"attacker key our kid": signEd25519(t, attacker, hdr(nil), mustJSON(t, claims)),
		"kid of other issuer":  otherSigned,
		"payload changed": parts[0] + "." + b64(with(func(m map[string]any) {
			m["credentialSubject"].(map[string]any)["certificate"].(map[string]any)["level"] = 4
		})) + "." + parts[2],
		"expired":            ourSigned(with(func(m map[string]any) { m["exp"] = 1700000000; m["validUntil"] = "2023-11-14T22:13:20Z" })),
		"missing exp":        ourSigned(with(func(m map[string]any) { delete(m, "exp") })),
		"missing iat":        ourSigned(with(func(m map[string]any) { delete(m, "iat") })),
		"vc claim":           ourSigned(with(func(m map[string]any) { m["vc"] = map[string]any{} })),
		"iss mismatch":       ourSigned(with(func(m map[string]any) { m["issuer"] = map[string]any{"id": "https://evil.example/issuers/default"} })),
		"wrong typ":          signEd25519(t, attacker, hdr(map[string]any{"typ": "JWT"}), mustJSON(t, claims)),
		"crit header":        signEd25519(t, attacker, hdr(map[string]any{"crit": []string{"exp"}}), mustJSON(t, claims)),
		"json serialization": string(mustJSON(t, map[string]any{"protected": parts[0], "payload": parts[1], "signature": parts[2]})),
		"two signatures":     genuine + "." + parts[2],
		"1 MiB token":        parts[0] + "." + strings.Repeat("A", 1<<20-len(parts[0])-len(parts[2])-2) + "." + parts[2],
		"deep payload":       parts[0] + "." + b64([]byte(deep)) + "." + parts[2],
		"deep small":         parts[0] + "." + b64([]byte(strings.Repeat("[", 5000)+strings.Repeat("]", 5000))) + "." + parts[2],
		"garbage":            "not a token at all",
		"empty segments":     "..",
	}
	for name, tok := range attacks {
		t.Run(name, func(t *testing.T) {
			for _, mode := range []string{"vc+jwt", "json"} {
				var r response
				if mode == "json" {
					r = ts.do("POST", "/api/v1/verify", "", map[string]any{"credential": tok})
				} else {
					r = ts.do("POST", "/api/v1/verify", "", tok, "Content-Type", "application/vc+jwt")
				}
				if r.Status >= 500 {
					t.Fatalf("%s: status %d: %s", mode, r.Status, r.Body)
				}
				var v map[string]any
				_ = json.Unmarshal(r.Body, &v)
				if v["verdict"] == "valid" {
					t.Fatalf("%s: attack verified as valid: %s", mode, r.Body)
				}
				if r.Status < 400 && v["verdict"] != "invalid" {
					t.Errorf("%s: verdict %v, want invalid", mode, v["verdict"])
				}
			}
		})
	}
}

func TestTenantIsolation(t *testing.T) {
	ts := startServer(t, "")
	if r := ts.do("POST", "/api/v1/issuers", ts.Admin, map[string]any{"id": "other", "name": "Other CB", "nameZh": "其他认证机构"}); r.Status != 201 {
		t.Fatalf("create issuer: %d %s", r.Status, r.Body)
	}
	key := func(issuer, role string) string {
		r := ts.do("POST", "/api/v1/apikeys", ts.Admin, map[string]any{"issuer": issuer, "role": role, "name": issuer + " " + role})
		if r.Status != 201 {
			t.Fatalf("create key: %d %s", r.Status, r.Body)
		}
		return r.JSON(t)["token"].(string)
	}
	keyA, keyB, viewerA := key("default", "issuer"), key("other", "issuer"), key("default", "viewer")
	issueWith := func(tok string) string {
		req := sampleCertificate("", testUSCC)
		delete(req, "issuer")
		r := ts.do("POST", "/api/v1/certificates", tok, req)
		if r.Status != 201 {
			t.Fatalf("issue: %d %s", r.Status, r.Body)
		}
		return r.JSON(t)["id"].(string)
	}
	certA, certB := issueWith(keyA), issueWith(keyB)

	cases := []struct {
		name, method, path, token string
		body                      any
		want                      int
	}{
		{"A reads A", "GET", "/api/v1/certificates/" + certA, keyA, nil, 200},
		{"A reads B", "GET", "/api/v1/certificates/" + certB, keyA, nil, 404},
		{"A reads B events", "GET", "/api/v1/certificates/" + certB + "/events", keyA, nil, 404},
		{"A withdraws B", "POST", "/api/v1/certificates/" + certB + "/withdraw", keyA, map[string]any{"reason": "x"}, 404},
		{"A suspends B", "POST", "/api/v1/certificates/" + certB + "/suspend", keyA, map[string]any{"reason": "x"}, 404},
		{"A issues for B", "POST", "/api/v1/certificates", keyA, sampleCertificate("other", testUSCC), 403},
		{"B reads B", "GET", "/api/v1/certificates/" + certB, keyB, nil, 200},
		{"viewer reads A", "GET", "/api/v1/certificates/" + certA, viewerA, nil, 200},
		{"viewer reads B", "GET", "/api/v1/certificates/" + certB, viewerA, nil, 404},
		{"viewer withdraws A", "POST", "/api/v1/certificates/" + certA + "/withdraw", viewerA, map[string]any{"reason": "x"}, 403},
		{"viewer issues", "POST", "/api/v1/certificates", viewerA, sampleCertificate("default", testUSCC), 403},
		{"A creates issuer", "POST", "/api/v1/issuers", keyA, map[string]any{"id": "x", "name": "X"}, 403},
		{"A lists issuers", "GET", "/api/v1/issuers", keyA, nil, 403},
		{"A rotates", "POST", "/api/v1/issuers/default/keys/rotate", keyA, nil, 403},
		{"A lists keys", "GET", "/api/v1/issuers/default/keys", keyA, nil, 403},
		{"A creates apikey", "POST", "/api/v1/apikeys", keyA, map[string]any{"issuer": "default", "role": "issuer"}, 403},
		{"A revokes apikey", "DELETE", "/api/v1/apikeys/whatever", keyA, nil, 403},
		{"bad key", "GET", "/api/v1/certificates/" + certA, "certd_not-a-real-key", nil, 401},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := ts.do(tc.method, tc.path, tc.token, tc.body)
			if r.Status != tc.want {
				t.Fatalf("status %d, want %d: %s", r.Status, tc.want, r.Body)
			}
			if tc.want >= 400 && r.Header.Get("Content-Type") != "application/problem+json" {
				t.Errorf("error without a problem document: %s", r.Header.Get("Content-Type"))
			}
		})
	}

	// Listing never shows another tenant's certificates.
	for _, q := range []string{"", "?issuer=other"} {
		var page struct{ Items []struct{ ID, Issuer string } }
		_ = json.Unmarshal(ts.do("GET", "/api/v1/certificates"+q, keyA, nil).Body, &page)
		for _, it := range page.Items {
			if it.Issuer != "default" {
				t.Errorf("list%s with A's key shows %s of %s", q, it.ID, it.Issuer)
			}
		}
	}

	// Every authenticated route refuses a request without a key.
	for _, rt := range ts.m.API.Routes() {
		if !strings.HasPrefix(rt.Path, "/api/v1/") || strings.HasPrefix(rt.Path, "/api/v1/verify") || strings.HasPrefix(rt.Path, "/api/v1/search") || rt.Path == "/api/v1/schemes" {
			continue // public by design
		}
		path := strings.NewReplacer(":id", certA, ":issuer", "default", ":action", "withdraw").Replace(rt.Path)
		if r := ts.do(rt.Method, path, "", nil); r.Status != 401 {
			t.Errorf("%s %s without a key: %d, want 401", rt.Method, rt.Path, r.Status)
		}
	}

	// A revoked key stops working at once.
	r := ts.do("POST", "/api/v1/apikeys", ts.Admin, map[string]any{"issuer": "default", "role": "issuer"})
	k := r.JSON(t)
	if r := ts.do("DELETE", "/api/v1/apikeys/"+k["id"].(string), ts.Admin, nil); r.Status != 204 {
		t.Fatalf("revoke: %d %s", r.Status, r.Body)
	}
	if r := ts.do("GET", "/api/v1/certificates/"+certA, k["token"].(string), nil); r.Status != 401 {
		t.Errorf("revoked key: %d, want 401", r.Status)
	}
}

func TestKeyRotation(t *testing.T) {
	ts := startServer(t, "")
	old := ts.issue(t, "default")
	r := ts.do("POST", "/api/v1/issuers/default/keys/rotate", ts.Admin, nil)
	if r.Status != 201 {
		t.Fatalf("rotate: %d %s", r.Status, r.Body)
	}
	newKid := r.JSON(t)["kid"].(string)
	cur := ts.issue(t, "default")
	if cur["kid"] != newKid || cur["kid"] == old["kid"] {
		t.Errorf("new certificate kid %v, want the rotated key %v (old %v)", cur["kid"], newKid, old["kid"])
	}
	if h := header(t, cur["credential"].(string)); h["kid"] != newKid {
		t.Errorf("credential header kid %v, want %v", h["kid"], newKid)
	}
	for _, c := range []map[string]any{old, cur} {
		if v := ts.do("GET", "/api/v1/verify/"+c["id"].(string), "", nil).JSON(t); v["verdict"] != "valid" {
			t.Errorf("verify by id %v after rotation: %v %v", c["kid"], v["verdict"], v["reason"])
		}
		if v := ts.do("POST", "/api/v1/verify", "", c["credential"], "Content-Type", "text/plain").JSON(t); v["verdict"] != "valid" {
			t.Errorf("verify token signed by %v after rotation: %v %v", c["kid"], v["verdict"], v["reason"])
		}
	}
	var set struct{ Keys []map[string]any }
	if err := json.Unmarshal(ts.do("GET", "/issuers/default/jwks.json", "", nil).Body, &set); err != nil {
		t.Fatal(err)
	}
	kids := map[any]bool{}
	for _, k := range set.Keys {
		kids[k["kid"]] = true
		if k["use"] != "sig" || k["alg"] == nil {
			t.Errorf("JWK without use/alg: %v", k)
		}
	}
	if !kids[old["kid"]] || !kids[newKid] || len(set.Keys) != 2 {
		t.Errorf("JWKS kids %v, want old %v and new %v", kids, old["kid"], newKid)
	}
}

func TestRestartKeepsEverything(t *testing.T) {
	dir := t.TempDir()
	ts := startServer(t, dir, withPublicURL("https://verify.example.cn"))
	c := ts.issue(t, "default")
	if err := ts.m.Close(); err != nil {
		t.Fatal(err)
	}
	ts2 := startServer(t, dir, withPublicURL("https://verify.example.cn"))
	if ts2.Admin != ts.Admin {
		t.Fatalf("admin.token changed across restart")
	}
	if strings.Contains(ts2.Stdout.String(), "first start") {
		t.Errorf("second start printed the first-start message")
	}
	r := ts2.do("GET", "/api/v1/certificates/"+c["id"].(string), ts.Admin, nil)
	if r.Status != 200 {
		t.Fatalf("certificate after restart: %d %s (the admin key must still work)", r.Status, r.Body)
	}
	if v := ts2.do("GET", "/api/v1/verify/"+c["id"].(string), "", nil).JSON(t); v["verdict"] != "valid" {
		t.Errorf("verify after restart: %v", v["verdict"])
	}
	if v := ts2.do("POST", "/api/v1/verify", "", c["credential"], "Content-Type", "text/plain").JSON(t); v["verdict"] != "valid" {
		t.Errorf("token after restart: %v %v", v["verdict"], v["reason"])
	}
	c2 := ts2.issue(t, "default")
	if c2["kid"] != c["kid"] {
		t.Errorf("signing key changed across restart: %v -> %v", c["kid"], c2["kid"])
	}
}

func TestNoSecretInResponsesOrLogs(t *testing.T) {
	ts := startServer(t, "")
	ctx := context.Background()
	var bodies []string
	record := func(r response) { bodies = append(bodies, string(r.Body)) }
	c := ts.issue(t, "default")
	id := c["id"].(string)
	record(ts.do("POST", "/api/v1/issuers", ts.Admin, map[string]any{"id": "es", "name": "ES CB", "keyType": "ES256"}))
	record(ts.do("POST", "/api/v1/certificates", ts.Admin, sampleCertificate("es", testUSCC)))
	record(ts.do("POST", "/api/v1/issuers/default/keys/rotate", ts.Admin, nil))
	for _, p := range []string{"/api/v1/issuers/default/keys", "/api/v1/issuers/es/keys", "/api/v1/issuers", "/api/v1/certificates/" + id, "/api/v1/certificates"} {
		record(ts.do("GET", p, ts.Admin, nil))
	}
	for _, p := range []string{"/issuers/default/jwks.json", "/issuers/es/jwks.json", "/.well-known/jwks.json", "/.well-known/jwt-vc-issuer/issuers/default", "/api/v1/verify/" + id, "/v/" + id, "/metrics"} {
		record(ts.do("GET", p, "", nil))
	}
	record(ts.do("POST", "/api/v1/verify", "", "garbage.token.here", "Content-Type", "text/plain"))

	var secrets []string
	kek, err := os.ReadFile(filepath.Join(ts.DataDir, "kek"))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := base64.StdEncoding.DecodeString(strings.TrimSpace(string(kek)))
	secrets = append(secrets, strings.TrimSpace(string(kek)), hex.EncodeToString(raw), b64(raw))
	for _, issuer := range []string{"default", "es"} {
		ring, err := ts.m.store.KeyRing(ctx, issuer)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range ring.Keys {
			secrets = append(secrets, base64.StdEncoding.EncodeToString(k.Sealed), b64(k.Sealed), hex.EncodeToString(k.Sealed))
		}
	}
	logs := ts.Logs.String()
	if !strings.Contains(logs, "request_id") {
		t.Fatalf("no request logs were captured; the test would prove nothing")
	}
	for _, s := range secrets {
		for i, b := range bodies {
			if strings.Contains(b, s) {
				t.Errorf("response %d contains secret material", i)
			}
		}
		if strings.Contains(logs, s) {
			t.Errorf("logs contain secret material")
		}
	}
	for i, b := range bodies {
		if strings.Contains(b, `"d":`) {
			t.Errorf("response %d contains a private JWK member d: %s", i, b)
		}
	}
	if strings.Contains(logs, ts.Admin) {
		t.Errorf("logs contain the admin API key")
	}
	if strings.Contains(logs, `"d":`) {
		t.Errorf("logs contain a private JWK member")
	}
}

func TestBadInputGetsProblemDocuments(t *testing.T) {
	ts := startServer(t, "")
	good := func(mod func(map[string]any)) map[string]any {
		m := sampleCertificate("default", testUSCC)
		mod(m)
		return m
	}
	org := func(m map[string]any) map[string]any { return m["organization"].(map[string]any) }
	cases := []struct {
		name      string
		body      any
		want      int
		wantField string
	}{
		{"malformed JSON", `{"scheme": "itss",`, 400, ""},
		{"not an object", `[1,2]`, 400, ""},
		{"unknown field", good(func(m map[string]any) { m["colour"] = "red" }), 400, "colour"},
		{"wrong type", good(func(m map[string]any) { m["level"] = "three" }), 400, "level"},
		{"invalid USCC", good(func(m map[string]any) { org(m)["uscc"] = "91110108MA01234567" }), 422, "organization.uscc"},
		{"short USCC", good(func(m map[string]any) { org(m)["uscc"] = "123" }), 422, "organization.uscc"},
		{"unknown scheme", good(func(m map[string]any) { m["scheme"] = "iso9999" }), 422, "scheme"},
		{"level out of range", good(func(m map[string]any) { m["level"] = 5 }), 422, "level"},
		{"unknown category", good(func(m map[string]any) { m["category"] = "打印服务" }), 422, "category"},
		{"missing organization name", good(func(m map[string]any) { org(m)["name"] = "" }), 422, "organization.name"},
		{"bad date", good(func(m map[string]any) { m["validFrom"] = "27/11/2026" }), 422, "validFrom"},
		{"oversize body", `{"scope": "` + strings.Repeat("x", 1<<20) + `"}`, 413, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := ts.do("POST", "/api/v1/certificates", ts.Admin, tc.body)
			if r.Status != tc.want {
				t.Fatalf("status %d, want %d: %s", r.Status, tc.want, r.Body)
			}
			if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
				t.Fatalf("Content-Type %q, want application/problem+json", ct)
			}
			p := r.JSON(t)
			for _, k := range []string{"type", "title", "status", "detail", "requestId"} {
				if p[k] == nil || p[k] == "" {
					t.Errorf("problem lacks %s: %s", k, r.Body)
				}
			}
			if tc.wantField != "" {
				found := false
				errs, _ := p["errors"].([]any)
				for _, e := range errs {
					e := e.(map[string]any)
					if e["field"] == tc.wantField && e["message"] != "" {
						found = true
					}
				}
				if !found {
					t.Errorf("problem does not name field %q: %s", tc.wantField, r.Body)
				}
			}
		})
	}
	// Nothing was created by any of them.
	var page struct{ Items []any }
	_ = json.Unmarshal(ts.do("GET", "/api/v1/certificates", ts.Admin, nil).Body, &page)
	if len(page.Items) != 0 {
		t.Errorf("bad requests created %d certificates", len(page.Items))
	}
}
