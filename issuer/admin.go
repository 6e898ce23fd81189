package issuer

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/certd/certd/cert"
)

// IssuerRequest is the body of POST /api/v1/issuers.
type IssuerRequest struct {
	ID                  string `json:"id"`
	Name                string `json:"name"`
	NameZh              string `json:"nameZh,omitempty"`
	AccreditationBody   string `json:"accreditationBody,omitempty"`
	AccreditationNumber string `json:"accreditationNumber,omitempty"`
	Contact             string `json:"contact,omitempty"`
	TimeZone            string `json:"timeZone,omitempty"`
	NumberPattern       string `json:"numberPattern,omitempty"`
	NumberPrefix        string `json:"numberPrefix,omitempty"`
	// NumberPatterns maps a scheme id to its number pattern (optional).
	NumberPatterns map[string]string `json:"numberPatterns,omitempty"`
	KeyType        string            `json:"keyType,omitempty"`
}

// CreateIssuer creates an issuer and its key ring. Only admins may.
func (s *Service) CreateIssuer(ctx context.Context, p cert.Principal, req IssuerRequest) (*cert.Issuer, error) {
	if !p.DeploymentAdmin() {
		return nil, fmt.Errorf("only an admin key can create issuers: %w", cert.ErrForbidden)
	}
	is := &cert.Issuer{
		ID: req.ID, Name: strings.TrimSpace(req.Name), NameZh: strings.TrimSpace(req.NameZh),
		Contact: req.Contact, TimeZone: req.TimeZone, NumberPattern: req.NumberPattern,
		NumberPrefix: req.NumberPrefix, NumberPatterns: req.NumberPatterns, KeyType: req.KeyType, CreatedAt: s.now(),
	}
	is.MigrateAccreditation(req.AccreditationBody, req.AccreditationNumber)
	is.Normalize()
	if err := is.Validate(); err != nil {
		return nil, err
	}
	p2 := is.Profile()
	if err := p2.Validate(s.schemes).Err(); err != nil {
		return nil, err
	}
	if err := s.checkPrintable(p2.Texts()); err != nil {
		return nil, err
	}
	is.Version = 1
	is.AppendEvent(cert.IssuerEvent{Type: cert.IssuerCreated, At: is.CreatedAt, Actor: p.Actor()})
	is.StatusKey = make([]byte, 32)
	_, _ = rand.Read(is.StatusKey)
	// The key ring first: an issuer without keys could not sign, while a
	// ring without an issuer is harmless and is reused on a retry.
	if _, err := s.rings.CreateRing(ctx, is.ID, is.KeyType); err != nil && !errors.Is(err, cert.ErrAlreadyExists) {
		return nil, fmt.Errorf("create key ring of %s: %w", is.ID, err)
	}
	if err := s.st.CreateIssuer(ctx, is); err != nil {
		if errors.Is(err, cert.ErrAlreadyExists) {
			return nil, fmt.Errorf("id: issuer %q already exists: %w", is.ID, err)
		}
		return nil, fmt.Errorf("store issuer %s: %w", is.ID, err)
	}
	return is, nil
}

// APIKeyRequest is the body of POST /api/v1/apikeys.
type APIKeyRequest struct {
	Issuer string    `json:"issuer,omitempty"`
	Role   cert.Role `json:"role"`
	Name   string    `json:"name,omitempty"`
}

// TokenPrefix starts every API key token, so leaked keys are easy to find
// with secret scanners.
const TokenPrefix = "certd_"

// HashToken is how API key tokens are stored.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// CreateAPIKey creates an API key and returns it with its token, which is
// shown once and never stored.
func (s *Service) CreateAPIKey(ctx context.Context, p cert.Principal, req APIKeyRequest) (*cert.APIKey, string, error) {
	switch {
	case p.DeploymentAdmin():
	case issuerAdmin(p) && req.Role != cert.RoleAdmin:
		// A console administrator makes keys of its own issuer only.
		req.Issuer = p.Issuer
	default:
		return nil, "", fmt.Errorf("only an admin key can create API keys: %w", cert.ErrForbidden)
	}
	var v cert.ValidationError
	switch req.Role {
	case cert.RoleAdmin:
		if req.Issuer != "" {
			v.Add("issuer", "must be empty for an admin key (admin keys act for every issuer)")
		}
	case cert.RoleIssuer, cert.RoleViewer:
		if req.Issuer == "" {
			v.Add("issuer", "is required for an issuer or viewer key")
		} else if _, err := s.st.Issuer(ctx, req.Issuer); errors.Is(err, cert.ErrNotFound) {
			v.Add("issuer", fmt.Sprintf("no issuer %q exists here", req.Issuer))
		} else if err != nil {
			return nil, "", err
		}
	case cert.RoleWatcher:
		if req.Issuer != "" {
			v.Add("issuer", "must be empty for a watcher key (a watcher reads public data and keeps its own watchlist)")
		}
	default:
		v.Add("role", `must be "issuer", "viewer", "watcher" or "admin"`)
	}
	if err := cert.CheckText(req.Name, cert.SingleLine); err != nil {
		v.Add("name", err.Error())
	} else if len(req.Name) > 100 {
		v.Add("name", "must be at most 100 characters")
	}
	if err := v.Err(); err != nil {
		return nil, "", err
	}
	return s.newAPIKey(ctx, req)
}

func (s *Service) newAPIKey(ctx context.Context, req APIKeyRequest) (*cert.APIKey, string, error) {
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	token := TokenPrefix + base64.RawURLEncoding.EncodeToString(secret)
	k := &cert.APIKey{
		ID: strings.ToLower(cert.NewID()[:16]), Hash: HashToken(token), Issuer: req.Issuer,
		Role: req.Role, Name: req.Name, CreatedAt: s.now(),
	}
	if err := s.st.CreateAPIKey(ctx, k); err != nil {
		return nil, "", fmt.Errorf("store API key: %w", err)
	}
	return k, token, nil
}

// Issuers lists every issuer (public information: published keys and the
// verification page name them).
func (s *Service) Issuers(ctx context.Context) ([]*cert.Issuer, error) {
	return s.st.Issuers(ctx)
}

// Issuer returns one issuer, or ErrNotFound.
func (s *Service) Issuer(ctx context.Context, id string) (*cert.Issuer, error) {
	return s.st.Issuer(ctx, id)
}
