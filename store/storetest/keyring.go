package storetest

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/store"
)

var keyRingTests = []test{
	{"keyrings/create", testKeyRingCreate},
	{"keyrings/replace", testKeyRingReplace},
	{"keyrings/stale-version", testKeyRingStale},
	{"keyrings/create-twice", testKeyRingCreateTwice},
	{"keyrings/replace-missing", testKeyRingReplaceMissing},
	{"keyrings/not-found", testKeyRingNotFound},
	{"keyrings/returned-copies", testKeyRingCopies},
}

func newKeyRecord(kid string, state cert.KeyState) cert.KeyRecord {
	return cert.KeyRecord{
		Kid:       kid,
		Alg:       "EdDSA",
		State:     state,
		Public:    json.RawMessage(`{"crv":"Ed25519","kid":"` + kid + `","kty":"OKP","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}`),
		Sealed:    []byte{0x01, 0x02, 0x03, 0xfe, 0xff, 0x00, 0x10},
		CreatedAt: time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC),
	}
}

// sameKeyRing reports an error when got differs from want.
func sameKeyRing(t testing.TB, what string, got, want *cert.KeyRing) {
	t.Helper()
	if got == nil {
		t.Errorf("%s: nil key ring", what)
		return
	}
	norm := func(r cert.KeyRing) cert.KeyRing {
		keys := make([]cert.KeyRecord, len(r.Keys))
		for i, k := range r.Keys {
			k.CreatedAt, k.RetiredAt, k.RevokedAt = k.CreatedAt.UTC(), utcPtr(k.RetiredAt), utcPtr(k.RevokedAt)
			keys[i] = k
		}
		r.Keys = keys
		return r
	}
	if d := fieldDiff(norm(*got), norm(*want)); d != "" {
		t.Errorf("%s: key ring differs (got, want):\n%s", what, d)
	}
}

func putRing(t testing.TB, s store.Store, r *cert.KeyRing) {
	t.Helper()
	if err := s.PutKeyRing(t.Context(), r); err != nil {
		t.Fatalf("PutKeyRing(%s, version %d): %v", r.Issuer, r.Version, err)
	}
}

func getRing(t testing.TB, s store.Store, issuer string) *cert.KeyRing {
	t.Helper()
	r, err := s.KeyRing(t.Context(), issuer)
	if err != nil {
		t.Fatalf("KeyRing(%s): %v", issuer, err)
	}
	return r
}

func testKeyRingCreate(t *testing.T, s store.Store) {
	r := &cert.KeyRing{Issuer: "cesa-itss", Keys: []cert.KeyRecord{newKeyRecord("kid-1", cert.KeyActive)}}
	putRing(t, s, r)
	if r.Version != 1 {
		t.Errorf("after creating, r.Version = %d, want 1", r.Version)
	}
	sameKeyRing(t, "KeyRing", getRing(t, s, "cesa-itss"), r)
}

func testKeyRingReplace(t *testing.T, s store.Store) {
	putRing(t, s, &cert.KeyRing{Issuer: "cesa-itss", Keys: []cert.KeyRecord{newKeyRecord("kid-1", cert.KeyActive)}})
	r := getRing(t, s, "cesa-itss")
	retired := time.Date(2027, 1, 1, 0, 0, 0, 0, shanghai(t))
	r.Keys[0].State, r.Keys[0].RetiredAt = cert.KeyRetired, &retired
	r.Keys = append(r.Keys, newKeyRecord("kid-2", cert.KeyActive))
	putRing(t, s, r)
	if r.Version != 2 {
		t.Errorf("after replacing version 1, r.Version = %d, want 2", r.Version)
	}
	got := getRing(t, s, "cesa-itss")
	sameKeyRing(t, "KeyRing after replace", got, r)
	if len(got.Keys) != 2 || got.Active() == nil || got.Active().Kid != "kid-2" {
		t.Errorf("after rotation: %d keys, active %v; want 2 keys, kid-2 active", len(got.Keys), got.Active())
	}
}

func testKeyRingStale(t *testing.T, s store.Store) {
	putRing(t, s, &cert.KeyRing{Issuer: "cesa-itss", Keys: []cert.KeyRecord{newKeyRecord("kid-1", cert.KeyActive)}})
	winner, loser := getRing(t, s, "cesa-itss"), getRing(t, s, "cesa-itss")
	winner.Keys = append(winner.Keys, newKeyRecord("kid-2", cert.KeyRetired))
	putRing(t, s, winner)
	loser.Keys = append(loser.Keys, newKeyRecord("kid-3", cert.KeyRetired))
	err := s.PutKeyRing(t.Context(), loser)
	wantErr(t, "PutKeyRing(stale version 1)", err, store.ErrConflict)
	sameKeyRing(t, "KeyRing after the refused stale put", getRing(t, s, "cesa-itss"), winner)
}

func testKeyRingCreateTwice(t *testing.T, s store.Store) {
	first := &cert.KeyRing{Issuer: "cesa-itss", Keys: []cert.KeyRecord{newKeyRecord("kid-1", cert.KeyActive)}}
	putRing(t, s, first)
	second := &cert.KeyRing{Issuer: "cesa-itss", Keys: []cert.KeyRecord{newKeyRecord("kid-9", cert.KeyActive)}}
	err := s.PutKeyRing(t.Context(), second)
	wantErr(t, "PutKeyRing(version 0 over an existing ring)", err, store.ErrAlreadyExists)
	sameKeyRing(t, "KeyRing after the refused create", getRing(t, s, "cesa-itss"), first)
}

func testKeyRingReplaceMissing(t *testing.T, s store.Store) {
	r := &cert.KeyRing{Issuer: "cesa-itss", Keys: []cert.KeyRecord{newKeyRecord("kid-1", cert.KeyActive)}, Version: 3}
	err := s.PutKeyRing(t.Context(), r)
	wantErr(t, "PutKeyRing(version 3, nothing stored)", err, store.ErrConflict)
	_, err = s.KeyRing(t.Context(), "cesa-itss")
	wantErr(t, "KeyRing after the refused put", err, store.ErrNotFound)
}

func testKeyRingNotFound(t *testing.T, s store.Store) {
	putRing(t, s, &cert.KeyRing{Issuer: "present", Keys: []cert.KeyRecord{newKeyRecord("kid-1", cert.KeyActive)}})
	_, err := s.KeyRing(t.Context(), "absent")
	wantErr(t, "KeyRing(absent)", err, store.ErrNotFound)
}

func testKeyRingCopies(t *testing.T, s store.Store) {
	r := &cert.KeyRing{Issuer: "cesa-itss", Keys: []cert.KeyRecord{newKeyRecord("kid-1", cert.KeyActive)}}
	putRing(t, s, r)
	want := &cert.KeyRing{Issuer: "cesa-itss", Keys: []cert.KeyRecord{newKeyRecord("kid-1", cert.KeyActive)}, Version: 1}
	r.Keys[0].Sealed[0], r.Keys[0].Public[0] = 0xAA, '['
	got := getRing(t, s, "cesa-itss")
	got.Keys[0].Sealed[1], got.Keys[0].Public[1] = 0xAA, 'X'
	got.Keys[0].State = cert.KeyRevoked
	sameKeyRing(t, "KeyRing after changing given and returned values", getRing(t, s, "cesa-itss"), want)
}
