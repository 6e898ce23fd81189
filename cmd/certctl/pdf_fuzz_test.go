package main

import (
	"bytes"
	"testing"

	"codeberg.org/go-pdf/fpdf"

	"github.com/certd/certd/pdfattach"
)

// fuzzToken has the shape of a credential (a compact JWS).
const fuzzToken = "eyJhbGciOiJFZERTQSIsImtpZCI6ImsiLCJ0eXAiOiJ2Yytqd3QiLCJjdHkiOiJ2YyJ9.eyJpc3MiOiJodHRwczovL3ZlcmlmeS5leGFtcGxlLmNuL2lzc3VlcnMvY2IifQ.c2ln"

// attachedPDF writes a one-page PDF with content attached as name, as
// templates does for the certificate PDF (same library, same call).
func attachedPDF(t testing.TB, name string, content []byte, compress bool) []byte {
	t.Helper()
	pdf := fpdf.New("L", "mm", "A4", "")
	pdf.SetCompression(compress)
	pdf.SetAttachments([]fpdf.Attachment{{Content: content, Filename: name, Description: "Signed credential"}})
	pdf.AddPage()
	var buf bytes.Buffer
	if err := pdf.Output(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// FuzzPDFAttachmentRoundTrip holds the PDF attachment reader (package
// pdfattach, which certctl and certd use) to the writer of the certificate
// PDF: whatever a credential holds, the attachment fpdf writes is read back
// byte for byte with its checksum intact, the page compressed or not; and
// a PDF with a bit changed in the attachment never gives other content
// with an intact checksum.
func FuzzPDFAttachmentRoundTrip(f *testing.F) {
	f.Add([]byte(fuzzToken), true, uint16(0))
	f.Add([]byte(fuzzToken), false, uint16(400))
	f.Add([]byte("endstream endobj ) ( \\ \r\n%%EOF"), false, uint16(9))
	f.Add([]byte{0, 0xff, '(', ')', '\\'}, true, uint16(65535))
	f.Fuzz(func(t *testing.T, content []byte, compress bool, flip uint16) {
		if len(content) == 0 {
			return // fpdf writes no embedded file for empty content
		}
		pdf := attachedPDF(t, pdfattach.CredentialName, content, compress)
		att, err := pdfattach.Extract(pdf, pdfattach.CredentialName)
		if err != nil {
			t.Fatalf("extractAttachment: %v", err)
		}
		if !bytes.Equal(att.Data, content) || !att.ChecksumOK {
			t.Fatalf("read back %q (checksum ok %v), want %q", att.Data, att.ChecksumOK, content)
		}
		if _, err := pdfattach.Extract(pdf, "other.jwt"); err == nil {
			t.Fatal("an attachment that is not there was found")
		}
		// Change one bit of the embedded file's stream (fpdf writes it
		// first, deflated) and read again.
		i := bytes.Index(pdf, []byte("stream\n"))
		if i < 0 {
			t.Fatal("no stream in the PDF")
		}
		start := i + len("stream\n")
		end := bytes.Index(pdf[start:], []byte("endstream"))
		if end <= 1 {
			t.Fatal("no end of the embedded file's stream")
		}
		at := start + int(flip)%(end-1) // the stream's data, not the EOL before endstream
		changed := bytes.Clone(pdf)
		changed[at] ^= 0x01
		// A bit that carries no content (the padding after the last deflate
		// block) may read back as the original; any other change is an
		// error or content whose checksum does not hold.
		if att, err := pdfattach.Extract(changed, pdfattach.CredentialName); err == nil && att.ChecksumOK && !bytes.Equal(att.Data, content) {
			t.Fatalf("a changed attachment (byte %d) reads as %q with an intact checksum", at, att.Data)
		}
	})
}
