package watch

import (
	"net"
	"net/mail"
	"strings"
	"unicode/utf8"

	"github.com/certd/certd/cert"
)

// MaxEmail bounds an address, in bytes (RFC 5321's path limit).
const MaxEmail = 254

const emailAccepted = "must be one e-mail address such as name@example.com (at most 254 characters)"

// NormalizeEmail trims an address, lower-cases its domain and checks it
// is one plain address (no display name, no comments, a domain with a
// dot). The error matches cert.ErrInvalid and names the field "email";
// it never repeats the address.
func NormalizeEmail(raw string) (string, error) {
	s := strings.TrimSpace(raw)
	bad := cert.Invalid("email", emailAccepted)
	if s == "" || len(s) > MaxEmail || !utf8.ValidString(s) {
		return "", bad
	}
	for _, r := range s {
		if r < 0x21 || r == 0x7f || r == ',' || r == '<' || r == '>' || r == '"' || r == '(' || r == ')' || r == ';' {
			return "", bad
		}
	}
	at := strings.LastIndexByte(s, '@')
	if at < 1 || at > 64 || at == len(s)-1 {
		return "", bad
	}
	// The whole address in lower case: mail servers deliver Victim@ and
	// victim@ to one mailbox, so the limits per address must count them
	// as one.
	local, domain := strings.ToLower(s[:at]), strings.ToLower(s[at+1:])
	// A domain, never an address literal ([10.0.0.5]) or a bare IP: the
	// relay must not be asked to open SMTP to a host an anonymous form
	// named. The last label is a name (letters, or an IDN's xn--).
	if strings.ContainsAny(domain, "[]:") || net.ParseIP(domain) != nil {
		return "", bad
	}
	if tld := domain[strings.LastIndexByte(domain, '.')+1:]; !strings.HasPrefix(tld, "xn--") && strings.IndexFunc(tld, func(r rune) bool { return r < 'a' || r > 'z' }) >= 0 {
		return "", bad
	}
	if !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") || strings.Contains(domain, "..") {
		return "", bad
	}
	for _, label := range strings.Split(domain, ".") {
		if label == "" || len(label) > 63 || strings.HasPrefix(label, "-") || strings.HasSuffix(label, "-") {
			return "", bad
		}
	}
	addr := local + "@" + domain
	a, err := mail.ParseAddress(addr)
	if err != nil || a.Name != "" || a.Address != addr {
		return "", bad
	}
	return addr, nil
}
