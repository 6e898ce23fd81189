package main

import (
	"encoding/json"
	"net/http"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The first start prints a curl command that, pasted as is into a shell,
// issues a certificate valid for 36 months.
func TestFirstStartCurlIssuesACertificate(t *testing.T) {
	requireTool(t, "curl")
	requireTool(t, "bash")
	ts := startServer(t, "")
	out := ts.Stdout.String()
	if !strings.Contains(out, ts.Admin) {
		t.Fatalf("first-start message does not show the admin key:\n%s", out)
	}
	m := regexp.MustCompile(`(?s)  curl .*?}}'`).FindString(out)
	if m == "" {
		t.Fatalf("no curl command in the first-start message:\n%s", out)
	}
	// The printed URL names the public URL; the test server's port is the
	// same, so the command works as printed.
	cmd := exec.Command("bash", "-c", m+` -w '\n%{http_code}'`)
	b, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("curl: %v\n%s", err, b)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if code := lines[len(lines)-1]; code != "201" {
		t.Fatalf("curl got HTTP %s, want 201:\n%s", code, b)
	}
	var c struct {
		ID, ValidFrom, ValidUntil string
		Status                    string
	}
	if err := json.Unmarshal([]byte(strings.Join(lines[:len(lines)-1], "\n")), &c); err != nil {
		t.Fatalf("curl output is not a certificate: %v\n%s", err, b)
	}
	from, err1 := time.Parse(time.RFC3339, c.ValidFrom)
	until, err2 := time.Parse(time.RFC3339, c.ValidUntil)
	if err1 != nil || err2 != nil {
		t.Fatalf("bad dates %q %q", c.ValidFrom, c.ValidUntil)
	}
	if want := from.AddDate(0, 36, 0); !until.Equal(want) {
		t.Errorf("validUntil = %s, want validFrom + 36 months = %s", until, want)
	}
	if c.Status != "active" {
		t.Errorf("status = %q, want active", c.Status)
	}
	// A second start on the same directory prints nothing new.
	if strings.Count(out, "first start") != 1 {
		t.Errorf("first-start message printed %d times", strings.Count(out, "first start"))
	}
}

func TestLeapDayValidity(t *testing.T) {
	now := time.Date(2028, 3, 1, 10, 0, 0, 0, time.UTC)
	ts := startServer(t, "", withClock(func() time.Time { return now }))
	req := sampleCertificate("default", testUSCC)
	req["validFrom"] = "2028-02-29"
	r := ts.do("POST", "/api/v1/certificates", ts.Admin, req)
	if r.Status != http.StatusCreated {
		t.Fatalf("status %d: %s", r.Status, r.Body)
	}
	c := r.JSON(t)
	if got, want := c["validFrom"], "2028-02-29T00:00:00+08:00"; got != want {
		t.Errorf("validFrom = %v, want %v", got, want)
	}
	if got, want := c["validUntil"], "2031-03-01T00:00:00+08:00"; got != want {
		t.Errorf("validUntil = %v, want %v", got, want)
	}
	p := payload(t, c["credential"].(string))
	if got, want := p["exp"].(float64), float64(time.Date(2031, 3, 1, 0, 0, 0, 0, time.FixedZone("CST", 8*3600)).Unix()); got != want {
		t.Errorf("exp = %v, want %v", got, want)
	}
}

func TestVerifyWithdrawAndUnknown(t *testing.T) {
	ts := startServer(t, "")
	c := ts.issue(t, "default")
	id := c["id"].(string)

	r := ts.do("GET", "/api/v1/verify/"+id, "", nil)
	if r.Status != http.StatusOK {
		t.Fatalf("verify: status %d: %s", r.Status, r.Body)
	}
	v := r.JSON(t)
	if v["verdict"] != "valid" || v["status"] != "active" {
		t.Fatalf("verdict = %v/%v, want valid/active: %s", v["verdict"], v["status"], r.Body)
	}
	names := map[string]bool{}
	for _, ch := range v["checks"].([]any) {
		ch := ch.(map[string]any)
		names[ch["name"].(string)] = true
		if ch["ok"] != true {
			t.Errorf("check %v failed on a valid certificate: %v", ch["name"], ch["detail"])
		}
	}
	for _, n := range []string{"signature", "validity", "revocation", "suspension", "surveillance"} {
		if !names[n] {
			t.Errorf("check %q missing", n)
		}
	}

	reason := "Fraudulent use of the certificate mark"
	r = ts.do("POST", "/api/v1/certificates/"+id+"/withdraw", ts.Admin, map[string]any{"reason": reason})
	if r.Status != http.StatusOK {
		t.Fatalf("withdraw: status %d: %s", r.Status, r.Body)
	}
	v = ts.do("GET", "/api/v1/verify/"+id, "", nil).JSON(t)
	if v["verdict"] != "invalid" || v["status"] != "withdrawn" {
		t.Fatalf("after withdraw: %v/%v, want invalid/withdrawn", v["verdict"], v["status"])
	}
	if !strings.Contains(v["reason"].(string), reason) {
		t.Errorf("reason %q does not carry the withdrawal reason %q", v["reason"], reason)
	}
	// Withdrawing again is an impossible transition.
	r = ts.do("POST", "/api/v1/certificates/"+id+"/withdraw", ts.Admin, map[string]any{"reason": "again"})
	if r.Status != http.StatusConflict || r.Header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("second withdraw: %d %s, want 409 problem", r.Status, r.Header.Get("Content-Type"))
	}

	for _, unknown := range []string{"0000000000000000000000000Z", "not-an-id"} {
		r = ts.do("GET", "/api/v1/verify/"+unknown, "", nil)
		v = r.JSON(t)
		if r.Status != http.StatusNotFound || v["status"] != "not_found" || v["verdict"] != "invalid" {
			t.Errorf("unknown id %s: %d %v/%v, want 404 invalid/not_found", unknown, r.Status, v["verdict"], v["status"])
		}
		if !strings.Contains(v["reason"].(string), "contact the issuer") {
			t.Errorf("unknown id reason does not tell the reader what to do: %q", v["reason"])
		}
	}
}

func TestCredentialShape(t *testing.T) {
	ts := startServer(t, "")
	c := ts.issue(t, "default")
	id := c["id"].(string)
	r := ts.do("GET", "/v/"+id+"/credential.jwt", "", nil)
	if r.Status != 200 || r.Header.Get("Content-Type") != "application/vc+jwt" {
		t.Fatalf("credential.jwt: %d %s", r.Status, r.Header.Get("Content-Type"))
	}
	tok := string(r.Body)
	h := header(t, tok)
	for k, want := range map[string]string{"alg": "EdDSA", "typ": "vc+jwt", "cty": "vc"} {
		if h[k] != want {
			t.Errorf("header %s = %v, want %s", k, h[k], want)
		}
	}
	if len(h) != 4 || h["kid"] == "" {
		t.Errorf("header = %v, want exactly alg, kid, typ, cty", h)
	}
	p := payload(t, tok)
	issuerURL := ts.m.PublicURL() + "/issuers/default"
	checks := map[string]bool{
		"iss = issuer.id": p["iss"] == issuerURL && p["issuer"].(map[string]any)["id"] == issuerURL,
		"jti = id":        p["jti"] == p["id"] && p["id"] == ts.m.PublicURL()+"/v/"+id,
		"no nbf":          p["nbf"] == nil,
		"no vc claim":     p["vc"] == nil,
		"context v2":      p["@context"].([]any)[0] == "https://www.w3.org/ns/credentials/v2",
		"two status":      len(p["credentialStatus"].([]any)) == 2,
		"subject uscc":    p["credentialSubject"].(map[string]any)["uscc"] == testUSCC,
		"exp = validUntil": func() bool {
			vu, _ := time.Parse(time.RFC3339, p["validUntil"].(string))
			return int64(p["exp"].(float64)) == vu.Unix()
		}(),
	}
	for name, ok := range checks {
		if !ok {
			t.Errorf("credential payload: %s does not hold: %v", name, p)
		}
	}
	for _, st := range p["credentialStatus"].([]any) {
		st := st.(map[string]any)
		if st["type"] != "BitstringStatusListEntry" || !strings.HasPrefix(st["statusListCredential"].(string), ts.m.PublicURL()+"/status/default/") {
			t.Errorf("status entry %v", st)
		}
	}
}
