package issuer

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/store"
)

// Publishing a list after one change reads the certificates that may have
// changed, not every certificate of the issuer.
func TestStatusListPublishReadsChangedOnly(t *testing.T) {
	ctx := context.Background()
	e := newSLEnv(t, time.Date(2027, 3, 1, 10, 0, 0, 0, slShanghai))
	const n = 5000
	seedCertificates(t, e, n)
	page, _, err := e.st.Store.ListCertificates(ctx, store.Query{Issuer: "cb", Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	var a *cert.Certificate
	for _, c := range page {
		if len(c.Events) == 1 {
			a = c
			break
		}
	}
	if _, err := e.lists.List(ctx, "cb", cert.PurposeRevocation, 1); err != nil {
		t.Fatal(err)
	}
	if e.bit(t, a, cert.PurposeRevocation) {
		t.Fatal("revocation bit set before the withdrawal")
	}
	before := e.st.certs.Load()
	if _, err := e.svc.Act(ctx, e.cb, a.ID, ActionWithdraw, ActionRequest{Reason: "fraud"}, 0); err != nil {
		t.Fatal(err)
	}
	l, err := e.lists.List(ctx, "cb", cert.PurposeRevocation, 1)
	if err != nil {
		t.Fatal(err)
	}
	if read := e.st.certs.Load() - before; read >= 10 {
		t.Errorf("publishing after one withdrawal read %d certificates of %d, want fewer than 10", read, n)
	}
	if !e.bit(t, a, cert.PurposeRevocation) {
		t.Error("revocation bit not set right after the withdrawal through this instance")
	}
	// The list holds the seeded withdrawals too: 1% of n, and a.
	bits := decodeForTest(t, listSubject(t, l.Token).EncodedList)
	if got, want := popCount(bits), n/100+1; got != want {
		t.Errorf("%d revocation bits set, want %d", got, want)
	}
}

func popCount(bits []byte) int {
	n := 0
	for _, b := range bits {
		for ; b != 0; b &= b - 1 {
			n++
		}
	}
	return n
}

// listSubject decodes the credential subject of a signed list (its
// signature is checked by the tests of publication).
func listSubject(tb testing.TB, token string) statusListSubject {
	tb.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		tb.Fatalf("token has %d parts, want 3", len(parts))
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		tb.Fatal(err)
	}
	var cred statusListCredential
	if err := json.Unmarshal(b, &cred); err != nil {
		tb.Fatal(err)
	}
	return cred.CredentialSubject
}

// After any sequence of actions, sweeps and clock moves, the lists built
// from the status index equal those built from every certificate.
func TestStatusIndexMatchesFullRebuild(t *testing.T) {
	done := map[string]int{}
	for seed := range uint64(3) {
		t.Run(fmt.Sprint("seed-", seed), func(t *testing.T) { testIndexMatchesFull(t, seed, done) })
	}
	for _, a := range []string{ActionWithdraw, ActionSuspend, ActionReinstate, ActionSurveillance, ActionRevise, "sweep", "clock", "to-watch"} {
		if done[a] == 0 {
			t.Errorf("no %s succeeded in the sequences (%v): the test does not cover it", a, done)
		}
	}
	t.Logf("actions: %v", done)
}

func testIndexMatchesFull(t *testing.T, seed uint64, done map[string]int) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(seed, 99))
	e := newSLEnv(t, time.Date(2027, 1, 10, 9, 0, 0, 0, slShanghai))
	other := e.instance(t, false)
	var ids []string
	for i := range 30 {
		from := e.clock.Now().AddDate(0, -r.IntN(30), -r.IntN(28)).In(slShanghai).Format("2006-01-02")
		if i%4 == 0 {
			from = ""
		}
		ids = append(ids, e.issue(t, from).ID)
	}
	for step := range 250 {
		svc := e.svc
		if r.IntN(4) == 0 {
			svc = other
		}
		id := ids[r.IntN(len(ids))]
		today := e.clock.Now().In(slShanghai).Format("2006-01-02")
		var what string
		var err error
		switch k := r.IntN(13); k {
		case 12:
			// To the exact instant of the next status change of any
			// certificate.
			what = "to-watch"
			now := e.clock.Now()
			var next time.Time
			for _, id := range ids {
				c, gerr := e.st.Store.Certificate(ctx, id)
				if gerr != nil {
					t.Fatal(gerr)
				}
				for _, ch := range cert.StatusAt(c, e.lists.schemes[c.Scheme], farFuture).Changes {
					if ch.At.After(now) {
						if next.IsZero() || ch.At.Before(next) {
							next = ch.At
						}
						break
					}
				}
			}
			if next.IsZero() {
				err = fmt.Errorf("no watch")
			} else {
				e.clock.Add(next.Sub(now))
			}
		case 0, 1:
			what = "clock"
			d := time.Duration(r.IntN(20*24)) * time.Hour
			if r.IntN(6) == 0 {
				d *= 10
			}
			e.clock.Add(d + time.Duration(r.IntN(3600))*time.Second)
		case 2:
			what = "sweep"
			_, err = svc.SweepDerived(ctx, "cb")
		case 3:
			what = ActionWithdraw
			_, err = svc.Act(ctx, e.cb, id, what, ActionRequest{Reason: "r"}, 0)
		case 4:
			what, err = ActionSuspend, e.randomSuspend(svc, r, id)
		case 5:
			what = ActionReinstate
			_, err = svc.Act(ctx, e.cb, e.suspendedOr(e.svc, r, ids, id), what, ActionRequest{Reason: "r"}, 0)
		case 6, 7:
			what, err = ActionSurveillance, e.randomAudit(svc, r, id, today)
		case 8:
			what = ActionCancel
			_, err = svc.Act(ctx, e.cb, id, what, ActionRequest{Reason: "r"}, 0)
		case 9:
			what = ActionRevise
			scope := fmt.Sprint("范围 ", step)
			var c *cert.Certificate
			if c, err = svc.Act(ctx, e.cb, id, what, ActionRequest{Reason: "r", Scope: &scope}, 0); err == nil && c != nil {
				ids = append(ids, c.ID)
			}
		case 10:
			what = ActionRenew
			var c *cert.Certificate
			if c, err = svc.Act(ctx, e.cb, id, what, ActionRequest{Reason: "r", ValidFrom: today}, 0); err == nil && c != nil {
				ids = append(ids, c.ID)
			}
		case 11:
			what = "issue"
			ids = append(ids, e.issue(t, "").ID)
		}
		if err == nil {
			done[what]++
		}
		compareIndexedFull(t, e, fmt.Sprintf("step %d (%s)", step, what))
	}
}

// compareIndexedFull builds the lists of cb both ways at the current time
// and fails at the first difference.
func compareIndexedFull(t *testing.T, e *slEnv, when string) {
	t.Helper()
	ctx := context.Background()
	now := e.clock.Now()
	idx := &snapshot{lists: map[int]*[len(purposes)]*listBits{}}
	full := &snapshot{lists: map[int]*[len(purposes)]*listBits{}}
	if err := e.lists.rebuildIndexed(ctx, "cb", idx, now); err != nil {
		t.Fatal(err)
	}
	if err := e.lists.rebuildFull(ctx, "cb", full, now); err != nil {
		t.Fatal(err)
	}
	ns := func(s *snapshot) []int {
		var out []int
		for n := range s.lists {
			out = append(out, n)
		}
		slices.Sort(out)
		return out
	}
	if a, b := ns(idx), ns(full); !slices.Equal(a, b) {
		t.Fatalf("%s: lists %v from the index, %v from every certificate", when, a, b)
	}
	for n, lb := range full.lists {
		for p := range lb {
			if !bytes.Equal(idx.lists[n][p].bits, lb[p].bits) {
				for i := range cert.StatusListSize {
					if bitAt(idx.lists[n][p].bits, i) != bitAt(lb[p].bits, i) {
						t.Fatalf("%s: %s list %d index %d: %v from the index, %v from every certificate",
							when, purposes[p], n, i, bitAt(idx.lists[n][p].bits, i), bitAt(lb[p].bits, i))
					}
				}
			}
		}
	}
}

// statusMark's watch is the first later change of bits, not of status.
func TestStatusMarkWatch(t *testing.T) {
	schemes := slSchemes(t)
	from, until := cert.ValidityPeriod(time.Date(2026, 3, 5, 0, 0, 0, 0, slShanghai), slShanghai, 36)
	c := &cert.Certificate{ID: "c1", Issuer: "cb", Scheme: "itss", ValidFrom: from, ValidUntil: until, TimeZone: "Asia/Shanghai", StatusList: 1}
	c.Append(cert.Event{Type: cert.EventIssued, At: from, RecordedAt: from, Actor: "t"})
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, slShanghai)
	m := statusMark(c, schemes["itss"], now)
	if m.Revoked || m.Suspended || m.Watch.IsZero() || !m.Watch.After(now) {
		t.Fatalf("mark of an active certificate = %+v, want no bit and a watch after %s", m, now)
	}
	if st := cert.StatusAt(c, schemes["itss"], m.Watch); st.Status != cert.StatusSuspended {
		t.Fatalf("status at the watch instant %s = %s, want suspended (window closed)", m.Watch, st.Status)
	}
	if st := cert.StatusAt(c, schemes["itss"], m.Watch.Add(-time.Nanosecond)); st.Status != cert.StatusActive {
		t.Fatalf("status just before the watch instant = %s, want active", st.Status)
	}
	c.Append(cert.Event{Type: cert.EventWithdrawn, At: now, RecordedAt: now, Actor: "t", Reason: "r"})
	if m := statusMark(c, schemes["itss"], now); !m.Revoked || !m.Watch.IsZero() {
		t.Fatalf("mark of a withdrawn certificate = %+v, want revoked, no watch", m)
	}
}

// BenchmarkPublishAfterChange measures publishing a list after one change
// (a suspension or reinstatement through the service, then the list) at
// 100,000 certificates of one issuer: "full" derives the lists from every
// certificate, "indexed" from the store's status index.
func BenchmarkPublishAfterChange(b *testing.B) {
	const n = 100_000
	ctx := context.Background()
	e := newSLEnv(b, time.Date(2027, 3, 1, 10, 0, 0, 0, slShanghai))
	seedCertificates(b, e, n)
	page, _, err := e.st.Store.ListCertificates(ctx, store.Query{Issuer: "cb", Limit: 10})
	if err != nil {
		b.Fatal(err)
	}
	var a *cert.Certificate
	for _, c := range page {
		if len(c.Events) == 1 {
			a = c
			break
		}
	}
	full := NewStatusLists(StatusListConfig{
		Store: e.st, Signer: e.keys, Schemes: slSchemes(b), PublicURL: "https://verify.example.cn", TTL: slTTL, Now: e.clock.Now,
	})
	i := 0
	for _, tc := range []struct {
		name  string
		lists *StatusLists
	}{{"full", full}, {"indexed", e.lists}} {
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				action := ActionSuspend
				if i%2 == 1 {
					action = ActionReinstate
				}
				i++
				if _, err := e.svc.Act(ctx, e.cb, a.ID, action, ActionRequest{Reason: "r"}, 0); err != nil {
					b.Fatal(err)
				}
				tc.lists.Invalidate("cb")
				if _, err := tc.lists.List(ctx, "cb", cert.PurposeSuspension, a.StatusList); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// Marks computed by other rules (an older certd, other scheme rules) are
// computed again by PrepareIndex before the index is used.
func TestStatusListPrepareIndexReindexes(t *testing.T) {
	ctx := context.Background()
	e := newSLEnvFull(t, time.Date(2027, 3, 1, 10, 0, 0, 0, slShanghai))
	a := e.issue(t, "")
	if _, err := e.svc.Act(ctx, e.cb, a.ID, ActionWithdraw, ActionRequest{Reason: "fraud"}, 0); err != nil {
		t.Fatal(err)
	}
	// Marks from rules that set nothing, as if written before marks existed.
	e.st.SetStatusMarker("older", func(*cert.Certificate) store.StatusMark { return store.StatusMark{} })
	if err := e.st.ReindexStatus(ctx); err != nil {
		t.Fatal(err)
	}
	if err := e.lists.PrepareIndex(ctx); err != nil {
		t.Fatal(err)
	}
	if !e.lists.Indexed() {
		t.Fatal("lists do not use the index after PrepareIndex")
	}
	if !e.bit(t, a, cert.PurposeRevocation) {
		t.Error("revocation bit of a withdrawn certificate missing: the marks of other rules were used")
	}
	if tag, err := e.st.StatusMarkerTag(ctx); err != nil || tag != e.lists.tag {
		t.Errorf("tag after PrepareIndex = %q, %v; want %q", tag, err, e.lists.tag)
	}
	// Writes after PrepareIndex are marked by this instance's rules.
	b := e.issue(t, "")
	if _, err := e.svc.Act(ctx, e.cb, b.ID, ActionSuspend, ActionRequest{Reason: "r"}, 0); err != nil {
		t.Fatal(err)
	}
	if !e.bit(t, b, cert.PurposeSuspension) {
		t.Error("suspension bit of b not set after PrepareIndex")
	}
}

// BenchmarkStatusMark is the cost that marking adds to every certificate
// write.
func BenchmarkStatusMark(b *testing.B) {
	schemes := slSchemes(b)
	from, until := cert.ValidityPeriod(time.Date(2026, 3, 5, 0, 0, 0, 0, slShanghai), slShanghai, 36)
	c := &cert.Certificate{ID: "c1", Issuer: "cb", Scheme: "itss", ValidFrom: from, ValidUntil: until, TimeZone: "Asia/Shanghai", StatusList: 1}
	c.Append(cert.Event{Type: cert.EventIssued, At: from, RecordedAt: from, Actor: "t"})
	now := from.Add(time.Hour)
	b.ReportAllocs()
	for b.Loop() {
		statusMark(c, schemes["itss"], now)
	}
}
