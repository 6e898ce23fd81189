package verifier_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/issuer"
	"github.com/certd/certd/keys"
	"github.com/certd/certd/store/bolt"
	"github.com/certd/certd/verifier"
)

// clock is a settable time.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// TestVerdictCacheAsUncached runs a random life of certificates (issues,
// every lifecycle action, renewals, key rotations and revocations, issuer
// renames, time moving by seconds to months, and now and then back) and
// after every step compares the verdicts of a verifier that keeps
// verdicts with those of one that does not, over the same store and keys:
// a kept verdict must never differ from a fresh one.
func TestVerdictCacheAsUncached(t *testing.T) {
	ctx := context.Background()
	b, clk, ks, schemes := openCacheStore(t)
	lists := issuer.NewStatusLists(issuer.StatusListConfig{Store: b, Signer: ks, Schemes: schemes, PublicURL: "https://verify.example.cn", TTL: time.Hour, Now: clk.now})
	iss := issuer.New(issuer.Config{Store: b, Signer: ks, Rings: ks, Schemes: schemes, PublicURL: "https://verify.example.cn", Now: clk.now,
		OnChange: lists.Invalidate, StatusLists: lists})
	admin := cert.Principal{Role: cert.RoleAdmin, KeyID: "t"}
	for _, id := range []string{"cb", "cb2"} {
		if _, err := iss.CreateIssuer(ctx, admin, issuer.IssuerRequest{ID: id, Name: "CB " + id, NameZh: "认证机构" + id}); err != nil {
			t.Fatal(err)
		}
	}
	cfg := verifier.Config{Store: b, Keys: ks, Schemes: schemes, PublicURL: "https://verify.example.cn", Now: clk.now, StatusLists: lists}
	plain := verifier.New(cfg)
	cfg.VerdictCache = 64 // smaller than the certificates: eviction too
	kept := verifier.New(cfg)

	rng := rand.New(rand.NewPCG(3, 9))
	// ids are the certificates, tokens the credentials presented: every
	// one signed, the renewed and revised ones' too.
	var ids, tokens []string
	issue := func() {
		first17 := fmt.Sprintf("91110108MA%07d", len(ids))
		check, err := cert.USCCCheckChar(first17)
		if err != nil {
			t.Fatal(err)
		}
		scheme := []string{"itss", "iso17021"}[rng.IntN(2)]
		req := issuer.Request{Issuer: []string{"cb", "cb2"}[rng.IntN(2)], Scheme: scheme, Scope: "信息系统运行维护服务",
			Organization: cert.Organization{Name: fmt.Sprintf("示例%d有限公司", len(ids)), USCC: first17 + string(check)}}
		if scheme == "itss" {
			req.Category, req.Level = "运行维护", 2
		} else {
			req.Standard = "ISO/IEC 27001:2022"
		}
		c, _, err := iss.Issue(ctx, admin, req, "")
		if err != nil {
			t.Fatalf("issue: %v", err)
		}
		ids = append(ids, c.ID)
		tokens = append(tokens, c.Credential)
	}
	day := func() string { return clk.now().In(time.FixedZone("CST", 8*3600)).Format(cert.DateLayout) }
	act := func() {
		id := ids[rng.IntN(len(ids))]
		var req issuer.ActionRequest
		action := []string{issuer.ActionSurveillance, issuer.ActionSurveillance, issuer.ActionSuspend, issuer.ActionReinstate,
			issuer.ActionWithdraw, issuer.ActionCancel, issuer.ActionRenew, issuer.ActionRevise}[rng.IntN(8)]
		req.Reason = "random " + action
		switch action {
		case issuer.ActionSurveillance:
			req.Date, req.Result, req.AuditRef = day(), []string{"passed", "failed"}[rng.IntN(2)], "A-1"
		case issuer.ActionRevise:
			level := 1 + rng.IntN(3)
			req.Level = &level
		case issuer.ActionSuspend:
			if rng.IntN(2) == 0 {
				req.Until = clk.now().AddDate(0, 0, 1+rng.IntN(60)).Format(cert.DateLayout)
			}
		}
		c, err := iss.Act(ctx, admin, id, action, req, 0)
		if err == nil && c != nil && c.SupersededBy != "" && (action == issuer.ActionRenew || action == issuer.ActionRevise) {
			n, err := b.Certificate(ctx, c.SupersededBy)
			if err != nil {
				t.Fatal(err)
			}
			ids, tokens = append(ids, n.ID), append(tokens, n.Credential)
		}
		// Refused actions (a reinstatement of an active certificate...)
		// are part of the life too.
	}
	compare := func(step int, what string) {
		t.Helper()
		for _, id := range ids {
			got := kept.ByID(ctx, id)
			want := plain.ByID(ctx, id)
			if !sameVerdict(got, want) {
				t.Fatalf("step %d (%s), %s at %s: the kept verdict differs from a fresh one:\nkept  %+v\nfresh %+v", step, what, id, clk.now(), got, want)
			}
		}
		for i, token := range tokens {
			got := kept.ByToken(ctx, token)
			want := plain.ByToken(ctx, token)
			if !sameVerdict(got, want) {
				t.Fatalf("step %d (%s), token %d at %s: the kept verdict differs from a fresh one:\nkept  %+v\nfresh %+v", step, what, i, clk.now(), got, want)
			}
		}
	}
	for range 20 {
		issue()
	}
	for step := range 800 {
		var what string
		switch r := rng.IntN(100); {
		case r < 10:
			what = "issue"
			issue()
		case r < 35:
			what = "action"
			act()
		case r < 60:
			what = "time"
			clk.add(time.Duration(rng.Int64N(int64(90 * 24 * time.Hour))))
		case r < 70:
			what = "seconds"
			clk.add(time.Duration(rng.Int64N(int64(2 * time.Second))))
		case r < 72:
			what = "clock back"
			clk.add(-time.Duration(rng.Int64N(int64(40 * 24 * time.Hour))))
		case r < 76:
			what = "rotate"
			if _, err := ks.Rotate(ctx, "cb", "Ed25519"); err != nil {
				t.Fatal(err)
			}
		case r < 80:
			what = "revoke"
			r, err := b.KeyRing(ctx, "cb")
			if err != nil {
				t.Fatal(err)
			}
			for _, k := range r.Keys {
				if k.State == cert.KeyRetired {
					if err := ks.Revoke(ctx, "cb", k.Kid); err != nil {
						t.Fatal(err)
					}
					break
				}
			}
		case r < 82:
			// A ring changed in the store behind the key service (as by
			// another process): both verifiers see it when the key
			// service reads the ring again.
			what = "revoke behind the key service"
			r, err := b.KeyRing(ctx, "cb")
			if err != nil {
				t.Fatal(err)
			}
			for i := range r.Keys {
				if r.Keys[i].State == cert.KeyRetired {
					at := clk.now()
					r.Keys[i].State, r.Keys[i].RevokedAt, r.Keys[i].Sealed = cert.KeyRevoked, &at, nil
					if err := b.PutKeyRing(ctx, r); err != nil {
						t.Fatal(err)
					}
					compare(step, "revoked, not yet read")
					clk.add(2 * time.Second)
					break
				}
			}
		case r < 86:
			what = "rename"
			is, err := b.Issuer(ctx, "cb2")
			if err != nil {
				t.Fatal(err)
			}
			is.NameZh = fmt.Sprintf("认证机构%d", step)
			if err := b.UpdateIssuer(ctx, is); err != nil {
				t.Fatal(err)
			}
			// Verdicts judged between the write and the moment the
			// verifiers forget the issuer name it as it was.
			compare(step, "renamed, not yet forgotten")
			// As the API does after a change of a profile.
			plain.ForgetIssuer("cb2")
			kept.ForgetIssuer("cb2")
		default:
			what = "again"
		}
		compare(step, what)
	}
	if hits := verifier.KeptVerdictsAnswered(kept); hits < 1000 {
		t.Fatalf("%d verdicts answered from the cache: the test does not exercise it", hits)
	}
}

// goneAfterFirstLook is the context of a request whose client goes away
// (or whose deadline passes) after the certificate was read: every look
// at it but the first says it is cancelled.
type goneAfterFirstLook struct {
	context.Context
	looks atomic.Int32
}

func (c *goneAfterFirstLook) Err() error {
	if c.looks.Add(1) > 1 {
		return context.Canceled
	}
	return nil
}

type cacheEnv struct {
	iss    *issuer.Service
	plain  *verifier.Service
	kept   *verifier.Service
	admin  cert.Principal
	store  *bolt.Store
	clk    *clock
	issued func() *cert.Certificate
}

// sameVerdict reports whether a verdict answered from memory is the
// fresh one: the same fields and the same JSON, byte for byte (a kept
// verdict writes the JSON it made once).
func sameVerdict(kept, fresh cert.Verdict) bool {
	if string(kept.AppendJSON(nil)) != string(fresh.AppendJSON(nil)) {
		return false
	}
	kept.JSON = nil
	return reflect.DeepEqual(kept, fresh)
}

// openCacheStore opens a bbolt store with a key service, both on a
// settable clock.
func openCacheStore(t *testing.T) (*bolt.Store, *clock, *keys.Service, cert.Schemes) {
	t.Helper()
	b, err := bolt.Open(filepath.Join(t.TempDir(), "certd.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	clk := &clock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	kek, err := keys.ParseKEK([]byte("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n"))
	if err != nil {
		t.Fatal(err)
	}
	schemes, _ := cert.NewSchemes(cert.BuiltinSchemes())
	return b, clk, keys.NewService(b, kek, clk.now), schemes
}

func newCacheEnv(t *testing.T) *cacheEnv {
	t.Helper()
	ctx := context.Background()
	b, clk, ks, schemes := openCacheStore(t)
	iss := issuer.New(issuer.Config{Store: b, Signer: ks, Rings: ks, Schemes: schemes, PublicURL: "https://verify.example.cn", Now: clk.now})
	admin := cert.Principal{Role: cert.RoleAdmin, KeyID: "t"}
	if _, err := iss.CreateIssuer(ctx, admin, issuer.IssuerRequest{ID: "cb", Name: "CB", NameZh: "认证机构"}); err != nil {
		t.Fatal(err)
	}
	cfg := verifier.Config{Store: b, Keys: ks, Schemes: schemes, PublicURL: "https://verify.example.cn", Now: clk.now}
	plain := verifier.New(cfg)
	cfg.VerdictCache = 64
	kept := verifier.New(cfg)
	e := &cacheEnv{iss: iss, plain: plain, kept: kept, admin: admin, store: b, clk: clk}
	n := 0
	e.issued = func() *cert.Certificate {
		first17 := "91110108MA000000" + string(rune('0'+n))
		n++
		check, err := cert.USCCCheckChar(first17)
		if err != nil {
			t.Fatal(err)
		}
		c, _, err := iss.Issue(ctx, admin, issuer.Request{Issuer: "cb", Scheme: "iso17021", Standard: "ISO/IEC 27001:2022", Scope: "信息系统运行维护服务",
			Organization: cert.Organization{Name: "示例有限公司", USCC: first17 + string(check)}}, "")
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	return e
}

// A verdict judged while the predecessor could not be read (the request's
// context ended after the certificate itself was read) lacks the
// predecessor link: it must not be kept and answered to later
// verifications, which an uncached verifier answers with the link.
func TestVerdictCacheLinkNotRead(t *testing.T) {
	ctx := context.Background()
	e := newCacheEnv(t)
	old := e.issued()
	scope := "信息系统运行维护服务及咨询"
	if _, err := e.iss.Act(ctx, e.admin, old.ID, issuer.ActionRevise, issuer.ActionRequest{Reason: "scope extended", Scope: &scope}, 0); err != nil {
		t.Fatal(err)
	}
	old, err := e.store.Certificate(ctx, old.ID)
	if err != nil || old.SupersededBy == "" {
		t.Fatalf("renewal: %v %+v", err, old)
	}
	renewed := old.SupersededBy
	// Warm the issuer cache and the key ring (as any earlier verification).
	_ = e.kept.ByID(ctx, old.ID)

	vd := e.kept.ByID(&goneAfterFirstLook{Context: ctx}, renewed)
	if vd.Certificate == nil || vd.Certificate.Predecessor != nil {
		t.Fatalf("setup: expected a verdict without the predecessor link, got %+v", vd)
	}
	want, got := e.plain.ByID(ctx, renewed), e.kept.ByID(ctx, renewed)
	if !sameVerdict(got, want) {
		t.Fatalf("the kept verdict differs from a fresh one:\nkept  %+v\nfresh %+v\n(predecessor kept %v, fresh %v)", got, want, got.Certificate.Predecessor, want.Certificate.Predecessor)
	}
}

// A readiness probe (/readyz commits a small write at most once a second)
// writes nothing a verdict shows and leaves the kept verdicts: else,
// behind a load balancer probing every few seconds, none would be kept
// for long.
func TestVerdictCacheSurvivesReadinessProbe(t *testing.T) {
	ctx := context.Background()
	e := newCacheEnv(t)
	c := e.issued()
	_ = e.kept.ByID(ctx, c.ID)
	if err := e.store.ProbeWrite(ctx); err != nil {
		t.Fatal(err)
	}
	before := verifier.KeptVerdictsAnswered(e.kept)
	_ = e.kept.ByID(ctx, c.ID)
	if verifier.KeptVerdictsAnswered(e.kept) == before {
		t.Fatal("after a readiness probe's write the kept verdict was judged again from the store")
	}
}

// Verifications concurrent with withdrawals: once a withdrawal is
// acknowledged, the next verification by the same goroutine names it
// withdrawn (run with -race for the kept verdicts shared by readers).
func TestVerdictCacheConcurrentWithdrawals(t *testing.T) {
	ctx := context.Background()
	e := newCacheEnv(t)
	var ids []string
	for range 8 {
		ids = append(ids, e.issued().ID)
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	defer func() {
		select {
		case <-stop:
		default:
			close(stop)
		}
		wg.Wait()
	}()
	for r := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				vd := e.kept.ByID(ctx, ids[(i+r)%len(ids)])
				if len(vd.Checks) == 0 || vd.Certificate == nil {
					t.Errorf("verdict without checks or certificate: %+v", vd)
					return
				}
				_ = vd.Checks[0].Detail + vd.Certificate.Number + string(vd.Status)
			}
		}()
	}
	for _, id := range ids {
		if _, err := e.iss.Act(ctx, e.admin, id, issuer.ActionWithdraw, issuer.ActionRequest{Reason: "fraud", ReasonCode: "0103"}, 0); err != nil {
			t.Fatal(err)
		}
		if vd := e.kept.ByID(ctx, id); vd.Status != cert.StatusWithdrawn {
			t.Errorf("%s: after its withdrawal was acknowledged the next verification says %s", id, vd.Status)
		}
	}
}
