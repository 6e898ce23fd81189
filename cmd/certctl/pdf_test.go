package main

import (
	"bytes"
	"strconv"
	"strings"
	"testing"

	"github.com/go-pdf/fpdf"
)

const sampleToken = "eyJhbGciOiJFZERTQSIsImtpZCI6ImsiLCJ0eXAiOiJ2Yytqd3QifQ.eyJpc3MiOiJodHRwczovL2V4YW1wbGUuY24vaXNzdWVycy9hIn0.c2lnbmF0dXJlc2lnbmF0dXJlc2lnbmF0dXJlc2lnbmF0dXJl"

func TestExtractAttachment(t *testing.T) {
	t.Run("ok/fpdf with two attachments", func(t *testing.T) {
		att, err := extractAttachment(fpdfWithAttachment(t, sampleToken), credentialAttachment)
		if err != nil {
			t.Fatal(err)
		}
		if string(att.data) != sampleToken || !att.checksumOK {
			t.Fatalf("got %q (checksum ok %v)", att.data, att.checksumOK)
		}
	})
	handMade := "%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\n" +
		"2 0 obj\n<< /Type /Filespec /F (credential.jwt) /EF << /F 3 0 R >> >>\nendobj\n" +
		"3 0 obj\n<< /Type /EmbeddedFile /Length 4 0 R >>\nstream\n" + sampleToken + "\nendstream\nendobj\n" +
		"4 0 obj\n" + strconv.Itoa(len(sampleToken)) + "\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
	t.Run("ok/uncompressed, literal name, indirect length", func(t *testing.T) {
		att, err := extractAttachment([]byte(handMade), credentialAttachment)
		if err != nil {
			t.Fatal(err)
		}
		if string(att.data) != sampleToken {
			t.Fatalf("got %q", att.data)
		}
	})
	t.Run("ok/later revision wins", func(t *testing.T) {
		// An incremental update that replaces the stream object: the reader
		// sees the new content, as a PDF viewer would, and the signature
		// check then judges it.
		update := "3 0 obj\n<< /Type /EmbeddedFile /Length 7 >>\nstream\nchanged\nendstream\nendobj\n%%EOF\n"
		att, err := extractAttachment([]byte(handMade+update), credentialAttachment)
		if err != nil {
			t.Fatal(err)
		}
		if string(att.data) != "changed" {
			t.Fatalf("got %q, want the content of the last revision", att.data)
		}
	})
	t.Run("fail/no attachment", func(t *testing.T) {
		pdf := fpdf.New("P", "mm", "A4", "")
		pdf.AddPage()
		var b bytes.Buffer
		if err := pdf.Output(&b); err != nil {
			t.Fatal(err)
		}
		if _, err := extractAttachment(b.Bytes(), credentialAttachment); err == nil || !strings.Contains(err.Error(), "no attached files") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("fail/other attachment only", func(t *testing.T) {
		pdf := fpdf.New("P", "mm", "A4", "")
		pdf.SetAttachments([]fpdf.Attachment{{Content: []byte("x"), Filename: "readme.txt"}})
		pdf.AddPage()
		var b bytes.Buffer
		if err := pdf.Output(&b); err != nil {
			t.Fatal(err)
		}
		if _, err := extractAttachment(b.Bytes(), credentialAttachment); err == nil || !strings.Contains(err.Error(), `"readme.txt"`) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("fail/not a pdf", func(t *testing.T) {
		if _, err := extractAttachment([]byte("hello"), credentialAttachment); err == nil {
			t.Fatal("no error")
		}
	})
	t.Run("checksum/mismatch noticed", func(t *testing.T) {
		pdf := alterPDF(t, fpdfWithAttachment(t, sampleToken), func(s string) string { return s + "A" }, false)
		att, err := extractAttachment(pdf, credentialAttachment)
		if err != nil {
			t.Fatal(err)
		}
		if att.checksumOK || string(att.data) != sampleToken+"A" {
			t.Fatalf("checksum ok %v, data %q", att.checksumOK, att.data)
		}
	})
}

// FuzzExtractAttachment: any input is read without panicking.
func FuzzExtractAttachment(f *testing.F) {
	f.Add([]byte("%PDF-1.4\n1 0 obj\n<< /EF << /F 2 0 R >> /UF (credential.jwt) >>\nendobj\n2 0 obj\n<< /Length 3 /Filter /FlateDecode >>\nstream\nabc\nendstream\nendobj\n"))
	f.Add([]byte("%PDF-1.7\n1 0 obj <</A [1 2 R (x\\(y) <414> /N#20ame]>> endobj"))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = extractAttachment(b, credentialAttachment)
	})
}
