package store

import (
	"context"
	"time"

	"github.com/certd/certd/cert"
)

// StatusMark is what a store keeps of a certificate for its issuer's
// status lists (DESIGN.md section 7): the bits it has at the moment it was
// written, and the instant from which they may differ by time alone.
type StatusMark struct {
	Revoked, Suspended bool
	// Watch is the earliest instant after the write at which the bits may
	// change without a write (a surveillance window closing, a suspension
	// reaching its limit, a future-dated event); zero when they never do.
	Watch time.Time
	// Sweep is the earliest instant at which the periodic sweep has work
	// on the certificate (a time-derived change its events do not record
	// yet, a link to a superseded certificate to check); zero when never.
	// It may lie in the past: the certificate is then due at once.
	Sweep time.Time
}

// StatusMarker computes the mark of a certificate being written. It must
// be safe for concurrent use and must not call the store.
type StatusMarker func(c *cert.Certificate) StatusMark

// StatusEntry is one position of a status list whose stored mark has a
// bit set.
type StatusEntry struct {
	List, Index        int
	Revoked, Suspended bool
}

// StatusView is what a store holds of one issuer's status lists.
type StatusView struct {
	// Lists are the numbers of the lists that hold at least one
	// certificate, ascending.
	Lists []int
	// Marked are the positions whose mark has a bit set, by list and
	// index.
	Marked []StatusEntry
	// Due are the certificates whose mark's Watch is at or before the
	// instant asked for: their bits must be derived again.
	Due []*cert.Certificate
}

// StatusIndex keeps, with every certificate write, the certificate's
// status mark, so that status lists are built from the marks with a bit
// set and the certificates whose bits may have changed with time, never
// from a read of every certificate.
//
// The mark is written atomically with the certificate: in the same
// transaction (bbolt) or in the same document (MongoDB). Marks are only as
// good as the marker that computed them; StatusMarkerTag tells which one
// that was, and ReindexStatus computes every mark again.
type StatusIndex interface {
	// SetStatusMarker sets the function that computes marks from now on,
	// and the tag that names its rules (a version and the scheme rules it
	// applies). Writes made without a marker leave marks as they were.
	SetStatusMarker(tag string, f StatusMarker)
	// StatusMarkerTag returns the tag of the marker with which every mark
	// was last computed by ReindexStatus, or "" when never.
	StatusMarkerTag(ctx context.Context) (string, error)
	// ReindexStatus computes the mark of every certificate with the
	// current marker and then records its tag. Writes during the reindex
	// keep their own marks; a certificate written concurrently is marked
	// by whichever write is later. Without a marker it fails with
	// cert.ErrInvalid.
	ReindexStatus(ctx context.Context) error
	// StatusView returns the issuer's lists, marked positions, and the
	// certificates whose Watch is at or before at. On bbolt it is one
	// consistent read; on MongoDB three queries, each consistent on its
	// own. An issuer without certificates has an empty view.
	StatusView(ctx context.Context, issuer string, at time.Time) (*StatusView, error)
	// SweepDue returns up to limit certificates, of every issuer, whose
	// mark's Sweep is at or before at, in the order of (Sweep, id), from
	// the cursor on ("" for the first page), and the cursor of the next
	// page ("" after the last). Certificates written between pages are
	// found by a later page if their new Sweep still is at or before at
	// and after the cursor.
	SweepDue(ctx context.Context, at time.Time, cursor string, limit int) ([]*cert.Certificate, string, error)
	// DeferSweep sets the Sweep of the certificate id to until (zero:
	// never) when the certificate is still at version; a certificate
	// written since (a later version, marked by that write) or deleted is
	// left as it is, without an error. It changes neither the certificate
	// nor its other marks.
	DeferSweep(ctx context.Context, id string, version int64, until time.Time) error
}

// ValidityQuery asks for the certificates of one issuer whose ValidFrom
// (ValidUntil when Until is set) lies in [From, To).
type ValidityQuery struct {
	Issuer   string
	Until    bool
	From, To time.Time
	// Limit is the page size (the store's default when 0); Cursor is ""
	// for the first page, then the cursor the previous page returned.
	Limit  int
	Cursor string
}

// ValidityIndex finds certificates by their validity dates, from which
// every calendar instant of a certificate follows (surveillance windows
// from ValidFrom, expiry at ValidUntil), so that a sweep for reminders
// reads the certificates whose instants fall in a few short ranges, not
// every certificate. It is maintained by every certificate write and
// built at start when missing.
type ValidityIndex interface {
	// CertificatesByValidity returns a page of the certificates q asks
	// for, in the order of the date and then the id, and the cursor of
	// the next page ("" after the last). A malformed cursor is
	// cert.ErrInvalid.
	CertificatesByValidity(ctx context.Context, q ValidityQuery) ([]*cert.Certificate, string, error)
}
