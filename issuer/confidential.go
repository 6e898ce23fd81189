package issuer

import (
	"context"
	"errors"
	"fmt"

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
