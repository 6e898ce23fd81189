package main

import (
	"bytes"
	"compress/zlib"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"codeberg.org/go-pdf/fpdf"
	"github.com/skip2/go-qrcode"

	"github.com/certd/certd/cert"
)

// certificatePDF returns the PDF certd serves for a certificate
// (GET /v/{id}/certificate.pdf, made by templates.RenderPDF).
func certificatePDF(t testing.TB, s *testServer, c certificate) []byte {
	t.Helper()
	resp, err := http.Get(s.URL + "/v/" + c.ID + "/certificate.pdf")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !bytes.HasPrefix(b, []byte("%PDF-")) {
		t.Fatalf("GET /v/%s/certificate.pdf: HTTP %d %s", c.ID, resp.StatusCode, snippet(b))
	}
	return b
}

// fpdfWithAttachment makes a one-page PDF with the credential attached as
// credential.jwt, and a second, unrelated attachment before it.
func fpdfWithAttachment(t testing.TB, credential string) []byte {
	t.Helper()
	pdf := fpdf.New("L", "mm", "A4", "")
	pdf.SetCompression(true)
	pdf.SetAttachments([]fpdf.Attachment{
		{Content: []byte("not the credential"), Filename: "notes.txt"},
		{Content: []byte(credential), Filename: "credential.jwt", Description: "Signed credential (vc+jwt)"},
	})
	pdf.AddPage()
	pdf.SetFont("Helvetica", "", 12)
	pdf.Text(20, 20, "certificate")
	var b bytes.Buffer
	if err := pdf.Output(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// embeddedStream matches the credential's /EmbeddedFile object as fpdf
// writes it.
var embeddedStream = regexp.MustCompile(`(?s)<< /Type /EmbeddedFile /Length (\d+) /Filter /FlateDecode /Params << /CheckSum <([0-9a-f]+)> /Size (\d+) >> >>\s*stream\r?\n`)

// alterPDF replaces the credential attached to pdf by change(credential).
// With consistent, /Length, /Size and /CheckSum are updated as a careful
// forger would; without, only the stream is replaced.
func alterPDF(t testing.TB, pdf []byte, change func(string) string, consistent bool) []byte {
	t.Helper()
	for _, m := range embeddedStream.FindAllSubmatchIndex(pdf, -1) {
		n, _ := strconv.Atoi(string(pdf[m[2]:m[3]]))
		start := m[1]
		zr, err := zlib.NewReader(bytes.NewReader(pdf[start : start+n]))
		if err != nil {
			t.Fatal(err)
		}
		content, _ := io.ReadAll(zr)
		if !looksLikeToken(string(content)) {
			continue
		}
		altered := []byte(change(string(content)))
		var z bytes.Buffer
		zw := zlib.NewWriter(&z)
		zw.Write(altered)
		zw.Close()
		head := string(pdf[m[0]:m[1]])
		head = strings.Replace(head, "/Length "+strconv.Itoa(n), "/Length "+strconv.Itoa(z.Len()), 1)
		if consistent {
			sum := md5.Sum(altered)
			head = strings.Replace(head, "<"+string(pdf[m[4]:m[5]])+">", "<"+hex.EncodeToString(sum[:])+">", 1)
			head = strings.Replace(head, "/Size "+string(pdf[m[6]:m[7]]), fmt.Sprintf("/Size %d", len(altered)), 1)
		}
		var out bytes.Buffer
		out.Write(pdf[:m[0]])
		out.WriteString(head)
		out.Write(z.Bytes())
		out.Write(pdf[start+n:])
		return out.Bytes()
	}
	t.Fatal("no credential attachment found to alter")
	return nil
}

// raiseLevel changes the level claim in a credential's payload, keeping
// its header and signature.
func raiseLevel(t testing.TB) func(string) string {
	return func(token string) string {
		parts := strings.Split(token, ".")
		payload, err := base64.RawURLEncoding.DecodeString(parts[1])
		if err != nil {
			t.Fatal(err)
		}
		altered := bytes.Replace(payload, []byte(`"level":3`), []byte(`"level":4`), 1)
		if bytes.Equal(altered, payload) {
			t.Fatal("no level 3 in the payload")
		}
		return parts[0] + "." + base64.RawURLEncoding.EncodeToString(altered) + "." + parts[2]
	}
}

// statusListsServed reports whether certd publishes the first status list
// of an issuer (it may not before its first certificate).
func statusListsServed(t testing.TB, s *testServer, issuer string) bool {
	t.Helper()
	resp, err := http.Get(s.URL + "/status/" + issuer + "/revocation/1")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

func closedPort(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr
}

func TestVerify(t *testing.T) {
	s := startServer(t)
	c := s.issue(t, "北京示例科技有限公司", uscc(t, 1))
	env := s.as("") // verification needs no API key
	lists := statusListsServed(t, s, "default")
	t.Logf("certd serves status lists: %v", lists)

	status, jwks := s.api(t, http.MethodGet, "/issuers/default/jwks.json", "", nil)
	if status != http.StatusOK {
		t.Fatalf("jwks: %d", status)
	}
	jwksFile := writeFile(t, "jwks.json", string(jwks))
	pdf := certificatePDF(t, s, c)
	pdfFile := writeFile(t, "certificate.pdf", string(pdf))
	jwtFile := writeFile(t, "credential.jwt", c.Credential+"\n")

	expect := func(t *testing.T, r result, code int, stdout, stderr string) {
		t.Helper()
		if r.code != code || !strings.Contains(r.stdout, stdout) || !strings.Contains(r.stderr, stderr) {
			t.Fatalf("exit %d, want %d (stdout containing %q, stderr %q)\nstdout:\n%s\nstderr:\n%s", r.code, code, stdout, stderr, r.stdout, r.stderr)
		}
	}
	offlineOK, offlineOut := exitValid, "VALID"
	if !lists {
		// Fail closed: without the status lists the verdict is unknown.
		offlineOK, offlineOut = exitUnknown, "could not be checked"
	}

	t.Run("ok/id", func(t *testing.T) {
		expect(t, cli(t, env, "verify", c.ID), exitValid, "VALID: Genuine and valid today", "")
	})
	t.Run("ok/url", func(t *testing.T) {
		r := cli(t, env, "verify", s.URL+"/v/"+strings.ToLower(c.ID))
		expect(t, r, exitValid, c.Number, "")
		if r.stderr != "" {
			t.Errorf("unexpected warning: %s", r.stderr)
		}
	})
	t.Run("ok/number", func(t *testing.T) { expect(t, cli(t, env, "verify", c.Number), exitValid, c.ID, "") })
	t.Run("ok/token online", func(t *testing.T) { expect(t, cli(t, env, "verify", c.Credential), exitValid, "VALID", "") })
	t.Run("ok/pdf online", func(t *testing.T) { expect(t, cli(t, env, "verify", pdfFile), exitValid, "VALID", "") })
	t.Run("ok/pdf re-saved with object streams", func(t *testing.T) {
		// The reader certd's "verify a file" uses (pdfattach) copes with a
		// PDF a viewer re-saved.
		if _, err := exec.LookPath("qpdf"); err != nil {
			if os.Getenv("CERTD_REQUIRE_TOOLS") == "1" {
				t.Fatal("qpdf is required (CERTD_REQUIRE_TOOLS=1) but not installed")
			}
			t.Skip("qpdf not installed")
		}
		resaved := filepath.Join(t.TempDir(), "resaved.pdf")
		if out, err := exec.Command("qpdf", "--object-streams=generate", pdfFile, resaved).CombinedOutput(); err != nil {
			t.Fatalf("qpdf: %v %s", err, out)
		}
		expect(t, cli(t, env, "verify", resaved), exitValid, "VALID", "")
	})
	t.Run("ok/pdf offline", func(t *testing.T) {
		// The server is not asked: only the status lists are fetched.
		r := cli(t, map[string]string{"CERTD_SERVER": closedPort(t)}, "verify", pdfFile, "--offline", "--jwks", jwksFile)
		expect(t, r, offlineOK, offlineOut, "")
		if !strings.Contains(r.stdout, "ok      signature") || !strings.Contains(r.stdout, "ok      validity") {
			t.Errorf("signature and validity not reported as checked:\n%s", r.stdout)
		}
	})
	t.Run("ok/jwt file offline, keys from a URL", func(t *testing.T) {
		r := cli(t, env, "verify", jwtFile, "--jwks", s.URL+"/issuers/default/jwks.json", "--output", "json")
		var v cert.Verdict
		if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
			t.Fatalf("output is not a verdict: %v\n%s", err, r.stdout)
		}
		if r.code != offlineOK || v.Certificate == nil || v.Certificate.ID != c.ID || v.Checks[0].Name != cert.CheckSignature || !v.Checks[0].OK {
			t.Fatalf("exit %d, verdict %+v", r.code, v)
		}
	})
	t.Run("json/matches the API", func(t *testing.T) {
		r := cli(t, env, "verify", c.ID, "--output", "json")
		if r.code != exitValid {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		_, api := s.api(t, http.MethodGet, "/api/v1/verify/"+c.ID, "", nil)
		var got, want map[string]any
		if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
			t.Fatalf("certctl output is not JSON: %v\n%s", err, r.stdout)
		}
		if err := json.Unmarshal(api, &want); err != nil {
			t.Fatal(err)
		}
		if got["checkedAt"] == nil || want["checkedAt"] == nil {
			t.Fatal("checkedAt missing")
		}
		delete(got, "checkedAt")
		delete(want, "checkedAt")
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("certctl verdict differs from GET /api/v1/verify/%s:\n%s\n%s", c.ID, r.stdout, api)
		}
		if got["verdict"] != "valid" || got["status"] != "active" {
			t.Errorf("verdict %v, status %v", got["verdict"], got["status"])
		}
	})
	t.Run("invalid/altered pdf", func(t *testing.T) {
		for _, consistent := range []bool{true, false} {
			altered := writeFile(t, "altered.pdf", string(alterPDF(t, pdf, raiseLevel(t), consistent)))
			r := cli(t, env, "verify", altered, "--offline", "--jwks", jwksFile)
			expect(t, r, exitInvalid, "the signature does not verify", "")
			if !consistent && !strings.Contains(r.stderr, "checksum of the credential.jwt attachment") {
				t.Errorf("no checksum warning: %s", r.stderr)
			}
			expect(t, cli(t, env, "verify", altered), exitInvalid, "INVALID", "")
		}
	})
	t.Run("invalid/altered token", func(t *testing.T) {
		altered := writeFile(t, "altered.jwt", raiseLevel(t)(c.Credential))
		expect(t, cli(t, env, "verify", altered, "--jwks", jwksFile), exitInvalid, "the signature does not verify", "")
	})
	t.Run("invalid/unknown id", func(t *testing.T) {
		expect(t, cli(t, env, "verify", cert.NewID()), exitInvalid, "No certificate with this id is registered here", "")
	})
	t.Run("unknown/server unreachable", func(t *testing.T) {
		down := map[string]string{"CERTD_SERVER": closedPort(t)}
		expect(t, cli(t, down, "verify", c.ID), exitUnknown, "", "cannot reach certd at")
		expect(t, cli(t, down, "verify", pdfFile), exitUnknown, "", "cannot reach certd at")
		expect(t, cli(t, down, "verify", c.Number, "--output", "json"), exitUnknown, "", "is it running?")
	})
	t.Run("unknown/offline without material", func(t *testing.T) {
		expect(t, cli(t, env, "verify", c.ID, "--offline", "--jwks", jwksFile), exitUnknown, "", "--offline needs the credential itself")
		expect(t, cli(t, env, "verify", pdfFile, "--offline"), exitUnknown, "", "--offline needs --jwks")
		expect(t, cli(t, env, "verify", "nosuch.pdf"), exitUnknown, "", "nosuch.pdf: no such file")
	})
	t.Run("qr/matching host", func(t *testing.T) {
		png := writeFile(t, "qr.png", "")
		if r := cli(t, env, "download", c.ID, "--qr", "-o", png); r.code != exitOK {
			t.Fatalf("download --qr: %d %s", r.code, r.stderr)
		}
		r := cli(t, env, "verify", png)
		expect(t, r, exitValid, c.Number, "")
		if strings.Contains(r.stderr, "warning") {
			t.Errorf("warning for the server's own QR code: %s", r.stderr)
		}
	})
	t.Run("qr/look-alike host", func(t *testing.T) {
		for _, tc := range []struct {
			id   string
			code int
		}{{c.ID, exitValid}, {cert.NewID(), exitInvalid}} {
			png, err := qrcode.Encode("https://verify-certd.example.com/v/"+tc.id, qrcode.Medium, 512)
			if err != nil {
				t.Fatal(err)
			}
			r := cli(t, env, "verify", writeFile(t, "fake.png", string(png)))
			expect(t, r, tc.code, "", "points to verify-certd.example.com:443, not to the certd server you trust")
			if !strings.Contains(r.stderr, "look-alike") {
				t.Errorf("warning does not name the danger: %s", r.stderr)
			}
		}
	})
	t.Run("qr/not a certd link", func(t *testing.T) {
		png, err := qrcode.Encode("https://example.com/cert?id=42", qrcode.Medium, 256)
		if err != nil {
			t.Fatal(err)
		}
		expect(t, cli(t, env, "verify", writeFile(t, "other.png", string(png))), exitUnknown, "", "does not hold a certd verification link")
	})

	// Withdrawn: invalid online, and through the status list offline.
	if r := cli(t, s.as(s.IssuerKey), "withdraw", c.ID, "--reason", "major nonconformity not corrected"); r.code != exitOK {
		t.Fatalf("withdraw: %d %s", r.code, r.stderr)
	}
	t.Run("invalid/withdrawn online", func(t *testing.T) {
		expect(t, cli(t, env, "verify", c.ID), exitInvalid, "withdrawn", "")
		expect(t, cli(t, env, "verify", pdfFile), exitInvalid, "withdrawn", "")
	})
	t.Run("invalid/withdrawn offline", func(t *testing.T) {
		r := cli(t, env, "verify", pdfFile, "--jwks", jwksFile)
		if lists {
			expect(t, r, exitInvalid, "revoked", "")
		} else {
			expect(t, r, exitUnknown, "could not be checked", "")
		}
	})
}
