package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// The credential verifies with an implementation not written here: Node's
// jose package, installed by .ci/run into testdata/jose.
func TestCredentialVerifiesWithIndependentJOSE(t *testing.T) {
	node := requireTool(t, "node")
	dir, _ := filepath.Abs("testdata/jose")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "jose")); err != nil {
		if os.Getenv("CERTD_REQUIRE_TOOLS") == "1" {
			t.Fatalf("jose is not installed in %s (run: npm install --prefix %s)", dir, dir)
		}
		t.Skipf("jose not installed in %s", dir)
	}
	ts := startServer(t, "")
	if r := ts.do("POST", "/api/v1/issuers", ts.Admin, map[string]any{"id": "es", "name": "ES256 CB", "keyType": "ES256"}); r.Status != 201 {
		t.Fatalf("create ES256 issuer: %d %s", r.Status, r.Body)
	}
	for _, tc := range []struct{ issuer, alg string }{{"default", "EdDSA"}, {"es", "ES256"}} {
		t.Run(tc.alg, func(t *testing.T) {
			c := ts.issue(t, tc.issuer)
			id := c["id"].(string)
			tmp := t.TempDir()
			jwks := ts.do("GET", "/issuers/"+tc.issuer+"/jwks.json", "", nil)
			tok := ts.do("GET", "/v/"+id+"/credential.jwt", "", nil)
			if jwks.Status != 200 || tok.Status != 200 {
				t.Fatalf("jwks %d, credential %d", jwks.Status, tok.Status)
			}
			_ = os.WriteFile(filepath.Join(tmp, "jwks.json"), jwks.Body, 0o600)
			_ = os.WriteFile(filepath.Join(tmp, "token"), tok.Body, 0o600)
			issuerURL := ts.m.PublicURL() + "/issuers/" + tc.issuer
			out, err := exec.Command(node, filepath.Join(dir, "verify.mjs"), filepath.Join(tmp, "jwks.json"), filepath.Join(tmp, "token"), issuerURL).Output()
			if err != nil {
				var stderr []byte
				if ee, ok := err.(*exec.ExitError); ok {
					stderr = ee.Stderr
				}
				t.Fatalf("jose rejected the credential: %v %s", err, stderr)
			}
			var got struct {
				Header  map[string]any
				Payload map[string]any
			}
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatalf("jose output: %v %s", err, out)
			}
			if got.Header["alg"] != tc.alg || got.Header["typ"] != "vc+jwt" || got.Header["kid"] != c["kid"] {
				t.Errorf("header %v", got.Header)
			}
			if got.Payload["jti"] != ts.m.PublicURL()+"/v/"+id || got.Payload["iss"] != issuerURL {
				t.Errorf("payload jti/iss %v %v", got.Payload["jti"], got.Payload["iss"])
			}
			subject := got.Payload["credentialSubject"].(map[string]any)
			if subject["uscc"] != testUSCC || subject["certificate"].(map[string]any)["number"] != c["number"] {
				t.Errorf("subject %v", subject)
			}

			// The same tool rejects a changed payload: the check can fail.
			tampered := []byte(string(tok.Body[:len(tok.Body)-4]) + "AAAA")
			_ = os.WriteFile(filepath.Join(tmp, "token"), tampered, 0o600)
			if err := exec.Command(node, filepath.Join(dir, "verify.mjs"), filepath.Join(tmp, "jwks.json"), filepath.Join(tmp, "token"), issuerURL).Run(); err == nil {
				t.Errorf("jose accepted a token with a changed signature")
			}
		})
	}
}
