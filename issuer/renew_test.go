package issuer_test

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/issuer"
	"github.com/certd/certd/store"
)

// passAudits records the two ITSS surveillance audits of a certificate
// valid from 2026-11-27, each on its day.
func passAudits(t testing.TB, e *env, id string) {
	t.Helper()
	for _, d := range []string{"2027-09-15", "2028-09-20"} {
		e.clock.Set(bj(t, d).Add(15 * time.Hour))
		e.act(t, id, issuer.ActionSurveillance, issuer.ActionRequest{Reason: "annual audit", Date: d, Result: issuer.ResultPassed, AuditRef: "A-" + d})
	}
}

func wantKind(t testing.TB, err, kind error, contains string) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Fatalf("err = %v, want %v", err, kind)
	}
	if !strings.Contains(err.Error(), contains) {
		t.Errorf("err = %q, want it to say %q", err, contains)
	}
}

func wantField(t testing.TB, err error, field string) {
	t.Helper()
	var ve *cert.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("err = %v, want a validation error on %s", err, field)
	}
	for _, f := range ve.Fields {
		if f.Field == field {
			return
		}
	}
	t.Errorf("err = %v, want an error on field %s", err, field)
}

func certCount(t testing.TB, e *env) int {
	t.Helper()
	all, _, err := e.st.ListCertificates(context.Background(), store.Query{Issuer: "cb", Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return len(all)
}

func TestRenew(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, "2026-11-27")
	old := e.issue(t, "itss", "2026-11-27")
	passAudits(t, e, old.ID)

	// The renewal window opens 6 months before expiry (2029-11-27).
	e.clock.Set(bj(t, "2029-05-27").Add(-time.Second))
	_, err := e.svc.Act(ctx, e.cb, old.ID, issuer.ActionRenew, issuer.ActionRequest{Reason: "recertified"}, 0)
	wantKind(t, err, cert.ErrTransition, "can be renewed from 2029-05-27")

	e.clock.Set(bj(t, "2029-05-27"))
	_, err = e.svc.Act(ctx, e.cb, old.ID, issuer.ActionRenew, issuer.ActionRequest{}, 0)
	wantField(t, err, "reason")
	_, err = e.svc.Act(ctx, e.cb, old.ID, issuer.ActionRenew, issuer.ActionRequest{Reason: "x", Level: ptr(2)}, 0)
	wantField(t, err, "level")
	_, err = e.svc.Act(ctx, e.cb, old.ID, issuer.ActionRenew, issuer.ActionRequest{Reason: "x", ValidFrom: "2029-12-01"}, 0)
	wantField(t, err, "validFrom")
	_, err = e.svc.Act(ctx, e.cb, old.ID, issuer.ActionRenew, issuer.ActionRequest{Reason: "x"}, old.Version+7)
	wantKind(t, err, cert.ErrPrecondition, "version")

	req := issuer.ActionRequest{Reason: "recertification audit passed", DecisionDate: "2029-05-20"}
	e.clock.Set(bj(t, "2029-06-01 10:00:00"))
	next, err := e.svc.Act(ctx, e.cb, old.ID, issuer.ActionRenew, req, 0)
	if err != nil {
		t.Fatalf("renew: %v", err)
	}
	if next.ID == old.ID || next.Credential == "" || next.Credential == old.Credential || next.StatusIndex == old.StatusIndex {
		t.Errorf("renewal is not a new certificate: id %s, status index %d (old %s, %d)", next.ID, next.StatusIndex, old.ID, old.StatusIndex)
	}
	if !regexp.MustCompile(`^ITSS-2029-\d{6}$`).MatchString(next.Number) || next.Number == old.Number {
		t.Errorf("number = %q, want a new number from the pattern ITSS-2029-NNNNNN", next.Number)
	}
	if !next.ValidFrom.Equal(bj(t, "2029-11-27")) || !next.ValidUntil.Equal(bj(t, "2032-11-27")) {
		t.Errorf("validity = %s to %s, want 2029-11-27 to 2032-11-27", next.ValidFrom, next.ValidUntil)
	}
	if next.OriginalDate != "2026-11-27" || next.Supersedes != old.ID || next.DecisionDate != "2029-05-20" || next.Level != 3 || next.Scope != old.Scope {
		t.Errorf("renewal: originalDate %s, supersedes %s, decision %s, level %d; want 2026-11-27, %s, 2029-05-20, 3",
			next.OriginalDate, next.Supersedes, next.DecisionDate, next.Level, old.ID)
	}
	got := e.get(t, old.ID)
	if got.SupersededBy != next.ID {
		t.Errorf("old supersededBy = %q, want %s", got.SupersededBy, next.ID)
	}
	last := got.Events[len(got.Events)-1]
	if last.Type != cert.EventRenewed || !last.At.Equal(next.ValidFrom) || last.Related != next.ID || last.Reason != req.Reason || last.Actor != e.cb.Actor() {
		t.Errorf("old's last event = %+v, want renewed at %s related %s by %s", last, next.ValidFrom, next.ID, e.cb.Actor())
	}
	// The old certificate stays valid until the new one starts.
	schemes := e.svc.Schemes()
	for _, tc := range []struct {
		at       string
		old, new cert.Status
	}{
		{"2029-11-26 23:59:59", cert.StatusActive, cert.StatusActive},
		{"2029-11-27", cert.StatusSuperseded, cert.StatusActive},
	} {
		now := bj(t, tc.at)
		if st := cert.StatusAt(got, schemes["itss"], now); st.Status != tc.old {
			t.Errorf("old at %s: %s, want %s", tc.at, st.Status, tc.old)
		}
		if st := cert.StatusAt(next, schemes["itss"], now); st.Status != tc.new {
			t.Errorf("new at %s: %s, want %s", tc.at, st.Status, tc.new)
		}
	}

	// A retry of the same request is answered with the same certificate;
	// another request learns that the certificate was renewed.
	again, err := e.svc.Act(ctx, e.cb, old.ID, issuer.ActionRenew, req, old.Version)
	if err != nil || again.ID != next.ID {
		t.Errorf("retry = %v, %v; want the certificate %s", again, err, next.ID)
	}
	_, err = e.svc.Act(ctx, e.cb, old.ID, issuer.ActionRenew, issuer.ActionRequest{Reason: "again"}, 0)
	wantKind(t, err, cert.ErrTransition, next.ID)
	_, err = e.svc.Act(ctx, e.cb, old.ID, issuer.ActionRevise, issuer.ActionRequest{Reason: "x", Level: ptr(4)}, 0)
	wantKind(t, err, cert.ErrTransition, next.ID)
	if n := certCount(t, e); n != 2 {
		t.Errorf("%d certificates stored, want 2", n)
	}
}

func TestRenewRefused(t *testing.T) {
	ctx := context.Background()
	t.Run("fail/expired", func(t *testing.T) {
		e := newEnv(t, "2026-11-27")
		c := e.issue(t, "itss", "2026-11-27")
		passAudits(t, e, c.ID)
		e.clock.Set(bj(t, "2029-11-27"))
		_, err := e.svc.Act(ctx, e.cb, c.ID, issuer.ActionRenew, issuer.ActionRequest{Reason: "late"}, 0)
		wantKind(t, err, cert.ErrTransition, "expired on 2029-11-27")
	})
	t.Run("fail/withdrawn", func(t *testing.T) {
		e := newEnv(t, "2026-11-27")
		c := e.issue(t, "iso17021", "2026-11-27")
		e.act(t, c.ID, issuer.ActionWithdraw, issuer.ActionRequest{Reason: "misuse of the mark", ReasonCode: "0199"})
		_, err := e.svc.Act(ctx, e.cb, c.ID, issuer.ActionRenew, issuer.ActionRequest{Reason: "x"}, 0)
		wantKind(t, err, cert.ErrTransition, "withdrawn")
	})
	t.Run("fail/viewer", func(t *testing.T) {
		e := newEnv(t, "2026-11-27")
		c := e.issue(t, "iso17021", "2026-11-27")
		_, err := e.svc.Act(ctx, cert.Principal{Role: cert.RoleViewer, Issuer: "cb"}, c.ID, issuer.ActionRenew, issuer.ActionRequest{Reason: "x"}, 0)
		wantKind(t, err, cert.ErrForbidden, "viewer")
	})
}

func TestRenewEarlyStart(t *testing.T) {
	e := newEnv(t, "2026-11-27")
	old := e.issue(t, "itss", "2026-11-27")
	passAudits(t, e, old.ID)
	e.clock.Set(bj(t, "2029-09-01 10:00:00"))
	next := e.act(t, old.ID, issuer.ActionRenew, issuer.ActionRequest{Reason: "recertified", ValidFrom: "2029-10-01", Number: "CB-RENEWED-1"})
	if next.Number != "CB-RENEWED-1" || !next.ValidFrom.Equal(bj(t, "2029-10-01")) {
		t.Errorf("renewal: number %s from %s, want CB-RENEWED-1 from 2029-10-01", next.Number, next.ValidFrom)
	}
	s := e.svc.Schemes()["itss"]
	old = e.get(t, old.ID)
	if st := cert.StatusAt(old, s, bj(t, "2029-09-30 23:59:59")); st.Status != cert.StatusActive {
		t.Errorf("old before the new one starts: %s, want active", st.Status)
	}
	if st := cert.StatusAt(old, s, bj(t, "2029-10-01")); st.Status != cert.StatusSuperseded {
		t.Errorf("old when the new one starts: %s, want superseded", st.Status)
	}
}

// The two writes of a renewal survive a crash between them: a retry of
// the request, or the sweep, finishes the link, and no second certificate
// is made.
func TestRenewCrashBetweenWrites(t *testing.T) {
	ctx := context.Background()
	for _, finish := range []string{"retry", "sweep"} {
		t.Run("ok/"+finish, func(t *testing.T) {
			e := newEnv(t, "2026-11-27")
			old := e.issue(t, "itss", "2026-11-27")
			passAudits(t, e, old.ID)
			e.clock.Set(bj(t, "2029-06-01"))
			req := issuer.ActionRequest{Reason: "recertified"}
			e.st.failUpdates.Store(1)
			if _, err := e.svc.Act(ctx, e.cb, old.ID, issuer.ActionRenew, req, 0); !errors.Is(err, errCrash) {
				t.Fatalf("renew with the link failing: %v, want the injected failure", err)
			}
			if n := certCount(t, e); n != 2 {
				t.Fatalf("%d certificates after the first write, want 2", n)
			}
			if got := e.get(t, old.ID); got.SupersededBy != "" {
				t.Fatalf("old linked although the write failed")
			}
			// Meanwhile another event changes the old certificate's version.
			e.act(t, old.ID, issuer.ActionSuspend, issuer.ActionRequest{Reason: "client request"})

			var nextID string
			switch finish {
			case "retry":
				next, err := e.svc.Act(ctx, e.cb, old.ID, issuer.ActionRenew, req, 0)
				if err != nil {
					t.Fatalf("retry: %v", err)
				}
				nextID = next.ID
			case "sweep":
				n, err := e.newService().SweepDerived(ctx, "cb")
				if err != nil || n != 1 {
					t.Fatalf("sweep = %d, %v; want the link recorded (1)", n, err)
				}
				all, _, _ := e.st.ListCertificates(ctx, store.Query{Issuer: "cb"})
				nextID = all[1].ID
			}
			if n := certCount(t, e); n != 2 {
				t.Errorf("%d certificates after the %s, want 2", n, finish)
			}
			got := e.get(t, old.ID)
			if got.SupersededBy != nextID || countType(got, cert.EventRenewed) != 1 || countType(got, cert.EventSuspended) != 1 {
				t.Errorf("old: supersededBy %q, %d renewed and %d suspended events; want %s, 1, 1", got.SupersededBy, countType(got, cert.EventRenewed), countType(got, cert.EventSuspended), nextID)
			}
		})
	}
}

// Concurrent renewals and revisions of one certificate, on two instances,
// create one successor.
func TestSupersedeConcurrently(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, "2026-11-27")
	old := e.issue(t, "itss", "2026-11-27")
	passAudits(t, e, old.ID)
	e.clock.Set(bj(t, "2029-06-01"))
	instances := []*issuer.Service{e.svc, e.newService()}
	same := issuer.ActionRequest{Reason: "recertified"}
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		ids     = map[string]int{}
		refused int
	)
	for i := 0; i < 12; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			svc := instances[i%2]
			action, req := issuer.ActionRenew, same
			if i%3 == 2 {
				action, req = issuer.ActionRevise, issuer.ActionRequest{Reason: "downgrade", Level: ptr(4)}
			}
			c, err := svc.Act(ctx, e.cb, old.ID, action, req, 0)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ids[c.ID]++
			case errors.Is(err, cert.ErrTransition):
				refused++
			default:
				t.Errorf("%s: %v", action, err)
			}
		}()
	}
	wg.Wait()
	if len(ids) != 1 {
		t.Errorf("successors returned: %v, want exactly one", ids)
	}
	if n := certCount(t, e); n != 2 {
		t.Errorf("%d certificates stored, want 2", n)
	}
	got := e.get(t, old.ID)
	if countType(got, cert.EventRenewed)+countType(got, cert.EventRevised) != 1 {
		t.Errorf("old has %d renewed and %d revised events, want one link", countType(got, cert.EventRenewed), countType(got, cert.EventRevised))
	}
	for id := range ids {
		if got.SupersededBy != id {
			t.Errorf("old supersededBy = %s, want %s", got.SupersededBy, id)
		}
	}
}

func TestRevise(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, "2026-11-27")
	old := e.issue(t, "itss", "2026-11-27")
	e.clock.Set(bj(t, "2027-09-15 15:00:00"))
	e.act(t, old.ID, issuer.ActionSurveillance, issuer.ActionRequest{Reason: "annual audit", Date: "2027-09-15", Result: issuer.ResultPassed})

	now := bj(t, "2028-03-10 14:30:00")
	e.clock.Set(now)
	for _, tc := range []struct {
		name  string
		req   issuer.ActionRequest
		field string
	}{
		{"fail/no reason", issuer.ActionRequest{Level: ptr(4)}, "reason"},
		{"fail/nothing changes", issuer.ActionRequest{Reason: "x", Level: ptr(3)}, "(body)"},
		{"fail/level out of range", issuer.ActionRequest{Reason: "x", Level: ptr(5)}, "level"},
		{"fail/unknown category", issuer.ActionRequest{Reason: "x", Category: ptr("网络安全")}, "category"},
		{"fail/empty scope", issuer.ActionRequest{Reason: "x", Scope: ptr(" ")}, "scope"},
		{"fail/uscc changes", issuer.ActionRequest{Reason: "x", Organization: &issuer.OrganizationChange{USCC: "91110000802100433B"}}, "organization.uscc"},
		{"fail/empty name", issuer.ActionRequest{Reason: "x", Organization: &issuer.OrganizationChange{Name: ptr("")}}, "organization.name"},
		{"fail/validFrom", issuer.ActionRequest{Reason: "x", Level: ptr(4), ValidFrom: "2028-04-01"}, "validFrom"},
		{"fail/number", issuer.ActionRequest{Reason: "x", Level: ptr(4), Number: "X-1"}, "number"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.svc.Act(ctx, e.cb, old.ID, issuer.ActionRevise, tc.req, 0)
			wantField(t, err, tc.field)
		})
	}

	req := issuer.ActionRequest{
		Reason: "re-assessment: level 3 not maintained", Level: ptr(4),
		Organization: &issuer.OrganizationChange{Name: ptr("北京示例信息技术有限公司"), USCC: old.Organization.USCC},
	}
	next, err := e.svc.Act(ctx, e.cb, old.ID, issuer.ActionRevise, req, old.Version+1)
	if err != nil {
		t.Fatalf("revise: %v", err)
	}
	if next.ID == old.ID || next.Credential == old.Credential || next.Revision != 1 || next.Number != old.Number+"-R1" || next.BaseNumber != old.Number {
		t.Errorf("revision: id %s, revision %d, number %s, base %s; want a new id, 1, %s-R1, %s", next.ID, next.Revision, next.Number, next.BaseNumber, old.Number, old.Number)
	}
	if next.Level != 4 || next.Organization.Name != "北京示例信息技术有限公司" || next.Organization.Address != old.Organization.Address || next.Scope != old.Scope {
		t.Errorf("revision content: level %d, organization %+v", next.Level, next.Organization)
	}
	if !next.ValidFrom.Equal(old.ValidFrom) || !next.ValidUntil.Equal(old.ValidUntil) || next.OriginalDate != "2026-11-27" || next.Supersedes != old.ID {
		t.Errorf("revision dates %s-%s, originalDate %s, supersedes %s", next.ValidFrom, next.ValidUntil, next.OriginalDate, next.Supersedes)
	}
	got := e.get(t, old.ID)
	last := got.Events[len(got.Events)-1]
	if last.Type != cert.EventRevised || !last.At.Equal(now) || last.Related != next.ID || got.SupersededBy != next.ID {
		t.Errorf("old's last event = %+v, want revised at %s related %s", last, now, next.ID)
	}
	if st := e.svc.StatusOf(got); st.Status != cert.StatusSuperseded {
		t.Errorf("old status = %s, want superseded at once", st.Status)
	}
	// The audit of the first window carries over: the revision is not
	// overdue for it.
	st := e.svc.StatusOf(next)
	if st.Status != cert.StatusActive || st.Surveillance.State != cert.SurveillanceNotDue || st.Surveillance.LastAudit == nil || *st.Surveillance.LastAudit != "2027-09-15" {
		t.Errorf("revision standing = %s, surveillance %+v; want active, not_due, last audit 2027-09-15", st.Status, st.Surveillance)
	}
	e.clock.Set(bj(t, "2028-03-11"))
	_, err = e.svc.Act(ctx, e.cb, old.ID, issuer.ActionSuspend, issuer.ActionRequest{Reason: "x"}, 0)
	wantKind(t, err, cert.ErrTransition, "superseded")

	// A revision of the revision takes the next suffix.
	r2 := e.act(t, next.ID, issuer.ActionRevise, issuer.ActionRequest{Reason: "scope reduced", Scope: ptr("信息系统运行维护服务（基础环境）")})
	if r2.Number != old.Number+"-R2" || r2.Revision != 2 {
		t.Errorf("second revision: number %s, revision %d; want %s-R2, 2", r2.Number, r2.Revision, old.Number)
	}
}

func TestReviseSuspended(t *testing.T) {
	ctx := context.Background()
	t.Run("ok/downgrade after a failed audit", func(t *testing.T) {
		e := newEnv(t, "2026-11-27")
		c := e.issue(t, "itss", "2026-11-27")
		e.clock.Set(bj(t, "2027-09-15 15:00:00"))
		e.act(t, c.ID, issuer.ActionSurveillance, issuer.ActionRequest{Reason: "level 3 criteria not met", Date: "2027-09-15", Result: issuer.ResultFailed})
		if st := e.status(t, c.ID); st.Status != cert.StatusSuspended {
			t.Fatalf("after the failed audit: %s, want suspended", st.Status)
		}
		next := e.act(t, c.ID, issuer.ActionRevise, issuer.ActionRequest{Reason: "downgraded to level 4", Level: ptr(4)})
		if st := e.svc.StatusOf(next); st.Status != cert.StatusActive || st.Surveillance.State != cert.SurveillanceDue {
			t.Errorf("revision: %s, surveillance %s; want active, due (the window is still open)", st.Status, st.Surveillance.State)
		}
	})
	t.Run("fail/overdue audit", func(t *testing.T) {
		e := newEnv(t, "2026-11-27")
		c := e.issue(t, "itss", "2026-11-27")
		e.clock.Set(bj(t, "2027-12-01"))
		_, err := e.svc.Act(ctx, e.cb, c.ID, issuer.ActionRevise, issuer.ActionRequest{Reason: "x", Level: ptr(4)}, 0)
		wantKind(t, err, cert.ErrTransition, "overdue")
	})
	t.Run("fail/suspended by the CB", func(t *testing.T) {
		e := newEnv(t, "2026-11-27")
		c := e.issue(t, "itss", "2026-11-27")
		e.act(t, c.ID, issuer.ActionSuspend, issuer.ActionRequest{Reason: "client request"})
		_, err := e.svc.Act(ctx, e.cb, c.ID, issuer.ActionRevise, issuer.ActionRequest{Reason: "x", Level: ptr(4)}, 0)
		wantKind(t, err, cert.ErrTransition, "reinstate")
	})
}
