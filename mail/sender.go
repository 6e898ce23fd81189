package mail

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/notify"
)

// DefaultTimeout bounds one SMTP conversation: connect, TLS, the message.
const DefaultTimeout = 30 * time.Second

// Sender sends the e-mail of ChannelEmail deliveries through one relay:
// it decodes the delivery's notify.MailJob, reads the certificate, and
// sends one bilingual message (zh-CN first, then en) with a text and an
// HTML part. Sender is safe for concurrent use; each Send is one SMTP
// conversation.
type Sender struct {
	// Server is the relay (ParseURL); From the sender (ParseFrom).
	Server Server
	From   *mail.Address
	// PublicURL is the base of verification links (<PublicURL>/v/<id>).
	PublicURL string
	// Certificate reads a certificate by id; an error matching
	// cert.ErrNotFound fails the delivery for good, any other is retried.
	Certificate func(ctx context.Context, id string) (*cert.Certificate, error)
	// Status derives a certificate's standing now; nil derives it from
	// Scheme and Now.
	Status func(*cert.Certificate) cert.Standing
	// Scheme returns a scheme by id (labels of coded reasons, what follows
	// a suspension); nil or a nil answer shows codes without labels.
	Scheme func(id string) *cert.Scheme
	// Issuer reads an issuer (its name in the message); nil leaves it out.
	Issuer func(ctx context.Context, id string) (*cert.Issuer, error)
	// RenderPDF renders a certificate's PDF for an issuance mail
	// (MailJob.AttachPDF); nil sends the mail without it (the message
	// still links the verification page, which offers the PDF).
	RenderPDF func(ctx context.Context, c *cert.Certificate) ([]byte, error)
	// Now is the clock of the Date header; nil means time.Now.
	Now func() time.Time
	// Timeout of one conversation; 0 means DefaultTimeout.
	Timeout time.Duration
	// RootCAs, when set, replaces the system's roots in verifying the
	// relay's certificate (tests trust mailtest's generated one).
	RootCAs *x509.CertPool
}

var _ notify.Mailer = (*Sender)(nil)

func (s *Sender) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Send composes and sends the message of d to d.To. The Message-ID is
// derived from d.ID, so every retry of a delivery carries the same one.
// A 5xx answer to the recipient or to the message, an undecodable job, a
// bad address or a certificate that no longer exists give a
// notify.PermanentError; a connection failure, a TLS failure or a 4xx
// answer a plain error (retried). Errors never contain the password.
func (s *Sender) Send(ctx context.Context, d *cert.Delivery) error {
	if s.From == nil {
		return errors.New("mail: no sender address (--mail-from)")
	}
	if !d.IsEmail() {
		return notify.Permanent(fmt.Errorf("delivery %s is not an e-mail", d.ID))
	}
	to, err := mail.ParseAddress(d.To)
	if err != nil {
		return notify.Permanent(fmt.Errorf("recipient: not an e-mail address"))
	}
	m, err := s.compose(ctx, d)
	if err != nil {
		return s.redact(err)
	}
	msg, err := s.build(d, to, m)
	if err != nil {
		return notify.Permanent(s.redact(err))
	}
	client, err := s.client()
	if err != nil {
		return s.redact(err)
	}
	if err := client.DialAndSendWithContext(ctx, msg); err != nil {
		return s.classify(err)
	}
	return nil
}

// build makes the go-mail message.
func (s *Sender) build(d *cert.Delivery, to *mail.Address, m *message) (*gomail.Msg, error) {
	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	msg.FromMailAddress(s.From)
	msg.ToMailAddress(to)
	msg.Subject(m.Subject)
	msg.SetMessageIDWithValue(MessageID(d.ID, s.From.Address))
	msg.SetDateWithValue(s.now())
	msg.SetGenHeader(gomail.Header("Auto-Submitted"), "auto-generated")
	if m.UnsubscribeURL != "" {
		msg.SetGenHeaderPreformatted(gomail.HeaderListUnsubscribe, "<"+m.UnsubscribeURL+">")
		msg.SetGenHeaderPreformatted(gomail.HeaderListUnsubscribePost, "List-Unsubscribe=One-Click")
	}
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	if m.PDF != nil {
		if err := msg.AttachReader(m.Filename, bytes.NewReader(m.PDF), gomail.WithFileContentType(gomail.ContentType("application/pdf"))); err != nil {
			return nil, fmt.Errorf("attach %s: %w", m.Filename, err)
		}
	}
	return msg, nil
}

// MessageID is the Message-ID (without angle brackets) of the delivery:
// the delivery id at the sender's domain.
func MessageID(deliveryID, from string) string {
	domain := "certd.invalid"
	if i := strings.LastIndexByte(from, '@'); i >= 0 && i < len(from)-1 {
		domain = strings.ToLower(from[i+1:])
	}
	return deliveryID + "@" + domain
}

// client returns a go-mail client for the relay under its TLS rule.
func (s *Sender) client() (*gomail.Client, error) {
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	tc := &tls.Config{ServerName: s.Server.Host, MinVersion: tls.VersionTLS12, RootCAs: s.RootCAs}
	opts := []gomail.Option{gomail.WithPort(s.Server.Port), gomail.WithTimeout(timeout), gomail.WithTLSConfig(tc)}
	switch s.Server.Security {
	case ImplicitTLS:
		opts = append(opts, gomail.WithSSL())
	case StartTLSRequired:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case StartTLSOptional:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	default:
		return nil, errors.New("mail: unknown security mode")
	}
	if s.Server.Username != "" {
		auth := gomail.SMTPAuthAutoDiscover
		if s.Server.Loopback() {
			// A relay on this machine: PLAIN is allowed without TLS, as
			// the password never leaves the host.
			auth = gomail.SMTPAuthPlainNoEnc
		}
		opts = append(opts, gomail.WithSMTPAuth(auth), gomail.WithUsername(s.Server.Username), gomail.WithPassword(s.Server.Password))
	}
	return gomail.NewClient(s.Server.Host, opts...)
}

// classify turns a go-mail error into the delivery's outcome.
func (s *Sender) classify(err error) error {
	var se *gomail.SendError
	if errors.As(err, &se) {
		code := se.ErrorCode()
		switch se.Reason {
		case gomail.ErrSMTPRcptTo, gomail.ErrSMTPData, gomail.ErrSMTPDataClose, gomail.ErrWriteContent:
			if code >= 500 && code < 600 {
				return notify.Permanent(s.redact(fmt.Errorf("the relay refused the message (%d): %w", code, err)))
			}
		}
	}
	return s.redact(err)
}

// redact returns err with the password removed from its text, keeping
// whether it is permanent.
func (s *Sender) redact(err error) error {
	if err == nil || s.Server.Password == "" || !strings.Contains(err.Error(), s.Server.Password) {
		return err
	}
	r := redacted{msg: strings.ReplaceAll(err.Error(), s.Server.Password, "REDACTED")}
	var perm *notify.PermanentError
	if errors.As(err, &perm) {
		return notify.Permanent(r)
	}
	return r
}

type redacted struct{ msg string }

func (r redacted) Error() string { return r.msg }

// decodeJob decodes a delivery's payload.
func decodeJob(payload []byte, job *notify.MailJob) error {
	if err := json.Unmarshal(payload, job); err != nil {
		return fmt.Errorf("mail job: %w", err)
	}
	return nil
}
