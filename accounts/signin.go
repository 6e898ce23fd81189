package accounts

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/store"
)

// SignInRequest is what the sign-in form sends, with the client's address.
type SignInRequest struct {
	Email    string
	Password string
	// Code is the TOTP code or a recovery code, when the account has a
	// second factor.
	Code string
	IP   string
}

// SignedIn is a new session: Cookie is the secret for the session cookie
// (the store keeps its digest), Session carries the CSRF token.
type SignedIn struct {
	Cookie  string
	Session *cert.Session
	User    *cert.User
}

// SignIn checks an email and password (and the second factor when the
// account has one) and opens a session. Every failure is ErrSignIn,
// ErrThrottled or ErrCodeRequired, and is an audit event of the account's
// issuer when the account exists.
func (s *Service) SignIn(ctx context.Context, req SignInRequest) (*SignedIn, error) {
	now := s.clock()
	if s.ips.blocked(req.IP, now) {
		return nil, ErrThrottled
	}
	email := NormalizeEmail(req.Email)
	if len(req.Password) > MaxPasswordLength {
		s.ips.fail(req.IP, now)
		return nil, ErrSignIn
	}
	u, err := s.st.UserByEmail(ctx, email)
	if errors.Is(err, store.ErrNotFound) || (err == nil && email == "") {
		_, _ = s.checkPassword(ctx, req.Password, s.dummy)
		s.ips.fail(req.IP, now)
		return nil, ErrSignIn
	}
	if err != nil {
		return nil, err
	}
	if u.ThrottledUntil != nil && now.Before(*u.ThrottledUntil) {
		s.ips.fail(req.IP, now)
		return nil, errors.Join(ErrThrottled, s.event(ctx, u.Issuer, "sign_in_refused", email, u.ID, "account throttled", req.IP))
	}
	ok, err := s.checkPassword(ctx, req.Password, u.PasswordHash)
	if errors.Is(err, cert.ErrUnavailable) {
		return nil, err
	}
	if err != nil || !ok || u.Disabled {
		detail := "wrong password"
		if ok {
			detail = "account disabled"
		}
		return nil, s.failed(ctx, u, req.IP, detail)
	}
	if u.TOTPSecret != "" {
		switch {
		case req.Code == "":
			return nil, ErrCodeRequired
		case s.validCode(u.TOTPSecret, req.Code):
		case useRecoveryCode(u, req.Code):
		default:
			return nil, s.failed(ctx, u, req.IP, "wrong second-factor code")
		}
	}
	u.FailedSignIns, u.ThrottledUntil, u.UpdatedAt = 0, nil, now
	if err := s.st.UpdateUser(ctx, u); err != nil {
		return nil, err
	}
	cookie := randomSecret()
	se := &cert.Session{ID: digest(cookie), UserID: u.ID, Issuer: u.Issuer, CSRF: randomSecret(), CreatedAt: now, LastSeen: now, IP: req.IP}
	if err := s.st.CreateSession(ctx, se); err != nil {
		return nil, err
	}
	if err := s.event(ctx, u.Issuer, "sign_in", email, u.ID, "", req.IP); err != nil {
		return nil, err
	}
	return &SignedIn{Cookie: cookie, Session: se, User: u}, nil
}

// failed counts a failed attempt on the account (throttling it after
// MaxFailures in a row) and on the address, records it, and returns the
// answer the client gets.
func (s *Service) failed(ctx context.Context, u *cert.User, ip, detail string) error {
	now := s.clock()
	s.ips.fail(ip, now)
	for range 5 { // concurrent failures race on the version: count each
		u.FailedSignIns++
		if u.FailedSignIns >= s.cfg.MaxFailures {
			until := now.Add(s.cfg.ThrottleFor)
			u.FailedSignIns, u.ThrottledUntil = 0, &until
			detail += "; account throttled"
		}
		u.UpdatedAt = now
		err := s.st.UpdateUser(ctx, u)
		if err == nil {
			break
		}
		if !errors.Is(err, store.ErrConflict) {
			return err
		}
		if u, err = s.st.User(ctx, u.ID); err != nil {
			return err
		}
	}
	if err := s.event(ctx, u.Issuer, "sign_in_failed", u.Email, u.ID, detail, ip); err != nil {
		return err
	}
	return ErrSignIn
}

// Authenticate returns the user and session of a session cookie, ending
// sessions that are idle or too old and those of disabled users. It
// refreshes the session's LastSeen at most once a minute.
func (s *Service) Authenticate(ctx context.Context, cookie string) (*cert.User, *cert.Session, error) {
	if cookie == "" || len(cookie) > 128 {
		return nil, nil, ErrSessionEnded
	}
	se, err := s.st.Session(ctx, digest(cookie))
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, ErrSessionEnded
	}
	if err != nil {
		return nil, nil, err
	}
	now := s.clock()
	if now.Sub(se.LastSeen) >= s.cfg.IdleTimeout || now.Sub(se.CreatedAt) >= s.cfg.AbsoluteTimeout {
		return nil, nil, errors.Join(ErrSessionEnded, s.st.DeleteSession(ctx, se.ID))
	}
	u, err := s.st.User(ctx, se.UserID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && u.Disabled) {
		return nil, nil, errors.Join(ErrSessionEnded, s.st.DeleteSession(ctx, se.ID))
	}
	if err != nil {
		return nil, nil, err
	}
	if now.Sub(se.LastSeen) >= timeTouch {
		se.LastSeen = now
		if err := s.st.TouchSession(ctx, se); err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, nil, err
		}
	}
	return u, se, nil
}

// timeTouch is how stale LastSeen may get before a request refreshes it.
const timeTouch = time.Minute

// SignOut ends the session of a cookie.
func (s *Service) SignOut(ctx context.Context, cookie string) error {
	u, se, err := s.Authenticate(ctx, cookie)
	if errors.Is(err, ErrSessionEnded) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := s.st.DeleteSession(ctx, se.ID); err != nil {
		return err
	}
	return s.event(ctx, u.Issuer, "sign_out", u.Email, u.ID, "", se.IP)
}

// SignOutEverywhere ends every session of the user.
func (s *Service) SignOutEverywhere(ctx context.Context, u *cert.User) error {
	n, err := s.st.DeleteUserSessions(ctx, u.ID)
	if err != nil {
		return err
	}
	return s.event(ctx, u.Issuer, "sign_out_everywhere", u.Email, u.ID, fmt.Sprintf("%d sessions", n), "")
}
