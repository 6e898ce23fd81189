package mail

import (
	"strings"
	"testing"
)

// FuzzParseURL: any value is refused or parsed into a server with a host,
// a port and a security mode that only a loopback address relaxes; an
// error never repeats a password of the value.
func FuzzParseURL(f *testing.F) {
	for _, s := range []string{"smtp://u:pw@mail.example.cn:587", "smtps://mail.example.cn", "smtp://127.0.0.1:25",
		"smtp://[::1]", "smtp://u:pw@10.0.0.1", "http://x", "smtp://:pw@h", "smtp://h/p?q#f", "smtp://h:99999"} {
		f.Add(s, "pw")
	}
	f.Fuzz(func(t *testing.T, raw, secret string) {
		s, err := ParseURL(raw)
		if err != nil {
			if len(secret) >= 4 && strings.Contains(raw, ":"+secret+"@") && strings.Contains(err.Error(), secret) && !strings.Contains(errorTexts, secret) {
				t.Errorf("error %q repeats the password %q", err, secret)
			}
			return
		}
		if s.Host == "" || s.Port < 1 || s.Port > 65535 {
			t.Errorf("%q parsed to %+v", raw, s)
		}
		if s.Security == StartTLSOptional && !s.Loopback() {
			t.Errorf("%q: plain SMTP allowed to %q", raw, s.Host)
		}
		if s.Password != "" && s.Password != "REDACTED" && strings.Contains(s.String(), ":"+s.Password+"@") {
			t.Errorf("String() %q shows the password", s.String())
		}
	})
}

// errorTexts is every fixed text an error may hold; a "password" that is
// part of it is not a leak.
const errorTexts = "must be smtp://[user:password@]host[:port] (STARTTLS) or smtps://[user:password@]host[:port] (TLS); the value is not a URL; the scheme is not smtp or smtps; the host is missing; a path, query or fragment is not allowed; the port must be 1-65535; a password needs a user name; credentials are sent only over TLS or to a loopback address"
