package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/mail"
	"github.com/certd/certd/profile"
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
func (m *Main) newMailer(fonts templates.Fonts, fontErr error, profiles *profile.Service) (*mail.Sender, error) {
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
		s.RenderPDF = func(ctx context.Context, c *cert.Certificate) ([]byte, error) {
			return m.renderPDF(ctx, c, fonts, profiles)
		}
	}
	m.Logger.Info("e-mail notifications", "relay", server.String(), "from", from.Address)
	return s, nil
}

// renderPDF prints a certificate as GET /v/{id}/certificate.pdf does.
func (m *Main) renderPDF(ctx context.Context, c *cert.Certificate, fonts templates.Fonts, profiles *profile.Service) ([]byte, error) {
	is, err := m.Issuer.Issuer(ctx, c.Issuer)
	if err != nil {
		return nil, err
	}
	scheme := m.Issuer.Schemes()[c.Scheme]
	if scheme == nil {
		return nil, fmt.Errorf("certificate %s has unknown scheme %q", c.ID, c.Scheme)
	}
	doc := templates.CertificateDoc{
		Certificate: c, Issuer: is, Scheme: scheme, Status: m.Issuer.StatusOf(c).Status,
		VerifyURL: cert.VerifyURL(m.Config.PublicURL, c.ID), QRContent: templates.QRContent(m.Config.PublicURL, c.ID),
		Credential: c.Credential, GeneratedAt: m.Now(),
	}
	image := func(ref *cert.ImageRef, kind string) ([]byte, error) {
		if ref == nil || profiles == nil {
			return nil, nil
		}
		img, err := profiles.Image(ctx, is.ID, kind)
		if errors.Is(err, cert.ErrNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		return img.PNG, nil
	}
	if doc.Logo, err = image(is.Logo, cert.ImageLogo); err != nil {
		return nil, err
	}
	if doc.Seal, err = image(is.Seal, cert.ImageSeal); err != nil {
		return nil, err
	}
	return templates.RenderPDF(doc, fonts)
}
