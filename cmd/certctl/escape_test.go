package main

import (
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certd/certd/cert"
)

// hostileKid is a kid that, printed raw, clears the screen and paints a
// fake verdict line, hidden behind a bidi override.
const hostileKid = "\x1b[2J\x1b[H\rVALID: Genuine and valid today\u202e\u009b"

// assertEscaped fails when out holds a rune a terminal would interpret,
// and requires the escapes of hostileKid instead.
func assertEscaped(t *testing.T, what, out string) {
	t.Helper()
	for _, bad := range []string{"\x1b", "\r", "\u202e", "\u009b"} {
		if strings.Contains(out, bad) {
			t.Errorf("%s prints %q raw:\n%q", what, bad, out)
		}
	}
	if !strings.Contains(out, `\x1b[2J\x1b[H\rVALID`) || !strings.Contains(out, `\u202e\u009b`) {
		t.Errorf("%s does not show the hostile text escaped:\n%s", what, out)
	}
}

// TestOfflineOutputEscapesTokenText: a token whose kid carries terminal
// control sequences is refused, and the refusal prints the kid escaped.
func TestOfflineOutputEscapesTokenText(t *testing.T) {
	f := newFakeIssuer(t)
	jwks := writeFile(t, "jwks.json", string(f.jwks()))
	tok := writeFile(t, "credential.jwt", f.sign(f.header(hostileKid, "EdDSA"), f.credential(), f.edKid))
	r := cli(t, map[string]string{"CERTD_SERVER": closedPort(t)}, "verify", tok, "--offline", "--jwks", jwks)
	if r.code != exitInvalid {
		t.Fatalf("exit %d, want %d (invalid)\n%s%s", r.code, exitInvalid, r.stdout, r.stderr)
	}
	assertEscaped(t, "verify --offline", r.stdout)
}

// TestServerAnswerIsEscaped: a server (or a look-alike) whose verdict
// carries control sequences in the kid, the reason and a check detail
// is printed escaped as a table, and as JSON that still decodes to the
// same text.
func TestServerAnswerIsEscaped(t *testing.T) {
	id := cert.NewID()
	v := cert.Verdict{Verdict: cert.VerdictInvalid, Status: cert.StatusNotFound, Reason: "forged " + hostileKid,
		Checks:      []cert.Check{{Name: cert.CheckSignature, Detail: "key " + hostileKid}},
		Certificate: &cert.VerdictCertificate{ID: id, Number: hostileKid, Kid: hostileKid}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(v)
	}))
	t.Cleanup(srv.Close)
	env := map[string]string{"CERTD_SERVER": srv.URL}
	r := cli(t, env, "verify", id)
	if r.code != exitInvalid {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	assertEscaped(t, "verify (text)", r.stdout)

	r = cli(t, env, "verify", id, "--output", "json")
	for _, bad := range []string{"\x1b", "\r", "\u202e", "\u009b"} {
		if strings.Contains(r.stdout, bad) {
			t.Errorf("verify --output json prints %q raw", bad)
		}
	}
	var got cert.Verdict
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("--output json is not JSON: %v\n%s", err, r.stdout)
	}
	if got.Certificate == nil || got.Certificate.Kid != hostileKid || got.Reason != v.Reason {
		t.Errorf("--output json changed the text: %+v", got)
	}
}

func TestEscapeTerminal(t *testing.T) {
	for in, want := range map[string]string{
		"北京示例科技有限公司 CB-2026-000001\n": "北京示例科技有限公司 CB-2026-000001\n",
		"tab\tok":              "tab\tok",
		"\x1b[31mred":          `\x1b[31mred`,
		"cr\rover":             `cr\rover`,
		"del\x7f":              `del\x7f`,
		"c1\u0085\u009b":       `c1\u0085\u009b`,
		"bidi\u202eevil\u2066": `bidi\u202eevil\u2066`,
		"zero\u200bwidth":      `zero\u200bwidth`,
		"bad\xffutf8":          `bad\xffutf8`,
		"tag\U000e0041":        `tag\U000e0041`,
	} {
		if got := escapeTerminal(in); got != want {
			t.Errorf("escapeTerminal(%q) = %q, want %q", in, got, want)
		}
		if needsEscape([]byte(in)) != (in != want) {
			t.Errorf("needsEscape(%q) = %v", in, !(in != want))
		}
	}
}

// TestResultCSVNeutralizesFormulas: a cell of the result CSV that a
// spreadsheet would run as a formula is written with a leading quote.
func TestResultCSVNeutralizesFormulas(t *testing.T) {
	path := filepath.Join(t.TempDir(), "result.csv")
	err := writeResults(path, []rowResult{
		{Row: 1, ID: "01J0000000000000000000000A", Number: "CB-2026-000001", Status: "created"},
		{Row: 2, Number: "=HYPERLINK(\"http://evil.example\",\"x\")", Status: "failed", Error: "+cmd|' /C calc'!A0"},
		{Row: 3, Number: "-2+3", Status: "failed", Error: "@SUM(1,2)", RowID: "\t=1"},
		{Row: 4, Number: "\r=1", Status: "failed"},
	})
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"row", "id", "number", "status", "error", "row_id"},
		{"1", "01J0000000000000000000000A", "CB-2026-000001", "created", "", ""},
		{"2", "", "'=HYPERLINK(\"http://evil.example\",\"x\")", "failed", "'+cmd|' /C calc'!A0", ""},
		{"3", "", "'-2+3", "failed", "'@SUM(1,2)", "'\t=1"},
		{"4", "", "'\r=1", "failed", "", ""},
	}
	for i := range want {
		if i >= len(rows) || strings.Join(rows[i], "|") != strings.Join(want[i], "|") {
			t.Errorf("row %d = %q, want %q", i, rows[min(i, len(rows)-1)], want[i])
		}
	}
}
