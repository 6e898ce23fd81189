package accounts_test

import (
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/certd/certd/accounts"
	"github.com/certd/certd/cert"
	"github.com/certd/certd/store"
	"github.com/certd/certd/store/bolt"
	"github.com/certd/certd/store/mongo/mongotest"
)

// backends runs fn on a fresh store of each backend.
func backends(t *testing.T, fn func(t *testing.T, st store.Store)) {
	t.Run("bolt", func(t *testing.T) {
		st, err := bolt.Open(filepath.Join(t.TempDir(), "certd.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		fn(t, st)
	})
	t.Run("mongo", func(t *testing.T) { fn(t, mongotest.Open(t)) })
}

// clock is a fake clock that tests move by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// cheap argon2id parameters keep the tests fast; the parameters are
// recorded in each hash, so this tests the same code path.
var cheap = accounts.PasswordParams{Memory: 64, Time: 1, Threads: 1}

func newService(st store.Store, c *clock) *accounts.Service {
	return accounts.New(accounts.Config{Store: st, Now: c.Now, Password: cheap})
}

const password = "correct horse battery"

// setupAdmin redeems a setup link for issuer and returns the admin.
func setupAdmin(t *testing.T, svc *accounts.Service, issuer, email string) *cert.User {
	t.Helper()
	link, err := svc.NewSetupLink(t.Context(), issuer)
	if err != nil {
		t.Fatal(err)
	}
	u, err := svc.Redeem(t.Context(), accounts.RedeemRequest{Secret: link.Secret, Email: email, DisplayName: "管理员", Password: password, IP: "127.0.0.1"})
	if err != nil {
		t.Fatalf("Redeem setup link: %v", err)
	}
	return u
}

func TestSetupSignInSignOut(t *testing.T) {
	backends(t, func(t *testing.T, st store.Store) {
		ctx := t.Context()
		c := &clock{t: time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)}
		svc := newService(st, c)
		link, err := svc.NewSetupLink(ctx, "default")
		if err != nil {
			t.Fatal(err)
		}
		// A weak password is refused without using the link up.
		if _, err := svc.Redeem(ctx, accounts.RedeemRequest{Secret: link.Secret, Email: "Admin@Example.cn", Password: "short"}); !errors.Is(err, cert.ErrInvalid) {
			t.Fatalf("short password: %v, want ErrInvalid", err)
		}
		u, err := svc.Redeem(ctx, accounts.RedeemRequest{Secret: link.Secret, Email: "Admin@Example.cn", Password: password})
		if err != nil {
			t.Fatalf("Redeem: %v", err)
		}
		if u.Email != "admin@example.cn" || u.Role != cert.RoleAdmin || u.Issuer != "default" {
			t.Errorf("user %s %s %s, want admin@example.cn admin default", u.Email, u.Role, u.Issuer)
		}
		if !strings.HasPrefix(u.PasswordHash, "$argon2id$v=19$m=64,t=1,p=1$") {
			t.Errorf("hash %q does not record argon2id and its parameters", u.PasswordHash)
		}
		if _, err := svc.Redeem(ctx, accounts.RedeemRequest{Secret: link.Secret, Email: "other@example.cn", Password: password}); !errors.Is(err, accounts.ErrLinkInvalid) {
			t.Errorf("second use of the link: %v, want ErrLinkInvalid", err)
		}
		c.Add(time.Second)
		in, err := svc.SignIn(ctx, accounts.SignInRequest{Email: " ADMIN@example.cn", Password: password, IP: "127.0.0.1"})
		if err != nil {
			t.Fatalf("SignIn: %v", err)
		}
		if in.Session.ID == in.Cookie || strings.Contains(in.Session.ID, in.Cookie) {
			t.Error("the store holds the cookie itself, not its digest")
		}
		got, _, err := svc.Authenticate(ctx, in.Cookie)
		if err != nil || got.ID != u.ID {
			t.Fatalf("Authenticate = %v, %v; want the admin", got, err)
		}
		c.Add(time.Second)
		if err := svc.SignOut(ctx, in.Cookie); err != nil {
			t.Fatal(err)
		}
		if _, _, err := svc.Authenticate(ctx, in.Cookie); !errors.Is(err, accounts.ErrSessionEnded) {
			t.Errorf("after sign-out: %v, want ErrSessionEnded", err)
		}
		evs, err := st.AccountEvents(ctx, "default", 10)
		if err != nil {
			t.Fatal(err)
		}
		var types []string
		for _, e := range evs {
			types = append(types, e.Type)
			if strings.Contains(e.Detail+e.Actor, password) {
				t.Errorf("event %s carries the password", e.Type)
			}
		}
		if strings.Join(types, ",") != "sign_out,sign_in,user_created" {
			t.Errorf("events %v, want sign_out, sign_in, user_created (newest first)", types)
		}
	})
}

func TestSameAnswerAndThrottle(t *testing.T) {
	backends(t, func(t *testing.T, st store.Store) {
		ctx := t.Context()
		c := &clock{t: time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)}
		svc := newService(st, c)
		setupAdmin(t, svc, "default", "admin@example.cn")
		_, errUnknown := svc.SignIn(ctx, accounts.SignInRequest{Email: "nobody@example.cn", Password: password, IP: "127.0.0.2"})
		_, errWrong := svc.SignIn(ctx, accounts.SignInRequest{Email: "admin@example.cn", Password: "wrong password!", IP: "127.0.0.2"})
		if errUnknown == nil || errWrong == nil || errUnknown.Error() != errWrong.Error() {
			t.Errorf("unknown email %q and wrong password %q must give the same answer", errUnknown, errWrong)
		}
		// Ten wrong passwords in a row (one made above) throttle the
		// account: even the right password is refused until the wait ends.
		for i := range 9 {
			if _, err := svc.SignIn(ctx, accounts.SignInRequest{Email: "admin@example.cn", Password: "wrong password!", IP: "127.0.0." + string(rune('3'+i%5))}); !errors.Is(err, accounts.ErrSignIn) {
				t.Fatalf("attempt %d: %v, want ErrSignIn", i+2, err)
			}
		}
		if _, err := svc.SignIn(ctx, accounts.SignInRequest{Email: "admin@example.cn", Password: password, IP: "127.0.0.9"}); !errors.Is(err, accounts.ErrThrottled) {
			t.Fatalf("right password while throttled: %v, want ErrThrottled", err)
		}
		c.Add(16 * time.Minute)
		if _, err := svc.SignIn(ctx, accounts.SignInRequest{Email: "admin@example.cn", Password: password, IP: "127.0.0.9"}); err != nil {
			t.Fatalf("after the wait: %v", err)
		}
	})
}

func TestThrottlePerIP(t *testing.T) {
	st, err := bolt.Open(filepath.Join(t.TempDir(), "certd.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	c := &clock{t: time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)}
	svc := accounts.New(accounts.Config{Store: st, Now: c.Now, Password: cheap, IPFailures: 5})
	setupAdmin(t, svc, "default", "admin@example.cn")
	for i := range 5 {
		if _, err := svc.SignIn(t.Context(), accounts.SignInRequest{Email: "guess" + string(rune('a'+i)) + "@example.cn", Password: password, IP: "127.0.0.7"}); !errors.Is(err, accounts.ErrSignIn) {
			t.Fatalf("attempt %d: %v", i, err)
		}
	}
	if _, err := svc.SignIn(t.Context(), accounts.SignInRequest{Email: "admin@example.cn", Password: password, IP: "127.0.0.7"}); !errors.Is(err, accounts.ErrThrottled) {
		t.Errorf("from a throttled address: %v, want ErrThrottled", err)
	}
	if _, err := svc.SignIn(t.Context(), accounts.SignInRequest{Email: "admin@example.cn", Password: password, IP: "127.0.0.8"}); err != nil {
		t.Errorf("from another address: %v", err)
	}
}

func TestSessionExpiry(t *testing.T) {
	backends(t, func(t *testing.T, st store.Store) {
		ctx := t.Context()
		c := &clock{t: time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)}
		svc := newService(st, c)
		setupAdmin(t, svc, "default", "admin@example.cn")
		in, err := svc.SignIn(ctx, accounts.SignInRequest{Email: "admin@example.cn", Password: password})
		if err != nil {
			t.Fatal(err)
		}
		// Used every 20 minutes, the session lives until its absolute end.
		for range 35 {
			c.Add(20 * time.Minute)
			if _, _, err := svc.Authenticate(ctx, in.Cookie); err != nil {
				if c.Now().Sub(in.Session.CreatedAt) < 12*time.Hour {
					t.Fatalf("at %v: %v", c.Now().Sub(in.Session.CreatedAt), err)
				}
				if !errors.Is(err, accounts.ErrSessionEnded) {
					t.Fatalf("after 12 h: %v, want ErrSessionEnded", err)
				}
				break
			}
			if c.Now().Sub(in.Session.CreatedAt) >= 12*time.Hour {
				t.Fatal("the session outlived its absolute expiry")
			}
		}
		in, err = svc.SignIn(ctx, accounts.SignInRequest{Email: "admin@example.cn", Password: password})
		if err != nil {
			t.Fatal(err)
		}
		c.Add(31 * time.Minute)
		if _, _, err := svc.Authenticate(ctx, in.Cookie); !errors.Is(err, accounts.ErrSessionEnded) {
			t.Errorf("idle 31 min: %v, want ErrSessionEnded", err)
		}
	})
}

func TestTOTPAndRecoveryCodes(t *testing.T) {
	backends(t, func(t *testing.T, st store.Store) {
		ctx := t.Context()
		c := &clock{t: time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)}
		svc := newService(st, c)
		u := setupAdmin(t, svc, "default", "admin@example.cn")
		en, err := svc.BeginTOTP(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(en.URL, "otpauth://totp/") {
			t.Errorf("URL %q", en.URL)
		}
		if _, err := svc.ConfirmTOTP(ctx, u, "000000"); !errors.Is(err, cert.ErrInvalid) {
			t.Errorf("wrong code at enrolment: %v", err)
		}
		code, _ := accounts.CodeAt(en.Secret, c.Now())
		codes, err := svc.ConfirmTOTP(ctx, u, code)
		if err != nil || len(codes) != accounts.RecoveryCodeCount {
			t.Fatalf("ConfirmTOTP = %d codes, %v", len(codes), err)
		}
		stored, _ := st.User(ctx, u.ID)
		for _, rc := range codes {
			for _, h := range stored.RecoveryCodes {
				if h == rc {
					t.Fatal("a recovery code is stored in clear")
				}
			}
		}
		if _, err := svc.SignIn(ctx, accounts.SignInRequest{Email: "admin@example.cn", Password: password}); !errors.Is(err, accounts.ErrCodeRequired) {
			t.Fatalf("without a code: %v, want ErrCodeRequired", err)
		}
		c.Add(time.Minute)
		code, _ = accounts.CodeAt(en.Secret, c.Now())
		if _, err := svc.SignIn(ctx, accounts.SignInRequest{Email: "admin@example.cn", Password: password, Code: code}); err != nil {
			t.Fatalf("with the code: %v", err)
		}
		rc := accounts.FormatRecoveryCode(codes[3])
		if _, err := svc.SignIn(ctx, accounts.SignInRequest{Email: "admin@example.cn", Password: password, Code: rc}); err != nil {
			t.Fatalf("with a recovery code: %v", err)
		}
		if _, err := svc.SignIn(ctx, accounts.SignInRequest{Email: "admin@example.cn", Password: password, Code: rc}); !errors.Is(err, accounts.ErrSignIn) {
			t.Errorf("a recovery code used twice: %v, want ErrSignIn", err)
		}
	})
}

func TestInviteRolesAndTenancy(t *testing.T) {
	backends(t, func(t *testing.T, st store.Store) {
		ctx := t.Context()
		c := &clock{t: time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)}
		svc := newService(st, c)
		admin := setupAdmin(t, svc, "a", "admin@a.cn")
		otherAdmin := setupAdmin(t, svc, "b", "admin@b.cn")
		link, err := svc.Invite(ctx, admin.Principal(), accounts.InviteRequest{Issuer: "a", Email: "clerk@a.cn", Role: cert.RoleViewer})
		if err != nil {
			t.Fatal(err)
		}
		// An admin of b cannot invite into a, nor change a's users.
		if _, err := svc.Invite(ctx, otherAdmin.Principal(), accounts.InviteRequest{Issuer: "a", Email: "x@a.cn", Role: cert.RoleAdmin}); !errors.Is(err, cert.ErrForbidden) {
			t.Errorf("cross-issuer invite: %v, want ErrForbidden", err)
		}
		clerk, err := svc.Redeem(ctx, accounts.RedeemRequest{Secret: link.Secret, Email: "ignored@evil.cn", Password: password})
		if err != nil {
			t.Fatal(err)
		}
		if clerk.Email != "clerk@a.cn" || clerk.Role != cert.RoleViewer {
			t.Errorf("invited user %s %s, want clerk@a.cn viewer", clerk.Email, clerk.Role)
		}
		role := cert.RoleIssuer
		if _, err := svc.ChangeUser(ctx, otherAdmin.Principal(), clerk.ID, accounts.UserChange{Role: &role}); !errors.Is(err, cert.ErrNotFound) {
			t.Errorf("cross-issuer change: %v, want ErrNotFound", err)
		}
		if _, err := svc.ChangeUser(ctx, clerk.Principal(), clerk.ID, accounts.UserChange{Role: &role}); !errors.Is(err, cert.ErrForbidden) {
			t.Errorf("a viewer changing itself: %v, want ErrForbidden", err)
		}
		in, err := svc.SignIn(ctx, accounts.SignInRequest{Email: "clerk@a.cn", Password: password})
		if err != nil {
			t.Fatal(err)
		}
		yes := true
		if _, err := svc.ChangeUser(ctx, admin.Principal(), clerk.ID, accounts.UserChange{Role: &role, Disabled: &yes, Version: 99}); !errors.Is(err, cert.ErrPrecondition) {
			t.Errorf("stale version: %v, want ErrPrecondition", err)
		}
		if _, err := svc.ChangeUser(ctx, admin.Principal(), clerk.ID, accounts.UserChange{Role: &role, Disabled: &yes}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := svc.Authenticate(ctx, in.Cookie); !errors.Is(err, accounts.ErrSessionEnded) {
			t.Errorf("session of a disabled user: %v, want ErrSessionEnded", err)
		}
		if _, err := svc.SignIn(ctx, accounts.SignInRequest{Email: "clerk@a.cn", Password: password}); !errors.Is(err, accounts.ErrSignIn) {
			t.Errorf("disabled user signing in: %v, want ErrSignIn", err)
		}
		// A console admin is bound to its issuer.
		p := admin.Principal()
		if p.CanRead("b") || p.CanWrite("b") || p.DeploymentAdmin() {
			t.Error("a console admin of a may act on b")
		}
	})
}
