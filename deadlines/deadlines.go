package deadlines

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/notify"
	"github.com/certd/certd/report"
	"github.com/certd/certd/store"
)

// Certificates hands every certificate of an issuer to fn, oldest first,
// page by page, with the effective confidential flag
// (issuer.Service.EachReportCertificates).
type Certificates interface {
	EachReportCertificates(ctx context.Context, issuer string, fn func(page []*cert.Certificate) error) error
}

// Users lists an issuer's console accounts (store.Accounts).
type Users interface {
	Users(ctx context.Context, issuer string) ([]*cert.User, error)
}

// Outbox stores e-mail deliveries (store.Webhooks); a delivery id already
// stored gives ErrAlreadyExists.
type Outbox interface {
	EnqueueDelivery(ctx context.Context, d *cert.Delivery) error
}

// Issuers lists the issuers of the deployment.
type Issuers interface {
	Issuers(ctx context.Context) ([]*cert.Issuer, error)
}

// Config wires a Service.
type Config struct {
	Templates    report.Templates
	Schemes      cert.Schemes
	Certificates Certificates
	Submissions  store.Submissions
	// Issuers, Users and Outbox serve Alert (nil: Alert does nothing).
	Issuers Issuers
	Users   Users
	Outbox  Outbox
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Service computes what is due and warns of it.
type Service struct{ cfg Config }

// New returns a Service.
func New(cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Service{cfg: cfg}
}

// Outstanding returns, per report target (in report.Targets order), the
// periods of the issuer that have outstanding changes, oldest first, with
// their deadlines and warnings. A target without such periods is left
// out.
func (s *Service) Outstanding(ctx context.Context, is *cert.Issuer) ([]report.TargetPeriods, error) {
	out := []report.TargetPeriods{}
	if s.cfg.Submissions == nil || s.cfg.Certificates == nil {
		return out, nil
	}
	loc, err := cert.LoadLocation(is.TimeZone)
	if err != nil {
		loc = time.UTC
	}
	now := s.cfg.Now()
	// One walk over the certificates, a page at a time, counting for
	// every target at once: only the counts of each month are kept.
	var tallies []*report.Tally
	var targets []report.TargetPeriods
	for _, target := range report.Targets {
		t := s.cfg.Templates[target]
		if t == nil {
			continue
		}
		subs, err := s.cfg.Submissions.Submissions(ctx, is.ID, target)
		if err != nil {
			return nil, fmt.Errorf("submissions of %s to %s: %w", is.ID, target, err)
		}
		tallies = append(tallies, report.NewTally(t, s.cfg.Schemes, subs, loc, now))
		targets = append(targets, report.TargetPeriods{Target: target, Name: t.Name})
	}
	if len(tallies) == 0 {
		return out, nil
	}
	err = s.cfg.Certificates.EachReportCertificates(ctx, is.ID, func(page []*cert.Certificate) error {
		for _, y := range tallies {
			y.Add(page)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for i, tp := range targets {
		for _, p := range tallies[i].Periods() {
			if p.Outstanding > 0 {
				tp.Periods = append(tp.Periods, p)
			}
		}
		if len(tp.Periods) > 0 {
			out = append(out, tp)
		}
	}
	return out, nil
}

// EventID is the event a deadline alert stands for: one per issuer,
// target and period.
func EventID(issuer, target, period string) string {
	return "report-deadline/" + issuer + "/" + target + "/" + period
}

// Alert enqueues a staff-alert e-mail (notify.MailStaffAlert) to each
// enabled console admin of each issuer for every period and target whose
// outstanding changes are due within report.DueSoonDays or overdue. The
// delivery id is notify.DeliveryID(EventID(...), "mailto:"+address), so a
// recipient gets one alert per period and target however often Alert runs
// and on however many instances: call it from a periodic loop (hourly is
// plenty). It returns how many deliveries it stored.
func (s *Service) Alert(ctx context.Context) (int, error) {
	if s.cfg.Issuers == nil || s.cfg.Users == nil || s.cfg.Outbox == nil {
		return 0, nil
	}
	issuers, err := s.cfg.Issuers.Issuers(ctx)
	if err != nil {
		return 0, fmt.Errorf("issuers: %w", err)
	}
	n := 0
	var errs []error
	for _, is := range issuers {
		k, err := s.alertIssuer(ctx, is)
		n += k
		if err != nil {
			errs = append(errs, fmt.Errorf("issuer %s: %w", is.ID, err))
		}
	}
	return n, errors.Join(errs...)
}

func (s *Service) alertIssuer(ctx context.Context, is *cert.Issuer) (int, error) {
	due, err := s.Outstanding(ctx, is)
	if err != nil {
		return 0, err
	}
	var warn []report.TargetPeriods
	for _, tp := range due {
		var ps []report.PeriodState
		for _, p := range tp.Periods {
			if p.Warning != "" {
				ps = append(ps, p)
			}
		}
		if len(ps) > 0 {
			warn = append(warn, report.TargetPeriods{Target: tp.Target, Name: tp.Name, Periods: ps})
		}
	}
	if len(warn) == 0 {
		return 0, nil
	}
	users, err := s.cfg.Users.Users(ctx, is.ID)
	if err != nil {
		return 0, fmt.Errorf("users: %w", err)
	}
	now := s.cfg.Now().UTC().Truncate(time.Millisecond)
	n := 0
	for _, tp := range warn {
		for _, p := range tp.Periods {
			job := alertJob(is, tp, p)
			payload, err := json.Marshal(job)
			if err != nil {
				return n, fmt.Errorf("encode alert: %w", err)
			}
			for _, u := range users {
				if u.Role != cert.RoleAdmin || u.Disabled || u.Email == "" {
					continue
				}
				d := &cert.Delivery{
					ID:      notify.DeliveryID(EventID(is.ID, tp.Target, p.Period), "mailto:"+u.Email),
					Channel: cert.ChannelEmail, To: u.Email, Issuer: is.ID, EventType: notify.MailStaffAlert,
					Payload: payload, Status: cert.DeliveryPending, NextAttemptAt: now, CreatedAt: now,
				}
				switch err := s.cfg.Outbox.EnqueueDelivery(ctx, d); {
				case err == nil:
					n++
				case errors.Is(err, store.ErrAlreadyExists):
					// Alerted before: once per period and target.
				default:
					return n, fmt.Errorf("enqueue alert for %s %s: %w", tp.Target, p.Period, err)
				}
			}
		}
	}
	return n, nil
}

// alertJob is the bilingual message of one period's alert.
func alertJob(is *cert.Issuer, tp report.TargetPeriods, p report.PeriodState) notify.MailJob {
	name := strings.ToUpper(tp.Target)
	if tp.Target == "iafcertsearch" {
		name = "IAF CertSearch"
	}
	zh, en := "即将到期", "due soon"
	if p.Warning == report.WarningOverdue {
		zh, en = "已逾期", "overdue"
	}
	subject := fmt.Sprintf("%s 报告 %s %s（截止 %s）/ %s report %s %s (due %s)", name, p.Period, zh, p.Deadline, name, p.Period, en, p.Deadline)
	text := fmt.Sprintf("%s\n\n%s 报告 %s 有 %d 项变更尚未报送，截止日期 %s。\n"+
		"The %s report of %s has %d changes not yet submitted; it is due on %s.\n\n"+
		"GET /api/v1/reports/%s/%s produces it; POST /api/v1/reports/%s/%s/submitted marks it submitted.\n",
		is.ID, name, p.Period, p.Outstanding, p.Deadline, name, p.Period, p.Outstanding, p.Deadline,
		tp.Target, p.Period, tp.Target, p.Period)
	return notify.MailJob{Kind: notify.MailStaffAlert, Subject: subject, Text: text}
}
