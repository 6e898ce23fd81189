package issuer

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/certd/certd/cert"
)

// SetConfidential sets or clears the confidential flag of a certificate:
// a confidential certificate verifies by its id and QR code but is left
// out of public search and of registry uploads. The write is conditional
// on the version read and is retried on a conflict, so no concurrent
// event is lost.
func (s *Service) SetConfidential(ctx context.Context, p cert.Principal, id string, confidential bool) (*cert.Certificate, error) {
	for attempt := 1; ; attempt++ {
		c, err := s.Certificate(ctx, p, id)
		if err != nil {
			return nil, err
		}
		if !p.CanWrite(c.Issuer) {
			return nil, fmt.Errorf("a %s key cannot change certificates: %w", p.Role, cert.ErrForbidden)
		}
		if c.Confidential == confidential {
			return c, nil
		}
		c.Confidential = confidential
		err = s.st.UpdateCertificate(ctx, c)
		if err == nil {
			return c, nil
		}
		if !errors.Is(err, cert.ErrConflict) || attempt == maxAttempts {
			return nil, fmt.Errorf("store certificate %s: %w", c.ID, err)
		}
		if err := backoff(ctx, attempt); err != nil {
			return nil, err
		}
	}
}

// SetOrganizationConfidential sets or clears the confidential flag of an
// organization (by its USCC, or the identifier its certificates carry) at
// an issuer: it applies to every certificate of that organization from
// that issuer, present and future, besides each certificate's own flag.
// An admin principal names the issuer; an issuer key acts for its own.
func (s *Service) SetOrganizationConfidential(ctx context.Context, p cert.Principal, issuerID, uscc string, confidential bool) error {
	if s.orgs == nil {
		return fmt.Errorf("this store keeps no organization flags: %w", cert.ErrUnavailable)
	}
	id, err := s.resolveIssuer(p, issuerID)
	if err != nil {
		return err
	}
	if err := checkOrganizationID(uscc); err != nil {
		return err
	}
	if _, err := s.issuer(ctx, id, nil); err != nil {
		return err
	}
	return s.orgs.SetOrganizationConfidential(ctx, id, uscc, confidential)
}

// checkOrganizationID checks the identifier of an organization in a path.
func checkOrganizationID(uscc string) error {
	switch {
	case strings.TrimSpace(uscc) == "":
		return cert.Invalid("uscc", "is required: the organization's USCC (or the identifier its certificates carry)")
	case cert.CheckText(uscc, cert.SingleLine) != nil:
		return cert.Invalid("uscc", cert.CheckText(uscc, cert.SingleLine).Error())
	case utf8.RuneCountInString(uscc) > 64:
		return cert.Invalid("uscc", "must be at most 64 characters")
	}
	return nil
}

// ConfidentialOrganizations returns the organizations marked confidential
// at an issuer, as a set; the public search and registry reports leave
// out their certificates. It checks no principal: what it tells decides
// what is hidden, and is never shown as such.
func (s *Service) ConfidentialOrganizations(ctx context.Context, issuerID string) (map[string]bool, error) {
	out := map[string]bool{}
	if s.orgs == nil {
		return out, nil
	}
	list, err := s.orgs.ConfidentialOrganizations(ctx, issuerID)
	if err != nil {
		return nil, fmt.Errorf("confidential organizations of %s: %w", issuerID, err)
	}
	for _, u := range list {
		out[u] = true
	}
	return out, nil
}

// ReportCertificates returns every certificate of an issuer, oldest first,
// with the effective confidential flag (EachReportCertificates, gathered).
func (s *Service) ReportCertificates(ctx context.Context, issuerID string) ([]*cert.Certificate, error) {
	var all []*cert.Certificate
	err := s.EachReportCertificates(ctx, issuerID, func(page []*cert.Certificate) error {
		all = append(all, page...)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return all, nil
}

// EachReportCertificates hands every certificate of an issuer to fn, oldest
// first, a page of at most 1,000 at a time, each with the effective
// confidential flag (its own or its organization's), so that a reader that
// keeps only what it counts holds one page in memory, not the issuer's
// certificates. fn's error stops the walk and is returned.
func (s *Service) EachReportCertificates(ctx context.Context, issuerID string, fn func(page []*cert.Certificate) error) error {
	orgs, err := s.ConfidentialOrganizations(ctx, issuerID)
	if err != nil {
		return err
	}
	q := Query{Issuer: issuerID, Limit: 1000}
	for {
		page, next, err := s.st.ListCertificates(ctx, q)
		if err != nil {
			return fmt.Errorf("certificates of %s: %w", issuerID, err)
		}
		for i, c := range page {
			if !c.Confidential && orgs[c.Organization.USCC] {
				cp := *c
				cp.Confidential = true
				page[i] = &cp
			}
		}
		if err := fn(page); err != nil {
			return err
		}
		if next == "" {
			return nil
		}
		q.Cursor = next
	}
}
