package mail

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/cert/certtest"
	"github.com/certd/certd/mail/mailtest"
	"github.com/certd/certd/notify"
	"github.com/certd/certd/store"
	"github.com/certd/certd/store/bolt"
)

const (
	orgEmail  = "Zhang.San@example.cn"
	publicURL = "https://verify.example.cn"
)

// clock is the fake clock the tests move by hand.
type clock = certtest.Clock

// fixture is a certificate, the outbox in bbolt, a Sender to a mailtest
// server and the notify worker that runs them.
type fixture struct {
	clock   *clock
	cert    *cert.Certificate
	certs   map[string]*cert.Certificate
	store   store.Webhooks
	srv     *mailtest.Server
	sender  *Sender
	worker  *notify.Worker
	pdf     []byte
	renders int
}

func itss(t testing.TB) *cert.Scheme {
	t.Helper()
	schemes, err := cert.NewSchemes(cert.BuiltinSchemes())
	if err != nil {
		t.Fatal(err)
	}
	return schemes["itss"]
}

func newCertificate(t testing.TB, issued time.Time) *cert.Certificate {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	from, until := cert.ValidityPeriod(issued, loc, 36)
	c := &cert.Certificate{
		ID: cert.NewID(), Number: "ITSS-2026-000042", Issuer: "default", Scheme: "itss", Level: 3,
		Category: "运行维护", TimeZone: "Asia/Shanghai", ValidFrom: from, ValidUntil: until,
		Organization: cert.Organization{Name: "北京示例科技有限公司", NameEn: "Beijing Example Technology Co., Ltd.",
			USCC: "91110108MA0123456G", Email: orgEmail},
	}
	c.Append(cert.Event{Type: cert.EventIssued, At: issued, RecordedAt: issued, Actor: "apikey:k1"})
	return c
}

func newFixture(t *testing.T, opts mailtest.Options) *fixture {
	t.Helper()
	clk := certtest.NewClock(time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC))
	s, err := bolt.Open(filepath.Join(t.TempDir(), "certd.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	srv := mailtest.Start(t, opts)
	server, err := ParseURL(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	from, err := ParseFrom("证书中心 <certd@cb.example.cn>")
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{clock: clk, store: s, srv: srv, certs: map[string]*cert.Certificate{},
		pdf: []byte("%PDF-1.7 a certificate\n%%EOF\n")}
	f.cert = newCertificate(t, clk.Now())
	f.certs[f.cert.ID] = f.cert
	scheme := itss(t)
	f.sender = &Sender{
		Server: server, From: from, PublicURL: publicURL, Now: clk.Now, RootCAs: srv.RootCAs,
		Certificate: func(_ context.Context, id string) (*cert.Certificate, error) {
			if c, ok := f.certs[id]; ok {
				return c, nil
			}
			return nil, cert.ErrNotFound
		},
		Scheme: func(string) *cert.Scheme { return scheme },
		Issuer: func(context.Context, string) (*cert.Issuer, error) {
			return &cert.Issuer{ID: "default", Name: "Example Certification Co.", NameZh: "示例认证有限公司"}, nil
		},
		RenderPDF: func(_ context.Context, c *cert.Certificate) ([]byte, error) {
			f.renders++
			return f.pdf, nil
		},
	}
	f.worker = &notify.Worker{Store: s, Mailer: f.sender, Owner: "test", Now: clk.Now, Jitter: func() float64 { return 0 }}
	return f
}

// event is the notify.Event of the certificate's event seq.
func (f *fixture) event(seq int) notify.Event {
	e := &f.cert.Events[seq-1]
	typ, _ := notify.EventType(e)
	return notify.Event{ID: notify.CertificateEventID(f.cert.ID, seq), Type: typ, Certificate: f.cert,
		Event: e, At: e.At, RecordedAt: e.RecordedAt}
}

func (f *fixture) enqueue(t *testing.T, ev notify.Event) string {
	t.Helper()
	sink := &OrganizationSink{Outbox: f.store}
	if err := sink.Enqueue(t.Context(), ev, f.clock.Now()); err != nil {
		t.Fatal(err)
	}
	return notify.DeliveryID(ev.ID, "mailto:"+f.cert.Organization.Email)
}

func (f *fixture) run(t *testing.T) int {
	t.Helper()
	n, err := f.worker.RunOnce(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func (f *fixture) delivery(t *testing.T, id string) *cert.Delivery {
	t.Helper()
	d, err := f.store.Delivery(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestIssuanceMail follows an issuance through the outbox and the worker
// to the SMTP server: one bilingual message, text and HTML, the
// verification link, the PDF attached as <number>.pdf, over STARTTLS.
func TestIssuanceMail(t *testing.T) {
	f := newFixture(t, mailtest.Options{StartTLS: true})
	id := f.enqueue(t, f.event(1))
	if n := f.run(t); n != 1 {
		t.Fatalf("worker attempted %d deliveries, want 1", n)
	}
	if d := f.delivery(t, id); d.Status != cert.DeliveryDelivered || d.Attempts != 1 {
		t.Fatalf("delivery: status %s, attempts %d, error %q", d.Status, d.Attempts, d.LastError)
	}
	msgs := f.srv.Messages()
	if len(msgs) != 1 {
		t.Fatalf("server received %d messages, want 1", len(msgs))
	}
	got := msgs[0]
	if got.From != "certd@cb.example.cn" || len(got.To) != 1 || got.To[0] != orgEmail || !got.TLS {
		t.Errorf("envelope from %q to %v, TLS %v", got.From, got.To, got.TLS)
	}
	m := mailtest.Parse(t, got.Data)
	if want := "<" + id + "@cb.example.cn>"; m.Header.Get("Message-Id") != want {
		t.Errorf("Message-ID %q, want %q", m.Header.Get("Message-Id"), want)
	}
	if !strings.Contains(m.Header.Get("To"), orgEmail) || !strings.Contains(m.Header.Get("From"), "certd@cb.example.cn") {
		t.Errorf("To %q, From %q", m.Header.Get("To"), m.Header.Get("From"))
	}
	if !strings.HasPrefix(m.Subject, "【证书已颁发】ITSS-2026-000042") || !strings.Contains(m.Subject, "Certificate issued: ITSS-2026-000042") {
		t.Errorf("Subject %q", m.Subject)
	}
	verify := publicURL + "/v/" + f.cert.ID
	for _, part := range []struct{ name, body string }{{"text", m.Text}, {"html", m.HTML}} {
		zh, en := strings.Index(part.body, "该证书已于 2026-12-03 颁发"), strings.Index(part.body, "The certificate was issued on 2026-12-03")
		if zh < 0 || en < 0 || zh > en {
			t.Errorf("%s part: Chinese at %d, English at %d; want both, Chinese first:\n%s", part.name, zh, en, part.body)
		}
		for _, want := range []string{verify, "北京示例科技有限公司", "Beijing Example Technology Co., Ltd.", "ITSS-2026-000042.pdf",
			"示例认证有限公司", "2029-12-02", "当前状态：有效", "Status now: active"} {
			if !strings.Contains(part.body, want) {
				t.Errorf("%s part lacks %q", part.name, want)
			}
		}
	}
	if !strings.Contains(m.HTML, `<a href="`+verify+`">`) || !strings.Contains(m.HTML, `lang="en"`) {
		t.Errorf("HTML part lacks the link or the English section:\n%s", m.HTML)
	}
	if len(m.Attachments) != 1 {
		t.Fatalf("%d attachments, want 1", len(m.Attachments))
	}
	att := m.Attachments[0]
	if att.Filename != "ITSS-2026-000042.pdf" || att.ContentType != "application/pdf" || string(att.Data) != string(f.pdf) {
		t.Errorf("attachment %q %q %q", att.Filename, att.ContentType, att.Data)
	}
	if n := f.run(t); n != 0 {
		t.Errorf("a delivered mail was attempted again")
	}
}

// TestMessageIDStableOnRetry: a delivery sent twice (a retry after the
// relay's answer was lost) carries the same Message-ID, so the recipient's
// system can tell the copies apart.
func TestMessageIDStableOnRetry(t *testing.T) {
	f := newFixture(t, mailtest.Options{})
	id := f.enqueue(t, f.event(1))
	d := f.delivery(t, id)
	for range 2 {
		if err := f.sender.Send(t.Context(), d); err != nil {
			t.Fatal(err)
		}
	}
	msgs := f.srv.Messages()
	if len(msgs) != 2 {
		t.Fatalf("%d messages, want 2", len(msgs))
	}
	a, b := mailtest.Parse(t, msgs[0].Data), mailtest.Parse(t, msgs[1].Data)
	if a.Header.Get("Message-Id") == "" || a.Header.Get("Message-Id") != b.Header.Get("Message-Id") {
		t.Errorf("Message-IDs %q and %q differ", a.Header.Get("Message-Id"), b.Header.Get("Message-Id"))
	}
	if msgs[0].TLS {
		t.Error("plain relay on loopback: the session was TLS without STARTTLS offered")
	}
}

// TestRetryableAndPermanent: 451 to the recipient and a relay that is down
// are retried; 550 fails the delivery at once; a certificate that no
// longer exists fails it too. No error shows the password.
func TestRetryableAndPermanent(t *testing.T) {
	f := newFixture(t, mailtest.Options{StartTLS: true, Username: "certd", Password: "TOPSECRET-pw"})
	f.sender.Server.Password = "TOPSECRET-pw"
	id := f.enqueue(t, f.event(1))

	f.srv.Answer(orgEmail, 451)
	f.run(t)
	d := f.delivery(t, id)
	if d.Status != cert.DeliveryPending || d.Attempts != 1 || !strings.Contains(d.LastError, "451") {
		t.Fatalf("after 451: status %s, attempts %d, error %q", d.Status, d.Attempts, d.LastError)
	}
	if err := f.sender.Send(t.Context(), d); err == nil || isPermanent(err) {
		t.Errorf("451: Send = %v, want a retryable error", err)
	}

	f.srv.Answer(orgEmail, 550)
	if err := f.sender.Send(t.Context(), d); !isPermanent(err) || !strings.Contains(err.Error(), "550") {
		t.Errorf("550: Send = %v, want a permanent error", err)
	}
	f.clock.Set(d.NextAttemptAt)
	f.run(t)
	d = f.delivery(t, id)
	if d.Status != cert.DeliveryFailed || d.Attempts != 2 || !strings.Contains(d.LastError, "550") {
		t.Fatalf("after 550: status %s, attempts %d, error %q", d.Status, d.Attempts, d.LastError)
	}

	f.srv.Answer(orgEmail, 0)
	wrong := *f.sender
	wrong.Server.Password = "TOPSECRET-wrong"
	err := wrong.Send(t.Context(), d)
	if err == nil || isPermanent(err) || strings.Contains(err.Error(), "TOPSECRET") {
		t.Errorf("wrong password: Send = %v, want a retryable error without the password", err)
	}

	f.srv.Close()
	err = f.sender.Send(t.Context(), d)
	if err == nil || isPermanent(err) || strings.Contains(err.Error(), "TOPSECRET") {
		t.Errorf("relay down: Send = %v, want a retryable error without the password", err)
	}
	if len(f.srv.Messages()) != 0 {
		t.Errorf("messages received: %d", len(f.srv.Messages()))
	}

	delete(f.certs, f.cert.ID)
	if err := f.sender.Send(t.Context(), d); !isPermanent(err) || !errors.Is(err, errGone) {
		t.Errorf("certificate gone: Send = %v, want a permanent error", err)
	}
}

// TestAuthenticatedOverSTARTTLS: credentials are used, over TLS.
func TestAuthenticatedOverSTARTTLS(t *testing.T) {
	f := newFixture(t, mailtest.Options{StartTLS: true, Username: "certd", Password: "pw"})
	d := f.delivery(t, f.enqueue(t, f.event(1)))
	if err := f.sender.Send(t.Context(), d); err != nil {
		t.Fatal(err)
	}
	msgs := f.srv.Messages()
	if len(msgs) != 1 || msgs[0].Auth != "certd" || !msgs[0].TLS {
		t.Fatalf("messages %d; auth %q, TLS %v", len(msgs), msgs[0].Auth, msgs[0].TLS)
	}
}

// TestImplicitTLS: smtps:// speaks TLS from the first byte.
func TestImplicitTLS(t *testing.T) {
	f := newFixture(t, mailtest.Options{ImplicitTLS: true})
	if f.sender.Server.Security != ImplicitTLS {
		t.Fatalf("security %v", f.sender.Server.Security)
	}
	d := f.delivery(t, f.enqueue(t, f.event(1)))
	if err := f.sender.Send(t.Context(), d); err != nil {
		t.Fatal(err)
	}
	if msgs := f.srv.Messages(); len(msgs) != 1 || !msgs[0].TLS {
		t.Fatalf("messages %+v", msgs)
	}
}

// TestSTARTTLSRequired: a relay that does not offer STARTTLS gets nothing
// when TLS is required (any host that is not a loopback address), and the
// failure is retried; an untrusted certificate fails the same way.
func TestSTARTTLSRequired(t *testing.T) {
	f := newFixture(t, mailtest.Options{})
	f.sender.Server.Security = StartTLSRequired
	d := f.delivery(t, f.enqueue(t, f.event(1)))
	err := f.sender.Send(t.Context(), d)
	if err == nil || isPermanent(err) || !strings.Contains(err.Error(), "STARTTLS") {
		t.Errorf("no STARTTLS offered: Send = %v, want a retryable STARTTLS error", err)
	}
	g := newFixture(t, mailtest.Options{StartTLS: true})
	g.sender.Server.Security = StartTLSRequired
	g.sender.RootCAs = nil // the system's roots do not trust mailtest's certificate
	d = g.delivery(t, g.enqueue(t, g.event(1)))
	if err := g.sender.Send(t.Context(), d); err == nil || isPermanent(err) {
		t.Errorf("untrusted certificate: Send = %v, want a retryable error", err)
	}
	if n := len(f.srv.Messages()) + len(g.srv.Messages()); n != 0 {
		t.Errorf("%d messages received without TLS", n)
	}
}

func isPermanent(err error) bool {
	var p *notify.PermanentError
	return errors.As(err, &p)
}

// send composes and sends one job for the fixture's certificate and
// returns the parsed message.
func (f *fixture) send(t *testing.T, job notify.MailJob) *mailtest.Parsed {
	t.Helper()
	payload, err := json.Marshal(job)
	if err != nil {
		t.Fatal(err)
	}
	before := len(f.srv.Messages())
	d := &cert.Delivery{ID: notify.DeliveryID(fmt.Sprint(job), "mailto:x"), Channel: cert.ChannelEmail, To: "watcher@example.org", Payload: payload}
	if err := f.sender.Send(t.Context(), d); err != nil {
		t.Fatal(err)
	}
	msgs := f.srv.Messages()
	if len(msgs) != before+1 {
		t.Fatalf("%d new messages, want 1", len(msgs)-before)
	}
	return mailtest.Parse(t, msgs[len(msgs)-1].Data)
}

// TestWatchMails: a watch event carries the RFC 8058 one-click
// unsubscribe headers and link; a confirmation carries its link and no
// unsubscribe header.
func TestWatchMails(t *testing.T) {
	f := newFixture(t, mailtest.Options{})
	at := f.clock.Now().Add(24 * time.Hour)
	f.cert.Append(cert.Event{Type: cert.EventSuspended, At: at, RecordedAt: at, Actor: "apikey:k1", ReasonCode: "0113", Reason: "客户申请"})
	f.clock.Set(at)
	unsub := publicURL + "/watch/unsubscribe?t=abc123"
	m := f.send(t, notify.MailJob{Kind: notify.MailWatchEvent, Certificate: f.cert.ID, Type: cert.WebhookCertificateSuspended, Seq: 2, UnsubscribeURL: unsub})
	if got := m.Header.Get("List-Unsubscribe"); got != "<"+unsub+">" {
		t.Errorf("List-Unsubscribe %q", got)
	}
	if got := m.Header.Get("List-Unsubscribe-Post"); got != "List-Unsubscribe=One-Click" {
		t.Errorf("List-Unsubscribe-Post %q", got)
	}
	for _, want := range []string{"该证书已于 2026-12-04 暂停。", "0113 获证组织主动申请暂停（客户申请）", "当前状态：暂停",
		"The certificate was suspended on 2026-12-04", "Reason: 0113 suspended at the request of the certified organization", "Status now: suspended", unsub} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("text lacks %q:\n%s", want, m.Text)
		}
	}
	if !strings.Contains(m.HTML, `<a href="`+strings.ReplaceAll(unsub, "&", "&amp;")+`">`) {
		t.Errorf("HTML lacks the unsubscribe link:\n%s", m.HTML)
	}
	if len(m.Attachments) != 0 {
		t.Errorf("a watch event has %d attachments", len(m.Attachments))
	}

	confirm := publicURL + "/watch/confirm?t=xyz"
	m = f.send(t, notify.MailJob{Kind: notify.MailWatchConfirm, Certificate: f.cert.ID, ConfirmURL: confirm})
	if m.Header.Get("List-Unsubscribe") != "" {
		t.Error("a confirmation has List-Unsubscribe")
	}
	if !strings.Contains(m.Text, confirm) || !strings.Contains(m.HTML, `href="`+confirm+`"`) || !strings.Contains(m.Subject, "请确认") {
		t.Errorf("confirmation: subject %q\n%s\n%s", m.Subject, m.Text, m.HTML)
	}
}

// TestReminderMails: each kind of reminder says what is due and when.
func TestReminderMails(t *testing.T) {
	f := newFixture(t, mailtest.Options{})
	c := f.cert
	loc := c.Location()
	cases := []struct {
		name string
		r    notify.Reminder
		now  time.Time
		want []string
	}{
		{"surveillance-open", notify.Reminder{Occasion: "surveillance-open-1", Due: c.ValidFrom.AddDate(0, 12, 0)}, c.ValidFrom.AddDate(0, 9, 1),
			[]string{"第 1 次监督审核窗口已开放", "2027-12-02", "The window for surveillance audit 1 is open"}},
		{"surveillance-close", notify.Reminder{Occasion: "surveillance-close-2-30d", Due: c.ValidFrom.AddDate(0, 24, 0), DaysBefore: 30}, c.ValidFrom.AddDate(0, 23, 2),
			[]string{"第 2 次监督审核窗口将于 2028-12-02 关闭（还有 30 天）", "closes on 2028-12-02 (in 30 days)", "当前状态：有效"}},
		{"overdue-suspension", notify.Reminder{Occasion: "overdue-suspension", Due: time.Date(2028, 3, 3, 0, 0, 0, 0, loc)}, c.ValidFrom.AddDate(0, 12, 2),
			[]string{"因未按期接受监督审核已被暂停", "2028-03-03", "证书将被注销", "will be cancelled", "当前状态：暂停"}},
		{"expiry", notify.Reminder{Occasion: "expiry-90d", Due: c.ValidUntil, DaysBefore: 90}, c.ValidUntil.AddDate(0, 0, -90),
			[]string{"该证书将于 2029-12-02 到期（还有 90 天）", "expires on 2029-12-02 (in 90 days)", "recertification"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f.clock.Set(tc.now)
			c.Events = c.Events[:1]
			if tc.name == "surveillance-close" {
				audit := c.ValidFrom.AddDate(0, 10, 0)
				c.Append(cert.Event{Type: cert.EventSurveillancePassed, At: audit, RecordedAt: audit, Actor: "apikey:k1"})
			}
			m := f.send(t, notify.MailJob{Kind: notify.MailReminder, Certificate: c.ID, Reminder: &tc.r, Type: cert.WebhookReminderSurveillance})
			for _, want := range tc.want {
				if !strings.Contains(m.Text, want) || !strings.Contains(m.HTML, want) {
					t.Errorf("text or HTML lacks %q:\n%s", want, m.Text)
				}
			}
			if !strings.Contains(m.Subject, "证书提醒") || !strings.Contains(m.Subject, "Reminder for certificate") {
				t.Errorf("subject %q", m.Subject)
			}
		})
	}
}

// TestHostileTextEscapedInHTML: what an issuer typed is escaped by
// html/template in the HTML part and left as it is in the text part.
func TestHostileTextEscapedInHTML(t *testing.T) {
	f := newFixture(t, mailtest.Options{})
	f.cert.Organization.Name = `<script>alert("x")</script> & Co`
	m := f.send(t, notify.MailJob{Kind: notify.MailCertificateEvent, Certificate: f.cert.ID, Type: cert.WebhookCertificateIssued, Seq: 1})
	if strings.Contains(m.HTML, "<script>") || !strings.Contains(m.HTML, "&lt;script&gt;") {
		t.Errorf("HTML not escaped:\n%s", m.HTML)
	}
	if !strings.Contains(m.Text, `<script>alert("x")</script> & Co`) {
		t.Errorf("text changed the name:\n%s", m.Text)
	}
	if f.renders != 0 || len(m.Attachments) != 0 {
		t.Errorf("no AttachPDF, yet %d renders and %d attachments", f.renders, len(m.Attachments))
	}
}

// TestStaffAlert: the subject and text of the alert.
func TestStaffAlert(t *testing.T) {
	f := newFixture(t, mailtest.Options{})
	m := f.send(t, notify.MailJob{Kind: notify.MailStaffAlert, Subject: "Webhook disabled 已停用", Text: "The endpoint https://crm.example.cn/h failed for 3 days."})
	if m.Subject != "Webhook disabled 已停用" || !strings.Contains(m.Text, "failed for 3 days") || !strings.Contains(m.HTML, "failed for 3 days") ||
		strings.Count(m.Text, "failed for 3 days") != 1 || strings.Contains(m.Text, "-----") {
		t.Errorf("staff alert: %q\n%s", m.Subject, m.Text)
	}
}

// TestUndecodableJobIsPermanent: a payload that is not a mail job, or of
// an unknown kind, cannot get better by retrying.
func TestUndecodableJobIsPermanent(t *testing.T) {
	f := newFixture(t, mailtest.Options{})
	for _, payload := range []string{"not json", `{"kind":"poem"}`, `{"kind":"certificate-event"}`} {
		d := &cert.Delivery{ID: "msg_x", Channel: cert.ChannelEmail, To: orgEmail, Payload: []byte(payload)}
		if err := f.sender.Send(t.Context(), d); !isPermanent(err) {
			t.Errorf("payload %q: Send = %v, want permanent", payload, err)
		}
	}
	d := &cert.Delivery{ID: "msg_y", Channel: cert.ChannelEmail, To: "not an address", Payload: []byte(`{"kind":"staff-alert","subject":"s"}`)}
	if err := f.sender.Send(t.Context(), d); !isPermanent(err) {
		t.Errorf("bad address: Send = %v, want permanent", err)
	}
}

// TestIssuanceWithoutFonts: without a PDF renderer (no fonts) the
// issuance is mailed without the attachment, with the verification link.
func TestIssuanceWithoutFonts(t *testing.T) {
	f := newFixture(t, mailtest.Options{})
	f.sender.RenderPDF = nil
	d := f.delivery(t, f.enqueue(t, f.event(1)))
	if err := f.sender.Send(t.Context(), d); err != nil {
		t.Fatal(err)
	}
	m := mailtest.Parse(t, f.srv.Messages()[0].Data)
	if len(m.Attachments) != 0 || !strings.Contains(m.Text, publicURL+"/v/"+f.cert.ID) || strings.Contains(m.Text, ".pdf") {
		t.Errorf("attachments %d, text:\n%s", len(m.Attachments), m.Text)
	}
}
