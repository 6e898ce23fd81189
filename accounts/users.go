package accounts

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/store"
)

// Link is a one-time setup or invitation link's secret and expiry; the
// console turns Secret into a URL. Only its digest is stored.
type Link struct {
	Secret    string
	ExpiresAt time.Time
}

// NewSetupLink makes the link with which the first admin of issuer
// chooses an email and a password (certd prints it at first start). The
// operator alone calls it.
func (s *Service) NewSetupLink(ctx context.Context, issuer string) (Link, error) {
	return s.newLink(ctx, &cert.AccountToken{Purpose: cert.TokenSetup, Issuer: issuer, Role: cert.RoleAdmin, CreatedBy: "operator"})
}

// InviteRequest invites a colleague to an issuer's console.
type InviteRequest struct {
	Issuer string
	Email  string
	Role   cert.Role
}

// Invite makes a one-time link for a colleague (admins of the issuer).
func (s *Service) Invite(ctx context.Context, p cert.Principal, req InviteRequest) (Link, error) {
	if err := canAdminister(p, req.Issuer); err != nil {
		return Link{}, err
	}
	var v cert.ValidationError
	req.Email = NormalizeEmail(req.Email)
	checkEmail(&v, req.Email)
	checkRole(&v, req.Role)
	if err := v.Err(); err != nil {
		return Link{}, err
	}
	if _, err := s.st.UserByEmail(ctx, req.Email); err == nil {
		return Link{}, fmt.Errorf("a user with the email %s exists already: %w", req.Email, cert.ErrAlreadyExists)
	} else if !errors.Is(err, store.ErrNotFound) {
		return Link{}, err
	}
	l, err := s.newLink(ctx, &cert.AccountToken{Purpose: cert.TokenInvite, Issuer: req.Issuer, Email: req.Email, Role: req.Role, CreatedBy: p.Actor()})
	if err != nil {
		return Link{}, err
	}
	return l, s.event(ctx, req.Issuer, "user_invited", p.Actor(), "", req.Email+" as "+string(req.Role), "")
}

func checkRole(v *cert.ValidationError, r cert.Role) {
	switch r {
	case cert.RoleAdmin, cert.RoleIssuer, cert.RoleViewer:
	default:
		v.Add("role", "must be admin, issuer or viewer")
	}
}

func (s *Service) newLink(ctx context.Context, t *cert.AccountToken) (Link, error) {
	secret := randomSecret()
	t.ID = digest(secret)
	t.CreatedAt = s.clock()
	t.ExpiresAt = t.CreatedAt.Add(s.cfg.LinkValidity)
	if err := s.st.CreateAccountToken(ctx, t); err != nil {
		return Link{}, err
	}
	return Link{Secret: secret, ExpiresAt: t.ExpiresAt}, nil
}

// RedeemRequest is what a setup or invitation form sends. Email is
// ignored for an invitation (it names its colleague).
type RedeemRequest struct {
	Secret      string
	Email       string
	DisplayName string
	Password    string
	IP          string
}

// Redeem uses a one-time link: it creates the user the link is for and
// uses the link up. Input is checked before the link is taken, so a typo
// does not burn it; a link that cannot be used gives ErrLinkInvalid.
func (s *Service) Redeem(ctx context.Context, req RedeemRequest) (*cert.User, error) {
	var v cert.ValidationError
	req.Email = NormalizeEmail(req.Email)
	checkPasswordRules(&v, "password", req.Password)
	checkDisplayName(&v, req.DisplayName)
	if err := v.Err(); err != nil {
		return nil, err
	}
	t, err := s.st.TakeAccountToken(ctx, digest(req.Secret))
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrLinkInvalid
	}
	if err != nil {
		return nil, err
	}
	now := s.clock()
	if !now.Before(t.ExpiresAt) {
		return nil, ErrLinkInvalid
	}
	email := t.Email
	if t.Purpose == cert.TokenSetup {
		checkEmail(&v, req.Email)
		email = req.Email
	}
	if err := v.Err(); err != nil {
		return nil, errors.Join(err, s.putBack(ctx, t))
	}
	u := &cert.User{
		ID: cert.NewID(), Issuer: t.Issuer, Email: email, DisplayName: req.DisplayName, Role: t.Role,
		PasswordHash: hashPassword(req.Password, s.cfg.Password), CreatedAt: now, UpdatedAt: now,
	}
	if err := s.st.CreateUser(ctx, u); err != nil {
		if errors.Is(err, store.ErrAlreadyExists) {
			err = cert.Invalid("email", "is taken by another user: choose another address")
		}
		return nil, errors.Join(err, s.putBack(ctx, t))
	}
	actor := "setup link"
	if t.Purpose == cert.TokenInvite {
		actor = "invitation by " + t.CreatedBy
	}
	return u, s.event(ctx, u.Issuer, "user_created", actor, u.ID, u.Email+" as "+string(u.Role), req.IP)
}

// putBack stores a taken link again after its user could not be made.
func (s *Service) putBack(ctx context.Context, t *cert.AccountToken) error {
	if err := s.st.CreateAccountToken(ctx, t); err != nil && !errors.Is(err, store.ErrAlreadyExists) {
		return fmt.Errorf("keep the link usable: %w", err)
	}
	return nil
}

// Users lists an issuer's users (anyone who may read the issuer).
func (s *Service) Users(ctx context.Context, p cert.Principal, issuer string) ([]*cert.User, error) {
	if !p.CanRead(issuer) {
		return nil, fmt.Errorf("issuer %s: %w", issuer, cert.ErrNotFound)
	}
	return s.st.Users(ctx, issuer)
}

// UserChange changes a user's role or disables it; nil fields stay.
// Version, when not 0, must be the user's current version
// (cert.ErrPrecondition otherwise).
type UserChange struct {
	Role     *cert.Role
	Disabled *bool
	Version  int64
}

// ChangeUser applies a change (admins of the user's issuer). Disabling a
// user ends its sessions. An admin cannot demote or disable itself, so an
// issuer never loses its last administrator by accident.
func (s *Service) ChangeUser(ctx context.Context, p cert.Principal, id string, ch UserChange) (*cert.User, error) {
	u, err := s.st.User(ctx, id)
	if err != nil {
		return nil, err
	}
	if !p.CanRead(u.Issuer) {
		return nil, fmt.Errorf("user %s: %w", id, cert.ErrNotFound)
	}
	if err := canAdminister(p, u.Issuer); err != nil {
		return nil, err
	}
	if ch.Version != 0 && ch.Version != u.Version {
		return nil, fmt.Errorf("user %s is at version %d, not %d: %w", id, u.Version, ch.Version, cert.ErrPrecondition)
	}
	if p.User && p.KeyID == "user:"+u.ID {
		return nil, fmt.Errorf("you cannot change your own role or disable yourself; ask another administrator: %w", cert.ErrForbidden)
	}
	var v cert.ValidationError
	var what []string
	if ch.Role != nil && *ch.Role != u.Role {
		checkRole(&v, *ch.Role)
		what = append(what, fmt.Sprintf("role %s → %s", u.Role, *ch.Role))
		u.Role = *ch.Role
	}
	if ch.Disabled != nil && *ch.Disabled != u.Disabled {
		u.Disabled = *ch.Disabled
		what = append(what, map[bool]string{true: "disabled", false: "enabled"}[u.Disabled])
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if len(what) == 0 {
		return u, nil
	}
	u.UpdatedAt = s.clock()
	if err := s.st.UpdateUser(ctx, u); err != nil {
		if errors.Is(err, store.ErrConflict) {
			err = fmt.Errorf("user %s changed meanwhile: %w", id, cert.ErrPrecondition)
		}
		return nil, err
	}
	if u.Disabled {
		if _, err := s.st.DeleteUserSessions(ctx, u.ID); err != nil {
			return nil, err
		}
	}
	return u, s.event(ctx, u.Issuer, "user_changed", p.Actor(), u.ID, fmt.Sprint(what), "")
}

// ChangePassword sets a user's own password after checking the current
// one, and ends every session of the user (it signs in again).
func (s *Service) ChangePassword(ctx context.Context, u *cert.User, current, next string) error {
	ok, err := s.checkPassword(ctx, current, u.PasswordHash)
	if err != nil || !ok {
		return cert.Invalid("currentPassword", "is not right")
	}
	var v cert.ValidationError
	checkPasswordRules(&v, "password", next)
	if err := v.Err(); err != nil {
		return err
	}
	u.PasswordHash = hashPassword(next, s.cfg.Password)
	u.UpdatedAt = s.clock()
	if err := s.st.UpdateUser(ctx, u); err != nil {
		return err
	}
	if _, err := s.st.DeleteUserSessions(ctx, u.ID); err != nil {
		return err
	}
	return s.event(ctx, u.Issuer, "password_changed", u.Email, u.ID, "", "")
}
