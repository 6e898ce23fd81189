package keys_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/keys"
)

func TestJWKSAllAndMetadata(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	a := e.createRing(t, "a", cert.KeyTypeEd25519)
	b := e.createRing(t, "b", cert.KeyTypeES256)
	b2, err := e.svc.Rotate(ctx, "b", "")
	if err != nil {
		t.Fatal(err)
	}
	c := e.createRing(t, "c", "")
	if _, err := e.svc.Rotate(ctx, "c", ""); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Revoke(ctx, "c", c.Kid); err != nil {
		t.Fatal(err)
	}

	raw, err := e.svc.JWKSAll(ctx, []string{"a", "b", "c", "no-ring"})
	if err != nil {
		t.Fatal(err)
	}
	var all struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(raw, &all); err != nil {
		t.Fatalf("JWKSAll is not JSON: %v", err)
	}
	var got []string
	for _, k := range all.Keys {
		got = append(got, k["kid"].(string))
		if k["use"] != "sig" || k["alg"] == nil || k["kid"] == nil {
			t.Errorf("JWK %v lacks use sig, alg or kid", k)
		}
		for _, private := range []string{"d", "p", "q", "dp", "dq", "qi", "k"} {
			if _, ok := k[private]; ok {
				t.Errorf("JWK %s carries the private member %q", k["kid"], private)
			}
		}
	}
	want := []string{a.Kid, b2.Kid, b.Kid}
	cs := jwksOf(t, e.svc, "c")
	want = append(want, cs[0].Kid)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("JWKSAll kids = %v, want %v (revoked %s left out)", got, want, c.Kid)
	}

	md, err := e.svc.IssuerMetadata(ctx, "b", "https://certd.example/issuers/b")
	if err != nil {
		t.Fatal(err)
	}
	var meta struct {
		Issuer string `json:"issuer"`
		JWKS   struct {
			Keys []publicJWK `json:"keys"`
		} `json:"jwks"`
	}
	if err := json.Unmarshal(md, &meta); err != nil {
		t.Fatal(err)
	}
	if meta.Issuer != "https://certd.example/issuers/b" || len(meta.JWKS.Keys) != 2 || meta.JWKS.Keys[0].Kid != b2.Kid || meta.JWKS.Keys[0].Alg != "ES256" {
		t.Errorf("IssuerMetadata = %s", md)
	}
	for _, k := range meta.JWKS.Keys {
		if thumbprint(t, k) != k.Kid {
			t.Errorf("metadata key %s: kid is not its thumbprint", k.Kid)
		}
	}
	var top map[string]json.RawMessage
	_ = json.Unmarshal(md, &top)
	if len(top) != 2 {
		t.Errorf("IssuerMetadata has members %v, want issuer and jwks", top)
	}
}

// A stored public JWK that was tampered with to carry the private key is
// never published or listed: JWKS refuses the ring and Keys shows the key
// rebuilt from its public part only.
func TestTamperedPublicNotPublished(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	ki := e.createRing(t, "a", "")
	seed, err := keys.PrivateKeyBytes(ctx, e.svc, "a", ki.Kid)
	if err != nil {
		t.Fatal(err)
	}
	var pub publicJWK
	if err := json.Unmarshal(ki.Public, &pub); err != nil {
		t.Fatal(err)
	}
	d := b64url.EncodeToString(seed)
	e.store.set(func(m *memRings) {
		m.rings["a"].Keys[0].Public = json.RawMessage(`{"kty":"OKP","crv":"Ed25519","x":"` + pub.X + `","d":"` + d + `","kid":"` + ki.Kid + `"}`)
	})
	fresh := e.peer() // no cached keys
	b, err := fresh.JWKS(ctx, "a")
	if err == nil || strings.Contains(string(b), d) || strings.Contains(err.Error(), d) {
		t.Errorf("JWKS of a ring with a private member in Public = %s, %v; want an error without the key", b, err)
	}
	list, err := fresh.Keys(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	if out, _ := json.Marshal(list); strings.Contains(string(out), d) {
		t.Errorf("Keys lists the private key: %s", out)
	}
}
