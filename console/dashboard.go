package console

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/issuer"
	"github.com/certd/certd/report"
)

// row is one certificate with its standing now, as lists show it.
type row struct {
	C  *cert.Certificate
	St cert.Standing
}

// each calls fn for every certificate the principal may read of its
// issuer, oldest first, a page of 1,000 at a time.
func (c *Console) each(ctx context.Context, p cert.Principal, q issuer.Query, fn func(*cert.Certificate) bool) error {
	q.Issuer, q.Limit = p.Issuer, 1000
	for {
		page, next, err := c.iss.List(ctx, p, q)
		if err != nil {
			return err
		}
		for _, crt := range page {
			if !fn(crt) {
				return nil
			}
		}
		if next == "" {
			return nil
		}
		q.Cursor = next
	}
}

// dashboard is what the dashboard shows of one issuer.
type dashboard struct {
	ByStatus map[string]int
	ByScheme map[string]int
	Total    int
	// Due lists surveillance audits whose window is open or opens within
	// 30, 60 and 90 days.
	Due       [3][]row
	Overdue   []row
	Suspended []row
	Expiring  []row
	Recent    []row
	// Reports lists the report periods with outstanding changes.
	Reports    []report.TargetPeriods
	ComputedAt time.Time
}

// dashboardCache keeps each issuer's dashboard for a short while: it reads
// every certificate of the issuer.
type dashboardCache struct {
	mu  sync.Mutex
	ttl time.Duration
	m   map[string]*dashboard
}

func newDashboardCache(ttl time.Duration) *dashboardCache {
	return &dashboardCache{ttl: ttl, m: make(map[string]*dashboard)}
}

func (d *dashboardCache) get(issuer string, now time.Time) *dashboard {
	d.mu.Lock()
	defer d.mu.Unlock()
	if v := d.m[issuer]; v != nil && now.Sub(v.ComputedAt) < d.ttl {
		return v
	}
	return nil
}

func (d *dashboardCache) put(issuer string, v *dashboard) {
	d.mu.Lock()
	d.m[issuer] = v
	d.mu.Unlock()
}

// invalidate drops an issuer's dashboard after a change made here.
func (d *dashboardCache) invalidate(issuer string) {
	d.mu.Lock()
	delete(d.m, issuer)
	d.mu.Unlock()
}

const listCap = 50 // rows per dashboard list

func (c *Console) computeDashboard(ctx context.Context, p cert.Principal) (*dashboard, error) {
	now := c.now()
	d := &dashboard{ByStatus: map[string]int{}, ByScheme: map[string]int{}, ComputedAt: now}
	today := now.Format(cert.DateLayout)
	horizon := [3]string{now.AddDate(0, 0, 30).Format(cert.DateLayout), now.AddDate(0, 0, 60).Format(cert.DateLayout), now.AddDate(0, 0, 90).Format(cert.DateLayout)}
	sixMonths := now.AddDate(0, 6, 0)
	recentSince := now.AddDate(0, 0, -30)
	err := c.each(ctx, p, issuer.Query{}, func(crt *cert.Certificate) bool {
		st := c.iss.StatusOf(crt)
		d.Total++
		d.ByStatus[string(st.Status)]++
		d.ByScheme[crt.Scheme]++
		r := row{C: crt, St: st}
		sv := st.Surveillance
		if st.Status == cert.StatusActive {
			switch {
			case sv.State == cert.SurveillanceDue:
				d.Due[0] = appendCapped(d.Due[0], r)
			case sv.State == cert.SurveillanceNotDue && sv.WindowStart != "" && sv.WindowStart > today:
				for i, h := range horizon {
					if sv.WindowStart <= h {
						d.Due[i] = appendCapped(d.Due[i], r)
						break
					}
				}
			}
			if crt.ValidUntil.Before(sixMonths) {
				d.Expiring = appendCapped(d.Expiring, r)
			}
		}
		if sv.State == cert.SurveillanceOverdue {
			d.Overdue = appendCapped(d.Overdue, r)
		}
		if st.Status == cert.StatusSuspended && st.Since.After(recentSince) {
			d.Suspended = appendCapped(d.Suspended, r)
		}
		if last := lastChange(crt); last.After(recentSince) {
			d.Recent = append(d.Recent, r)
			if len(d.Recent) > 4*listCap {
				d.Recent = newest(d.Recent, listCap)
			}
		}
		return true
	})
	if err != nil {
		return nil, err
	}
	d.Recent = newest(d.Recent, listCap)
	if c.cfg.ReportDeadlines != nil {
		is, err := c.iss.Issuer(ctx, p.Issuer)
		if err != nil {
			return nil, err
		}
		if d.Reports, err = c.cfg.ReportDeadlines(ctx, is); err != nil {
			return nil, err
		}
	}
	return d, nil
}

func appendCapped(rs []row, r row) []row {
	if len(rs) >= listCap {
		return rs
	}
	return append(rs, r)
}

func lastChange(crt *cert.Certificate) time.Time {
	if n := len(crt.Events); n > 0 {
		return crt.Events[n-1].RecordedAt
	}
	return crt.CreatedAt
}

// newest keeps the n rows changed last, newest first.
func newest(rs []row, n int) []row {
	slices.SortFunc(rs, func(a, b row) int { return lastChange(b.C).Compare(lastChange(a.C)) })
	return rs[:min(n, len(rs))]
}

func (c *Console) dashboard(q *request) error {
	p := q.principal()
	d := c.dash.get(p.Issuer, c.now())
	if d == nil {
		var err error
		if d, err = c.computeDashboard(q.r.Context(), p); err != nil {
			return err
		}
		c.dash.put(p.Issuer, d)
	}
	statuses := []string{"active", "suspended", "withdrawn", "cancelled", "expired", "superseded"}
	// Read each time, not cached: an admin should see at once that
	// certd turned an endpoint off.
	off, err := c.disabledHooks(q)
	if err != nil {
		return err
	}
	return c.page(q, 200, "dashboard", map[string]any{"D": d, "Statuses": statuses, "Windows": []int{30, 60, 90}, "DisabledHooks": off,
		"Reports": c.cfg.ReportDeadlines != nil})
}
