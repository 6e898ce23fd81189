package mailtest

import (
	"strings"
	"testing"
)

const sample = "From: a@example.cn\r\nTo: b@example.cn\r\nSubject: =?UTF-8?q?=E8=AF=81=E4=B9=A6?= / Certificate\r\n" +
	"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=outer\r\n\r\n" +
	"--outer\r\nContent-Type: multipart/alternative; boundary=inner\r\n\r\n" +
	"--inner\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n=E8=AF=81=E4=B9=A6 text\r\n" +
	"--inner\r\nContent-Type: text/html; charset=UTF-8\r\n\r\n<p>html</p>\r\n--inner--\r\n" +
	"--outer\r\nContent-Type: application/pdf; name=\"c.pdf\"\r\nContent-Disposition: attachment; filename=\"c.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBE\r\nRi0x\r\n--outer--\r\n"

func TestParse(t *testing.T) {
	m := Parse(t, []byte(sample))
	if m.Subject != "证书 / Certificate" || !strings.HasPrefix(m.Text, "证书 text") || !strings.Contains(m.HTML, "<p>html</p>") {
		t.Errorf("parsed %+v", m)
	}
	if len(m.Attachments) != 1 || m.Attachments[0].Filename != "c.pdf" || string(m.Attachments[0].Data) != "%PDF-1" || m.Attachments[0].ContentType != "application/pdf" {
		t.Errorf("attachments %+v", m.Attachments)
	}
}

// FuzzParseMessage: any input is parsed or refused, never a panic.
func FuzzParseMessage(f *testing.F) {
	f.Add([]byte(sample))
	f.Add([]byte("Subject: x\r\n\r\nbody"))
	f.Add([]byte("Content-Type: multipart/mixed; boundary=\"\"\r\n\r\n--\r\n"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		_, _ = ParseMessage(raw)
	})
}
