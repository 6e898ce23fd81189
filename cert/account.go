package cert

import "time"

// User is a member of a certification body's staff who signs in to the
// console. Users belong to one issuer and have the roles of API keys: an
// admin user administers its own issuer (unlike an admin API key, which
// acts for the whole deployment), an issuer user issues and changes
// certificates, a viewer reads. Email is stored in lower case and is unique
// in the deployment, since sign-in asks for the email alone.
type User struct {
	ID          string `json:"id"`
	Issuer      string `json:"issuer"`
	Email       string `json:"email"`
	DisplayName string `json:"displayName,omitempty"`
	Role        Role   `json:"role"`
	Disabled    bool   `json:"disabled,omitempty"`
	// PasswordHash is a PHC string ($argon2id$v=19$m=...,t=...,p=...$salt$hash)
	// that records the parameters it was made with.
	PasswordHash string `json:"passwordHash"`
	// TOTPSecret is the base32 secret of the second factor once enrolled
	// (TOTPPending while enrolment awaits its first code).
	TOTPSecret  string `json:"totpSecret,omitempty"`
	TOTPPending string `json:"totpPending,omitempty"`
	// RecoveryCodes are SHA-256 hashes (hex) of the unused recovery codes.
	RecoveryCodes []string `json:"recoveryCodes,omitempty"`
	// FailedSignIns counts wrong passwords since the last success;
	// ThrottledUntil is when the next attempt is accepted after too many.
	FailedSignIns  int        `json:"failedSignIns,omitempty"`
	ThrottledUntil *time.Time `json:"throttledUntil,omitempty"`
	CreatedAt      time.Time  `json:"createdAt"`
	UpdatedAt      time.Time  `json:"updatedAt"`
	// Version is the optimistic-concurrency version, 1 once created.
	Version int64 `json:"version"`
}

// Principal returns the principal the user acts as: its role bound to its
// issuer, named for the audit trail.
func (u *User) Principal() Principal {
	return Principal{KeyID: "user:" + u.ID, Issuer: u.Issuer, Role: u.Role, Name: u.Email, User: true}
}

// Session is a signed-in browser. ID is the SHA-256 (hex) of the random
// value in the session cookie: the store never holds the cookie itself.
type Session struct {
	ID     string `json:"id"`
	UserID string `json:"userId"`
	Issuer string `json:"issuer"`
	// CSRF is the per-session token that forms carry.
	CSRF      string    `json:"csrf"`
	CreatedAt time.Time `json:"createdAt"`
	// LastSeen is refreshed at most once a minute; a session idle for
	// longer than the idle timeout, or older than the absolute one, ends.
	LastSeen time.Time `json:"lastSeen"`
	IP       string    `json:"ip,omitempty"`
}

// AccountTokenPurpose says what a one-time account link is for.
type AccountTokenPurpose string

// One-time link purposes.
const (
	// TokenSetup lets the first admin of an issuer choose an email and a
	// password.
	TokenSetup AccountTokenPurpose = "setup"
	// TokenInvite lets an invited colleague choose a password.
	TokenInvite AccountTokenPurpose = "invite"
)

// AccountToken is a one-time link (console setup, invitation). ID is the
// SHA-256 (hex) of the secret in the link; the link is used up when taken.
type AccountToken struct {
	ID        string              `json:"id"`
	Purpose   AccountTokenPurpose `json:"purpose"`
	Issuer    string              `json:"issuer"`
	Email     string              `json:"email,omitempty"`
	Role      Role                `json:"role"`
	CreatedBy string              `json:"createdBy,omitempty"`
	CreatedAt time.Time           `json:"createdAt"`
	ExpiresAt time.Time           `json:"expiresAt"`
}

// AccountEvent is one entry of an issuer's account audit trail: sign-ins,
// failures, sign-outs and every change of a user.
type AccountEvent struct {
	ID     string `json:"id"`
	Issuer string `json:"issuer"`
	// Type is e.g. "sign_in", "sign_in_failed", "user_created".
	Type string `json:"type"`
	// Actor is who did it (a user's email, an API key, "operator").
	Actor string `json:"actor,omitempty"`
	// Subject is the user the event is about, by id.
	Subject string    `json:"subject,omitempty"`
	Detail  string    `json:"detail,omitempty"`
	IP      string    `json:"ip,omitempty"`
	At      time.Time `json:"at"`
}
