package storetest

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/store"
)

var apiKeyTests = []test{
	{"apikeys/create", testAPIKeyCreate},
	{"apikeys/duplicate-id", testAPIKeyDuplicateID},
	{"apikeys/duplicate-hash", testAPIKeyDuplicateHash},
	{"apikeys/not-found", testAPIKeyNotFound},
	{"apikeys/update", testAPIKeyUpdate},
	{"apikeys/update-not-found", testAPIKeyUpdateNotFound},
	{"apikeys/list", testAPIKeysList},
	{"apikeys/revoke", testAPIKeyRevoke},
	{"apikeys/revoke-last-admin", testAPIKeyRevokeLastAdmin},
	{"apikeys/revoke-admins-concurrently", testAPIKeyRevokeAdminsConcurrently},
	{"apikeys/mark-used", testAPIKeyMarkUsed},
}

func newAPIKey(id, issuer string, role cert.Role) *cert.APIKey {
	sum := sha256.Sum256([]byte("token of " + id))
	return &cert.APIKey{
		ID:        id,
		Hash:      hex.EncodeToString(sum[:]),
		Issuer:    issuer,
		Role:      role,
		Name:      "签发系统 " + id,
		CreatedAt: time.Date(2026, 5, 6, 7, 8, 9, 10, time.UTC),
	}
}

// sameAPIKey reports an error when got differs from want.
func sameAPIKey(t testing.TB, what string, got, want *cert.APIKey) {
	t.Helper()
	if got == nil {
		t.Errorf("%s: nil api key, want %s", what, want.ID)
		return
	}
	norm := func(k cert.APIKey) cert.APIKey {
		k.CreatedAt, k.RevokedAt, k.LastUsedAt = k.CreatedAt.UTC(), utcPtr(k.RevokedAt), utcPtr(k.LastUsedAt)
		return k
	}
	if d := fieldDiff(norm(*got), norm(*want)); d != "" {
		t.Errorf("%s: api key differs (got, want):\n%s", what, d)
	}
}

func createKey(t testing.TB, s store.Store, k *cert.APIKey) {
	t.Helper()
	if err := s.CreateAPIKey(t.Context(), k); err != nil {
		t.Fatalf("CreateAPIKey(%s): %v", k.ID, err)
	}
}

func testAPIKeyCreate(t *testing.T, s store.Store) {
	k := newAPIKey("key-1", "cesa-itss", cert.RoleIssuer)
	createKey(t, s, k)
	byID, err := s.APIKey(t.Context(), "key-1")
	if err != nil {
		t.Fatalf("APIKey: %v", err)
	}
	sameAPIKey(t, "APIKey", byID, k)
	byHash, err := s.APIKeyByHash(t.Context(), k.Hash)
	if err != nil {
		t.Fatalf("APIKeyByHash: %v", err)
	}
	sameAPIKey(t, "APIKeyByHash", byHash, k)

	byID.Name = "changed"
	again, err := s.APIKey(t.Context(), "key-1")
	if err != nil {
		t.Fatalf("APIKey: %v", err)
	}
	sameAPIKey(t, "APIKey after changing a returned value", again, k)
}

func testAPIKeyDuplicateID(t *testing.T, s store.Store) {
	first := newAPIKey("key-1", "cesa-itss", cert.RoleIssuer)
	createKey(t, s, first)
	dup := newAPIKey("key-2", "other", cert.RoleViewer)
	dup.ID = "key-1"
	err := s.CreateAPIKey(t.Context(), dup)
	wantErr(t, "CreateAPIKey(same id)", err, store.ErrAlreadyExists)
	_, err = s.APIKeyByHash(t.Context(), dup.Hash)
	wantErr(t, "APIKeyByHash(refused key's hash)", err, store.ErrNotFound)
	got, err := s.APIKey(t.Context(), "key-1")
	if err != nil {
		t.Fatalf("APIKey: %v", err)
	}
	sameAPIKey(t, "key after the refused duplicate", got, first)
}

func testAPIKeyDuplicateHash(t *testing.T, s store.Store) {
	first := newAPIKey("key-1", "cesa-itss", cert.RoleIssuer)
	createKey(t, s, first)
	dup := newAPIKey("key-2", "other", cert.RoleViewer)
	dup.Hash = first.Hash
	err := s.CreateAPIKey(t.Context(), dup)
	wantErr(t, "CreateAPIKey(same hash)", err, store.ErrAlreadyExists)
	_, err = s.APIKey(t.Context(), "key-2")
	wantErr(t, "APIKey(refused key)", err, store.ErrNotFound)
	got, err := s.APIKeyByHash(t.Context(), first.Hash)
	if err != nil {
		t.Fatalf("APIKeyByHash: %v", err)
	}
	sameAPIKey(t, "key with the hash after the refused duplicate", got, first)
}

func testAPIKeyNotFound(t *testing.T, s store.Store) {
	createKey(t, s, newAPIKey("key-1", "cesa-itss", cert.RoleIssuer))
	_, err := s.APIKey(t.Context(), "absent")
	wantErr(t, "APIKey(absent)", err, store.ErrNotFound)
	_, err = s.APIKeyByHash(t.Context(), newAPIKey("absent", "", cert.RoleAdmin).Hash)
	wantErr(t, "APIKeyByHash(absent)", err, store.ErrNotFound)
}

func testAPIKeyUpdate(t *testing.T, s store.Store) {
	k := newAPIKey("key-1", "cesa-itss", cert.RoleIssuer)
	createKey(t, s, k)
	revoked := time.Date(2026, 6, 1, 12, 0, 0, 5, shanghai(t))
	k.RevokedAt = &revoked
	k.Name = "revoked: leaked in a log"
	if err := s.UpdateAPIKey(t.Context(), k); err != nil {
		t.Fatalf("UpdateAPIKey: %v", err)
	}
	byID, err := s.APIKey(t.Context(), "key-1")
	if err != nil {
		t.Fatalf("APIKey: %v", err)
	}
	sameAPIKey(t, "APIKey after revoking", byID, k)
	byHash, err := s.APIKeyByHash(t.Context(), k.Hash)
	if err != nil {
		t.Fatalf("APIKeyByHash: %v", err)
	}
	sameAPIKey(t, "APIKeyByHash after revoking", byHash, k)
	if byHash.RevokedAt == nil || !byHash.RevokedAt.Equal(revoked) {
		t.Errorf("RevokedAt = %v, want %s", byHash.RevokedAt, revoked)
	}
}

func testAPIKeyUpdateNotFound(t *testing.T, s store.Store) {
	createKey(t, s, newAPIKey("key-1", "cesa-itss", cert.RoleIssuer))
	k := newAPIKey("absent", "cesa-itss", cert.RoleIssuer)
	err := s.UpdateAPIKey(t.Context(), k)
	wantErr(t, "UpdateAPIKey(absent)", err, store.ErrNotFound)
	_, err = s.APIKey(t.Context(), "absent")
	wantErr(t, "APIKey after the refused update", err, store.ErrNotFound)
	_, err = s.APIKeyByHash(t.Context(), k.Hash)
	wantErr(t, "APIKeyByHash after the refused update", err, store.ErrNotFound)
}

func testAPIKeysList(t *testing.T, s store.Store) {
	keys := []*cert.APIKey{
		newAPIKey("key-a1", "issuer-a", cert.RoleIssuer),
		newAPIKey("key-b1", "issuer-b", cert.RoleIssuer),
		newAPIKey("key-admin", "", cert.RoleAdmin),
		newAPIKey("key-a2", "issuer-a", cert.RoleViewer),
	}
	for _, k := range keys {
		createKey(t, s, k)
	}
	cases := []struct {
		issuer string
		want   []string
	}{
		{"issuer-a", []string{"key-a1", "key-a2"}},
		{"issuer-b", []string{"key-b1"}},
		{"", []string{"key-a1", "key-a2", "key-admin", "key-b1"}},
		{"issuer-z", nil},
	}
	for _, tc := range cases {
		list, err := s.APIKeys(t.Context(), tc.issuer)
		if err != nil {
			t.Fatalf("APIKeys(%q): %v", tc.issuer, err)
		}
		var got []string
		for _, k := range list {
			got = append(got, k.ID)
			for _, want := range keys {
				if want.ID == k.ID {
					sameAPIKey(t, "APIKeys item", k, want)
				}
			}
		}
		slices.Sort(got) // the contract names no order
		if !slices.Equal(got, tc.want) {
			t.Errorf("APIKeys(%q) ids = %v, want %v", tc.issuer, got, tc.want)
		}
	}
}

func testAPIKeyRevoke(t *testing.T, s store.Store) {
	k := newAPIKey("key-1", "cesa-itss", cert.RoleIssuer)
	createKey(t, s, k)
	at := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	got, err := s.RevokeAPIKey(t.Context(), "key-1", at)
	if err != nil {
		t.Fatalf("RevokeAPIKey: %v", err)
	}
	want := *k
	want.RevokedAt = &at
	sameAPIKey(t, "RevokeAPIKey result", got, &want)
	stored, err := s.APIKeyByHash(t.Context(), k.Hash)
	if err != nil {
		t.Fatalf("APIKeyByHash: %v", err)
	}
	sameAPIKey(t, "stored after RevokeAPIKey", stored, &want)
	// Again: unchanged, the first revocation time stays.
	again, err := s.RevokeAPIKey(t.Context(), "key-1", at.Add(time.Hour))
	if err != nil {
		t.Fatalf("RevokeAPIKey again: %v", err)
	}
	sameAPIKey(t, "RevokeAPIKey of a revoked key", again, &want)
	_, err = s.RevokeAPIKey(t.Context(), "absent", at)
	wantErr(t, "RevokeAPIKey(absent)", err, store.ErrNotFound)
}

func testAPIKeyRevokeLastAdmin(t *testing.T, s store.Store) {
	a, b := newAPIKey("admin-a", "", cert.RoleAdmin), newAPIKey("admin-b", "", cert.RoleAdmin)
	createKey(t, s, a)
	createKey(t, s, b)
	createKey(t, s, newAPIKey("issuer-key", "cesa-itss", cert.RoleIssuer))
	at := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	if _, err := s.RevokeAPIKey(t.Context(), "admin-a", at); err != nil {
		t.Fatalf("RevokeAPIKey(admin-a), admin-b still active: %v", err)
	}
	_, err := s.RevokeAPIKey(t.Context(), "admin-b", at)
	wantErr(t, "RevokeAPIKey(last admin)", err, cert.ErrLastAdminKey)
	got, err := s.APIKey(t.Context(), "admin-b")
	if err != nil {
		t.Fatalf("APIKey: %v", err)
	}
	sameAPIKey(t, "last admin key after the refused revocation", got, b)
	// Non-admin keys are revoked whatever the admins.
	if _, err := s.RevokeAPIKey(t.Context(), "issuer-key", at); err != nil {
		t.Errorf("RevokeAPIKey(issuer key): %v", err)
	}
}

// testAPIKeyRevokeAdminsConcurrently has pairs of admin keys revoke each
// other at once: at least one admin key must stay active every time.
func testAPIKeyRevokeAdminsConcurrently(t *testing.T, s store.Store) {
	at := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	for round := range 10 {
		ids := []string{fmt.Sprintf("admin-%d-a", round), fmt.Sprintf("admin-%d-b", round)}
		for _, id := range ids {
			createKey(t, s, newAPIKey(id, "", cert.RoleAdmin))
		}
		var wg sync.WaitGroup
		errs := make([]error, len(ids))
		for i, id := range ids {
			wg.Go(func() { _, errs[i] = s.RevokeAPIKey(t.Context(), id, at) })
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil && !errors.Is(err, cert.ErrLastAdminKey) {
				t.Fatalf("round %d: RevokeAPIKey: %v", round, err)
			}
		}
		all, err := s.APIKeys(t.Context(), "")
		if err != nil {
			t.Fatalf("APIKeys: %v", err)
		}
		active := 0
		for _, k := range all {
			if k.ActiveAdmin() {
				active++
			}
		}
		if active == 0 {
			t.Fatalf("round %d: two admin keys revoking each other at once left no active admin key (errors %v)", round, errs)
		}
		// Demote the survivor, so that the next pair are the only admins.
		for _, k := range all {
			if k.ActiveAdmin() {
				k.Role, k.Issuer = cert.RoleViewer, "cesa-itss"
				if err := s.UpdateAPIKey(t.Context(), k); err != nil {
					t.Fatalf("UpdateAPIKey(demote %s): %v", k.ID, err)
				}
			}
		}
	}
}

func testAPIKeyMarkUsed(t *testing.T, s store.Store) {
	k := newAPIKey("key-1", "cesa-itss", cert.RoleIssuer)
	createKey(t, s, k)
	revoked := time.Date(2026, 6, 1, 11, 0, 0, 0, time.UTC)
	if _, err := s.RevokeAPIKey(t.Context(), "key-1", revoked); err != nil {
		t.Fatalf("RevokeAPIKey: %v", err)
	}
	used := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	if err := s.MarkAPIKeyUsed(t.Context(), "key-1", used); err != nil {
		t.Fatalf("MarkAPIKeyUsed: %v", err)
	}
	// An earlier time does not move it back.
	if err := s.MarkAPIKeyUsed(t.Context(), "key-1", used.Add(-time.Minute)); err != nil {
		t.Fatalf("MarkAPIKeyUsed(earlier): %v", err)
	}
	want := *k
	want.RevokedAt, want.LastUsedAt = &revoked, &used
	got, err := s.APIKeyByHash(t.Context(), k.Hash)
	if err != nil {
		t.Fatalf("APIKeyByHash: %v", err)
	}
	sameAPIKey(t, "after MarkAPIKeyUsed (the revocation stays)", got, &want)
	err = s.MarkAPIKeyUsed(t.Context(), "absent", used)
	wantErr(t, "MarkAPIKeyUsed(absent)", err, store.ErrNotFound)
}
