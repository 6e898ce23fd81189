package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/keys"
	"github.com/certd/certd/store/bolt"
)

// encodeList writes an encodedList as certd publishes it: multibase
// base64url of the GZIP of the bits.
func encodeList(t testing.TB, bits []byte) string {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(bits); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return "u" + base64.RawURLEncoding.EncodeToString(buf.Bytes())
}

// FuzzDecodeBitstring: an encodedList from a fetched status list decodes
// to an error or to at most maxStatusListBits bytes, never a panic; bits
// certd encodes decode to the same bits.
func FuzzDecodeBitstring(f *testing.F) {
	f.Add([]byte{0x80, 0, 1}, "")
	f.Add(make([]byte, 16384), "u")
	f.Add([]byte{}, "uH4sIAAAAAAAA_wEAAP__AAAAAAAAAAA")
	f.Add([]byte{0xff}, "zQmNotBase64url")
	f.Add([]byte{1}, "uH4sI====")
	f.Fuzz(func(t *testing.T, bits []byte, enc string) {
		got, err := decodeBitstring(encodeList(t, bits))
		if err != nil || !bytes.Equal(got, bits) {
			t.Fatalf("decodeBitstring(encode(%x)) = %x, %v", bits, got, err)
		}
		got, err = decodeBitstring(enc)
		if err == nil && len(got) > maxStatusListBits {
			t.Fatalf("decodeBitstring(%q) gave %d bytes, more than the limit", enc, len(got))
		}
	})
}

// FuzzStatusListCredential: the payload of a fetched status list is
// decoded and checked without panicking, and a list passes only when it
// is a BitstringStatusList of the expected issuer that has not expired.
func FuzzStatusListCredential(f *testing.F) {
	const issuerURL = "https://verify.example.cn/issuers/acme"
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	good := fmt.Sprintf(`{"@context":["https://www.w3.org/ns/credentials/v2"],"id":"https://verify.example.cn/status/acme/revocation/1",`+
		`"type":["VerifiableCredential","BitstringStatusListCredential"],"issuer":%q,"iss":%q,"validFrom":"2026-11-27T09:00:00Z",`+
		`"validUntil":"2026-11-27T11:00:00Z","exp":%d,"credentialSubject":{"type":"BitstringStatusList","statusPurpose":"revocation","encodedList":%q}}`,
		issuerURL, issuerURL, now.Add(time.Hour).Unix(), encodeList(f, make([]byte, 16384)))
	f.Add([]byte(good))
	f.Add([]byte(strings.Replace(good, `"issuer":"https`, `"issuer":{"id":"https`, 1)))
	f.Add([]byte(`{"issuer":{"id":1},"type":null,"exp":-9223372036854775808,"credentialSubject":{"statusSize":1}}`))
	f.Add([]byte(`{"validUntil":"9999-99-99","validFrom":"x","credentialSubject":{"statusSize":"1"}}`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		var c statusListCredential
		if json.Unmarshal(payload, &c) != nil {
			return
		}
		if err := c.check(issuerURL, now); err != nil {
			return
		}
		switch {
		case !slices.Contains(c.Type, "BitstringStatusListCredential") || c.CredentialSubject.Type != "BitstringStatusList":
			t.Fatalf("a list of types %q / %q passes", c.Type, c.CredentialSubject.Type)
		case c.Iss != "" && c.Iss != issuerURL:
			t.Fatalf("a list with iss %q passes", c.Iss)
		case c.Exp != nil && time.Unix(*c.Exp, 0).Before(now.Add(-clockSkew)):
			t.Fatalf("a list that expired at %d passes", *c.Exp)
		}
		if _, err := decodeBitstring(c.CredentialSubject.EncodedList); err == nil && !strings.HasPrefix(c.CredentialSubject.EncodedList, "u") {
			t.Fatalf("encodedList %q without the multibase prefix decodes", c.CredentialSubject.EncodedList)
		}
	})
}

// publishedJWKS is what certd serves at /issuers/{id}/jwks.json: the
// keys service's own writer over a bolt store, an Ed25519 and a P-256 ring.
func publishedJWKS(t testing.TB) [][]byte {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "certd.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	kek, err := keys.ParseKEK([]byte(base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))))
	if err != nil {
		t.Fatal(err)
	}
	ks := keys.NewService(st, kek, time.Now)
	ctx := context.Background()
	var sets [][]byte
	for _, kt := range []string{"", cert.KeyTypeES256} {
		id := "ed"
		if kt != "" {
			id = "es"
		}
		if _, err := ks.CreateRing(ctx, id, kt); err != nil {
			t.Fatal(err)
		}
		if _, err := ks.Rotate(ctx, id, kt); err != nil {
			t.Fatal(err)
		}
		b, err := ks.JWKS(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		sets = append(sets, b)
	}
	all, err := ks.JWKSAll(ctx, []string{"ed", "es"})
	if err != nil {
		t.Fatal(err)
	}
	return append(sets, all)
}

// FuzzParseJWKS: a key set from a file or the network is refused or read
// into EdDSA and ES256 keys filed under their own kid (which
// keys.ParsePublicJWK holds to the key's RFC 7638 thumbprint), never a
// panic; every key certd publishes is read back under its kid.
func FuzzParseJWKS(f *testing.F) {
	for _, set := range publishedJWKS(f) {
		f.Add(set)
		var doc struct {
			Keys []map[string]any `json:"keys"`
		}
		if err := json.Unmarshal(set, &doc); err != nil || len(doc.Keys) == 0 {
			f.Fatalf("published JWKS %s: %v", set, err)
		}
		parsed, err := parseJWKS(set)
		if err != nil {
			f.Fatalf("parseJWKS(%s): %v", set, err)
		}
		for _, k := range doc.Keys {
			if kid, _ := k["kid"].(string); parsed.keys[kid] == nil {
				f.Fatalf("published key %s is not read back from %s", kid, set)
			}
		}
	}
	f.Add([]byte(`{"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","kid":"x","d":"y"}]}`))
	f.Add([]byte(`{"keys":[{"kty":"EC","crv":"P-256","x":"AA","y":"AA","kid":"k"},1,null]}`))
	f.Add([]byte(`{"keys":null}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		ks, err := parseJWKS(b)
		if err != nil {
			return
		}
		if len(ks.keys) == 0 {
			t.Fatal("parseJWKS accepted a set without a usable key")
		}
		for kid, k := range ks.keys {
			if k.Kid() != kid {
				t.Fatalf("key filed under %q has kid %q", kid, k.Kid())
			}
			if k.Alg() != "EdDSA" && k.Alg() != "ES256" {
				t.Fatalf("key %s has algorithm %q", kid, k.Alg())
			}
		}
	})
}
