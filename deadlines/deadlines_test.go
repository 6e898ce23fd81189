package deadlines_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/deadlines"
	"github.com/certd/certd/issuer"
	"github.com/certd/certd/notify"
	"github.com/certd/certd/report"
	"github.com/certd/certd/store"
	"github.com/certd/certd/store/bolt"
	"github.com/certd/certd/store/storetest"
)

type clock struct{ t time.Time }

func (c *clock) Now() time.Time { return c.t }

func bj(t testing.TB, s string) time.Time {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	v, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// setup stores an issuer with two November certificates, its console
// users (two admins, one of them disabled, and a viewer) and returns the
// service on the store.
func setup(t *testing.T) (*deadlines.Service, *bolt.Store, *clock) {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "certd.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	ctx := context.Background()
	if err := st.CreateIssuer(ctx, &cert.Issuer{ID: "cb", Name: "Test CB", TimeZone: "Asia/Shanghai", NumberPattern: cert.DefaultNumberPattern, NumberPrefix: "CB", KeyType: cert.KeyTypeEd25519}); err != nil {
		t.Fatal(err)
	}
	for i, day := range []string{"2026-11-03 10:00", "2026-11-20 10:00"} {
		c := storetest.NewCertificate(t, "cb")
		c.CreatedAt = bj(t, day)
		c.ValidFrom, c.ValidUntil = cert.ValidityPeriod(c.CreatedAt, c.Location(), 36)
		c.Events = []cert.Event{{Seq: 1, Type: cert.EventIssued, At: c.CreatedAt, RecordedAt: c.CreatedAt, Actor: "t"}}
		c.Number = "CB-2026-00000" + string(rune('1'+i))
		if err := st.CreateCertificate(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	for _, u := range []*cert.User{
		{ID: "u1", Issuer: "cb", Email: "admin@cb.example", Role: cert.RoleAdmin},
		{ID: "u2", Issuer: "cb", Email: "gone@cb.example", Role: cert.RoleAdmin, Disabled: true},
		{ID: "u3", Issuer: "cb", Email: "viewer@cb.example", Role: cert.RoleViewer},
		{ID: "u4", Issuer: "cb", Email: "second@cb.example", Role: cert.RoleAdmin},
	} {
		if err := st.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	schemes, err := cert.NewSchemes(cert.BuiltinSchemes())
	if err != nil {
		t.Fatal(err)
	}
	ts, err := report.LoadTemplates("")
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: bj(t, "2026-11-25 09:00")}
	iss := issuer.New(issuer.Config{Store: st, Schemes: schemes, Now: clk.Now, Organizations: st})
	svc := deadlines.New(deadlines.Config{
		Templates: ts, Schemes: schemes, Certificates: iss, Submissions: st,
		Issuers: st, Users: st, Outbox: st, Now: clk.Now,
	})
	return svc, st, clk
}

func TestOutstanding(t *testing.T) {
	svc, st, clk := setup(t)
	ctx := context.Background()
	is, err := st.Issuer(ctx, "cb")
	if err != nil {
		t.Fatal(err)
	}
	clk.t = bj(t, "2026-12-06 09:00")
	got, err := svc.Outstanding(ctx, is)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Target != "cnca" || got[1].Target != "iafcertsearch" {
		t.Fatalf("targets %+v, want cnca and iafcertsearch", got)
	}
	if p := got[0].Periods; len(p) != 1 || p[0].Period != "2026-11" || p[0].Outstanding != 2 || p[0].Deadline != "2026-12-10" || p[0].Warning != report.WarningDueSoon {
		t.Errorf("cnca periods %+v", p)
	}
	// Submitted: nothing outstanding, the target drops out.
	if err := st.CreateSubmission(ctx, &cert.Submission{ID: "s1", Issuer: "cb", Target: "cnca", Period: "2026-11", SubmittedAt: clk.t,
		Entries: keys(t, svc, st, "cnca")}); err != nil {
		t.Fatal(err)
	}
	got, err = svc.Outstanding(ctx, is)
	if err != nil || len(got) != 1 || got[0].Target != "iafcertsearch" {
		t.Errorf("after submitting cnca: %+v, %v", got, err)
	}
}

// keys are the entry keys of the November report of target.
func keys(t *testing.T, _ *deadlines.Service, st *bolt.Store, target string) []string {
	t.Helper()
	ts, _ := report.LoadTemplates("")
	schemes, _ := cert.NewSchemes(cert.BuiltinSchemes())
	certs, _, err := st.ListCertificates(context.Background(), store.Query{Issuer: "cb", Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	p, _ := report.ParsePeriod("2026-11", certs[0].Location())
	var out []string
	for _, e := range report.Tracked(ts[target], certs, schemes, p, nil) {
		out = append(out, e.Key())
	}
	return out
}

// Alert: nothing before the warning window; within it, one staff-alert
// e-mail per enabled admin, period and target with a deadline, with the id the outbox
// dedupes on, however often it runs; overdue later adds nothing.
func TestAlert(t *testing.T) {
	svc, st, clk := setup(t)
	ctx := context.Background()
	clk.t = bj(t, "2026-12-05 23:59") // last day 2026-12-10: not yet within 5 days
	if n, err := svc.Alert(ctx); err != nil || n != 0 {
		t.Fatalf("before the window: %d alerts, %v", n, err)
	}
	clk.t = bj(t, "2026-12-06 00:00")
	n, err := svc.Alert(ctx)
	if err != nil || n != 2 {
		t.Fatalf("in the window: %d alerts, %v; want 2 (2 admins; IAF CertSearch has no deadline)", n, err)
	}
	if _, err := st.Delivery(ctx, notify.DeliveryID("report-deadline/cb/iafcertsearch/2026-11", "mailto:admin@cb.example")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a target without a deadline must not alert: %v", err)
	}
	for _, target := range []string{"cnca"} {
		for _, addr := range []string{"admin@cb.example", "second@cb.example"} {
			id := notify.DeliveryID("report-deadline/cb/"+target+"/2026-11", "mailto:"+addr)
			d, err := st.Delivery(ctx, id)
			if err != nil {
				t.Fatalf("delivery %s to %s: %v", target, addr, err)
			}
			var job notify.MailJob
			if err := json.Unmarshal(d.Payload, &job); err != nil {
				t.Fatal(err)
			}
			if d.Channel != cert.ChannelEmail || d.To != addr || d.Issuer != "cb" || d.Status != cert.DeliveryPending ||
				job.Kind != notify.MailStaffAlert || !strings.Contains(job.Subject, "2026-11") || !strings.Contains(job.Subject, "2026-12-10") ||
				!strings.Contains(job.Text, "2 ") {
				t.Errorf("delivery %+v job %+v", d, job)
			}
		}
		for _, addr := range []string{"gone@cb.example", "viewer@cb.example"} {
			if _, err := st.Delivery(ctx, notify.DeliveryID("report-deadline/cb/"+target+"/2026-11", "mailto:"+addr)); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("%s must get no alert: %v", addr, err)
			}
		}
	}
	if n, err := svc.Alert(ctx); err != nil || n != 0 {
		t.Errorf("second run: %d alerts, %v; want none", n, err)
	}
	clk.t = bj(t, "2026-12-12 09:00")
	if n, err := svc.Alert(ctx); err != nil || n != 0 {
		t.Errorf("overdue: %d alerts, %v; want none (once per period and target)", n, err)
	}
}

// heapPages measures the live heap each time a page of certificates is
// handed on.
type heapPages struct {
	iss  *issuer.Service
	live []uint64
}

func (h *heapPages) EachReportCertificates(ctx context.Context, is string, fn func([]*cert.Certificate) error) error {
	return h.iss.EachReportCertificates(ctx, is, func(page []*cert.Certificate) error {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		h.live = append(h.live, m.HeapAlloc)
		return fn(page)
	})
}

// Outstanding counts an issuer's certificates a page at a time and keeps
// only the counts of each month: its memory does not grow with the number
// of certificates (the hourly alert and the console's dashboard held every
// certificate of the issuer, gigabytes at a million). Its answer is the
// one of report.Periods over all of them.
func TestOutstandingMemory(t *testing.T) {
	_, st, clk := setup(t)
	ctx := context.Background()
	const n = 6000
	for start := 0; start < n; start += 1000 {
		var batch []*cert.Certificate
		for i := start; i < start+1000; i++ {
			c := storetest.NewCertificate(t, "cb")
			c.CreatedAt = bj(t, "2026-10-05 10:00").Add(time.Duration(i) * 10 * time.Minute)
			c.ValidFrom, c.ValidUntil = cert.ValidityPeriod(c.CreatedAt, c.Location(), 36)
			c.Events = []cert.Event{{Seq: 1, Type: cert.EventIssued, At: c.CreatedAt, RecordedAt: c.CreatedAt, Actor: "t"}}
			c.Number = fmt.Sprintf("CB-2026-1%05d", i)
			c.Credential = strings.Repeat("x", 1200)
			c.Confidential = i%7 == 0
			batch = append(batch, c)
		}
		if errs, err := st.CreateCertificates(ctx, batch); err != nil || errs[0] != nil {
			t.Fatal(err, errs[0])
		}
	}
	schemes, _ := cert.NewSchemes(cert.BuiltinSchemes())
	ts, _ := report.LoadTemplates("")
	iss := issuer.New(issuer.Config{Store: st, Schemes: schemes, Now: clk.Now, Organizations: st})
	h := &heapPages{iss: iss}
	svc := deadlines.New(deadlines.Config{Templates: ts, Schemes: schemes, Certificates: h, Submissions: st, Now: clk.Now})
	clk.t = bj(t, "2026-12-06 09:00")
	is, err := st.Issuer(ctx, "cb")
	if err != nil {
		t.Fatal(err)
	}
	got, err := svc.Outstanding(ctx, is)
	if err != nil {
		t.Fatal(err)
	}
	if len(h.live) < 6 {
		t.Fatalf("Outstanding read %d pages, want at least 6", len(h.live))
	}
	first, last := h.live[1], h.live[len(h.live)-1]
	if last > first && last-first > 1<<20 {
		t.Errorf("the live heap grew by %d KB while Outstanding read %d certificates (from %d KB to %d KB): it holds on to what it read",
			(last-first)>>10, n, first>>10, last>>10)
	}

	// The same periods as report.Periods over every certificate at once.
	all, err := iss.ReportCertificates(ctx, "cb")
	if err != nil {
		t.Fatal(err)
	}
	loc, _ := time.LoadLocation("Asia/Shanghai")
	var want []report.TargetPeriods
	for _, target := range report.Targets {
		subs, _ := st.Submissions(ctx, "cb", target)
		tp := report.TargetPeriods{Target: target, Name: ts[target].Name}
		for _, p := range report.Periods(ts[target], all, schemes, subs, loc, clk.t) {
			if p.Outstanding > 0 {
				tp.Periods = append(tp.Periods, p)
			}
		}
		if len(tp.Periods) > 0 {
			want = append(want, tp)
		}
	}
	gj, _ := json.Marshal(got)
	wj, _ := json.Marshal(want)
	if string(gj) != string(wj) {
		t.Errorf("Outstanding = %s\nwant %s", gj, wj)
	}
	if len(got) == 0 || len(got[0].Periods) < 2 {
		t.Errorf("want outstanding periods in several months, got %s", gj)
	}
}
