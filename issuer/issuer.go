package issuer

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/store"
)

// Store is what issuing needs from storage.
type Store interface {
	store.Certificates
	store.Issuers
	store.Counters
	store.APIKeys
}

// RingMaker creates the key ring of a new issuer.
type RingMaker interface {
	CreateRing(ctx context.Context, issuer, keyType string) (cert.KeyInfo, error)
}

// Signer signs credential payloads with an issuer's active key.
type Signer interface {
	Sign(ctx context.Context, issuer string, payload []byte) (token, kid string, err error)
	SignMany(ctx context.Context, issuer string, payloads [][]byte) (tokens []string, kid string, err error)
}

// Config wires a Service.
type Config struct {
	Store   Store
	Signer  Signer
	Rings   RingMaker
	Schemes cert.Schemes
	// PublicURL is the base URL of the service as readers see it, without
	// a trailing slash.
	PublicURL string
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// OnChange, when set, is called with the issuer after every successful
	// write of a certificate (StatusLists.Invalidate).
	OnChange func(issuer string)
	// Printer, when set, is what certificate PDFs are printed with: a
	// certificate or issuer whose text it cannot print is refused. Without
	// it (no font installed) only cert.CheckText applies.
	Printer Printer
	// Organizations keeps the per-organization confidential flags (nil:
	// none can be set, and none applies).
	Organizations store.Organizations
	// StatusLists, when set, lends SweepDerived its status index: once
	// PrepareIndex made the marks current, a sweep reads only the
	// certificates whose sweep instant has come (StatusMark.Sweep).
	StatusLists *StatusLists
}

// Printer reports the characters of a text that certificate PDFs cannot
// print (templates.Fonts, the fonts the PDFs are set in).
type Printer interface {
	Missing(text string) []rune
}

// Service issues certificates and applies lifecycle actions.
type Service struct {
	st        Store
	signer    Signer
	rings     RingMaker
	schemes   cert.Schemes
	publicURL string
	now       func() time.Time
	positions positionBlocks
	printer   Printer
	orgs      store.Organizations
	lists     *StatusLists
	// used maps an API key id to when this process last recorded its use.
	used sync.Map
}

// New returns a Service.
func New(cfg Config) *Service {
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	st := cfg.Store
	if cfg.OnChange != nil {
		st = notifyingStore{Store: st, onChange: cfg.OnChange}
	}
	return &Service{st: st, signer: cfg.Signer, rings: cfg.Rings, schemes: cfg.Schemes, publicURL: cfg.PublicURL, now: now, printer: cfg.Printer, orgs: cfg.Organizations, lists: cfg.StatusLists}
}

// Schemes returns the schemes the service knows.
func (s *Service) Schemes() cert.Schemes { return s.schemes }

// StatusOf derives the standing of a certificate now.
func (s *Service) StatusOf(c *cert.Certificate) cert.Standing {
	return cert.StatusAt(c, s.schemes[c.Scheme], s.now())
}

// List returns a page of certificates the principal may read. Issuer keys
// see only their issuer's certificates, whatever the query says.
func (s *Service) List(ctx context.Context, p cert.Principal, q store.Query) ([]*cert.Certificate, string, error) {
	if !p.DeploymentAdmin() {
		if !p.CanRead(p.Issuer) {
			return nil, "", fmt.Errorf("a %s key cannot list certificates: %w", p.Role, cert.ErrForbidden)
		}
		if q.Issuer != "" && q.Issuer != p.Issuer {
			return nil, "", nil
		}
		q.Issuer = p.Issuer
	}
	return s.st.ListCertificates(ctx, q)
}

// Query selects certificates for List.
type Query = store.Query
