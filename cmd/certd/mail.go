package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/mail"
	"github.com/certd/certd/templates"
)

// validateMail checks --smtp-url and --mail-from. The errors name the
// flag and never repeat the URL, which may hold a password.
func (c *Config) validateMail() []error {
	var errs []error
	if c.SMTPURL != "" {
		if _, err := mail.ParseURL(c.SMTPURL); err != nil {
			errs = append(errs, fmt.Errorf("--smtp-url: %v", err))
		}
		if c.MailFrom == "" {
			errs = append(errs, errors.New("--mail-from: is required with --smtp-url: the sender of notification e-mail, e.g. cert@example.cn"))
		}
	}
	if c.MailFrom != "" {
		if _, err := mail.ParseFrom(c.MailFrom); err != nil {
			errs = append(errs, fmt.Errorf("--mail-from: %v", err))
		}
	}
	return errs
}

// newMailer returns the sender of notification e-mail, or nil without
// --smtp-url (the worker then records e-mails as not sent). PDFs are
// attached when fonts are available.
func (m *Main) newMailer(fonts templates.Fonts, fontErr error) (*mail.Sender, error) {
	cfg := &m.Config
	if cfg.SMTPURL == "" {
		m.Logger.Info("e-mail notifications are off (no --smtp-url): e-mail deliveries are recorded as not sent")
		return nil, nil
	}
	server, err := mail.ParseURL(cfg.SMTPURL)
	if err != nil {
		return nil, fmt.Errorf("--smtp-url: %w", err)
	}
	from, err := mail.ParseFrom(cfg.MailFrom)
	if err != nil {
		return nil, fmt.Errorf("--mail-from: %w", err)
	}
	s := &mail.Sender{
		Server: server, From: from, PublicURL: cfg.PublicURL, Now: m.Now,
		Certificate: func(ctx context.Context, id string) (*cert.Certificate, error) {
			return m.store.Certificate(ctx, id)
		},
		Status: m.Issuer.StatusOf,
		Scheme: func(id string) *cert.Scheme { return m.Issuer.Schemes()[id] },
		Issuer: m.Issuer.Issuer,
	}
	if fontErr == nil && fonts.Len() > 0 {
		// The PDF the verification page serves, from its cache: the API
		// exists by the time the worker sends the first mail.
		s.RenderPDF = func(ctx context.Context, c *cert.Certificate) ([]byte, error) {
			return m.API.CertificatePDF(ctx, c)
		}
	}
	m.Logger.Info("e-mail notifications", "relay", server.String(), "from", from.Address)
	return s, nil
}
