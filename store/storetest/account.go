package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/store"
)

var accountTests = []test{
	{"accounts/user-create-get", testUserCreateGet},
	{"accounts/user-duplicate", testUserDuplicate},
	{"accounts/user-update", testUserUpdate},
	{"accounts/user-update-concurrent", testUserUpdateConcurrent},
	{"accounts/users-list", testUsersList},
	{"accounts/sessions", testSessions},
	{"accounts/token-taken-once", testAccountTokenTakenOnce},
	{"accounts/events", testAccountEvents},
}

// accountTime is a time as the accounts use case makes them: UTC, whole
// milliseconds.
var accountTime = time.Date(2026, 12, 1, 8, 30, 15, 123_000_000, time.UTC)

func newUser(id, issuer, email string, role cert.Role) *cert.User {
	return &cert.User{
		ID: id, Issuer: issuer, Email: email, DisplayName: "王小明 " + id, Role: role,
		PasswordHash: "$argon2id$v=19$m=65536,t=3,p=2$c2FsdA$aGFzaA", CreatedAt: accountTime, UpdatedAt: accountTime,
	}
}

func sameUser(t testing.TB, what string, got, want *cert.User) {
	t.Helper()
	if d := fieldDiff(*got, *want); d != "" {
		t.Errorf("%s: user differs (got, want):\n%s", what, d)
	}
}

func testUserCreateGet(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := newUser("u1", "cesa-itss", "clerk@example.cn", cert.RoleIssuer)
	until := accountTime.Add(time.Minute)
	u.ThrottledUntil, u.FailedSignIns, u.RecoveryCodes = &until, 3, []string{"a1", "b2"}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	if u.Version != 1 {
		t.Errorf("Version after create = %d, want 1", u.Version)
	}
	got, err := s.User(ctx, "u1")
	if err != nil {
		t.Fatalf("User: %v", err)
	}
	sameUser(t, "User", got, u)
	got, err = s.UserByEmail(ctx, "clerk@example.cn")
	if err != nil {
		t.Fatalf("UserByEmail: %v", err)
	}
	sameUser(t, "UserByEmail", got, u)
	if _, err := s.User(ctx, "absent"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("User(absent) = %v, want ErrNotFound", err)
	}
	if _, err := s.UserByEmail(ctx, "absent@example.cn"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UserByEmail(absent) = %v, want ErrNotFound", err)
	}
}

func testUserDuplicate(t *testing.T, s store.Store) {
	ctx := t.Context()
	if err := s.CreateUser(ctx, newUser("u1", "a", "one@example.cn", cert.RoleAdmin)); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateUser(ctx, newUser("u1", "a", "two@example.cn", cert.RoleAdmin)); !errors.Is(err, store.ErrAlreadyExists) {
		t.Errorf("same id: %v, want ErrAlreadyExists", err)
	}
	// The email is unique across issuers: sign-in asks for it alone.
	if err := s.CreateUser(ctx, newUser("u2", "b", "one@example.cn", cert.RoleAdmin)); !errors.Is(err, store.ErrAlreadyExists) {
		t.Errorf("same email at another issuer: %v, want ErrAlreadyExists", err)
	}
	if _, err := s.User(ctx, "u2"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the refused user was stored: %v", err)
	}
}

func testUserUpdate(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := newUser("u1", "a", "one@example.cn", cert.RoleViewer)
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	next := *u
	next.Role, next.Disabled, next.TOTPSecret = cert.RoleIssuer, true, "JBSWY3DPEHPK3PXP"
	next.UpdatedAt = accountTime.Add(time.Hour)
	if err := s.UpdateUser(ctx, &next); err != nil {
		t.Fatalf("UpdateUser: %v", err)
	}
	if next.Version != 2 {
		t.Errorf("Version after update = %d, want 2", next.Version)
	}
	got, err := s.User(ctx, "u1")
	if err != nil {
		t.Fatal(err)
	}
	sameUser(t, "after update", got, &next)
	stale := *u // version 1
	stale.DisplayName = "stale"
	if err := s.UpdateUser(ctx, &stale); !errors.Is(err, store.ErrConflict) {
		t.Errorf("stale version: %v, want ErrConflict", err)
	}
	missing := newUser("absent", "a", "x@example.cn", cert.RoleViewer)
	missing.Version = 1
	if err := s.UpdateUser(ctx, missing); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("missing user: %v, want ErrNotFound", err)
	}
}

// testUserUpdateConcurrent: of concurrent updates from the same version,
// exactly one wins; the others see ErrConflict (the throttle counter of a
// sign-in relies on it).
func testUserUpdateConcurrent(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := newUser("u1", "a", "one@example.cn", cert.RoleViewer)
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := *u
			c.FailedSignIns = i + 1
			errs[i] = s.UpdateUser(ctx, &c)
		}()
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, store.ErrConflict):
			t.Errorf("UpdateUser: %v, want nil or ErrConflict", err)
		}
	}
	if won != 1 {
		t.Errorf("%d concurrent updates from one version succeeded, want 1", won)
	}
	if got, _ := s.User(ctx, "u1"); got == nil || got.Version != 2 {
		t.Errorf("stored user %+v, want version 2", got)
	}
}

func testUsersList(t *testing.T, s store.Store) {
	ctx := t.Context()
	for _, u := range []*cert.User{
		newUser("u3", "a", "3@example.cn", cert.RoleViewer),
		newUser("u1", "a", "1@example.cn", cert.RoleAdmin),
		newUser("u2", "b", "2@example.cn", cert.RoleIssuer),
	} {
		if err := s.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Users(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, u := range got {
		ids = append(ids, u.ID)
	}
	if fmt.Sprint(ids) != "[u1 u3]" {
		t.Errorf("Users(a) = %v, want [u1 u3]", ids)
	}
}

func testSessions(t *testing.T, s store.Store) {
	ctx := t.Context()
	mk := func(id, user string) *cert.Session {
		return &cert.Session{ID: id, UserID: user, Issuer: "a", CSRF: "csrf-" + id, CreatedAt: accountTime, LastSeen: accountTime, IP: "127.0.0.1"}
	}
	for _, se := range []*cert.Session{mk("s1", "u1"), mk("s2", "u1"), mk("s3", "u2")} {
		if err := s.CreateSession(ctx, se); err != nil {
			t.Fatalf("CreateSession(%s): %v", se.ID, err)
		}
	}
	if err := s.CreateSession(ctx, mk("s1", "u2")); !errors.Is(err, store.ErrAlreadyExists) {
		t.Errorf("duplicate session id: %v, want ErrAlreadyExists", err)
	}
	got, err := s.Session(ctx, "s1")
	if err != nil {
		t.Fatal(err)
	}
	if d := fieldDiff(*got, *mk("s1", "u1")); d != "" {
		t.Errorf("Session(s1) differs:\n%s", d)
	}
	touched := mk("s1", "u1")
	touched.LastSeen = accountTime.Add(5 * time.Minute)
	if err := s.TouchSession(ctx, touched); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Session(ctx, "s1"); got == nil || !got.LastSeen.Equal(touched.LastSeen) || got.CSRF != "csrf-s1" {
		t.Errorf("after touch: %+v, want LastSeen %v and the rest unchanged", got, touched.LastSeen)
	}
	if err := s.TouchSession(ctx, mk("absent", "u1")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("touch absent: %v, want ErrNotFound", err)
	}
	if err := s.DeleteSession(ctx, "s3"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteSession(ctx, "s3"); err != nil {
		t.Errorf("deleting a missing session: %v, want nil", err)
	}
	if _, err := s.Session(ctx, "s3"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleted session: %v, want ErrNotFound", err)
	}
	n, err := s.DeleteUserSessions(ctx, "u1")
	if err != nil || n != 2 {
		t.Errorf("DeleteUserSessions(u1) = %d, %v; want 2, nil", n, err)
	}
	for _, id := range []string{"s1", "s2"} {
		if _, err := s.Session(ctx, id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("session %s after sign-out everywhere: %v, want ErrNotFound", id, err)
		}
	}
}

func testAccountTokenTakenOnce(t *testing.T, s store.Store) {
	ctx := t.Context()
	tok := &cert.AccountToken{ID: "t1", Purpose: cert.TokenInvite, Issuer: "a", Email: "new@example.cn", Role: cert.RoleIssuer,
		CreatedBy: "user:u1", CreatedAt: accountTime, ExpiresAt: accountTime.Add(24 * time.Hour)}
	if err := s.CreateAccountToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateAccountToken(ctx, tok); !errors.Is(err, store.ErrAlreadyExists) {
		t.Errorf("duplicate token: %v, want ErrAlreadyExists", err)
	}
	const n = 8
	var wg sync.WaitGroup
	got := make([]*cert.AccountToken, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() { defer wg.Done(); got[i], errs[i] = s.TakeAccountToken(ctx, "t1") }()
	}
	wg.Wait()
	won := 0
	for i := range n {
		switch {
		case errs[i] == nil:
			won++
			if d := fieldDiff(*got[i], *tok); d != "" {
				t.Errorf("taken token differs:\n%s", d)
			}
		case !errors.Is(errs[i], store.ErrNotFound):
			t.Errorf("TakeAccountToken: %v, want nil or ErrNotFound", errs[i])
		}
	}
	if won != 1 {
		t.Errorf("the one-time token was taken %d times, want 1", won)
	}
}

func testAccountEvents(t *testing.T, s store.Store) {
	ctx := t.Context()
	for i := range 5 {
		e := &cert.AccountEvent{ID: fmt.Sprintf("e%d", i), Issuer: "a", Type: "sign_in", Actor: "one@example.cn",
			Subject: "u1", IP: "127.0.0.1", At: accountTime.Add(time.Duration(i) * time.Second)}
		if err := s.AppendAccountEvent(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.AppendAccountEvent(ctx, &cert.AccountEvent{ID: "other", Issuer: "b", Type: "sign_in", At: accountTime}); err != nil {
		t.Fatal(err)
	}
	got, err := s.AccountEvents(ctx, "a", 3)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, e := range got {
		ids = append(ids, e.ID)
	}
	if fmt.Sprint(ids) != "[e4 e3 e2]" {
		t.Errorf("AccountEvents(a, 3) = %v, want [e4 e3 e2] (newest first, one issuer)", ids)
	}
	if len(got) > 0 && !got[0].At.Equal(accountTime.Add(4*time.Second)) {
		t.Errorf("event time %v, want %v", got[0].At, accountTime.Add(4*time.Second))
	}
}
