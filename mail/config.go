package mail

import (
	"errors"
	"net"
	"net/mail"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// Security is how a connection to the relay is protected.
type Security int

// Security modes, from the URL's scheme and host.
const (
	// StartTLSRequired: smtp:// to any host that is not a loopback
	// address; the message is not sent unless STARTTLS succeeds.
	StartTLSRequired Security = iota
	// StartTLSOptional: smtp:// to a loopback address (a relay on this
	// machine); STARTTLS is used when offered.
	StartTLSOptional
	// ImplicitTLS: smtps://, TLS from the first byte.
	ImplicitTLS
)

// String names the mode.
func (s Security) String() string {
	switch s {
	case StartTLSRequired:
		return "starttls"
	case StartTLSOptional:
		return "starttls-if-offered"
	case ImplicitTLS:
		return "tls"
	}
	return "unknown"
}

// Default ports.
const (
	// DefaultSubmissionPort is the port of smtp:// without one (message
	// submission, RFC 6409).
	DefaultSubmissionPort = 587
	// DefaultSMTPSPort is the port of smtps:// without one (RFC 8314).
	DefaultSMTPSPort = 465
)

// Server is a parsed --smtp-url. Its String never shows the password.
type Server struct {
	Host     string
	Port     int
	Security Security
	// Username and Password authenticate to the relay when Username is
	// set.
	Username string
	Password string
}

// String is the URL without the password, for logs.
func (s Server) String() string {
	scheme := "smtp"
	if s.Security == ImplicitTLS {
		scheme = "smtps"
	}
	user := ""
	if s.Username != "" {
		user = url.User(s.Username).String() + ":REDACTED@"
	}
	return scheme + "://" + user + net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) + " (" + s.Security.String() + ")"
}

// Loopback reports whether the host is a literal loopback address
// (127.0.0.0/8, ::1); a name such as localhost is not.
func (s Server) Loopback() bool {
	a, err := netip.ParseAddr(s.Host)
	return err == nil && a.Unmap().IsLoopback()
}

// ParseURL parses an --smtp-url:
//
//	smtp://[user[:password]@]host[:port]   STARTTLS required (port 587);
//	                                       to a literal loopback address,
//	                                       plain SMTP allowed
//	smtps://[user[:password]@]host[:port]  implicit TLS (port 465)
//
// User and password are percent-decoded. Any other scheme, a path, a
// query, a fragment or a missing host is refused. Errors never repeat the
// URL, which may hold a password.
func ParseURL(raw string) (Server, error) {
	const accepted = "must be smtp://[user:password@]host[:port] (STARTTLS) or smtps://[user:password@]host[:port] (TLS)"
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return Server{}, errors.New(accepted + "; the value is not a URL")
	}
	var s Server
	switch u.Scheme {
	case "smtp":
		s.Security, s.Port = StartTLSRequired, DefaultSubmissionPort
	case "smtps":
		s.Security, s.Port = ImplicitTLS, DefaultSMTPSPort
	default:
		return Server{}, errors.New(accepted + "; the scheme is not smtp or smtps")
	}
	if u.Opaque != "" || u.Host == "" || u.Hostname() == "" {
		return Server{}, errors.New(accepted + "; the host is missing")
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return Server{}, errors.New(accepted + "; a path, query or fragment is not allowed")
	}
	s.Host = u.Hostname()
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return Server{}, errors.New(accepted + "; the port must be 1-65535")
		}
		s.Port = n
	}
	if u.User != nil {
		s.Username = u.User.Username()
		s.Password, _ = u.User.Password()
		if s.Username == "" {
			return Server{}, errors.New(accepted + "; a password needs a user name")
		}
	}
	if s.Security == StartTLSRequired && s.Loopback() {
		s.Security = StartTLSOptional
	}
	if s.Username != "" && s.Security == StartTLSOptional && !s.Loopback() {
		// Unreachable by construction (only loopback relays may go
		// without TLS); kept so that a change of the rule above cannot
		// send a password in clear to another machine.
		return Server{}, errors.New(accepted + "; credentials are sent only over TLS or to a loopback address")
	}
	return s, nil
}

// ParseFrom checks a --mail-from address: one address, optionally with a
// display name ("证书中心 <cert@example.cn>").
func ParseFrom(s string) (*mail.Address, error) {
	a, err := mail.ParseAddress(strings.TrimSpace(s))
	if err != nil {
		return nil, errors.New("must be one e-mail address, e.g. certd@example.cn or \"Certificates <certd@example.cn>\"")
	}
	return a, nil
}
