package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/mail/mailtest"
	"github.com/certd/certd/notify"
	"github.com/certd/certd/pdfattach"
)

// TestMailConfig: --smtp-url is read from the flag or CERTD_SMTP_URL;
// a refused URL stops certd with an error that names the flag and never
// shows the password, nor does -h.
func TestMailConfig(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	cfg, err := ParseConfig(nil, env(map[string]string{"CERTD_SMTP_URL": "smtp://u:TOPSECRET@mail.example.cn:587", "CERTD_MAIL_FROM": "cert@example.cn"}), io.Discard)
	if err != nil || cfg.SMTPURL != "smtp://u:TOPSECRET@mail.example.cn:587" || cfg.MailFrom != "cert@example.cn" {
		t.Fatalf("from the environment: %+v, %v", cfg, err)
	}
	cases := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"fail/http scheme", []string{"--smtp-url", "http://u:TOPSECRET@mail.example.cn", "--mail-from", "a@b.cn"}, nil, "--smtp-url: must be smtp://"},
		{"fail/path", []string{"--smtp-url", "smtp://u:TOPSECRET@mail.example.cn/x", "--mail-from", "a@b.cn"}, nil, "--smtp-url:"},
		{"fail/query from the environment", nil, map[string]string{"CERTD_SMTP_URL": "smtp://u:TOPSECRET@mail.example.cn?tls=off", "CERTD_MAIL_FROM": "a@b.cn"}, "--smtp-url:"},
		{"fail/no sender", []string{"--smtp-url", "smtps://u:TOPSECRET@mail.example.cn"}, nil, "--mail-from: is required with --smtp-url"},
		{"fail/bad sender", []string{"--smtp-url", "smtps://u:TOPSECRET@mail.example.cn", "--mail-from", "nobody"}, nil, "--mail-from: must be one e-mail address"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseConfig(tc.args, env(tc.env), io.Discard)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("ParseConfig = %v, want %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "TOPSECRET") {
				t.Errorf("the error shows the password: %v", err)
			}
		})
	}
	var help bytes.Buffer
	_, _ = ParseConfig([]string{"-h"}, env(map[string]string{"CERTD_SMTP_URL": "smtp://u:TOPSECRET@mail.example.cn"}), &help)
	if !strings.Contains(help.String(), "-smtp-url") || strings.Contains(help.String(), "TOPSECRET") {
		t.Errorf("-h output shows the password or lacks the flag:\n%s", help.String())
	}
	// Main refuses to start too, without the password in its error.
	c := testConfig(t.TempDir())
	c.SMTPURL, c.MailFrom = "ftp://u:TOPSECRET@mail.example.cn", "a@b.cn"
	m := NewMain(c)
	m.Logger = newLogger(c, io.Discard)
	err = m.Run(context.Background())
	_ = m.Close()
	if err == nil || !strings.Contains(err.Error(), "--smtp-url") || strings.Contains(err.Error(), "TOPSECRET") {
		t.Errorf("Run = %v", err)
	}
}

// TestIssuanceMailEndToEnd runs the real wiring with --smtp-url at a test
// SMTP server: the issuance of a certificate with organization.email is
// mailed through the outbox with its PDF attached, and the credential
// embedded in that PDF verifies. The address is in the authenticated
// resource and in none of the public answers.
func TestIssuanceMailEndToEnd(t *testing.T) {
	if _, err := os.Stat("/usr/share/fonts/truetype/arphic-gbsn00lp/gbsn00lp.ttf"); err != nil {
		requireTool(t, "fonts-arphic-gbsn00lp (font file)")
	}
	srv := mailtest.Start(t, mailtest.Options{})
	ts := startServer(t, "", func(m *Main) {
		m.Config.SMTPURL, m.Config.MailFrom = srv.URL(), "证书中心 <certd@cb.example.cn>"
	})
	c := ts.issueCert(t, nil, map[string]any{"email": " Zhang.San@Example.CN "})
	id := c["id"].(string)
	org := c["organization"].(map[string]any)
	if org["email"] != "Zhang.San@example.cn" {
		t.Fatalf("organization.email = %v, want the domain in lower case", org["email"])
	}
	if got := ts.do("GET", "/api/v1/certificates/"+id, ts.Admin, nil).JSON(t)["organization"].(map[string]any)["email"]; got != "Zhang.San@example.cn" {
		t.Errorf("GET certificate: organization.email = %v", got)
	}
	for _, path := range []string{"/v/" + id, "/api/v1/verify/" + id, "/api/v1/search?q=" + testUSCC, "/search?q=" + url.QueryEscape(testUSCC), "/v/" + id + "/credential.jwt"} {
		for _, accept := range []string{"application/json", "text/html"} {
			r := ts.do("GET", path, "", nil, "Accept", accept)
			if r.Status != http.StatusOK {
				t.Fatalf("GET %s: %d", path, r.Status)
			}
			if body := strings.ToLower(string(r.Body)); strings.Contains(body, "zhang.san") {
				t.Errorf("GET %s (%s) shows the organization's e-mail", path, accept)
			}
		}
	}
	if p, _ := json.Marshal(payload(t, c["credential"].(string))); strings.Contains(strings.ToLower(string(p)), "zhang.san") {
		t.Error("the signed credential holds the organization's e-mail")
	}

	// The outbox's dispatcher hands the issuance to the organization's
	// sink, and the worker sends the mail.
	var msgs []mailtest.Message
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if msgs = srv.To("Zhang.San@example.cn"); len(msgs) > 0 {
			break
		}
	}
	if len(msgs) != 1 {
		t.Fatalf("%d messages to the organization, want 1", len(msgs))
	}
	m := mailtest.Parse(t, msgs[0].Data)
	number := c["number"].(string)
	if !strings.Contains(m.Subject, number) || !strings.Contains(m.Text, ts.m.Config.PublicURL+"/v/"+id) {
		t.Errorf("subject %q, text:\n%s", m.Subject, m.Text)
	}
	if len(m.Attachments) != 1 || m.Attachments[0].Filename != number+".pdf" {
		t.Fatalf("attachments %d", len(m.Attachments))
	}
	token, checksumOK, err := pdfattach.Credential(m.Attachments[0].Data)
	if err != nil || !checksumOK {
		t.Fatalf("credential in the mailed PDF: %v (checksum ok %v)", err, checksumOK)
	}
	v := ts.do("POST", "/api/v1/verify", "", []byte(token), "Content-Type", "application/vc+jwt").JSON(t)
	if v["verdict"] != "valid" {
		t.Errorf("the mailed PDF's credential: verdict %v, %v", v["verdict"], v["reason"])
	}
	d, err := ts.m.store.Delivery(t.Context(), notify.DeliveryID(notify.CertificateEventID(id, 1), "mailto:Zhang.San@example.cn"))
	if err != nil || d.Status != cert.DeliveryDelivered {
		t.Errorf("delivery: %+v, %v", d, err)
	}
}
