package cert

import (
	"encoding/base64"
	"testing"
)

func TestSignedIssuer(t *testing.T) {
	enc := func(payload string) string {
		return "eyJhbGciOiJFZERTQSJ9." + base64.RawURLEncoding.EncodeToString([]byte(payload)) + ".c2ln"
	}
	tests := []struct {
		name     string
		token    string
		ok       bool
		wantName string
		approval string
	}{
		{"ok/name-and-accreditation", enc(`{"issuer":{"id":"x","name":"华信认证中心","accreditation":{"approvalNumber":"CNCA-R-2002-001"}}}`), true, "华信认证中心", "CNCA-R-2002-001"},
		{"ok/without-issuer", enc(`{"iss":"x"}`), true, "", ""},
		{"fail/two-parts", "a.b", false, "", ""},
		{"fail/not-base64", "a.!!!.c", false, "", ""},
		{"fail/not-json", enc(`not json`), false, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			is, ok := SignedIssuer(tc.token)
			approval := ""
			if is.Accreditation != nil {
				approval = is.Accreditation.ApprovalNumber
			}
			if ok != tc.ok || is.Name != tc.wantName || approval != tc.approval {
				t.Errorf("SignedIssuer = %+v, %v; want name %q, approval %q, %v", is, ok, tc.wantName, tc.approval, tc.ok)
			}
		})
	}
}

// FuzzSignedIssuer: any token is answered without a panic, and a token
// it accepts has three parts.
func FuzzSignedIssuer(f *testing.F) {
	f.Add("eyJhbGciOiJFZERTQSJ9.eyJpc3N1ZXIiOnsibmFtZSI6IngifX0.c2ln")
	f.Add("a.b.c")
	f.Add("")
	f.Fuzz(func(t *testing.T, token string) {
		if _, ok := SignedIssuer(token); ok && len(token) < 2 {
			t.Errorf("SignedIssuer accepted %q", token)
		}
	})
}
