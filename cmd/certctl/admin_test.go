package main

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/certd/certd/cert"
)

// expectRun checks a certctl run: exit code and what stdout and stderr
// contain.
func expectRun(t *testing.T, r result, code int, stdout, stderr string) {
	t.Helper()
	if r.code != code || !strings.Contains(r.stdout, stdout) || !strings.Contains(r.stderr, stderr) {
		t.Fatalf("exit %d, want %d (stdout containing %q, stderr %q)\nstdout:\n%s\nstderr:\n%s", r.code, code, stdout, stderr, r.stdout, r.stderr)
	}
}

// TestLifecycle walks a certificate through issue, get, list, the
// lifecycle actions with and without If-Match, and events.
func TestLifecycle(t *testing.T) {
	s := startServer(t)
	env := s.as(s.IssuerKey)
	code := uscc(t, 77)
	r := cli(t, env, "issue", "--scheme", "itss", "--standard", "GB/T 28827.1-2022", "--category", "运行维护", "--level", "3",
		"--scope", "信息系统运行维护服务", "--org-name", "北京示例科技有限公司", "--uscc", code, "--site", "北京", "--site", "天津", "--output", "json")
	var c certificate
	if err := json.Unmarshal([]byte(r.stdout), &c); r.code != exitOK || err != nil || c.ID == "" || c.Version != 1 {
		t.Fatalf("issue: exit %d %v\n%s%s", r.code, err, r.stdout, r.stderr)
	}
	t.Run("issue/local validation", func(t *testing.T) {
		expectRun(t, cli(t, env, "issue", "--scheme", "itss", "--level", "9", "--org-name", "x", "--uscc", code[:17]+"0", "--scope", "s"),
			exitFailure, "", "- level: must be an integer from 1 to 4")
	})
	t.Run("issue/from a file", func(t *testing.T) {
		req := writeFile(t, "req.json", `{"scheme":"iso17021","standard":"ISO 9001:2015","scope":"软件开发","organization":{"name":"上海样例有限公司","uscc":"`+uscc(t, 78)+`"}}`)
		expectRun(t, cli(t, env, "issue", "--file", req), exitOK, "scheme:       iso17021", "")
		expectRun(t, cli(t, env, "issue", "--file", writeFile(t, "typo.json", `{"schema":"itss"}`)), exitFailure, "", `unknown field "schema"`)
	})
	t.Run("get", func(t *testing.T) {
		expectRun(t, cli(t, env, "get", c.ID), exitOK, "number:       "+c.Number, "")
		expectRun(t, cli(t, env, "get", strings.ToLower(c.ID)), exitOK, "status:       active", "")
	})
	t.Run("list", func(t *testing.T) {
		expectRun(t, cli(t, env, "list", "--uscc", code), exitOK, c.Number, "")
		r := cli(t, env, "list", "--all", "--limit", "1", "--output", "json")
		var out struct {
			Items []certificate `json:"items"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || len(out.Items) != 2 {
			t.Fatalf("list --all --limit 1: %v, %d items\n%s", err, len(out.Items), r.stderr)
		}
		expectRun(t, cli(t, env, "list", "--limit", "1"), exitOK, "ORGANIZATION", "more: certctl list --cursor")
	})
	t.Run("suspend with If-Match", func(t *testing.T) {
		expectRun(t, cli(t, env, "suspend", c.ID, "--reason", "corrective actions pending", "--if-match", "1"), exitOK, "status:       suspended", "")
		expectRun(t, cli(t, env, "suspend", c.ID, "--reason", "again"), exitFailure, "", "does not allow this action (HTTP 409)")
		expectRun(t, cli(t, env, "reinstate", c.ID, "--reason", "verified", "--if-match", "1"), exitFailure, "", "(HTTP 412)")
		expectRun(t, cli(t, env, "reinstate", c.ID, "--reason", "verified", "--if-match", "1"), exitFailure, "", "nothing was changed")
		expectRun(t, cli(t, env, "reinstate", c.ID, "--reason", "corrective actions verified"), exitOK, "status:       active", "")
	})
	t.Run("usage errors", func(t *testing.T) {
		expectRun(t, cli(t, env, "withdraw", c.ID), exitUsage, "", "--reason: is required")
		expectRun(t, cli(t, env, "surveillance", c.ID, "--result", "ok"), exitUsage, "", "--result: must be passed or failed")
		expectRun(t, cli(t, env, "revise", c.ID, "--reason", "r"), exitUsage, "", "nothing to revise")
	})
	t.Run("surveillance", func(t *testing.T) {
		today := time.Now().In(time.FixedZone("CST", 8*3600)).Format(cert.DateLayout)
		expectRun(t, cli(t, env, "surveillance", c.ID, "--date", today, "--result", "passed", "--audit-ref", "AUD-1"), exitOK, "status:       active", "")
	})
	t.Run("renew too early", func(t *testing.T) {
		expectRun(t, cli(t, env, "renew", c.ID, "--reason", "recertified"), exitFailure, "", "can be renewed from")
	})
	var revised certificate
	t.Run("revise", func(t *testing.T) {
		r := cli(t, env, "revise", c.ID, "--reason", "level upgraded", "--level", "2", "--org-name", "北京示例科技股份有限公司", "--org-email", "Cert@Example.cn", "--output", "json")
		if err := json.Unmarshal([]byte(r.stdout), &revised); r.code != exitOK || err != nil {
			t.Fatalf("revise: exit %d %v\n%s%s", r.code, err, r.stdout, r.stderr)
		}
		if revised.ID == c.ID || revised.Level != 2 || revised.Organization.Name != "北京示例科技股份有限公司" || revised.Organization.USCC != code ||
			revised.Organization.Email != "Cert@example.cn" {
			t.Fatalf("revision %+v", revised)
		}
		expectRun(t, cli(t, s.as(""), "verify", c.ID), exitInvalid, "superseded", "")
		expectRun(t, cli(t, s.as(""), "verify", revised.ID), exitValid, "VALID", "")
	})
	t.Run("events", func(t *testing.T) {
		r := cli(t, env, "events", c.ID)
		for _, want := range []string{"issued", "suspended", "corrective actions pending", "reinstated", "surveillance_passed", "(audit AUD-1)", "revised"} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("events lack %q:\n%s", want, r.stdout)
			}
		}
	})
	t.Run("withdraw and cancel", func(t *testing.T) {
		expectRun(t, cli(t, env, "withdraw", revised.ID, "--reason", "major nonconformity"), exitOK, "status:       withdrawn", "")
		expectRun(t, cli(t, env, "cancel", revised.ID, "--reason", "requested"), exitFailure, "", "cannot be cancelled")
	})
}

// TestAdmin: issuers, keys and API keys, and an issuer's own key at work.
func TestAdmin(t *testing.T) {
	s := startServer(t)
	admin := s.as(s.Admin)
	expectRun(t, cli(t, admin, "issuers", "create", "cesa-itss", "--name", "CESA Certification", "--name-zh", "中电标协认证中心",
		"--number-prefix", "CESA", "--key-type", "ES256"), exitOK, "key type:       ES256", "")
	expectRun(t, cli(t, admin, "issuers", "create", "cesa-itss", "--name", "again"), exitFailure, "", "Already exists (HTTP 409)")
	expectRun(t, cli(t, s.as(s.IssuerKey), "issuers", "create", "x", "--name", "x"), exitFailure, "", "(HTTP 403)")
	expectRun(t, cli(t, admin, "issuers", "list"), exitOK, "中电标协认证中心", "")
	expectRun(t, cli(t, admin, "issuers", "update", "cesa-itss", "--patch", `{"approvalNumber": "CNCA-R-2002-001"}`), exitOK, "CNCA-R-2002-001", "")
	expectRun(t, cli(t, admin, "issuers", "show", "cesa-itss"), exitOK, "CNCA-R-2002-001", "")
	expectRun(t, cli(t, admin, "issuers", "update", "cesa-itss", "--patch", `{"numberPatterns": {"itss": "X"}}`), exitFailure, "", "numberPatterns.itss")

	var keys struct {
		Keys []cert.KeyInfo `json:"keys"`
	}
	r := cli(t, admin, "keys", "list", "cesa-itss", "--output", "json")
	if err := json.Unmarshal([]byte(r.stdout), &keys); err != nil || len(keys.Keys) != 1 || keys.Keys[0].Alg != "ES256" {
		t.Fatalf("keys list: %v %+v %s", err, keys, r.stderr)
	}
	first := keys.Keys[0].Kid
	expectRun(t, cli(t, admin, "keys", "rotate", "cesa-itss"), exitOK, "active", "")
	r = cli(t, admin, "keys", "list", "cesa-itss")
	if !strings.Contains(r.stdout, first) || !strings.Contains(r.stdout, "retired") {
		t.Fatalf("after rotation:\n%s", r.stdout)
	}

	r = cli(t, admin, "apikeys", "create", "--role", "issuer", "--issuer", "cesa-itss", "--name", "ERP", "--output", "json")
	var key struct{ ID, Token string }
	if err := json.Unmarshal([]byte(r.stdout), &key); r.code != exitOK || err != nil || key.Token == "" {
		t.Fatalf("apikeys create: exit %d %v\n%s%s", r.code, err, r.stdout, r.stderr)
	}
	expectRun(t, cli(t, admin, "apikeys", "create", "--role", "root"), exitFailure, "", "--role: must be issuer, viewer, watcher or admin")

	// The new key issues for its issuer; the ES256 credential verifies
	// offline against that issuer's published keys.
	cesa := s.as(key.Token)
	r = cli(t, cesa, "issue", "--scheme", "itss", "--category", "云计算", "--level", "1", "--scope", "云服务",
		"--org-name", "杭州范例云计算有限公司", "--uscc", uscc(t, 90), "--output", "json")
	var c certificate
	if err := json.Unmarshal([]byte(r.stdout), &c); r.code != exitOK || err != nil || c.Issuer != "cesa-itss" || !strings.HasPrefix(c.Number, "CESA-") {
		t.Fatalf("issue with the new key: exit %d %v %+v\n%s", r.code, err, c, r.stderr)
	}
	jwt := writeFile(t, "c.jwt", c.Credential)
	want := exitValid
	if !statusListsServed(t, s, "cesa-itss") {
		want = exitUnknown
	}
	expectRun(t, cli(t, cesa, "verify", jwt, "--jwks", s.URL+"/issuers/cesa-itss/jwks.json"), want, "(ES256)", "")
	// Keys of another issuer do not verify it.
	expectRun(t, cli(t, cesa, "verify", jwt, "--jwks", s.URL+"/issuers/default/jwks.json"), exitInvalid, "is not in the trusted JWKS", "")

	r = cli(t, admin, "apikeys", "list")
	if r.code != exitOK || !strings.Contains(r.stdout, key.ID) || !strings.Contains(r.stdout, "LAST USED") || strings.Contains(r.stdout, key.Token) {
		t.Fatalf("apikeys list: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	expectRun(t, cli(t, admin, "apikeys", "revoke", key.ID), exitOK, "revoked API key "+key.ID, "")
	if r := cli(t, admin, "apikeys", "list"); !strings.Contains(r.stdout, "revoked") {
		t.Errorf("apikeys list after revoking %s:\n%s", key.ID, r.stdout)
	}
	expectRun(t, cli(t, cesa, "list"), exitFailure, "", "the API key was refused (HTTP 401)")
}

// TestReport downloads the month's CNCA report as XLSX and CSV.
func TestReport(t *testing.T) {
	s := startServer(t)
	env := s.as(s.IssuerKey)
	r := cli(t, env, "issue", "--scheme", "itss", "--standard", "GB/T 28827.1-2022", "--category", "运行维护", "--level", "3",
		"--scope", "信息系统运行维护服务", "--org-name", "北京报表示例有限公司", "--uscc", uscc(t, 79), "--output", "json")
	var c certificate
	if err := json.Unmarshal([]byte(r.stdout), &c); r.code != exitOK || err != nil {
		t.Fatalf("issue: %d %v %s", r.code, err, r.stderr)
	}
	loc, _ := cert.LoadLocation("Asia/Shanghai")
	month := time.Now().In(loc).Format("2006-01")
	dir := t.TempDir()
	xlsx := dir + "/report.xlsx"
	expectRun(t, cli(t, env, "report", "cnca", "--month", month, "-o", xlsx), exitOK, "", "wrote "+xlsx)
	if b, err := os.ReadFile(xlsx); err != nil || !strings.HasPrefix(string(b), "PK") {
		t.Errorf("report.xlsx is not a workbook: %v", err)
	}
	expectRun(t, cli(t, env, "report", "cnca", "--month", month, "-o", "-", "--format", "csv"), exitOK, c.Number, "")
	expectRun(t, cli(t, env, "report", "cnca", "--month", "2026-13"), exitUsage, "", "--month")
	expectRun(t, cli(t, env, "report", "nca", "--month", month, "-o", "-"), exitFailure, "", "404")
}
