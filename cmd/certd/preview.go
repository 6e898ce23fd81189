package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/profile"
	"github.com/certd/certd/templates"
)

// previewer renders an issuer's certificate PDF with a sample certificate
// and the issuer's current profile, logo and seal: the console's preview of
// what a profile change does to the documents. The sample says SAMPLE in
// its number and names, carries no credential, and its QR code leads to a
// page that says it is not registered.
func (m *Main) previewer(fonts templates.Fonts, profiles *profile.Service, schemes cert.Schemes) func(ctx context.Context, issuer string) ([]byte, error) {
	return func(ctx context.Context, id string) ([]byte, error) {
		if fonts.Len() == 0 {
			return nil, fmt.Errorf("no fonts to print certificates with: %w", cert.ErrUnavailable)
		}
		is, err := m.Issuer.Issuer(ctx, id)
		if err != nil {
			return nil, err
		}
		ids := schemes.IDs()
		if len(ids) == 0 {
			return nil, errors.New("no scheme")
		}
		scheme := schemes[ids[0]]
		if s, ok := schemes["itss"]; ok {
			scheme = s
		}
		loc, err := cert.LoadLocation(is.TimeZone)
		if err != nil {
			loc = time.UTC
		}
		now := m.Now().In(loc)
		from := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc)
		c := &cert.Certificate{
			ID: "SAMPLE000000000000000000000"[:cert.IDLength], Number: "SAMPLE-样本", Issuer: id, Scheme: scheme.ID,
			Standard: "GB/T 28827.1-2022", Scope: "信息系统运行维护服务（样本）", ScopeEn: "IT operation and maintenance services (sample)",
			Sites:        []cert.Site{{Name: "总部（样本）", Address: "北京市海淀区中关村大街1号"}},
			Organization: cert.Organization{Name: "示例科技有限公司（样本）", NameEn: "Sample Technology Co., Ltd.", USCC: "91110108MA0123456G", Address: "北京市海淀区中关村大街1号", Country: "CN"},
			ValidFrom:    from, ValidUntil: from.AddDate(0, scheme.ValidityMonths, 0), TimeZone: is.TimeZone,
		}
		if len(scheme.Categories) > 0 {
			c.Category = scheme.Categories[0]
		}
		if scheme.Levels != nil {
			c.Level = scheme.Levels.Min
		}
		doc := templates.CertificateDoc{Certificate: c, Issuer: is, Scheme: scheme, Status: cert.StatusActive,
			VerifyURL: cert.VerifyURL(m.Config.PublicURL, c.ID), GeneratedAt: m.Now(),
			// The attachment a real certificate carries; this one is no
			// credential, so "verify a file" says so.
			Credential: "sample.not-signed.sample"}
		for kind, dst := range map[string]*[]byte{"logo": &doc.Logo, "seal": &doc.Seal} {
			img, err := profiles.Image(ctx, id, kind)
			switch {
			case err == nil:
				*dst = img.PNG
			case !errors.Is(err, cert.ErrNotFound):
				return nil, err
			}
		}
		return templates.RenderPDF(doc, fonts)
	}
}
