package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/keys"
	"github.com/certd/certd/store/bolt"
)

// FuzzReadCSV: any file is refused with an error or read into valid rows
// and row errors, never a panic; every row it calls valid passes the
// request validation again, the rows keep file order, and no two valid
// rows share an Idempotency-Key.
func FuzzReadCSV(f *testing.F) {
	sample, err := os.ReadFile(filepath.Join(moduleRoot(f), "testdata", "certificates.csv"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(sample)
	f.Add([]byte(csvHeader + "1,default,itss,N-1,运行维护,3,运维,甲公司,91110108MA0123456G\n"))
	f.Add([]byte(strings.ReplaceAll(csvHeader, ",", ";") + "1;;itss;;运行维护;x;运维;乙公司;\n"))
	f.Add([]byte("\xef\xbb\xbf" + strings.ReplaceAll(csvHeader, ",", "\t") + "\"a\"b\t\n"))
	f.Add([]byte("scheme,scope,org_name\nitss,\"unterminated\n"))
	f.Add([]byte("scheme,scope,org_name,org_name\n"))
	f.Add([]byte("\xff\xfe"))
	f.Add([]byte{})
	chk := testCheck(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := readCSV(bytes.NewReader(data), chk)
		if err != nil {
			if file != nil {
				t.Fatalf("readCSV returned both a file and %v", err)
			}
			return
		}
		if len(file.rows) == 0 && len(file.errs) == 0 {
			t.Fatal("readCSV accepted a file without rows or errors")
		}
		if file.bad > 0 == (len(file.errs) == 0) {
			t.Fatalf("%d bad rows but %d errors", file.bad, len(file.errs))
		}
		keys := map[string]bool{}
		for i, r := range file.rows {
			if r.row < 2 || (i > 0 && r.row <= file.rows[i-1].row) {
				t.Fatalf("row numbers out of order: %d after %v", r.row, file.rows[:i])
			}
			if v := validateRequest(&r.req, chk.schemes, chk.now); len(v.Fields) > 0 {
				t.Fatalf("row %d was read as valid but validation says %v", r.row, v.Fields)
			}
			if keys[r.key] {
				t.Fatalf("row %d repeats the Idempotency-Key of an earlier row", r.row)
			}
			keys[r.key] = true
		}
		for _, e := range file.errs {
			if e.Row < 2 {
				t.Fatalf("an error names row %d: %v", e.Row, e)
			}
		}
	})
}

// FuzzCSVCells: cells written by a spreadsheet (encoding/csv, with any of
// the three delimiters) read back as the same values, trimmed: what the
// operator typed is what certd is asked to issue.
func FuzzCSVCells(f *testing.F) {
	f.Add("甲公司", "信息系统运行维护服务", "a|b", "N-1", uint8(0))
	f.Add(" \"quoted\", name ", "scope; with; semicolons", " | ", "", uint8(1))
	f.Add("tab\tname", "line\nbreak", "x", "N\t2", uint8(2))
	f.Add("=cmd|' /C calc'!A0", "+1", "-2", "@3", uint8(0))
	chk := testCheck(f)
	f.Fuzz(func(t *testing.T, name, scope, sites, number string, delim uint8) {
		if strings.ContainsRune(name+scope+sites+number, '\r') {
			return // encoding/csv reads \r\n inside quotes as \n, by design
		}
		var buf bytes.Buffer
		w := csv.NewWriter(&buf)
		w.Comma = []rune{',', ';', '\t'}[delim%3]
		_ = w.Write([]string{"row_id", "issuer", "scheme", "number", "category", "level", "scope", "org_name", "uscc", "sites"})
		_ = w.Write([]string{"1", "default", "itss", number, "运行维护", "3", scope, name, "91110108MA0123456G", sites})
		w.Flush()
		file, err := readCSV(&buf, chk)
		if err != nil {
			if utf8.ValidString(name) && utf8.ValidString(scope) && utf8.ValidString(sites) && utf8.ValidString(number) {
				t.Fatalf("a one-row file written by encoding/csv is refused whole: %v", err)
			}
			return
		}
		if len(file.rows) != 1 {
			return // a row error (e.g. an empty name): reported, not issued
		}
		req := file.rows[0].req
		var wantSites []string
		for _, s := range strings.Split(strings.TrimSpace(sites), "|") {
			if s = strings.TrimSpace(s); s != "" {
				wantSites = append(wantSites, s)
			}
		}
		switch {
		case req.Organization.Name != strings.TrimSpace(name):
			t.Fatalf("org_name %q read as %q", name, req.Organization.Name)
		case req.Scope != strings.TrimSpace(scope):
			t.Fatalf("scope %q read as %q", scope, req.Scope)
		case req.Number != strings.TrimSpace(number):
			t.Fatalf("number %q read as %q", number, req.Number)
		case !slices.Equal(req.Sites, wantSites):
			t.Fatalf("sites %q read as %q, want %q", sites, req.Sites, wantSites)
		}
	})
}

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
