package mailtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Options configures a Server.
type Options struct {
	// StartTLS offers STARTTLS (with a generated certificate).
	StartTLS bool
	// ImplicitTLS speaks TLS from the first byte (smtps://).
	ImplicitTLS bool
	// Username and Password, when set, offer AUTH PLAIN with these
	// credentials (after STARTTLS, or on a plain connection too when
	// AllowInsecureAuth).
	Username, Password string
	AllowInsecureAuth  bool
}

// Message is one message the server accepted.
type Message struct {
	// From is the envelope sender (MAIL FROM), To the envelope recipients
	// (RCPT TO).
	From string
	To   []string
	// Data is the message as received (headers and body, CRLF lines).
	Data []byte
	// TLS says whether the session was encrypted when the message came.
	TLS bool
	// Auth is the user name the client authenticated as ("" if none).
	Auth string
}

// Server is a running SMTP server. Its methods are safe for concurrent use.
type Server struct {
	srv  *smtp.Server
	ln   net.Listener
	opts Options
	// RootCAs trusts the server's generated certificate (nil without TLS).
	RootCAs *x509.CertPool

	mu       sync.Mutex
	messages []Message
	answers  map[string]*smtp.SMTPError
	sessions int
}

// Start starts a server on 127.0.0.1 on a free port; it stops when t
// ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	s := &Server{opts: opts, answers: map[string]*smtp.SMTPError{}}
	s.srv = smtp.NewServer(smtp.BackendFunc(s.newSession))
	s.srv.Domain = "mailtest.localhost"
	s.srv.ReadTimeout, s.srv.WriteTimeout = 30*time.Second, 30*time.Second
	s.srv.MaxMessageBytes = 32 << 20
	s.srv.AllowInsecureAuth = opts.AllowInsecureAuth
	s.srv.ErrorLog = log.New(io.Discard, "", 0)
	var tlsConfig *tls.Config
	if opts.StartTLS || opts.ImplicitTLS {
		cfg, pool, err := selfSigned()
		if err != nil {
			t.Fatalf("mailtest: %v", err)
		}
		tlsConfig, s.RootCAs = cfg, pool
		if opts.StartTLS {
			s.srv.TLSConfig = cfg
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("mailtest: listen: %v", err)
	}
	if opts.ImplicitTLS {
		ln = tls.NewListener(ln, tlsConfig)
	}
	s.ln = ln
	go func() { _ = s.srv.Serve(ln) }()
	t.Cleanup(s.Close)
	return s
}

// Addr is the server's host:port.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Port is the server's port.
func (s *Server) Port() int { return s.ln.Addr().(*net.TCPAddr).Port }

// URL is the --smtp-url that reaches the server: smtps:// with
// ImplicitTLS, otherwise smtp://, with the credentials of Options.
func (s *Server) URL() string {
	scheme := "smtp"
	if s.opts.ImplicitTLS {
		scheme = "smtps"
	}
	user := ""
	if s.opts.Username != "" {
		user = s.opts.Username + ":" + s.opts.Password + "@"
	}
	return scheme + "://" + user + s.Addr()
}

// Close stops the server; later connections are refused.
func (s *Server) Close() { _ = s.srv.Close() }

// Answer makes the server answer code (e.g. 550 or 451) to RCPT TO of the
// address (case-insensitive); code 0 accepts it again.
func (s *Server) Answer(address string, code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := strings.ToLower(address)
	if code == 0 {
		delete(s.answers, key)
		return
	}
	e := &smtp.SMTPError{Code: code, EnhancedCode: smtp.EnhancedCode{code / 100, 1, 1}, Message: fmt.Sprintf("mailtest answers %d for this recipient", code)}
	s.answers[key] = e
}

// Messages returns a copy of the messages received so far, in order.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Message, len(s.messages))
	for i, m := range s.messages {
		m.To = append([]string(nil), m.To...)
		m.Data = append([]byte(nil), m.Data...)
		out[i] = m
	}
	return out
}

// To returns the messages received for the envelope recipient.
func (s *Server) To(address string) []Message {
	var out []Message
	for _, m := range s.Messages() {
		for _, r := range m.To {
			if strings.EqualFold(r, address) {
				out = append(out, m)
				break
			}
		}
	}
	return out
}

// Sessions is the number of SMTP sessions opened so far.
func (s *Server) Sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessions
}

func (s *Server) newSession(c *smtp.Conn) (smtp.Session, error) {
	s.mu.Lock()
	s.sessions++
	s.mu.Unlock()
	return &session{s: s, c: c}, nil
}

type session struct {
	s    *Server
	c    *smtp.Conn
	msg  Message
	auth string
}

var (
	_ smtp.Session     = (*session)(nil)
	_ smtp.AuthSession = (*session)(nil)
)

func (se *session) AuthMechanisms() []string {
	if se.s.opts.Username == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (se *session) Auth(mech string) (sasl.Server, error) {
	if mech != sasl.Plain || se.s.opts.Username == "" {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != se.s.opts.Username || password != se.s.opts.Password {
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "authentication failed"}
		}
		se.auth = username
		return nil
	}), nil
}

func (se *session) Mail(from string, _ *smtp.MailOptions) error {
	if se.s.opts.Username != "" && se.auth == "" {
		return smtp.ErrAuthRequired
	}
	se.msg = Message{From: from}
	return nil
}

func (se *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	se.s.mu.Lock()
	e := se.s.answers[strings.ToLower(to)]
	se.s.mu.Unlock()
	if e != nil {
		return e
	}
	se.msg.To = append(se.msg.To, to)
	return nil
}

func (se *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m := se.msg
	m.Data = b
	_, m.TLS = se.c.TLSConnectionState()
	if !m.TLS {
		_, m.TLS = se.c.Conn().(*tls.Conn)
	}
	m.Auth = se.auth
	se.s.mu.Lock()
	se.s.messages = append(se.s.messages, m)
	se.s.mu.Unlock()
	return nil
}

func (se *session) Reset()        { se.msg = Message{} }
func (se *session) Logout() error { return nil }

// selfSigned makes a certificate for 127.0.0.1, ::1 and localhost, and a
// pool that trusts it.
func selfSigned() (*tls.Config, *x509.CertPool, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "mailtest"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:         true, BasicConstraintsValid: true,
		DNSNames:    []string{"localhost"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	cfg := &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}}, MinVersion: tls.VersionTLS12}
	return cfg, pool, nil
}
