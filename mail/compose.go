package mail

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"strconv"
	"strings"
	texttemplate "text/template"
	"time"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/notify"
)

//go:embed templates/messages.tmpl templates/message.txt templates/message.html
var templateFS embed.FS

// The templates are parsed once; a template that does not parse fails
// every test of the package.
var (
	wording  = texttemplate.Must(texttemplate.New("messages.tmpl").Option("missingkey=error").ParseFS(templateFS, "templates/messages.tmpl"))
	textBody = texttemplate.Must(texttemplate.New("message.txt").ParseFS(templateFS, "templates/message.txt"))
	htmlBody = htmltemplate.Must(htmltemplate.New("message.html").ParseFS(templateFS, "templates/message.html"))
)

// message is a composed e-mail, before it is given to the relay.
type message struct {
	Subject string
	Text    string
	HTML    string
	// Attachment (Filename, PDF) is the certificate's PDF, when attached.
	Filename string
	PDF      []byte
	// UnsubscribeURL, when set, is sent as RFC 8058 List-Unsubscribe.
	UnsubscribeURL string
}

// content is what the wording templates read.
type content struct {
	Kind                         string
	Number                       string
	Organization, OrganizationEn string
	IssuerZh, IssuerEn           string
	VerifyURL                    string
	// Certificate events and watch events.
	Type, TypeZh, TypeEn string
	// VerbZh is the Chinese verb of the change ("暂停"), for a sentence.
	VerbZh              string
	At, ValidUntil      string
	Passed              bool
	ReasonZh, ReasonEn  string
	StatusZh, StatusEn  string
	Related, RelatedURL string
	Attached            bool
	Attachment          string
	// Reminders.
	Occasion                         string
	ReminderTitleZh, ReminderTitleEn string
	Window                           int
	Due                              string
	Days                             int
	AfterZh, AfterEn                 string
	// Watch mails.
	ConfirmURL, UnsubscribeURL string
	// Staff alerts.
	StaffSubject, StaffText string
}

// layout is what the text and HTML layouts read.
type layout struct {
	Subject                    string
	BodyZh, BodyEn             string
	ParagraphsZh, ParagraphsEn [][]string
	VerifyURL                  string
	ConfirmURL                 string
	UnsubscribeURL             string
}

// statusLabels are the statuses as the public pages name them.
var statusLabels = map[cert.Status][2]string{
	cert.StatusActive:     {"有效", "active"},
	cert.StatusSuspended:  {"暂停", "suspended"},
	cert.StatusWithdrawn:  {"撤销", "withdrawn"},
	cert.StatusCancelled:  {"注销", "cancelled"},
	cert.StatusExpired:    {"过期", "expired"},
	cert.StatusSuperseded: {"已换证", "superseded"},
}

// typeLabels name the event types in a subject and a sentence.
var typeLabels = map[string][2]string{
	cert.WebhookCertificateIssued:               {"已颁发", "issued"},
	cert.WebhookCertificateSurveillanceRecorded: {"监督审核已记录", "surveillance recorded"},
	cert.WebhookCertificateSuspended:            {"已暂停", "suspended"},
	cert.WebhookCertificateReinstated:           {"已恢复", "reinstated"},
	cert.WebhookCertificateWithdrawn:            {"已撤销", "withdrawn"},
	cert.WebhookCertificateCancelled:            {"已注销", "cancelled"},
	cert.WebhookCertificateExpired:              {"已过期", "expired"},
	cert.WebhookCertificateRenewed:              {"已换证", "renewed"},
	cert.WebhookCertificateRevised:              {"已变更", "revised"},
}

// derivedReasons label the reasons of changes certd records by itself.
var derivedReasons = map[string][2]string{
	cert.ReasonSurveillanceOverdue: {"未按期接受监督审核", "the surveillance audit is overdue"},
	cert.ReasonSurveillanceFailed:  {"监督审核未通过", "the surveillance audit failed"},
	cert.ReasonSurveillancePassed:  {"监督审核通过", "the surveillance audit passed"},
	cert.ReasonSuspensionLimit:     {"暂停期满未恢复", "the suspension reached its limit"},
	cert.ReasonSuspensionEnded:     {"暂停期结束", "the suspension ended"},
	cert.ReasonExpired:             {"有效期届满", "the validity period ended"},
}

// errGone is the cause of a delivery whose certificate no longer exists.
var errGone = errors.New("the certificate no longer exists")

// compose builds the message of a delivery.
func (s *Sender) compose(ctx context.Context, d *cert.Delivery) (*message, error) {
	var job notify.MailJob
	if err := decodeJob(d.Payload, &job); err != nil {
		return nil, notify.Permanent(err)
	}
	c := content{Kind: job.Kind, ConfirmURL: job.ConfirmURL, UnsubscribeURL: job.UnsubscribeURL,
		StaffSubject: job.Subject, StaffText: job.Text}
	m := &message{UnsubscribeURL: job.UnsubscribeURL}
	switch job.Kind {
	case notify.MailCertificateEvent, notify.MailReminder, notify.MailWatchConfirm, notify.MailWatchEvent:
		if job.Certificate == "" {
			return nil, notify.Permanent(fmt.Errorf("%s mail without a certificate", job.Kind))
		}
	case notify.MailStaffAlert:
		if job.Subject == "" {
			return nil, notify.Permanent(errors.New("staff alert without a subject"))
		}
	default:
		return nil, notify.Permanent(fmt.Errorf("unknown mail kind %q", job.Kind))
	}
	if job.Certificate != "" {
		crt, err := s.Certificate(ctx, job.Certificate)
		switch {
		case errors.Is(err, cert.ErrNotFound):
			return nil, notify.Permanent(fmt.Errorf("%w: %s", errGone, job.Certificate))
		case err != nil:
			return nil, fmt.Errorf("read certificate %s: %w", job.Certificate, err)
		}
		if err := s.describe(ctx, &c, crt, &job); err != nil {
			return nil, err
		}
		if job.AttachPDF && s.RenderPDF != nil {
			pdf, err := s.RenderPDF(ctx, crt)
			if err != nil {
				return nil, fmt.Errorf("render the PDF of %s: %w", crt.ID, err)
			}
			m.Filename, m.PDF = attachmentName(crt), pdf
			c.Attached, c.Attachment = true, m.Filename
		}
	}
	var zh, en, sz, se bytes.Buffer
	for _, t := range []struct {
		name string
		w    *bytes.Buffer
	}{{"subject.zh", &sz}, {"subject.en", &se}, {"body.zh", &zh}, {"body.en", &en}} {
		if err := wording.ExecuteTemplate(t.w, t.name, &c); err != nil {
			return nil, notify.Permanent(fmt.Errorf("compose %s: %w", t.name, err))
		}
	}
	m.Subject = oneLine(sz.String()) + " / " + oneLine(se.String())
	if job.Kind == notify.MailStaffAlert {
		m.Subject = oneLine(job.Subject)
	}
	l := layout{
		Subject: m.Subject, BodyZh: strings.TrimSpace(zh.String()), BodyEn: strings.TrimSpace(en.String()),
		VerifyURL: c.VerifyURL, ConfirmURL: job.ConfirmURL, UnsubscribeURL: job.UnsubscribeURL,
	}
	if job.Kind == notify.MailStaffAlert {
		l.BodyEn = "" // one text, in the language the alert was written in
	}
	l.ParagraphsZh, l.ParagraphsEn = paragraphs(l.BodyZh), paragraphs(l.BodyEn)
	var text, html bytes.Buffer
	if err := textBody.Execute(&text, &l); err != nil {
		return nil, notify.Permanent(fmt.Errorf("compose text: %w", err))
	}
	if err := htmlBody.Execute(&html, &l); err != nil {
		return nil, notify.Permanent(fmt.Errorf("compose html: %w", err))
	}
	m.Text, m.HTML = text.String(), html.String()
	return m, nil
}

// describe fills what the wording says about the certificate.
func (s *Sender) describe(ctx context.Context, c *content, crt *cert.Certificate, job *notify.MailJob) error {
	loc := crt.Location()
	date := func(t time.Time) string { return t.In(loc).Format(cert.DateLayout) }
	c.Number = crt.Number
	c.Organization, c.OrganizationEn = crt.Organization.Name, crt.Organization.NameEn
	if c.OrganizationEn == "" {
		c.OrganizationEn = c.Organization
	}
	c.VerifyURL = cert.VerifyURL(s.PublicURL, crt.ID)
	c.ValidUntil = crt.ValidUntilInclusive().Format(cert.DateLayout)
	if s.Issuer != nil {
		if is, err := s.Issuer(ctx, crt.Issuer); err == nil {
			c.IssuerZh, c.IssuerEn = is.NameZh, is.Name
			if c.IssuerZh == "" {
				c.IssuerZh = is.Name
			}
		} else if !errors.Is(err, cert.ErrNotFound) {
			return fmt.Errorf("read issuer %s: %w", crt.Issuer, err)
		}
	}
	var scheme *cert.Scheme
	if s.Scheme != nil {
		scheme = s.Scheme(crt.Scheme)
	}
	var st cert.Standing
	if s.Status != nil {
		st = s.Status(crt)
	} else if scheme != nil {
		st = cert.StatusAt(crt, scheme, s.now())
	}
	c.StatusZh, c.StatusEn = labels(statusLabels, st.Status, string(st.Status))

	c.Type = job.Type
	c.TypeZh, c.TypeEn = labels(typeLabels, job.Type, job.Type)
	c.VerbZh = strings.TrimPrefix(c.TypeZh, "已")
	if e := eventOf(crt, job.Seq); e != nil {
		c.At = date(e.At)
		c.Passed = e.Type == cert.EventSurveillancePassed
		c.Related = e.Related
		if e.Related != "" {
			c.RelatedURL = cert.VerifyURL(s.PublicURL, e.Related)
		}
		c.ReasonZh, c.ReasonEn = reasonOf(scheme, e)
	}
	if r := job.Reminder; r != nil {
		c.Due = date(r.Due)
		c.Days = r.DaysBefore
		c.Occasion, c.Window = occasion(r.Occasion)
		switch c.Occasion {
		case "surveillance-open", "surveillance-close":
			if w := st.Surveillance; w.WindowEnd != "" && (w.State == cert.SurveillanceDue || w.State == cert.SurveillanceNotDue) {
				c.Due = st.Surveillance.WindowEnd
			}
			c.ReminderTitleZh, c.ReminderTitleEn = "监督审核", "surveillance audit"
		case "overdue-suspension":
			after := cert.StatusCancelled
			if scheme != nil && scheme.AfterSuspension != "" {
				after = scheme.AfterSuspension
			}
			c.AfterZh, c.AfterEn = labels(statusLabels, after, string(after))
			c.ReminderTitleZh, c.ReminderTitleEn = "暂停后将被"+c.AfterZh, "suspended, will be "+c.AfterEn
		case "expiry":
			if r.Due.Equal(crt.ValidUntil) {
				c.Due = c.ValidUntil // the last valid day, as printed
			}
			c.ReminderTitleZh, c.ReminderTitleEn = "即将到期", "expiry"
		default:
			c.ReminderTitleZh, c.ReminderTitleEn = "提醒", "reminder"
		}
	}
	return nil
}

// occasion splits a reminder occasion ("surveillance-open-1",
// "surveillance-close-2-30d", "overdue-suspension", "expiry-90d") into
// its kind and window number.
func occasion(o string) (kind string, window int) {
	for _, k := range []string{"surveillance-open", "surveillance-close", "overdue-suspension", "expiry"} {
		if o == k || strings.HasPrefix(o, k+"-") {
			rest := strings.TrimPrefix(strings.TrimPrefix(o, k), "-")
			if n, err := strconv.Atoi(strings.SplitN(rest, "-", 2)[0]); err == nil && strings.HasPrefix(k, "surveillance") {
				window = n
			}
			return k, window
		}
	}
	return "", 0
}

// reasonOf labels an event's reason: the scheme's coded reason, a reason
// certd records by itself, or the words the issuer gave.
func reasonOf(scheme *cert.Scheme, e *cert.Event) (zh, en string) {
	status := e.Status
	switch e.Type {
	case cert.EventSuspended:
		status = cert.StatusSuspended
	case cert.EventWithdrawn:
		status = cert.StatusWithdrawn
	case cert.EventCancelled:
		status = cert.StatusCancelled
	}
	if rc := scheme.Reason(status, e.ReasonCode); rc != nil && rc.Label != "" {
		zh, en = rc.Code+" "+rc.Label, rc.Code+" "+rc.LabelEn
		if e.Reason != "" && e.Reason != rc.Label && e.Reason != rc.LabelEn {
			zh, en = zh+"（"+e.Reason+"）", en+" ("+e.Reason+")"
		}
		return zh, en
	}
	if l, ok := derivedReasons[e.Reason]; ok {
		return l[0], l[1]
	}
	return e.Reason, e.Reason
}

func eventOf(c *cert.Certificate, seq int) *cert.Event {
	for i := range c.Events {
		if c.Events[i].Seq == seq {
			return &c.Events[i]
		}
	}
	return nil
}

func labels[K comparable](m map[K][2]string, k K, fallback string) (zh, en string) {
	if l, ok := m[k]; ok {
		return l[0], l[1]
	}
	return fallback, fallback
}

// attachmentName is the PDF's file name: the certificate number, made
// safe for a file name.
func attachmentName(c *cert.Certificate) string {
	name := strings.Map(func(r rune) rune {
		if r < 0x20 || strings.ContainsRune(`/\:*?"<>|`, r) {
			return '_'
		}
		return r
	}, c.Number)
	if name == "" {
		name = c.ID
	}
	return name + ".pdf"
}

// paragraphs splits a body at blank lines, each paragraph into its lines.
func paragraphs(s string) [][]string {
	var out [][]string
	for _, p := range strings.Split(s, "\n\n") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, strings.Split(p, "\n"))
		}
	}
	return out
}

// oneLine makes a subject of a template's output (no line breaks).
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
