package profile

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/store"
)

// Store is what profiles need from storage.
type Store interface {
	store.Issuers
	store.IssuerImages
}

// Config wires a Service.
type Config struct {
	Store   Store
	Schemes cert.Schemes
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// OnChange, when set, is called with the issuer's id after every
	// stored change (to drop cached copies).
	OnChange func(issuer string)
}

// Service reads and changes issuer profiles.
type Service struct {
	st       Store
	schemes  cert.Schemes
	now      func() time.Time
	onChange func(string)
}

// New returns a Service.
func New(cfg Config) *Service {
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	return &Service{st: cfg.Store, schemes: cfg.Schemes, now: now, onChange: cfg.OnChange}
}

// NoIfMatch is the ifMatch of a request without If-Match.
const NoIfMatch = -1

// maxAttempts bounds the retries of a change without If-Match that lost a
// race with another writer.
const maxAttempts = 3

// Get returns the issuer for an admin, or for a key of that issuer.
func (s *Service) Get(ctx context.Context, p cert.Principal, id string) (*cert.Issuer, error) {
	if !p.CanRead(id) {
		// Not found rather than forbidden: a key of issuer A cannot learn
		// which other issuers exist.
		return nil, fmt.Errorf("issuer %s: %w", id, cert.ErrNotFound)
	}
	is, err := s.st.Issuer(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("issuer %s: %w", id, err)
	}
	return is, nil
}

// Patch applies a JSON merge patch to the issuer's profile. ifMatch is the
// version the client read (NoIfMatch when it sent none): another version
// gives ErrPrecondition. A patch that changes nothing stores nothing.
func (s *Service) Patch(ctx context.Context, p cert.Principal, id string, patch []byte, ifMatch int64) (*cert.Issuer, error) {
	return s.change(ctx, p, id, ifMatch, func(is *cert.Issuer) (cert.IssuerEvent, error) {
		before := is.Profile()
		after, err := before.MergePatch(patch)
		if err != nil {
			return cert.IssuerEvent{}, err
		}
		if err := after.Validate(s.schemes).Err(); err != nil {
			return cert.IssuerEvent{}, err
		}
		changed := cert.ChangedFields(before, after)
		is.SetProfile(after)
		return cert.IssuerEvent{Type: cert.IssuerProfileUpdated, Fields: changed}, nil
	})
}

// change loads the issuer, lets apply change it and stores it with an
// audit event, retrying a lost race when the client sent no If-Match.
// apply returns an event without fields when nothing changed.
func (s *Service) change(ctx context.Context, p cert.Principal, id string, ifMatch int64, apply func(*cert.Issuer) (cert.IssuerEvent, error)) (*cert.Issuer, error) {
	if err := canChange(p, id); err != nil {
		return nil, err
	}
	for attempt := 1; ; attempt++ {
		is, err := s.st.Issuer(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("issuer %s: %w", id, err)
		}
		if ifMatch != NoIfMatch && ifMatch != is.Version {
			return nil, fmt.Errorf("issuer %s is at version %d, not %d: read it again and reapply your change: %w", id, is.Version, ifMatch, cert.ErrPrecondition)
		}
		e, err := apply(is)
		if err != nil {
			return nil, err
		}
		if len(e.Fields) == 0 {
			return is, nil
		}
		e.At, e.Actor = s.now(), p.Actor()
		is.AppendEvent(e)
		err = s.st.UpdateIssuer(ctx, is)
		switch {
		case err == nil:
			if s.onChange != nil {
				s.onChange(id)
			}
			return is, nil
		case errors.Is(err, cert.ErrConflict) && ifMatch != NoIfMatch:
			return nil, fmt.Errorf("issuer %s changed while this request ran: read it again: %w", id, cert.ErrPrecondition)
		case errors.Is(err, cert.ErrConflict) && attempt < maxAttempts:
			continue
		default:
			return nil, fmt.Errorf("store issuer %s: %w", id, err)
		}
	}
}

// canChange allows admin API keys and the console administrators of the
// issuer itself; others read nothing of another issuer (not found).
func canChange(p cert.Principal, id string) error {
	if !p.CanRead(id) {
		return fmt.Errorf("issuer %s: %w", id, cert.ErrNotFound)
	}
	if !p.DeploymentAdmin() && (p.Role != cert.RoleAdmin || p.Issuer != id) {
		return fmt.Errorf("only an administrator can change an issuer's profile: %w", cert.ErrForbidden)
	}
	return nil
}
