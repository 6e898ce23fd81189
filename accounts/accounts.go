package accounts

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/mail"
	"runtime"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/store"
)

// Errors of sign-in and sessions. ErrSignIn is the one answer for an
// unknown email, a wrong password, a wrong code and a disabled account, so
// that an attacker learns nothing from it.
var (
	ErrSignIn = errors.New("the email address, password or code is not right")
	// ErrThrottled: too many failed attempts for the account or from the
	// client's address; try again later.
	ErrThrottled = errors.New("too many failed sign-in attempts: wait a few minutes and try again")
	// ErrCodeRequired: the password was right and the account has a second
	// factor: ask for the code.
	ErrCodeRequired = errors.New("enter the 6-digit code of your authenticator app, or a recovery code")
	// ErrSessionEnded: the session cookie names no live session (signed
	// out, expired, or the user was disabled).
	ErrSessionEnded = errors.New("the session has ended: sign in again")
	// ErrLinkInvalid: a setup or invitation link that is unknown, used or
	// expired.
	ErrLinkInvalid = errors.New("this link is not valid any more: it was used already or has expired; ask an administrator for a new one")
)

// Config wires a Service. Zero durations and counts take the defaults.
type Config struct {
	Store store.Accounts
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Password sets the argon2id parameters of new hashes.
	Password PasswordParams
	// IdleTimeout ends a session unused for this long (default 30 min);
	// AbsoluteTimeout ends any session this old (default 12 h).
	IdleTimeout, AbsoluteTimeout time.Duration
	// MaxFailures wrong attempts in a row throttle an account for
	// ThrottleFor (defaults 10 and 15 min). IPFailures failed attempts from
	// one client address within ThrottleFor throttle that address (default
	// 30).
	MaxFailures, IPFailures int
	ThrottleFor             time.Duration
	// LinkValidity is how long setup and invitation links stay valid
	// (default 24 h).
	LinkValidity time.Duration
	// TOTPIssuer names the service in authenticator apps (default "certd").
	TOTPIssuer string
}

// Service is the accounts use cases.
type Service struct {
	cfg   Config
	st    store.Accounts
	now   func() time.Time
	ips   *ipThrottle
	dummy string
	// hashing bounds the argon2id computations running at once: each
	// takes Password.Memory, and sign-in is open to anyone.
	hashing chan struct{}
}

// New returns a Service for cfg.
func New(cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Password == (PasswordParams{}) {
		cfg.Password = DefaultPasswordParams
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&cfg.IdleTimeout, 30*time.Minute)
	def(&cfg.AbsoluteTimeout, 12*time.Hour)
	def(&cfg.ThrottleFor, 15*time.Minute)
	def(&cfg.LinkValidity, 24*time.Hour)
	if cfg.MaxFailures <= 0 {
		cfg.MaxFailures = 10
	}
	if cfg.IPFailures <= 0 {
		cfg.IPFailures = 30
	}
	if cfg.TOTPIssuer == "" {
		cfg.TOTPIssuer = "certd"
	}
	return &Service{
		cfg: cfg, st: cfg.Store, now: cfg.Now,
		ips: newIPThrottle(cfg.IPFailures, cfg.ThrottleFor, 10000),
		// Checking an unknown email against a hash of the same cost keeps
		// the answer's timing from telling which emails exist.
		dummy:   hashPassword(randomSecret(), cfg.Password),
		hashing: make(chan struct{}, max(1, runtime.GOMAXPROCS(0))),
	}
}

// now returns the clock's time in UTC, whole milliseconds (what every
// store keeps exactly).
func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Millisecond) }

// randomSecret returns 32 random bytes, base64url: the value of a cookie
// or a link.
func randomSecret() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// digest is the stored form of a secret: SHA-256, hex.
func digest(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// NormalizeEmail trims and lower-cases an email address.
func NormalizeEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

func checkEmail(v *cert.ValidationError, email string) {
	switch a, err := mail.ParseAddress(email); {
	case email == "":
		v.Add("email", "is required")
	case len(email) > 254:
		v.Add("email", "must be at most 254 characters")
	case err != nil || a.Address != email || a.Name != "":
		v.Add("email", "must be a plain e-mail address such as clerk@example.cn")
	}
}

func checkPasswordRules(v *cert.ValidationError, field, password string) {
	switch n := utf8.RuneCountInString(password); {
	case !utf8.ValidString(password):
		v.Add(field, "must be UTF-8 text")
	case n < MinPasswordLength:
		v.Add(field, fmt.Sprintf("must be at least %d characters", MinPasswordLength))
	case len(password) > MaxPasswordLength:
		v.Add(field, fmt.Sprintf("must be at most %d bytes", MaxPasswordLength))
	}
}

func checkDisplayName(v *cert.ValidationError, name string) {
	switch {
	case utf8.RuneCountInString(name) > 100:
		v.Add("displayName", "must be at most 100 characters")
	case cert.CheckText(name, cert.SingleLine) != nil:
		v.Add("displayName", cert.CheckText(name, cert.SingleLine).Error())
	}
}

// event appends an audit event; a failure to record it fails the caller,
// since an unrecorded sign-in or change must not happen silently.
func (s *Service) event(ctx context.Context, issuer, typ, actor, subject, detail, ip string) error {
	e := &cert.AccountEvent{ID: cert.NewID(), Issuer: issuer, Type: typ, Actor: actor, Subject: subject, Detail: detail, IP: ip, At: s.clock()}
	if err := s.st.AppendAccountEvent(ctx, e); err != nil {
		return fmt.Errorf("record %s event: %w", typ, err)
	}
	return nil
}

// checkPassword checks a password within the bound of concurrent hashes;
// a caller that waits longer than its context allows gets the context's
// error.
func (s *Service) checkPassword(ctx context.Context, password, phc string) (bool, error) {
	select {
	case s.hashing <- struct{}{}:
	case <-ctx.Done():
		return false, fmt.Errorf("password check: %w: %w", cert.ErrUnavailable, ctx.Err())
	}
	defer func() { <-s.hashing }()
	return checkPassword(password, phc)
}

// Events returns the newest account events of an issuer (admins of the
// issuer, and deployment admins).
func (s *Service) Events(ctx context.Context, p cert.Principal, issuer string, limit int) ([]*cert.AccountEvent, error) {
	if err := canAdminister(p, issuer); err != nil {
		return nil, err
	}
	return s.st.AccountEvents(ctx, issuer, limit)
}

// canAdminister allows deployment admins and the admins of issuer.
func canAdminister(p cert.Principal, issuer string) error {
	if p.DeploymentAdmin() || (p.Role == cert.RoleAdmin && p.Issuer == issuer) {
		return nil
	}
	return fmt.Errorf("only an administrator of %s may manage its users: %w", issuer, cert.ErrForbidden)
}
