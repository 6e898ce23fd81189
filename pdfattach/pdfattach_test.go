package pdfattach

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"codeberg.org/go-pdf/fpdf"

	"github.com/certd/certd/pdfattach/pdfattachtest"
)

const sampleToken = "eyJhbGciOiJFZERTQSIsImtpZCI6ImsiLCJ0eXAiOiJ2Yytqd3QifQ.eyJpc3MiOiJodHRwczovL2V4YW1wbGUuY24vaXNzdWVycy9hIn0.c2lnbmF0dXJlc2lnbmF0dXJlc2lnbmF0dXJlc2lnbmF0dXJl"

// requireTool skips a test that needs an outside tool, unless
// CERTD_REQUIRE_TOOLS=1 (set by CI after installing them).
func requireTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CERTD_REQUIRE_TOOLS") == "1" {
			t.Fatalf("%s is required (CERTD_REQUIRE_TOOLS=1) but not installed", name)
		}
		t.Skipf("%s not installed", name)
	}
	return p
}

// fpdfWithAttachment makes a PDF the way templates.RenderPDF attaches the
// credential (fpdf's document attachments), with a second attachment
// before it.
func fpdfWithAttachment(t testing.TB, credential string) []byte {
	t.Helper()
	pdf := fpdf.New("L", "mm", "A4", "")
	pdf.SetCompression(true)
	pdf.SetAttachments([]fpdf.Attachment{
		{Content: []byte("not the credential"), Filename: "notes.txt"},
		{Content: []byte(credential), Filename: CredentialName, Description: "Signed credential (vc+jwt)"},
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

// qpdf re-saves pdf with the given options, as a viewer or a tool would.
func qpdf(t testing.TB, pdf []byte, args ...string) []byte {
	t.Helper()
	requireTool(t, "qpdf")
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.pdf"), filepath.Join(dir, "out.pdf")
	if err := os.WriteFile(in, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("qpdf", append(args, in, out)...)
	// Warnings (exit status 3) fail too: the input must be a PDF that
	// qpdf reads as written, not one it had to repair.
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("qpdf %v: %v %s", args, err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestExtract(t *testing.T) {
	handMade := "%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\n" +
		"2 0 obj\n<< /Type /Filespec /F (credential.jwt) /EF << /F 3 0 R >> >>\nendobj\n" +
		"3 0 obj\n<< /Type /EmbeddedFile /Length 4 0 R >>\nstream\n" + sampleToken + "\nendstream\nendobj\n" +
		"4 0 obj\n" + strconv.Itoa(len(sampleToken)) + "\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
	cases := []struct {
		name string
		pdf  func(t *testing.T) []byte
		want string
	}{
		{"ok/fpdf with two attachments", func(t *testing.T) []byte { return fpdfWithAttachment(t, sampleToken) }, sampleToken},
		{"ok/uncompressed, literal name, indirect length, no name tree", func(*testing.T) []byte { return []byte(handMade) }, sampleToken},
		{"ok/incremental update wins", func(t *testing.T) []byte {
			return pdfattachtest.Replace(fpdfWithAttachment(t, sampleToken), "changed", false)
		}, "changed"},
		{"ok/incremental update in an object stream wins", func(t *testing.T) []byte {
			return pdfattachtest.Replace(fpdfWithAttachment(t, sampleToken), "changed", true)
		}, "changed"},
		{"ok/stream replaced by a later revision, no name tree", func(*testing.T) []byte {
			return []byte(handMade + "3 0 obj\n<< /Type /EmbeddedFile /Length 7 >>\nstream\nchanged\nendstream\nendobj\n%%EOF\n")
		}, "changed"},
		{"ok/qpdf object streams", func(t *testing.T) []byte {
			return qpdf(t, fpdfWithAttachment(t, sampleToken), "--object-streams=generate")
		}, sampleToken},
		{"ok/qpdf qdf (uncompressed)", func(t *testing.T) []byte {
			return qpdf(t, fpdfWithAttachment(t, sampleToken), "--qdf")
		}, sampleToken},
		{"ok/qpdf linearized", func(t *testing.T) []byte {
			return qpdf(t, fpdfWithAttachment(t, sampleToken), "--linearize")
		}, sampleToken},
		{"ok/qpdf object streams and linearized", func(t *testing.T) []byte {
			return qpdf(t, fpdfWithAttachment(t, sampleToken), "--object-streams=generate", "--linearize")
		}, sampleToken},
		{"ok/qpdf object streams, then an incremental update", func(t *testing.T) []byte {
			os := qpdf(t, fpdfWithAttachment(t, sampleToken), "--object-streams=generate")
			return pdfattachtest.Replace(os, "changed", true)
		}, "changed"},
		{"ok/incremental update, then qpdf object streams", func(t *testing.T) []byte {
			return qpdf(t, pdfattachtest.Replace(fpdfWithAttachment(t, sampleToken), "changed", false), "--object-streams=generate")
		}, "changed"},
		{"ok/incremental update in an object stream, then qpdf qdf", func(t *testing.T) []byte {
			return qpdf(t, pdfattachtest.Replace(fpdfWithAttachment(t, sampleToken), "changed", true), "--qdf")
		}, "changed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			att, err := Extract(tc.pdf(t), CredentialName)
			if err != nil {
				t.Fatal(err)
			}
			if string(att.Data) != tc.want || !att.ChecksumOK {
				t.Fatalf("got %q (checksum ok %v), want %q", att.Data, att.ChecksumOK, tc.want)
			}
		})
	}
}

func TestExtractFailures(t *testing.T) {
	noAttachment := func(t *testing.T) []byte {
		pdf := fpdf.New("P", "mm", "A4", "")
		pdf.AddPage()
		var b bytes.Buffer
		if err := pdf.Output(&b); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	cases := []struct {
		name string
		pdf  func(t *testing.T) []byte
		kind error
		text string
	}{
		{"fail/no attachment", noAttachment, ErrNoAttachment, "no attached files"},
		{"fail/no attachment, object streams", func(t *testing.T) []byte {
			return qpdf(t, noAttachment(t), "--object-streams=generate")
		}, ErrNoAttachment, "no attached files"},
		{"fail/other attachment only", func(t *testing.T) []byte {
			pdf := fpdf.New("P", "mm", "A4", "")
			pdf.SetAttachments([]fpdf.Attachment{{Content: []byte("x"), Filename: "readme.txt"}})
			pdf.AddPage()
			var b bytes.Buffer
			if err := pdf.Output(&b); err != nil {
				t.Fatal(err)
			}
			return b.Bytes()
		}, ErrNoAttachment, `"readme.txt"`},
		{"fail/not a pdf", func(*testing.T) []byte { return []byte("hello") }, ErrNotPDF, ""},
		{"fail/zip bomb", func(*testing.T) []byte {
			bomb := pdfattachtest.Deflate(make([]byte, 64<<20))
			return []byte(fmt.Sprintf("%%PDF-1.4\n1 0 obj\n<< /Type /Filespec /F (credential.jwt) /EF << /F 2 0 R >> >>\nendobj\n"+
				"2 0 obj\n<< /Type /EmbeddedFile /Filter /FlateDecode /Length %d >>\nstream\n%s\nendstream\nendobj\n", len(bomb), bomb))
		}, ErrUnreadable, "larger than"},
		{"fail/unsupported filter", func(*testing.T) []byte {
			return []byte("%PDF-1.4\n1 0 obj\n<< /Type /Filespec /F (credential.jwt) /EF << /F 2 0 R >> >>\nendobj\n" +
				"2 0 obj\n<< /Type /EmbeddedFile /Filter /LZWDecode /Length 3 >>\nstream\nabc\nendstream\nendobj\n")
		}, ErrUnreadable, "LZWDecode"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Extract(tc.pdf(t), CredentialName)
			if !errors.Is(err, tc.kind) || !strings.Contains(fmt.Sprint(err), tc.text) {
				t.Fatalf("err = %v, want %v containing %q", err, tc.kind, tc.text)
			}
		})
	}
}

// A changed attachment whose checksum was left as it was is read, and the
// mismatch reported.
func TestExtractChecksumMismatch(t *testing.T) {
	pdf := fpdfWithAttachment(t, sampleToken)
	old := pdfattachtest.Deflate([]byte(sampleToken))
	i := bytes.Index(pdf, old)
	if i < 0 {
		t.Skip("fpdf compresses differently from compress/zlib; cannot locate the stream")
	}
	// Same length, other content: flip a character of the payload.
	changed := []byte(sampleToken)
	changed[len(changed)-1] = 'X'
	repl := pdfattachtest.Deflate(changed)
	if len(repl) != len(old) {
		t.Skip("replacement stream differs in length")
	}
	pdf = bytes.Replace(pdf, old, repl, 1)
	att, err := Extract(pdf, CredentialName)
	if err != nil {
		t.Fatal(err)
	}
	if att.ChecksumOK || string(att.Data) != string(changed) {
		t.Fatalf("checksum ok %v, data %q", att.ChecksumOK, att.Data)
	}
}

// A PDF that Chromium prints (Skia's writer) carries no attachment, even
// when what was printed was a certificate PDF: printing makes a new
// document. The reader must say so plainly.
func TestExtractChromiumPrint(t *testing.T) {
	chromium := requireTool(t, "chromium")
	dir := t.TempDir()
	src := filepath.Join(dir, "certificate.pdf")
	html := filepath.Join(dir, "page.html")
	if err := os.WriteFile(src, fpdfWithAttachment(t, sampleToken), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(html, []byte("<!doctype html><title>x</title><p>证书 certificate</p>"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, in := range []string{src, html} {
		out := filepath.Join(dir, filepath.Base(in)+".printed.pdf")
		cmd := exec.Command(chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
			"--user-data-dir="+filepath.Join(dir, "profile"), "--print-to-pdf="+out, "file://"+in)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("chromium --print-to-pdf: %v %s", err, b)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Extract(b, CredentialName); !errors.Is(err, ErrNoAttachment) {
			t.Errorf("%s printed by Chromium: err = %v, want ErrNoAttachment", filepath.Base(in), err)
		}
		// Its pages and fonts are objects the reader walks without harm,
		// also once qpdf packed them into object streams.
		if _, err := Extract(qpdf(t, b, "--object-streams=generate"), CredentialName); !errors.Is(err, ErrNoAttachment) {
			t.Errorf("%s printed by Chromium, object streams: err = %v", filepath.Base(in), err)
		}
	}
}

func TestUnpredict(t *testing.T) {
	// Two rows of 3 bytes, PNG "Up" filter (2) on the second.
	data := []byte{0, 1, 2, 3, 2, 1, 1, 1}
	f := &file{}
	got, err := f.unpredict(data, dict{"Predictor": 12, "Columns": 3})
	if err != nil {
		t.Fatal(err)
	}
	if want := []byte{1, 2, 3, 2, 3, 4}; !bytes.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if _, err := f.unpredict([]byte{0, 1}, dict{"Predictor": 12, "Columns": 3}); err == nil {
		t.Fatal("short row accepted")
	}
}

// FuzzExtract: any input is read without panicking, within the limits.
func FuzzExtract(f *testing.F) {
	f.Add([]byte("%PDF-1.4\n1 0 obj\n<< /EF << /F 2 0 R >> /UF (credential.jwt) >>\nendobj\n2 0 obj\n<< /Length 3 /Filter /FlateDecode >>\nstream\nabc\nendstream\nendobj\n"))
	f.Add([]byte("%PDF-1.7\n1 0 obj <</A [1 2 R (x\\(y) <414> /N#20ame]>> endobj"))
	f.Add([]byte("%PDF-1.5\n1 0 obj\n<< /Type /ObjStm /N 2 /First 8 /Length 20 >>\nstream\n2 0 3 5 <<>> [1 0 R]\nendstream\nendobj\ntrailer << /Root 2 0 R >>"))
	f.Add(pdfattachtest.Replace([]byte("%PDF-1.4\n"), sampleToken, true))
	f.Fuzz(func(t *testing.T, b []byte) {
		att, err := Extract(b, CredentialName)
		if err == nil && len(att.Data) > MaxAttachment {
			t.Fatalf("attachment of %d bytes", len(att.Data))
		}
	})
}

// An object stream whose entries all point at one large array is parsed
// within the budget, not once per entry.
func TestExtractObjectStreamRepeatedOffsets(t *testing.T) {
	var head strings.Builder
	for i := range 50_000 {
		fmt.Fprintf(&head, "%d 0 ", 10+i)
	}
	array := "[" + strings.Repeat("0 ", 1<<20) + "]"
	data := pdfattachtest.Deflate([]byte(head.String() + array))
	pdf := fmt.Sprintf("%%PDF-1.5\n1 0 obj\n<< /Type /ObjStm /N 50000 /First %d /Filter /FlateDecode /Length %d >>\nstream\n%s\nendstream\nendobj\n", head.Len(), len(data), data)
	if _, err := Extract([]byte(pdf), CredentialName); !errors.Is(err, ErrNoAttachment) {
		t.Fatalf("err = %v, want ErrNoAttachment", err)
	}
}
