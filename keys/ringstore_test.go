package keys_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/keys"
)

// memRings is an in-memory keys.RingStore with the store contract: copies
// in and out, versions, ErrNotFound, ErrAlreadyExists, ErrConflict. The real
// backends are held to the same contract by store/storetest.
type memRings struct {
	mu    sync.Mutex
	rings map[string]*cert.KeyRing
	// reads counts KeyRing calls.
	reads int
	// failWith, when set, is returned by every call.
	failWith error
	// conflicts makes the next n PutKeyRing calls fail with ErrConflict.
	conflicts int
}

var _ keys.RingStore = (*memRings)(nil)

func newMemRings() *memRings { return &memRings{rings: map[string]*cert.KeyRing{}} }

func (m *memRings) KeyRing(_ context.Context, issuer string) (*cert.KeyRing, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.reads++
	if m.failWith != nil {
		return nil, m.failWith
	}
	r, ok := m.rings[issuer]
	if !ok {
		return nil, fmt.Errorf("key ring %s: %w", issuer, cert.ErrNotFound)
	}
	return copyRing(r), nil
}

func (m *memRings) PutKeyRing(_ context.Context, r *cert.KeyRing) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failWith != nil {
		return m.failWith
	}
	if m.conflicts > 0 {
		m.conflicts--
		return fmt.Errorf("key ring %s: %w", r.Issuer, cert.ErrConflict)
	}
	cur, ok := m.rings[r.Issuer]
	switch {
	case r.Version == 0 && ok:
		return fmt.Errorf("key ring %s: %w", r.Issuer, cert.ErrAlreadyExists)
	case r.Version != 0 && !ok:
		return fmt.Errorf("key ring %s: %w", r.Issuer, cert.ErrNotFound)
	case r.Version != 0 && cur.Version != r.Version:
		return fmt.Errorf("key ring %s: %w", r.Issuer, cert.ErrConflict)
	}
	r.Version++
	m.rings[r.Issuer] = copyRing(r)
	return nil
}

// ring returns a copy of the stored ring.
func (m *memRings) ring(t testing.TB, issuer string) *cert.KeyRing {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.rings[issuer]
	if !ok {
		t.Fatalf("no ring stored for %s", issuer)
	}
	return copyRing(r)
}

func (m *memRings) set(f func(*memRings)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	f(m)
}

func (m *memRings) readCount() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.reads
}

func copyRing(r *cert.KeyRing) *cert.KeyRing {
	out := *r
	out.Keys = make([]cert.KeyRecord, len(r.Keys))
	for i, k := range r.Keys {
		k.Public = append([]byte(nil), k.Public...)
		k.Sealed = append([]byte(nil), k.Sealed...)
		if k.RetiredAt != nil {
			t := *k.RetiredAt
			k.RetiredAt = &t
		}
		if k.RevokedAt != nil {
			t := *k.RevokedAt
			k.RevokedAt = &t
		}
		out.Keys[i] = k
	}
	return &out
}

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// testKEK returns a random KEK and its raw bytes.
func testKEK(t testing.TB) (keys.KEK, []byte) {
	t.Helper()
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		t.Fatal(err)
	}
	k, err := keys.ParseKEK([]byte(base64.StdEncoding.EncodeToString(raw) + "\n"))
	if err != nil {
		t.Fatalf("ParseKEK: %v", err)
	}
	return k, raw
}

// env is a Service on a memory store with a fake clock.
type env struct {
	svc   *keys.Service
	store *memRings
	clock *fakeClock
	kek   keys.KEK
}

func newEnv(t testing.TB) *env {
	t.Helper()
	kek, _ := testKEK(t)
	st, clk := newMemRings(), newClock()
	return &env{svc: keys.NewService(st, kek, clk.Now), store: st, clock: clk, kek: kek}
}

// peer returns another Service (another certd instance) on the same store,
// KEK and clock.
func (e *env) peer() *keys.Service { return keys.NewService(e.store, e.kek, e.clock.Now) }

func (e *env) createRing(t testing.TB, issuer, keyType string) cert.KeyInfo {
	t.Helper()
	ki, err := e.svc.CreateRing(context.Background(), issuer, keyType)
	if err != nil {
		t.Fatalf("CreateRing(%s, %s): %v", issuer, keyType, err)
	}
	return ki
}

func (e *env) sign(t testing.TB, issuer string, payload []byte) (string, string) {
	t.Helper()
	tok, kid, err := e.svc.Sign(context.Background(), issuer, payload)
	if err != nil {
		t.Fatalf("Sign(%s): %v", issuer, err)
	}
	return tok, kid
}
