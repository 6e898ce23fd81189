package verifier_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/issuer"
	"github.com/certd/certd/keys"
	"github.com/certd/certd/store"
	"github.com/certd/certd/store/bolt"
	"github.com/certd/certd/verifier"
)

// flakyStore is a real bbolt store whose certificate reads can be made to
// fail, as when a database stops answering.
type flakyStore struct {
	store.Store
	down atomic.Bool
}

func (f *flakyStore) Certificate(ctx context.Context, id string) (*cert.Certificate, error) {
	if f.down.Load() {
		return nil, fmt.Errorf("read: %w", cert.ErrUnavailable)
	}
	return f.Store.Certificate(ctx, id)
}

type env struct {
	st   *flakyStore
	ver  *verifier.Service
	iss  *issuer.Service
	cert *cert.Certificate
	// direct verifies from the bbolt store itself, with its verdict reads.
	direct *verifier.Service
}

// issue issues another certificate of issuer cb to the organization.
func (e *env) issue(t testing.TB, org, uscc string) (*cert.Certificate, error) {
	t.Helper()
	c, _, err := e.iss.Issue(context.Background(), cert.Principal{Role: cert.RoleAdmin, KeyID: "t"}, issuer.Request{
		Issuer: "cb", Scheme: "itss", Category: "运行维护", Level: 2, Scope: "信息系统运行维护服务",
		Organization: cert.Organization{Name: org, USCC: uscc},
	}, "")
	return c, err
}

func newEnv(t testing.TB) *env {
	t.Helper()
	b, err := bolt.Open(filepath.Join(t.TempDir(), "certd.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	st := &flakyStore{Store: b}
	kek, err := keys.ParseKEK([]byte("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n"))
	if err != nil {
		t.Fatal(err)
	}
	now := func() time.Time { return time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC) }
	ks := keys.NewService(b, kek, now)
	schemes, _ := cert.NewSchemes(cert.BuiltinSchemes())
	iss := issuer.New(issuer.Config{Store: b, Signer: ks, Rings: ks, Schemes: schemes, PublicURL: "https://verify.example.cn", Now: now})
	admin := cert.Principal{Role: cert.RoleAdmin, KeyID: "t"}
	if _, err := iss.CreateIssuer(context.Background(), admin, issuer.IssuerRequest{ID: "cb", Name: "Test CB"}); err != nil {
		t.Fatal(err)
	}
	c, _, err := iss.Issue(context.Background(), admin, issuer.Request{
		Issuer: "cb", Scheme: "itss", Category: "运行维护", Level: 3, Scope: "信息系统运行维护服务",
		Organization: cert.Organization{Name: "北京示例科技有限公司", USCC: "91110108MA0123456G"},
	}, "")
	if err != nil {
		t.Fatal(err)
	}
	ver := verifier.New(verifier.Config{Store: st, Keys: ks, Schemes: schemes, PublicURL: "https://verify.example.cn", Now: now})
	direct := verifier.New(verifier.Config{Store: b, Keys: ks, Schemes: schemes, PublicURL: "https://verify.example.cn", Now: now})
	return &env{st: st, ver: ver, iss: iss, cert: c, direct: direct}
}

func TestVerdicts(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	cases := []struct {
		name        string
		down        bool
		verify      func() cert.Verdict
		wantVerdict string
		wantStatus  cert.Status
	}{
		{"ok/by-id", false, func() cert.Verdict { return e.ver.ByID(ctx, e.cert.ID) }, cert.VerdictValid, cert.StatusActive},
		{"ok/by-id-lower-case", false, func() cert.Verdict { return e.ver.ByID(ctx, toLower(e.cert.ID)) }, cert.VerdictValid, cert.StatusActive},
		{"ok/token", false, func() cert.Verdict { return e.ver.ByToken(ctx, e.cert.Credential) }, cert.VerdictValid, cert.StatusActive},
		{"ok/number", false, func() cert.Verdict { return e.ver.ByNumber(ctx, "", e.cert.Number) }, cert.VerdictValid, cert.StatusActive},
		{"fail/unknown-id", false, func() cert.Verdict { return e.ver.ByID(ctx, "0000000000000000000000000Z") }, cert.VerdictInvalid, cert.StatusNotFound},
		{"fail/not-an-id", false, func() cert.Verdict { return e.ver.ByID(ctx, "../../etc/passwd") }, cert.VerdictInvalid, cert.StatusNotFound},
		{"fail/garbage-token", false, func() cert.Verdict { return e.ver.ByToken(ctx, "a.b.c") }, cert.VerdictInvalid, cert.StatusNotFound},
		// Fail closed: a store that cannot answer never gives valid.
		{"unknown/by-id-store-down", true, func() cert.Verdict { return e.ver.ByID(ctx, e.cert.ID) }, cert.VerdictUnknown, ""},
		{"unknown/token-store-down", true, func() cert.Verdict { return e.ver.ByToken(ctx, e.cert.Credential) }, cert.VerdictUnknown, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e.st.down.Store(tc.down)
			defer e.st.down.Store(false)
			v := tc.verify()
			if v.Verdict != tc.wantVerdict || v.Status != tc.wantStatus {
				t.Fatalf("verdict %s/%s, want %s/%s (%s)", v.Verdict, v.Status, tc.wantVerdict, tc.wantStatus, v.Reason)
			}
			if v.Reason == "" {
				t.Errorf("verdict without a reason")
			}
			if tc.wantVerdict == cert.VerdictValid && len(v.Checks) != 5 {
				t.Errorf("%d checks, want signature, validity, revocation, suspension, surveillance", len(v.Checks))
			}
		})
	}
}

func TestBatchLimits(t *testing.T) {
	e := newEnv(t)
	if _, err := e.ver.Batch(context.Background(), nil); !errors.Is(err, cert.ErrInvalid) {
		t.Errorf("empty batch: %v, want ErrInvalid", err)
	}
	if _, err := e.ver.Batch(context.Background(), make([]string, verifier.MaxBatch+1)); !errors.Is(err, cert.ErrInvalid) {
		t.Errorf("batch of %d: %v, want ErrInvalid", verifier.MaxBatch+1, err)
	}
	got, err := e.ver.Batch(context.Background(), []string{e.cert.ID, "https://verify.example.cn/v/" + e.cert.ID, e.cert.Number, e.cert.Credential})
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range got {
		if v.Verdict != cert.VerdictValid {
			t.Errorf("item %d: %s (%s)", i, v.Verdict, v.Reason)
		}
	}
}

func toLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 32
		}
	}
	return string(b)
}
