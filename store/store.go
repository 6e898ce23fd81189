package store

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/certd/certd/cert"
)

// Sentinel errors; the same values as the domain's error kinds, so errors.Is
// works across layers.
var (
	ErrNotFound      = cert.ErrNotFound
	ErrAlreadyExists = cert.ErrAlreadyExists
	ErrConflict      = cert.ErrConflict
	ErrUnavailable   = cert.ErrUnavailable
)

// Certificates stores certificates with their events.
type Certificates interface {
	// CreateCertificate stores a new certificate with Version 1 (the field
	// is set on c). It fails with ErrAlreadyExists, storing nothing, when
	// the id, (issuer, number), (issuer, statusList, statusIndex) or
	// (issuer, idempotencyKey) is taken.
	CreateCertificate(ctx context.Context, c *cert.Certificate) error
	// CreateCertificates stores many certificates, each on its own terms:
	// errs[i] is the result for cs[i], as CreateCertificate would give it.
	// A backend groups the writes (one commit, one round trip) where it
	// can. The returned error is for the call as a whole (unavailable).
	CreateCertificates(ctx context.Context, cs []*cert.Certificate) (errs []error, err error)
	// Certificate returns the certificate with the id, or ErrNotFound.
	Certificate(ctx context.Context, id string) (*cert.Certificate, error)
	// CertificateByNumber returns the certificate of an issuer with the
	// number, or ErrNotFound.
	CertificateByNumber(ctx context.Context, issuer, number string) (*cert.Certificate, error)
	// CertificateByIdempotencyKey returns the certificate created with the
	// key, or ErrNotFound. It sees every certificate whose creation has
	// failed with ErrAlreadyExists before the call (read your winner), so
	// that a concurrent retry under the same key is a replay.
	CertificateByIdempotencyKey(ctx context.Context, issuer, key string) (*cert.Certificate, error)
	// UpdateCertificate replaces the certificate whose stored version is
	// c.Version, storing c with Version+1 (set on c). A stored version that
	// differs gives ErrConflict; a missing certificate ErrNotFound. Id,
	// issuer, number, status position and idempotency key never change.
	UpdateCertificate(ctx context.Context, c *cert.Certificate) error
	// ListCertificates returns one page of an issuer's certificates (all
	// issuers when q.Issuer is empty) in creation order, oldest first, and
	// the cursor of the next page ("" when this is the last).
	ListCertificates(ctx context.Context, q Query) ([]*cert.Certificate, string, error)
}

// Query selects certificates for ListCertificates.
type Query struct {
	Issuer string
	Scheme string
	// USCC matches exactly; Number matches exactly.
	USCC   string
	Number string
	// Limit is 1-1000; 0 means 100.
	Limit int
	// Cursor is the value a previous page returned.
	Cursor string
}

// Searcher finds certificates for the public search (GET /search).
type Searcher interface {
	// Search returns one page of the certificates that match q.Text, of
	// every issuer, newest first (CreatedAt descending, then id
	// descending), and the cursor of the next page ("" on the last page).
	//
	// A certificate matches when any of these holds, with Text trimmed of
	// surrounding white space:
	//   - its number equals Text, or Text in upper case (exact, not a part);
	//   - its organization's USCC equals Text in upper case (exact);
	//   - its organization's name or English name contains Text, with
	//     letters compared case-insensitively: A-Z always; other letters
	//     (É/é) may fold too, depending on the backend.
	// Text is literal: no wildcard or pattern character has a meaning.
	//
	// The limit is clamped to 1-SearchMaxLimit (0 means
	// SearchDefaultLimit). Text empty or longer than SearchMaxText bytes,
	// text without an ASCII letter or digit or a character outside ASCII
	// (punctuation alone: no number or USCC is made of it, and no index
	// can answer it without reading every name), or a cursor this backend
	// did not return, gives an error matching cert.ErrInvalid. Pages are stable under concurrent inserts: a
	// certificate created after the first page was read is not returned
	// by the later pages. Search reads; it changes nothing.
	Search(ctx context.Context, q SearchQuery) ([]*cert.Certificate, string, error)
	// CountSearch returns how many certificates that are not confidential
	// match text as in Search, counting no further than upTo+1: a result
	// above upTo means "more than upTo". Text is checked as in Search.
	CountSearch(ctx context.Context, text string, upTo int) (int, error)
}

// SearchQuery is one page of a search.
type SearchQuery struct {
	// Text is a certificate number, a USCC, or a part of an organization
	// name (Chinese or English).
	Text string
	// Limit is 1-SearchMaxLimit; 0 means SearchDefaultLimit.
	Limit int
	// Cursor is the value a previous page of the same Text returned.
	Cursor string
}

// Search limits.
const (
	SearchDefaultLimit = 20
	SearchMaxLimit     = 50
	// SearchMaxText bounds SearchQuery.Text, in bytes after trimming.
	SearchMaxText = 200
)

// CheckSearch validates q as the Searcher contract says and returns the
// trimmed text and the clamped limit; backends call it first.
func CheckSearch(q SearchQuery) (text string, limit int, err error) {
	text = strings.TrimSpace(q.Text)
	switch {
	case text == "":
		return "", 0, cert.Invalid("text", "is required: a certificate number, a USCC or a part of an organization name")
	case len(text) > SearchMaxText:
		return "", 0, cert.Invalid("text", fmt.Sprintf("must be at most %d bytes", SearchMaxText))
	case !utf8.ValidString(text) || strings.ContainsRune(text, 0):
		return "", 0, cert.Invalid("text", "must be UTF-8 text without NUL characters")
	case !HasSearchWord(text):
		return "", 0, cert.Invalid("text", SearchWordMessage)
	}
	limit = min(q.Limit, SearchMaxLimit)
	if limit < 1 {
		limit = SearchDefaultLimit
	}
	return text, limit, nil
}

// SearchWordMessage says what a search text needs besides punctuation.
const SearchWordMessage = "must contain a letter, a digit or a Chinese character: punctuation alone is not searched"

// HasSearchWord reports whether text has a character a search can look up:
// an ASCII letter or digit, or a character outside ASCII (store.PlanSearch
// makes index terms of exactly those).
func HasSearchWord(text string) bool {
	for i := 0; i < len(text); i++ {
		if b := text[i]; b >= utf8.RuneSelf || 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' {
			return true
		}
	}
	return false
}

// Issuers stores certification bodies.
type Issuers interface {
	// CreateIssuer stores a new issuer; ErrAlreadyExists when the id is taken.
	CreateIssuer(ctx context.Context, is *cert.Issuer) error
	// Issuer returns the issuer or ErrNotFound.
	Issuer(ctx context.Context, id string) (*cert.Issuer, error)
	// Issuers returns every issuer ordered by id.
	Issuers(ctx context.Context) ([]*cert.Issuer, error)
	// UpdateIssuer replaces the issuer whose stored version is is.Version
	// (0 for an issuer stored before versions existed), storing is with
	// Version+1 (set on is). The check and the write are one atomic step
	// in the backend, so of two writers from the same version on any
	// number of instances exactly one succeeds. A stored version that
	// differs gives ErrConflict, a missing issuer ErrNotFound; neither
	// stores anything. The id and status key never change.
	UpdateIssuer(ctx context.Context, is *cert.Issuer) error
}

// IssuerImages stores the images of issuers (logo, seal), addressed by
// issuer and the SHA-256 of the bytes; the issuer record names the image
// it uses (cert.ImageRef), so an image and the record that points to it
// never need one atomic write.
type IssuerImages interface {
	// PutImage stores img; storing the same (issuer, SHA256) again
	// succeeds and changes nothing.
	PutImage(ctx context.Context, img *cert.Image) error
	// Image returns the image, or ErrNotFound.
	Image(ctx context.Context, issuer, sha256 string) (*cert.Image, error)
}

// KeyRings stores the key ring of each issuer.
type KeyRings interface {
	// KeyRing returns the ring of an issuer or ErrNotFound.
	KeyRing(ctx context.Context, issuer string) (*cert.KeyRing, error)
	// PutKeyRing creates the ring when r.Version is 0 (ErrAlreadyExists if
	// one exists) or replaces the ring stored with r.Version (ErrConflict
	// otherwise). The stored version, Version+1, is set on r.
	PutKeyRing(ctx context.Context, r *cert.KeyRing) error
}

// APIKeys stores API keys by id and by hash.
type APIKeys interface {
	// CreateAPIKey stores a key; ErrAlreadyExists when the id or hash is taken.
	CreateAPIKey(ctx context.Context, k *cert.APIKey) error
	// APIKeyByHash returns the key with the hash, or ErrNotFound.
	APIKeyByHash(ctx context.Context, hash string) (*cert.APIKey, error)
	// APIKey returns the key with the id, or ErrNotFound.
	APIKey(ctx context.Context, id string) (*cert.APIKey, error)
	// UpdateAPIKey replaces a stored key (used to revoke); ErrNotFound.
	UpdateAPIKey(ctx context.Context, k *cert.APIKey) error
	// APIKeys lists the keys, of one issuer or all when issuer is "".
	APIKeys(ctx context.Context, issuer string) ([]*cert.APIKey, error)
	// RevokeAPIKey sets the key's RevokedAt to at and returns the stored
	// key; a key already revoked is returned unchanged. It refuses, with
	// cert.ErrLastAdminKey and nothing changed, to revoke the last active
	// admin key, also against concurrent revocations on other instances:
	// when two admin keys revoke each other at once, at most one succeeds.
	// ErrNotFound when there is no such key.
	RevokeAPIKey(ctx context.Context, id string, at time.Time) (*cert.APIKey, error)
	// MarkAPIKeyUsed records at as the key's LastUsedAt unless a later
	// time is stored; it changes no other field (a concurrent revocation
	// stays). ErrNotFound when there is no such key.
	MarkAPIKeyUsed(ctx context.Context, id string, at time.Time) error
}

// Counters hands out sequence numbers.
type Counters interface {
	// NextSequence atomically adds n (>= 1) to the named counter and
	// returns the first of the n values reserved: counters start at 1, and
	// no value is ever handed out twice, even to concurrent callers on
	// several instances. A reservation is durable no later than the
	// first write of the store that begins after it returned (the
	// embedded store keeps it in memory until then, so that a certificate
	// and its number cost one commit): use the values only in writes made
	// after it. After a crash, values that no committed write followed may
	// be handed out again.
	NextSequence(ctx context.Context, name string, n int64) (int64, error)
}

// Store is everything a backend provides.
type Store interface {
	Certificates
	Searcher
	Issuers
	IssuerImages
	KeyRings
	APIKeys
	Counters
	Accounts
	Webhooks
	Outbox
	Watches
	// Ping reports whether the backend can answer now.
	Ping(ctx context.Context) error
	io.Closer
}
