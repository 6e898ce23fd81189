package accounts

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/certd/certd/cert"
)

// Enrolment is the second factor being set up: the secret to type or the
// otpauth URL to show as a QR code. Shown to its user once.
type Enrolment struct {
	Secret string
	URL    string
}

// BeginTOTP starts enrolling the user's second factor; it takes effect
// when ConfirmTOTP gets a right code.
func (s *Service) BeginTOTP(ctx context.Context, u *cert.User) (Enrolment, error) {
	if u.TOTPSecret != "" {
		return Enrolment{}, fmt.Errorf("a second factor is enrolled already: %w", cert.ErrConflict)
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: s.cfg.TOTPIssuer, AccountName: u.Email, Rand: rand.Reader})
	if err != nil {
		return Enrolment{}, fmt.Errorf("generate second factor: %w", err)
	}
	u.TOTPPending = key.Secret()
	u.UpdatedAt = s.clock()
	if err := s.st.UpdateUser(ctx, u); err != nil {
		return Enrolment{}, err
	}
	return Enrolment{Secret: key.Secret(), URL: key.URL()}, nil
}

// RecoveryCodeCount is how many recovery codes enrolment hands out.
const RecoveryCodeCount = 10

// ConfirmTOTP checks a code of the pending secret and turns the second
// factor on. It returns the recovery codes, shown once: the store keeps
// their digests.
func (s *Service) ConfirmTOTP(ctx context.Context, u *cert.User, code string) ([]string, error) {
	if u.TOTPPending == "" {
		return nil, cert.Invalid("totp", "start the enrolment first")
	}
	if !s.validCode(u.TOTPPending, code) {
		return nil, cert.Invalid("totp", "is not the current code of the authenticator app")
	}
	codes := make([]string, RecoveryCodeCount)
	hashes := make([]string, RecoveryCodeCount)
	for i := range codes {
		codes[i] = recoveryCode()
		hashes[i] = digest(codes[i])
	}
	u.TOTPSecret, u.TOTPPending, u.RecoveryCodes = u.TOTPPending, "", hashes
	u.UpdatedAt = s.clock()
	if err := s.st.UpdateUser(ctx, u); err != nil {
		return nil, err
	}
	return codes, s.event(ctx, u.Issuer, "totp_enrolled", u.Email, u.ID, "", "")
}

// validCode checks a 6-digit code against secret at the service's clock,
// one period of skew either way.
func (s *Service) validCode(secret, code string) bool {
	code = strings.TrimSpace(code)
	ok, err := totp.ValidateCustom(code, secret, s.now(), totp.ValidateOpts{Period: 30, Skew: 1, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	return err == nil && ok
}

// useRecoveryCode removes the matching recovery code from u and reports
// whether there was one.
func useRecoveryCode(u *cert.User, code string) bool {
	d := digest(strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(code), "-", "")))
	for i, h := range u.RecoveryCodes {
		if subtle.ConstantTimeCompare([]byte(h), []byte(d)) == 1 {
			u.RecoveryCodes = slices.Delete(u.RecoveryCodes, i, i+1)
			return true
		}
	}
	return false
}

// recoveryCode returns 10 random Crockford base32 characters (50 bits),
// shown as XXXXX-XXXXX; the digest is of the characters alone.
func recoveryCode() string {
	return cert.NewID()[:10]
}

// FormatRecoveryCode shows a recovery code in two groups of five.
func FormatRecoveryCode(c string) string {
	if len(c) != 10 {
		return c
	}
	return c[:5] + "-" + c[5:]
}

// CodeAt returns the TOTP code of secret at t (for tests and tools).
func CodeAt(secret string, t time.Time) (string, error) {
	return totp.GenerateCodeCustom(secret, t, totp.ValidateOpts{Period: 30, Skew: 1, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
}
