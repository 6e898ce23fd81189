package main

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/mail/mailtest"
	"github.com/certd/certd/notify"
)

// TestRemindersByMailOver40Months: an ITSS certificate with an
// organization e-mail lives 40 months on a fake clock, swept every day at
// 10:00 Beijing: its first surveillance audit is recorded in time, the
// second window is missed (suspension, then cancellation by the scheme).
// The real SMTP server receives each reminder once, on its day, and the
// status changes once each; nothing after the cancellation.
func TestRemindersByMailOver40Months(t *testing.T) {
	srv := mailtest.Start(t, mailtest.Options{})
	clk := &webhookClock{t: time.Date(2026, 6, 1, 2, 0, 0, 0, time.UTC)}
	ts := startServer(t, "", withClock(clk.Now), func(m *Main) {
		m.Config.SMTPURL, m.Config.MailFrom = srv.URL(), "certd <certd@cb.example.cn>"
		m.Config.ReminderInterval = 24 * time.Hour // the test sweeps by hand
		m.SweepInterval = 24 * time.Hour
	})
	const org = "quality@example-tech.cn"
	c := ts.issueCert(t, map[string]any{"validFrom": "2026-06-01"}, map[string]any{"email": org})
	id := c["id"].(string)
	ctx := t.Context()
	drain := func() {
		t.Helper()
		// A probe lease that has ended already: it takes nothing from
		// the dispatcher, whose clock does not move within the day.
		waitFor(t, "the outbox to empty", func() bool {
			es, err := ts.m.store.LeaseOutbox(ctx, "probe", clk.Now(), clk.Now().Add(-time.Millisecond), 1)
			return err == nil && len(es) == 0
		})
	}
	drain()
	loc, _ := time.LoadLocation("Asia/Shanghai")
	end := time.Date(2029, 10, 1, 10, 0, 0, 0, loc)
	for day := time.Date(2026, 6, 2, 10, 0, 0, 0, loc); !day.After(end); day = day.AddDate(0, 0, 1) {
		clk.mu.Lock()
		clk.t = day.UTC()
		clk.mu.Unlock()
		if day.Format(cert.DateLayout) == "2027-04-15" {
			r := ts.do("POST", "/api/v1/certificates/"+id+"/surveillance", ts.Admin, map[string]any{"reason": "annual audit", "result": "passed", "date": "2027-04-15"})
			if r.Status != http.StatusOK {
				t.Fatalf("surveillance: %d %s", r.Status, r.Body)
			}
		}
		if _, err := ts.m.Issuer.SweepDerived(ctx, ""); err != nil {
			t.Fatalf("%s: derived sweep: %v", day.Format(cert.DateLayout), err)
		}
		if _, err := ts.m.Reminders.Sweep(ctx); err != nil {
			t.Fatalf("%s: reminder sweep: %v", day.Format(cert.DateLayout), err)
		}
		drain()
	}

	// Every e-mail delivery of the certificate, by what it is about and the
	// day it was enqueued.
	want := map[string]string{
		"reminder surveillance-open-1":                         "2027-03-01",
		"reminder surveillance-open-2":                         "2028-03-01",
		"reminder surveillance-close-2-30d":                    "2028-05-02",
		"reminder overdue-suspension-2028-09-01":               "2028-06-01",
		"event " + cert.WebhookCertificateIssued:               "2026-06-01",
		"event " + cert.WebhookCertificateSurveillanceRecorded: "2027-04-15",
		"event " + cert.WebhookCertificateSuspended:            "2028-06-01",
		"event " + cert.WebhookCertificateCancelled:            "2028-09-01",
	}
	var ids []string
	got := map[string]string{}
	messageIDs := map[string]string{}
	for key := range want {
		if name, ok := strings.CutPrefix(key, "reminder "); ok {
			did := notify.DeliveryID(notify.ReminderEventID(id, name), "mailto:"+org)
			ids = append(ids, did)
			messageIDs[did] = key
		}
	}
	// Certificate events: find their sequence numbers in the audit trail.
	stored, err := ts.m.store.Certificate(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	for i := range stored.Events {
		e := &stored.Events[i]
		typ, ok := notify.EventType(e)
		if !ok {
			continue
		}
		did := notify.DeliveryID(notify.CertificateEventID(id, e.Seq), "mailto:"+org)
		ids = append(ids, did)
		messageIDs[did] = "event " + typ
	}
	for _, did := range ids {
		d, err := ts.m.store.Delivery(ctx, did)
		if err != nil {
			t.Errorf("%s: no delivery: %v", messageIDs[did], err)
			continue
		}
		got[messageIDs[did]] = d.CreatedAt.In(loc).Format(cert.DateLayout)
	}
	if fmt.Sprint(sorted(got)) != fmt.Sprint(sorted(want)) {
		t.Errorf("e-mail deliveries by day:\n got %v\nwant %v", sorted(got), sorted(want))
	}
	// The SMTP server got each of them exactly once (Message-ID from the
	// delivery id), and nothing else.
	msgs := waitMails(t, srv, org, len(want))
	time.Sleep(time.Second)
	msgs = srv.To(org)
	seen := map[string]int{}
	for _, m := range msgs {
		p := mailtest.Parse(t, m.Data)
		mid := strings.Trim(p.Header.Get("Message-Id"), "<>")
		seen[strings.SplitN(mid, "@", 2)[0]]++
	}
	for did, what := range messageIDs {
		if seen[did] != 1 {
			t.Errorf("%s (%s): %d messages, want 1", what, did, seen[did])
		}
	}
	if len(msgs) != len(want) {
		t.Errorf("%d messages, want %d", len(msgs), len(want))
	}
}

func sorted(m map[string]string) []string {
	var out []string
	for k, v := range m {
		out = append(out, v+" "+k)
	}
	sort.Strings(out)
	return out
}
