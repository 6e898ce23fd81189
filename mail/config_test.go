package mail

import (
	"strings"
	"testing"
)

func TestParseURL(t *testing.T) {
	ok := []struct {
		name, url string
		want      Server
	}{
		{"ok/submission with STARTTLS", "smtp://user:s3cret@mail.example.cn:587",
			Server{Host: "mail.example.cn", Port: 587, Security: StartTLSRequired, Username: "user", Password: "s3cret"}},
		{"ok/default port 587", "smtp://mail.example.cn", Server{Host: "mail.example.cn", Port: 587, Security: StartTLSRequired}},
		{"ok/trailing slash", "smtp://mail.example.cn/", Server{Host: "mail.example.cn", Port: 587, Security: StartTLSRequired}},
		{"ok/smtps default port 465", "smtps://u%40x:p%3Aw@mail.example.cn",
			Server{Host: "mail.example.cn", Port: 465, Security: ImplicitTLS, Username: "u@x", Password: "p:w"}},
		{"ok/smtps other port", "smtps://mail.example.cn:2465", Server{Host: "mail.example.cn", Port: 2465, Security: ImplicitTLS}},
		{"ok/loopback relay plain", "smtp://127.0.0.1:25", Server{Host: "127.0.0.1", Port: 25, Security: StartTLSOptional}},
		{"ok/loopback 127/8", "smtp://127.8.9.10:2525", Server{Host: "127.8.9.10", Port: 2525, Security: StartTLSOptional}},
		{"ok/loopback v6 with credentials", "smtp://relay:pw@[::1]:25",
			Server{Host: "::1", Port: 25, Security: StartTLSOptional, Username: "relay", Password: "pw"}},
		// A name is not a literal loopback address: TLS stays required.
		{"ok/localhost by name requires STARTTLS", "smtp://localhost:25", Server{Host: "localhost", Port: 25, Security: StartTLSRequired}},
		// Credentials to another host only ever go over TLS.
		{"ok/credentials to a private address require STARTTLS", "smtp://u:pw@10.1.2.3:25",
			Server{Host: "10.1.2.3", Port: 25, Security: StartTLSRequired, Username: "u", Password: "pw"}},
		{"ok/smtps to loopback stays TLS", "smtps://127.0.0.1:465", Server{Host: "127.0.0.1", Port: 465, Security: ImplicitTLS}},
	}
	for _, tc := range ok {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseURL(tc.url)
			if err != nil {
				t.Fatalf("ParseURL(%q) = %v", tc.url, err)
			}
			if got != tc.want {
				t.Errorf("ParseURL(%q) = %+v, want %+v", tc.url, got, tc.want)
			}
		})
	}
	bad := []struct{ name, url, want string }{
		{"fail/http", "http://user:TOPSECRET@mail.example.cn", "scheme"},
		{"fail/submission scheme name", "submission://mail.example.cn", "scheme"},
		{"fail/no scheme", "mail.example.cn:587", "scheme"},
		{"fail/empty", "", "scheme"},
		{"fail/no host", "smtp://user:TOPSECRET@:587", "host"},
		{"fail/opaque", "smtp:mail.example.cn", "host"},
		{"fail/path", "smtp://user:TOPSECRET@mail.example.cn:587/inbox", "path"},
		{"fail/query", "smtp://user:TOPSECRET@mail.example.cn:587?tls=none", "query"},
		{"fail/empty query", "smtp://mail.example.cn:587?", "query"},
		{"fail/fragment", "smtp://mail.example.cn#x", "fragment"},
		{"fail/port zero", "smtp://mail.example.cn:0", "port"},
		{"fail/port too big", "smtp://mail.example.cn:70000", "port"},
		{"fail/password without user", "smtp://:TOPSECRET@mail.example.cn", "user name"},
		{"fail/not a URL", "smtp://user:TOP SECRET%zz@mail.example.cn", "not a URL"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseURL(tc.url)
			if err == nil {
				t.Fatalf("ParseURL(%q) accepted", tc.url)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ParseURL(%q) = %q, want it to mention %q", tc.url, err, tc.want)
			}
			if strings.Contains(err.Error(), "TOPSECRET") || strings.Contains(err.Error(), "TOP SECRET") {
				t.Errorf("the error shows the password: %q", err)
			}
		})
	}
}

func TestServerStringRedactsPassword(t *testing.T) {
	s, err := ParseURL("smtp://user:TOPSECRET@mail.example.cn:587")
	if err != nil {
		t.Fatal(err)
	}
	got := s.String()
	if strings.Contains(got, "TOPSECRET") || !strings.Contains(got, "user:REDACTED@mail.example.cn:587") || !strings.Contains(got, "starttls") {
		t.Errorf("String() = %q", got)
	}
}

func TestParseFrom(t *testing.T) {
	for _, ok := range []string{"certd@example.cn", "证书中心 <cert@example.cn>", `"Certificates" <cert@example.cn>`} {
		if _, err := ParseFrom(ok); err != nil {
			t.Errorf("ParseFrom(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "certd", "a@b.cn, c@d.cn", "<>"} {
		if _, err := ParseFrom(bad); err == nil {
			t.Errorf("ParseFrom(%q) accepted", bad)
		}
	}
}
