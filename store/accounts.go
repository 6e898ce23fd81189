package store

import (
	"context"

	"github.com/certd/certd/cert"
)

// Accounts stores the console's users, their sessions, one-time account
// links and the account audit trail. Every method is atomic on its own
// document; nothing spans two writes.
type Accounts interface {
	// CreateUser stores a new user with Version 1 (set on u);
	// ErrAlreadyExists when the id or the email is taken.
	CreateUser(ctx context.Context, u *cert.User) error
	// User returns the user with the id, or ErrNotFound.
	User(ctx context.Context, id string) (*cert.User, error)
	// UserByEmail returns the user with the email (as stored: lower
	// case), or ErrNotFound.
	UserByEmail(ctx context.Context, email string) (*cert.User, error)
	// UpdateUser replaces the user whose stored version is u.Version,
	// storing u with Version+1 (set on u): ErrConflict when the stored
	// version differs, ErrNotFound when there is no such user. Id, issuer
	// and email never change.
	UpdateUser(ctx context.Context, u *cert.User) error
	// Users lists an issuer's users in id order.
	Users(ctx context.Context, issuer string) ([]*cert.User, error)

	// CreateSession stores a session; ErrAlreadyExists when the id is taken.
	CreateSession(ctx context.Context, s *cert.Session) error
	// Session returns the session with the id, or ErrNotFound.
	Session(ctx context.Context, id string) (*cert.Session, error)
	// TouchSession sets the session's LastSeen; ErrNotFound when it is gone.
	TouchSession(ctx context.Context, s *cert.Session) error
	// DeleteSession removes a session; removing a missing one is no error.
	DeleteSession(ctx context.Context, id string) error
	// DeleteUserSessions removes every session of a user and returns how
	// many there were.
	DeleteUserSessions(ctx context.Context, userID string) (int, error)

	// CreateAccountToken stores a one-time link; ErrAlreadyExists when the
	// id is taken.
	CreateAccountToken(ctx context.Context, t *cert.AccountToken) error
	// TakeAccountToken removes the link with the id and returns it, in
	// one atomic step: of concurrent callers, one gets it and the others
	// ErrNotFound, as does a caller after it was taken.
	TakeAccountToken(ctx context.Context, id string) (*cert.AccountToken, error)

	// AppendAccountEvent stores an event of the audit trail;
	// ErrAlreadyExists when its id is taken.
	AppendAccountEvent(ctx context.Context, e *cert.AccountEvent) error
	// AccountEvents returns an issuer's newest events first, at most limit
	// (1-1000; 0 means 100).
	AccountEvents(ctx context.Context, issuer string, limit int) ([]*cert.AccountEvent, error)
}
