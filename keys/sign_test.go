package keys_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"testing"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/keys"
)

var b64url = base64.RawURLEncoding

const testPayload = `{"iss":"https://certd.example/issuers/a","jti":"https://certd.example/v/X","iat":1795737600,"exp":1890432000}`

// publicJWK is the public part of a JWK as published.
type publicJWK struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y"`
	D   string `json:"d"`
	Kid string `json:"kid"`
	Alg string `json:"alg"`
	Use string `json:"use"`
}

// thumbprint computes the RFC 7638 SHA-256 thumbprint by hand: the required
// members in lexicographic order, no whitespace.
func thumbprint(t testing.TB, k publicJWK) string {
	t.Helper()
	var canon string
	switch k.Kty {
	case "OKP":
		canon = fmt.Sprintf(`{"crv":%q,"kty":"OKP","x":%q}`, k.Crv, k.X)
	case "EC":
		canon = fmt.Sprintf(`{"crv":%q,"kty":"EC","x":%q,"y":%q}`, k.Crv, k.X, k.Y)
	default:
		t.Fatalf("unexpected kty %q", k.Kty)
	}
	sum := sha256.Sum256([]byte(canon))
	return b64url.EncodeToString(sum[:])
}

// verifyIndependently checks the token's signature with crypto/ed25519 or
// crypto/ecdsa and the published JWK, without the keys package.
func verifyIndependently(t testing.TB, token string, k publicJWK) bool {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts", len(parts))
	}
	input := []byte(parts[0] + "." + parts[1])
	sig, err := b64url.DecodeString(parts[2])
	if err != nil {
		t.Fatalf("signature: %v", err)
	}
	x, err := b64url.DecodeString(k.X)
	if err != nil {
		t.Fatalf("jwk x: %v", err)
	}
	switch k.Kty {
	case "OKP":
		return ed25519.Verify(ed25519.PublicKey(x), input, sig)
	case "EC":
		y, err := b64url.DecodeString(k.Y)
		if err != nil || len(x) != 32 || len(y) != 32 || len(sig) != 64 {
			t.Fatalf("EC key or signature has a wrong size")
		}
		pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
		if err != nil {
			t.Fatalf("EC key: %v", err)
		}
		h := sha256.Sum256(input)
		return ecdsa.Verify(pub, h[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:]))
	}
	return false
}

func jwksOf(t testing.TB, svc *keys.Service, issuer string) []publicJWK {
	t.Helper()
	b, err := svc.JWKS(context.Background(), issuer)
	if err != nil {
		t.Fatalf("JWKS(%s): %v", issuer, err)
	}
	var set struct{ Keys []publicJWK }
	if err := json.Unmarshal(b, &set); err != nil {
		t.Fatalf("JWKS is not JSON: %v\n%s", err, b)
	}
	return set.Keys
}

func kids(ks []publicJWK) []string {
	out := make([]string, len(ks))
	for i, k := range ks {
		out[i] = k.Kid
	}
	return out
}

func TestSignVerifyRoundTrip(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name, keyType, alg, kty, crv string
	}{
		{"ok/ed25519", cert.KeyTypeEd25519, "EdDSA", "OKP", "Ed25519"},
		{"ok/es256", cert.KeyTypeES256, "ES256", "EC", "P-256"},
		{"ok/default-type", "", "EdDSA", "OKP", "Ed25519"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			ki := e.createRing(t, "a", tc.keyType)
			if ki.Alg != tc.alg || ki.State != cert.KeyActive || ki.CreatedAt.IsZero() {
				t.Errorf("CreateRing = alg %q state %q created %v; want %s, active, set", ki.Alg, ki.State, ki.CreatedAt, tc.alg)
			}
			token, kid := e.sign(t, "a", []byte(testPayload))
			if kid != ki.Kid {
				t.Errorf("Sign kid = %s, want the active key %s", kid, ki.Kid)
			}

			// Header: exactly these members, in this order.
			h, err := b64url.DecodeString(strings.Split(token, ".")[0])
			if err != nil {
				t.Fatal(err)
			}
			wantH := `{"alg":"` + tc.alg + `","kid":"` + kid + `","typ":"vc+jwt","cty":"vc"}`
			if string(h) != wantH {
				t.Errorf("header = %s\nwant     %s", h, wantH)
			}
			// Payload: the bytes as given.
			p, _ := b64url.DecodeString(strings.Split(token, ".")[1])
			if string(p) != testPayload {
				t.Errorf("signed payload = %s, want the input bytes", p)
			}

			got, gotKid, err := e.svc.Verify(ctx, "a", token)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if !bytes.Equal(got, []byte(testPayload)) || gotKid != kid {
				t.Errorf("Verify = %s, %s; want the payload and %s", got, gotKid, kid)
			}

			// The published key: kid is the RFC 7638 thumbprint, computed by
			// hand, and it verifies the signature with the standard library.
			ks := jwksOf(t, e.svc, "a")
			if len(ks) != 1 {
				t.Fatalf("JWKS has %d keys, want 1", len(ks))
			}
			k := ks[0]
			if k.Kty != tc.kty || k.Crv != tc.crv || k.Alg != tc.alg || k.Use != "sig" || k.Kid != kid || k.D != "" {
				t.Errorf("JWK = %+v; want kty %s crv %s alg %s use sig kid %s, no d", k, tc.kty, tc.crv, tc.alg, kid)
			}
			if tp := thumbprint(t, k); tp != kid {
				t.Errorf("kid = %s, RFC 7638 thumbprint = %s", kid, tp)
			}
			if !verifyIndependently(t, token, k) {
				t.Error("signature does not verify with the standard library and the published key")
			}
		})
	}
}

func TestSignMany(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.createRing(t, "a", "")
	payloads := [][]byte{[]byte(`{"n":1}`), []byte(`{"n":2}`), []byte(`{"n":3}`)}
	reads := e.store.readCount()
	toks, kid, err := e.svc.SignMany(ctx, "a", payloads)
	if err != nil {
		t.Fatal(err)
	}
	if n := e.store.readCount() - reads; n != 1 {
		t.Errorf("SignMany read the ring %d times, want 1", n)
	}
	if len(toks) != len(payloads) {
		t.Fatalf("SignMany returned %d tokens for %d payloads", len(toks), len(payloads))
	}
	for i, tok := range toks {
		p, k, err := e.svc.Verify(ctx, "a", tok)
		if err != nil || !bytes.Equal(p, payloads[i]) || k != kid {
			t.Errorf("token %d: Verify = %s, %s, %v; want %s, %s", i, p, k, err, payloads[i], kid)
		}
	}
}

func TestSignRefuses(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.createRing(t, "a", "")
	tests := []struct {
		name    string
		issuer  string
		payload []byte
		want    error
	}{
		{"fail/empty-payload", "a", nil, cert.ErrInvalid},
		{"fail/payload-too-large", "a", bytes.Repeat([]byte("x"), keys.MaxTokenSize), cert.ErrInvalid},
		{"fail/no-ring", "nobody", []byte(`{}`), cert.ErrNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tok, _, err := e.svc.Sign(ctx, tc.issuer, tc.payload)
			if !errors.Is(err, tc.want) || tok != "" {
				t.Fatalf("Sign = %q, %v; want error matching %v", tok, err, tc.want)
			}
		})
	}
}

func TestCreateRing(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.createRing(t, "a", "")
	if _, err := e.svc.CreateRing(ctx, "a", ""); !errors.Is(err, cert.ErrAlreadyExists) {
		t.Errorf("CreateRing twice: %v, want ErrAlreadyExists", err)
	}
	if _, err := e.svc.CreateRing(ctx, "b", "RS256"); !errors.Is(err, cert.ErrInvalid) {
		t.Errorf("CreateRing(RS256): %v, want ErrInvalid", err)
	}
	if _, err := e.svc.CreateRing(ctx, "", ""); !errors.Is(err, cert.ErrInvalid) {
		t.Errorf("CreateRing(no issuer): %v, want ErrInvalid", err)
	}
	r := e.store.ring(t, "a")
	if len(r.Keys) != 1 || r.Version != 1 || len(r.Keys[0].Sealed) == 0 {
		t.Errorf("stored ring = %d keys, version %d, sealed %d bytes; want 1, 1, >0", len(r.Keys), r.Version, len(r.Keys[0].Sealed))
	}
}

func TestRotate(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	first := e.createRing(t, "a", cert.KeyTypeEd25519)
	oldTok, _ := e.sign(t, "a", []byte(testPayload))
	e.clock.Add(24 * 3600e9)

	second, err := e.svc.Rotate(ctx, "a", "")
	if err != nil {
		t.Fatal(err)
	}
	if second.Alg != "EdDSA" || second.Kid == first.Kid || second.State != cert.KeyActive {
		t.Errorf("Rotate(\"\") = %s %s %s; want a new active EdDSA key", second.Kid, second.Alg, second.State)
	}
	newTok, kid := e.sign(t, "a", []byte(testPayload))
	if kid != second.Kid {
		t.Errorf("after rotation Sign used %s, want %s", kid, second.Kid)
	}
	for name, tok := range map[string]string{"old": oldTok, "new": newTok} {
		if _, _, err := e.svc.Verify(ctx, "a", tok); err != nil {
			t.Errorf("%s token: Verify: %v", name, err)
		}
	}
	if got := kids(jwksOf(t, e.svc, "a")); len(got) != 2 || got[0] != second.Kid || got[1] != first.Kid {
		t.Errorf("JWKS kids = %v, want [%s %s] (active first)", got, second.Kid, first.Kid)
	}
	if st, err := e.svc.KeyState(ctx, "a", first.Kid); err != nil || st != cert.KeyRetired {
		t.Errorf("KeyState(first) = %s, %v; want retired", st, err)
	}

	// A type change: the ES256 key signs, the Ed25519 keys still verify.
	third, err := e.svc.Rotate(ctx, "a", cert.KeyTypeES256)
	if err != nil || third.Alg != "ES256" {
		t.Fatalf("Rotate(ES256) = %s, %v", third.Alg, err)
	}
	if _, err := e.svc.Rotate(ctx, "a", "RS256"); !errors.Is(err, cert.ErrInvalid) {
		t.Errorf("Rotate(RS256): %v, want ErrInvalid", err)
	}
	if ki, err := e.svc.Rotate(ctx, "a", ""); err != nil || ki.Alg != "ES256" {
		t.Errorf("Rotate(\"\") after ES256 = %s, %v; want ES256", ki.Alg, err)
	}
	if _, _, err := e.svc.Verify(ctx, "a", oldTok); err != nil {
		t.Errorf("oldest token after two more rotations: %v", err)
	}
	ks, err := e.svc.Keys(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	active := 0
	for _, k := range ks {
		if k.State == cert.KeyActive {
			active++
		}
		var pj publicJWK
		if err := json.Unmarshal(k.Public, &pj); err != nil || pj.Kid != k.Kid || pj.Use != "sig" || pj.Alg != k.Alg || pj.D != "" {
			t.Errorf("Keys: public JWK of %s = %s, %v; want kid, alg, use sig, no d", k.Kid, k.Public, err)
		}
		if k.State == cert.KeyRetired && (k.RetiredAt == nil || k.RetiredAt.IsZero()) {
			t.Errorf("retired key %s has no RetiredAt", k.Kid)
		}
	}
	if len(ks) != 4 || active != 1 {
		t.Errorf("Keys = %d keys with %d active, want 4 with 1", len(ks), active)
	}
	if _, err := e.svc.Rotate(ctx, "nobody", ""); !errors.Is(err, cert.ErrNotFound) {
		t.Errorf("Rotate(no ring): %v, want ErrNotFound", err)
	}
}

func TestRotateRetriesConflicts(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name      string
		conflicts int
		want      error
	}{
		{"ok/two-conflicts", 2, nil},
		{"fail/conflicts-persist", 50, cert.ErrConflict},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.createRing(t, "a", "")
			e.store.set(func(m *memRings) { m.conflicts = tc.conflicts })
			_, err := e.svc.Rotate(ctx, "a", "")
			if !errors.Is(err, tc.want) && (tc.want != nil || err != nil) {
				t.Fatalf("Rotate with %d conflicts: %v, want %v", tc.conflicts, err, tc.want)
			}
		})
	}
	t.Run("ok/concurrent-instances", func(t *testing.T) {
		e := newEnv(t)
		e.createRing(t, "a", "")
		errs := make(chan error, 4)
		for range 4 {
			go func() { _, err := e.peer().Rotate(ctx, "a", ""); errs <- err }()
		}
		for range 4 {
			if err := <-errs; err != nil {
				t.Errorf("concurrent Rotate: %v", err)
			}
		}
		r := e.store.ring(t, "a")
		active := 0
		for _, k := range r.Keys {
			if k.State == cert.KeyActive {
				active++
			}
		}
		if len(r.Keys) != 5 || active != 1 {
			t.Errorf("after 4 concurrent rotations: %d keys, %d active; want 5, 1", len(r.Keys), active)
		}
	})
}

func TestRevoke(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	first := e.createRing(t, "a", "")
	oldTok, _ := e.sign(t, "a", []byte(testPayload))
	if err := e.svc.Revoke(ctx, "a", first.Kid); !errors.Is(err, cert.ErrInvalid) || !strings.Contains(err.Error(), "rotate") {
		t.Errorf("Revoke(active) = %v, want ErrInvalid telling to rotate first", err)
	}
	second, err := e.svc.Rotate(ctx, "a", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Revoke(ctx, "a", first.Kid); err != nil {
		t.Fatalf("Revoke(retired): %v", err)
	}
	if err := e.svc.Revoke(ctx, "a", first.Kid); err != nil {
		t.Errorf("Revoke(revoked) again: %v, want nil", err)
	}
	if err := e.svc.Revoke(ctx, "a", "no-such-kid"); !errors.Is(err, cert.ErrNotFound) {
		t.Errorf("Revoke(unknown kid) = %v, want ErrNotFound", err)
	}

	_, _, err = e.svc.Verify(ctx, "a", oldTok)
	if !errors.Is(err, keys.ErrRevokedKey) || !errors.Is(err, keys.ErrBadToken) || !errors.Is(err, cert.ErrInvalid) {
		t.Errorf("Verify(token of revoked key) = %v, want ErrRevokedKey, ErrBadToken, ErrInvalid", err)
	}
	if got := kids(jwksOf(t, e.svc, "a")); len(got) != 1 || got[0] != second.Kid {
		t.Errorf("JWKS kids after revocation = %v, want [%s]", got, second.Kid)
	}
	if st, err := e.svc.KeyState(ctx, "a", first.Kid); err != nil || st != cert.KeyRevoked {
		t.Errorf("KeyState(revoked) = %s, %v", st, err)
	}
	if _, err := e.svc.KeyState(ctx, "a", "no-such-kid"); !errors.Is(err, cert.ErrNotFound) {
		t.Errorf("KeyState(unknown) = %v, want ErrNotFound", err)
	}
	rec := e.store.ring(t, "a").Find(first.Kid)
	if rec.State != cert.KeyRevoked || rec.RevokedAt == nil || len(rec.Sealed) != 0 {
		t.Errorf("stored revoked key: state %s, revokedAt %v, sealed %d bytes; want revoked, set, erased", rec.State, rec.RevokedAt, len(rec.Sealed))
	}
	// The new key is unaffected.
	tok, _ := e.sign(t, "a", []byte(testPayload))
	if _, _, err := e.svc.Verify(ctx, "a", tok); err != nil {
		t.Errorf("Verify(token of the active key) after revocation: %v", err)
	}
}

// Another certd instance on the same store: its rotation signs the next
// credential here and its tokens verify here at once; its revocation is seen
// here once the cached ring is a second old.
func TestOtherInstance(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.createRing(t, "a", "")
	other := e.peer()
	tok1, _ := e.sign(t, "a", []byte(testPayload))
	if _, _, err := e.svc.Verify(ctx, "a", tok1); err != nil {
		t.Fatal(err)
	}

	rotated, err := other.Rotate(ctx, "a", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, kid := e.sign(t, "a", []byte(testPayload)); kid != rotated.Kid {
		t.Errorf("Sign after another instance rotated used %s, want %s", kid, rotated.Kid)
	}
	tok2, _, err := other.Sign(ctx, "a", []byte(testPayload))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.svc.Verify(ctx, "a", tok2); err != nil {
		t.Errorf("token of a key made on another instance, no clock change: %v", err)
	}

	first := e.store.ring(t, "a").Keys[0].Kid
	if err := other.Revoke(ctx, "a", first); err != nil {
		t.Fatal(err)
	}
	e.clock.Add(1100e6)
	if _, _, err := e.svc.Verify(ctx, "a", tok1); !errors.Is(err, keys.ErrRevokedKey) {
		t.Errorf("1.1s after another instance revoked the key: Verify = %v, want ErrRevokedKey", err)
	}
}

func TestVerifyCachesRing(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.createRing(t, "a", "")
	tok, _ := e.sign(t, "a", []byte(testPayload))
	reads := e.store.readCount()
	for range 100 {
		if _, _, err := e.svc.Verify(ctx, "a", tok); err != nil {
			t.Fatal(err)
		}
	}
	if n := e.store.readCount() - reads; n > 1 {
		t.Errorf("100 verifications within a second read the ring %d times, want at most 1", n)
	}
	reads = e.store.readCount()
	e.clock.Add(2e9)
	if _, _, err := e.svc.Verify(ctx, "a", tok); err != nil {
		t.Fatal(err)
	}
	if n := e.store.readCount() - reads; n != 1 {
		t.Errorf("verification after the cached ring aged read it %d times, want 1", n)
	}
}

func TestStoreErrorsPassThrough(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.createRing(t, "a", "")
	tok, kid := e.sign(t, "a", []byte(testPayload))
	down := fmt.Errorf("bolt: timeout: %w", cert.ErrUnavailable)
	e.store.set(func(m *memRings) { m.failWith = down })
	e.clock.Add(2e9) // the cached ring is stale: verification must read it

	calls := map[string]func() error{
		"Sign":     func() error { _, _, err := e.svc.Sign(ctx, "a", []byte(`{}`)); return err },
		"SignMany": func() error { _, _, err := e.svc.SignMany(ctx, "a", [][]byte{[]byte(`{}`)}); return err },
		"Verify":   func() error { _, _, err := e.svc.Verify(ctx, "a", tok); return err },
		"KeyState": func() error { _, err := e.svc.KeyState(ctx, "a", kid); return err },
		"Keys":     func() error { _, err := e.svc.Keys(ctx, "a"); return err },
		"JWKS":     func() error { _, err := e.svc.JWKS(ctx, "a"); return err },
		"JWKSAll":  func() error { _, err := e.svc.JWKSAll(ctx, []string{"a"}); return err },
		"Metadata": func() error { _, err := e.svc.IssuerMetadata(ctx, "a", "https://x/issuers/a"); return err },
		"Rotate":   func() error { _, err := e.svc.Rotate(ctx, "a", ""); return err },
		"Revoke":   func() error { return e.svc.Revoke(ctx, "a", kid) },
		"Create":   func() error { _, err := e.svc.CreateRing(ctx, "b", ""); return err },
	}
	for name, call := range calls {
		t.Run("fail/"+name, func(t *testing.T) {
			err := call()
			if !errors.Is(err, cert.ErrUnavailable) {
				t.Errorf("%s with the store down: %v, want ErrUnavailable", name, err)
			}
			if errors.Is(err, keys.ErrBadToken) {
				t.Errorf("%s with the store down: %v is reported as a bad token (must fail closed as unavailable)", name, err)
			}
		})
	}
}

func TestSealedKeyBoundToRecord(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.createRing(t, "a", "")
	tests := []struct {
		name   string
		mutate func(m *memRings)
		issuer string
	}{
		{"fail/ring-moved-to-another-issuer", func(m *memRings) {
			r := copyRing(m.rings["a"])
			r.Issuer = "b"
			m.rings["b"] = r
		}, "b"},
		{"fail/sealed-key-swapped", func(m *memRings) {
			other := newEnv(t)
			other.kek = e.kek
			svc := other.peer()
			if _, err := svc.CreateRing(ctx, "a", ""); err != nil {
				t.Fatal(err)
			}
			r := copyRing(m.rings["a"])
			r.Issuer = "c"
			r.Keys[0].Sealed = other.store.ring(t, "a").Keys[0].Sealed
			m.rings["c"] = r
		}, "c"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e.store.set(tc.mutate)
			if tok, _, err := e.svc.Sign(ctx, tc.issuer, []byte(`{}`)); err == nil {
				t.Fatalf("Sign with a moved sealed key succeeded: %s", tok)
			}
		})
	}
	t.Run("fail/wrong-kek", func(t *testing.T) {
		kek2, _ := testKEK(t)
		if _, _, err := keys.NewService(e.store, kek2, nil).Sign(ctx, "a", []byte(`{}`)); err == nil || !strings.Contains(err.Error(), "wrong KEK") {
			t.Fatalf("Sign with another KEK: %v, want a wrong-KEK error", err)
		}
	})
	t.Run("fail/zero-kek", func(t *testing.T) {
		if _, err := keys.NewService(newMemRings(), keys.KEK{}, nil).CreateRing(ctx, "a", ""); err == nil {
			t.Fatal("CreateRing with the zero KEK succeeded")
		}
	})
}

// CheckSigning tells a ring whose active key the KEK cannot open (the KEK
// file was replaced) from one that signs, also after another instance with
// another KEK rotated the ring.
func TestCheckSigning(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.createRing(t, "a", "")
	if err := e.svc.CheckSigning(ctx, "a"); err != nil {
		t.Fatalf("CheckSigning with the sealing KEK: %v", err)
	}
	kek2, _ := testKEK(t)
	other := keys.NewService(e.store, kek2, e.clock.Now)
	if err := other.CheckSigning(ctx, "a"); !errors.Is(err, keys.ErrUnseal) {
		t.Fatalf("CheckSigning with another KEK: %v, want ErrUnseal", err)
	}
	if err := e.svc.CheckSigning(ctx, "absent"); !errors.Is(err, cert.ErrNotFound) {
		t.Errorf("CheckSigning(absent issuer): %v, want ErrNotFound", err)
	}
	// An instance with the wrong KEK rotates: the new active key is sealed
	// with that KEK, and this instance can no longer sign.
	if _, err := other.Rotate(ctx, "a", ""); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.CheckSigning(ctx, "a"); !errors.Is(err, keys.ErrUnseal) {
		t.Errorf("CheckSigning after a rotation under another KEK: %v, want ErrUnseal", err)
	}
}

// Signing, verifying, rotating and aging the cache at once: every token
// signed verifies (its key is only ever retired), under the race detector.
func TestConcurrentUse(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.createRing(t, "a", "")
	other := e.peer()
	done := make(chan struct{})
	errs := make(chan error, 16)
	go func() {
		defer close(done)
		for range 5 {
			if _, err := other.Rotate(ctx, "a", ""); err != nil {
				errs <- err
				return
			}
			e.clock.Add(300e6)
		}
	}()
	for w := range 4 {
		go func() {
			svc := e.svc
			if w%2 == 1 {
				svc = other
			}
			for i := range 30 {
				tok, _, err := svc.Sign(ctx, "a", []byte(fmt.Sprintf(`{"w":%d,"i":%d}`, w, i)))
				if err == nil {
					_, _, err = e.svc.Verify(ctx, "a", tok)
				}
				if err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	<-done
	select {
	case err := <-errs:
		t.Error(err)
	default:
	}
}

// A status list may exceed the size of a certificate credential.
func TestSignStatusListAllowsLargerPayloads(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.createRing(t, "a", "")
	big := []byte(`{"encodedList":"u` + strings.Repeat("A", 30<<10) + `"}`)
	if _, _, err := e.svc.Sign(ctx, "a", big); err == nil {
		t.Fatalf("Sign accepted a 30 KiB payload; certificate credentials are capped at %d bytes", keys.MaxTokenSize)
	}
	tok, kid, err := e.svc.SignStatusList(ctx, "a", big)
	if err != nil || kid == "" || len(tok) <= keys.MaxTokenSize {
		t.Fatalf("SignStatusList: %v (kid %q, %d bytes)", err, kid, len(tok))
	}
	huge := []byte(`{"x":"` + strings.Repeat("A", keys.MaxListTokenSize) + `"}`)
	if _, _, err := e.svc.SignStatusList(ctx, "a", huge); err == nil {
		t.Errorf("SignStatusList accepted a payload over %d bytes", keys.MaxListTokenSize)
	}
}

// Large batches are signed on all cores; every token is still right.
func TestSignManyLargeBatch(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.createRing(t, "a", "")
	payloads := make([][]byte, 500)
	for i := range payloads {
		payloads[i] = []byte(fmt.Sprintf(`{"n":%d}`, i))
	}
	toks, _, err := e.svc.SignMany(ctx, "a", payloads)
	if err != nil {
		t.Fatal(err)
	}
	for i, tok := range toks {
		p, _, err := e.svc.Verify(ctx, "a", tok)
		if err != nil || string(p) != string(payloads[i]) {
			t.Fatalf("token %d: %v, payload %s", i, err, p)
		}
	}
}
