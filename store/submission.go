package store

import (
	"context"

	"github.com/certd/certd/cert"
)

// Submissions stores the reports an issuer marked as submitted. Records
// are append-only, so several instances can add them at once without a
// lock: nothing is ever updated.
type Submissions interface {
	// CreateSubmission stores a new submission; an id already stored
	// gives ErrAlreadyExists.
	CreateSubmission(ctx context.Context, s *cert.Submission) error
	// Submissions returns an issuer's submissions to a target, oldest
	// first (by SubmittedAt, then id).
	Submissions(ctx context.Context, issuer, target string) ([]*cert.Submission, error)
}
