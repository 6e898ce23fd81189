package templates

import (
	"bytes"
	"fmt"
	"html/template"
	"time"

	"github.com/certd/certd/cert"
)

// VerifyPageData is what the verification page shows.
type VerifyPageData struct {
	Verdict cert.Verdict
	Lang    string
	// PublicURL is the base URL readers must see; its host is shown as
	// the address to check.
	PublicURL string
	// ID is the id as requested, shown when it is not registered.
	ID string
	// Scheme and Issuer, when known, name the scheme and the category in
	// the page's language and give the issuer's accreditation and time
	// zone.
	Scheme *cert.Scheme
	Issuer *cert.Issuer
	// Watch offers the "notify me when this certificate changes" form.
	Watch bool
}

// VerifyPage renders the verification page.
func VerifyPage(d VerifyPageData) ([]byte, error) {
	var out []byte
	err := WriteVerifyPage(d, func(page []byte) error {
		out = bytes.Clone(page)
		return nil
	})
	return out, err
}

// WriteVerifyPage renders the verification page and passes it to write,
// which must not keep it: the page every QR code leads to is rendered
// without a copy of its own.
func WriteVerifyPage(d VerifyPageData, write func(page []byte) error) error {
	v := newVerifyView(d)
	buf := buffers.Get().(*bytes.Buffer)
	defer buffers.Put(buf)
	buf.Reset()
	if writeVerifyDirect(buf, v) {
		return write(buf.Bytes())
	}
	return renderPage(v.P.Lang, "verify.html", v, write)
}

// defaultLocation is the time zone of pages that know no issuer: that of
// an issuer without one (DESIGN.md section 4).
var defaultLocation = func() *time.Location {
	if l, err := cert.LoadLocation("Asia/Shanghai"); err == nil {
		return l
	}
	return time.UTC
}()

// verifyView is the verification page as the template lays it out: every
// text already in the page's language.
type verifyView struct {
	P     page
	Badge Badge
	// ResultLabel dates the verdict: it is the status of the day.
	ResultLabel string
	// Headline says what the verdict means; Actions what the reader
	// should do.
	Headline string
	Actions  []string
	// Found is false for an id that is not registered here.
	Found     bool
	Requested string
	Cert      *certView
	Checks    []checkView
	// Banner (the verdict's date, icon, word and meaning), ActionItems,
	// SurvBadgeHTML, SurvBody, CheckRows and HistoryRows are the values
	// above as markup (see markup.go).
	Banner        template.HTML
	ActionItems   template.HTML
	SurvBadgeHTML template.HTML
	SurvBody      template.HTML
	CheckRows     template.HTML
	HistoryRows   template.HTML
	LinkItems     template.HTML
	Surv          string
	SurvBadge     Badge
	LastAudit     string
	History       []historyView
	CheckedAt     string
	Links         linksView
	// WatchAction is where the watch form posts ("" for no form).
	WatchAction string
}

type certView struct {
	Name, NameEn, USCC string
	Fields             []field
	// Head (the names), Rows (the fields, USCC first) and SignerRows (who
	// signed, with which key) are markup.
	Head         template.HTML
	Rows         template.HTML
	SignerRows   template.HTML
	Signer       string
	Kid          string
	Successor    string
	SuccessorURL string
	// Predecessor links back to the certificate this one replaces.
	Predecessor    string
	PredecessorURL string
	// LogoURL and Website are the issuer's, when it has them.
	LogoURL string
	Website string
}

// field is one line of the certificate's details; Sub is the same value in
// the other language, when it differs; Class styles the value.
type field struct {
	Label, Value, Sub string
	Class             string
}

type checkView struct {
	Name string
	OK   bool
	Word string
}

type historyView struct {
	Date   string
	Badge  Badge
	Reason string
	Auto   bool
}

type linksView struct {
	PDF, Credential, JWKS, JSON, Search, Home, OpenAPI string
}

func newVerifyView(d VerifyPageData) *verifyView {
	lang := PickLanguage(d.Lang, "")
	v := d.Verdict
	loc := defaultLocation
	if d.Issuer != nil {
		loc = d.Issuer.Location()
	}
	vv := &verifyView{
		P:         newPage(lang, translate(lang, "verify.title"), d.PublicURL, nil),
		Found:     v.Certificate != nil,
		CheckedAt: formatTime(lang, v.CheckedAt, loc),
		Links: linksView{
			Search: publicPath(d.PublicURL, "/search"), Home: publicPath(d.PublicURL, "/"),
			OpenAPI: publicPath(d.PublicURL, "/openapi.json"),
		},
	}
	vv.Badge, vv.Headline, vv.Actions = verdictText(lang, v, vv.P.Host, loc)
	vv.ResultLabel = fmt.Sprintf(pick(lang, "%s 核验结果", "Result on %s"), formatDay(lang, v.CheckedAt.In(loc)))
	vv.Banner = banner(vv.ResultLabel, vv.Badge, vv.Headline)
	vv.ActionItems = listItems(vv.Actions)
	if !vv.Found {
		vv.Requested = d.ID
		if len(vv.Requested) > 64 {
			vv.Requested = vv.Requested[:64] + "…"
		}
		return vv
	}
	c := v.Certificate
	if d.Watch {
		vv.WatchAction = publicPath(d.PublicURL, "/v/"+c.ID+"/watch") + "?lang=" + lang
	}
	vv.Links.PDF = publicPath(d.PublicURL, "/v/"+c.ID+"/certificate.pdf")
	vv.Links.Credential = publicPath(d.PublicURL, "/v/"+c.ID+"/credential.jwt")
	vv.Links.JSON = publicPath(d.PublicURL, "/api/v1/verify/"+c.ID)
	if v.Issuer != nil {
		vv.Links.JWKS = publicPath(d.PublicURL, "/issuers/"+v.Issuer.ID+"/jwks.json")
	}
	vv.Cert = newCertView(lang, v, d)
	vv.Checks = make([]checkView, 0, len(v.Checks))
	for _, ch := range v.Checks {
		word := "word.failed"
		if ch.OK {
			word = "word.ok"
		}
		vv.Checks = append(vv.Checks, checkView{Name: translate(lang, "check."+ch.Name), OK: ch.OK, Word: translate(lang, word)})
	}
	if s := v.Surveillance; s != nil {
		vv.Surv, vv.SurvBadge = survText(lang, *s)
		if s.LastAudit != nil {
			vv.LastAudit = pick(lang, "最近一次通过的监督审核：", "Last passed audit: ") + formatDate(lang, *s.LastAudit)
		}
	}
	vv.History = make([]historyView, 0, 1+len(v.History))
	vv.History = append(vv.History, historyView{
		Date: formatDate(lang, c.ValidFrom), Badge: statusBadge(lang, cert.StatusActive),
		Reason: pick(lang, "证书签发", "certificate issued"),
	})
	for _, ch := range v.History {
		vv.History = append(vv.History, historyView{
			Date: formatDay(lang, ch.At.In(loc)), Badge: statusBadge(lang, ch.Status),
			Reason: changeReason(lang, ch), Auto: ch.Derived,
		})
	}
	vv.CheckRows = checkRows(vv.Checks)
	vv.HistoryRows = historyRows(vv.History, translate(lang, "hist.auto"))
	vv.LinkItems = linkItems([]link{
		{vv.Links.PDF, translate(lang, "links.pdf")}, {vv.Links.Credential, translate(lang, "links.jwt")},
		{vv.Links.JWKS, translate(lang, "links.jwks")}, {vv.Links.JSON, translate(lang, "links.json")},
	})
	vv.SurvBadgeHTML = badgeHTML(vv.SurvBadge)
	vv.SurvBody = paragraphs(vv.Surv, vv.LastAudit)
	return vv
}

func newCertView(lang string, v cert.Verdict, d VerifyPageData) *certView {
	c := v.Certificate
	cv := &certView{Name: c.Organization.Name, NameEn: c.Organization.NameEn, USCC: c.Organization.USCC, Kid: c.Kid}
	cv.Fields = make([]field, 0, 12)
	add := func(key, value, sub string, mono bool) {
		if value == "" {
			return
		}
		if sub == value {
			sub = ""
		}
		f := field{Label: translate(lang, key), Value: value, Sub: sub}
		if mono {
			f.Class = "mono"
		}
		cv.Fields = append(cv.Fields, f)
	}
	add("cert.uscc", c.Organization.USCC, "", true)
	add("cert.address", c.Organization.Address, "", false)
	add("cert.number", c.Number, "", true)
	schemeZh, schemeEn := c.Scheme, c.Scheme
	categoryEn := ""
	if s := d.Scheme; s != nil {
		schemeZh, schemeEn = firstOf(s.NameZh, s.Name), s.Name
		categoryEn = s.CategoryEn(c.Category)
	}
	add("cert.scheme", pick(lang, schemeZh, schemeEn), pick(lang, schemeEn, schemeZh), false)
	add("cert.standard", c.Standard, "", false)
	add("cert.category", pick(lang, c.Category, firstOf(categoryEn, c.Category)), pick(lang, categoryEn, c.Category), false)
	if c.Level > 0 {
		add("cert.level", levelText(lang, c.Level), levelText(map[bool]string{true: "en", false: "zh-CN"}[zh(lang)], c.Level), false)
	}
	add("cert.scope", pick(lang, c.Scope, firstOf(c.ScopeEn, c.Scope)), pick(lang, c.ScopeEn, c.Scope), false)
	add("cert.validity", formatDate(lang, c.ValidFrom)+pick(lang, " 至 ", " to ")+formatDate(lang, c.ValidUntil), "", false)
	add("cert.original", formatDate(lang, c.OriginalDate), "", false)
	for _, s := range c.Sites {
		value := s.Name
		if s.Address != "" {
			value += pick(lang, "，", ", ") + s.Address
		}
		add("cert.site", value, s.Scope, false)
	}
	if is := v.Issuer; is != nil {
		// The issuer as the credential signed it; its name now, when it
		// was renamed since.
		name := issuerName(lang, is.Name, is.NameZh)
		if is.SignedName != "" {
			name = is.SignedName
		}
		add("cert.issuer", name, "", false)
		cv.Signer = name
		if is.CurrentName != "" {
			add("cert.issuerNow", issuerName(lang, is.Name, is.NameZh), "", false)
		}
		switch {
		case is.Accreditation != nil:
			add("cert.accredit", cert.AccreditationText(is.Accreditation.Accreditations), "", false)
			add("cert.approval", is.Accreditation.ApprovalNumber, "", true)
		case is.SignedName == "" && d.Issuer != nil:
			add("cert.accredit", cert.AccreditationText(d.Issuer.Accreditation), "", false)
			add("cert.approval", d.Issuer.ApprovalNumber, "", true)
		}
	}
	if d.Issuer != nil {
		cv.Website = d.Issuer.Website
		if d.Issuer.Logo != nil {
			cv.LogoURL = publicPath(d.PublicURL, "/issuers/"+d.Issuer.ID+"/logo.png")
		}
	}
	add("cert.assessor", c.AssessmentBody, "", false)
	if l := c.Successor; l != nil {
		cv.Successor = l.Number + " (" + statusBadge(lang, l.Status).Word + ")"
		cv.SuccessorURL = publicPath(d.PublicURL, "/v/"+l.ID)
	} else if c.SupersededBy != "" {
		cv.Successor = c.SupersededBy
		cv.SuccessorURL = publicPath(d.PublicURL, "/v/"+c.SupersededBy)
	}
	if l := c.Predecessor; l != nil {
		cv.Predecessor = l.Number + " (" + statusBadge(lang, l.Status).Word + ")"
		cv.PredecessorURL = publicPath(d.PublicURL, "/v/"+l.ID)
	}
	cv.Head = orgHead(cv.Name, cv.NameEn)
	cv.Rows = fieldRows(cv.Fields)
	cv.SignerRows = fieldRows([]field{
		{Label: translate(lang, "fraud.signer"), Value: cv.Signer},
		{Label: translate(lang, "fraud.kid"), Value: cv.Kid, Class: "mono kid"},
	})
	return cv
}

// issuerName names an issuer in the page's language, the other in
// parentheses.
func issuerName(lang, name, nameZh string) string {
	switch {
	case nameZh == "" || nameZh == name:
		return name
	case zh(lang):
		return nameZh + "（" + name + "）"
	}
	return name + " (" + nameZh + ")"
}

func firstOf(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// lastChange is the change that set the current status (the zero Change
// for a certificate that never changed).
func lastChange(v cert.Verdict) cert.Change {
	if n := len(v.History); n > 0 {
		return v.History[n-1]
	}
	return cert.Change{}
}

// verdictText builds the verdict's badge, its meaning and what to do, in
// the page's language, from the verdict's structured fields; the English
// sentence of the verifier (Verdict.Reason) is for the JSON only.
func verdictText(lang string, v cert.Verdict, host string, loc *time.Location) (Badge, string, []string) {
	c := v.Certificate
	// Sentences name the issuer in the page's language only; the details
	// give both names.
	issuer := pick(lang, "颁证机构", "the issuer")
	if v.Issuer != nil {
		issuer = pick(lang, firstOf(v.Issuer.NameZh, v.Issuer.Name), v.Issuer.Name)
	}
	since := func() string {
		if ch := lastChange(v); !ch.At.IsZero() {
			return formatDay(lang, ch.At.In(loc))
		}
		return "—"
	}
	why := func() string { return changeReason(lang, lastChange(v)) }
	compare := pick(lang, "逐字核对纸质证书上的组织名称和证书编号与本页一致。", "Check that the organization name and the certificate number on the paper match this page exactly.")
	address := fmt.Sprintf(pick(lang, "确认浏览器地址栏显示的是 %s。", "Check that your address bar shows %s."), host)

	switch {
	case v.Verdict == cert.VerdictUnknown:
		return statusBadge(lang, ""),
			pick(lang, "暂时无法确认此证书的状态。", "The status of this certificate cannot be confirmed right now."),
			[]string{
				pick(lang, "请几分钟后刷新本页重试。", "Reload this page in a few minutes."),
				pick(lang, "在确认之前，请勿依赖本证书。", "Do not rely on this certificate until it is confirmed."),
			}
	case c == nil:
		return statusBadge(lang, cert.StatusNotFound),
			pick(lang, "本站没有登记这份证书。", "This certificate is not registered here."),
			[]string{
				pick(lang, "如果这个链接来自证书上的二维码，该证书可能是伪造的，或二维码指向了仿冒网站。", "If this link came from the QR code on a certificate, the certificate may be forged or the code may lead to a look-alike site."),
				pick(lang, "请通过颁证机构官方网站公布的联系方式直接核实，不要使用证书上印的链接或电话。", "Ask the issuer directly, with the contact details on its official website, not those printed on the certificate."),
				address,
				pick(lang, "也可以在本站按证书编号、组织名称或统一社会信用代码搜索。", "You can also search this site by certificate number, organization name or USCC."),
			}
	case v.Verdict == cert.VerdictValid:
		head := fmt.Sprintf(pick(lang, "证书真实有效：由%s颁发给%s，有效期至%s。", "Genuine and valid today: issued by %s to %s, valid until %s."),
			issuer, c.Organization.Name, formatDate(lang, c.ValidUntil))
		if c.SupersededBy != "" {
			head += pick(lang, "该证书已办理换证，新证书见下方链接。", " It has been renewed: the new certificate is linked below.")
		}
		return statusBadge(lang, cert.StatusActive), head, []string{compare, address}
	}
	for _, ch := range v.Checks {
		if ch.Name == cert.CheckSignature && !ch.OK {
			return Badge{pick(lang, "签名不可信", "Signature not trusted"), "✕", "bad"},
				pick(lang, "此证书的数字签名无法信任：签名密钥已被颁证机构吊销，或不属于该机构。", "The digital signature of this certificate cannot be trusted: the signing key was revoked by the issuer or is not the issuer's."),
				[]string{
					pick(lang, "请勿依赖本证书。", "Do not rely on this certificate."),
					fmt.Sprintf(pick(lang, "请联系%s核实。", "Ask %s."), issuer),
				}
		}
	}
	notRely := pick(lang, "请勿将本证书作为有效资质使用。", "Do not accept this certificate as valid.")
	switch v.Status {
	case cert.StatusSuspended:
		actions := []string{notRely, fmt.Sprintf(pick(lang, "请向%s或持证组织询问恢复情况。", "Ask %s or the certificate holder when it will be reinstated."), issuer)}
		if r := lastChange(v).Reason; r == cert.ReasonSurveillanceOverdue || r == cert.ReasonSurveillanceFailed {
			actions = append(actions, pick(lang, "持证组织须通过监督审核，证书才能恢复有效。", "The holder must pass a surveillance audit to have it reinstated."))
		}
		return statusBadge(lang, v.Status),
			fmt.Sprintf(pick(lang, "证书自%s起暂停，暂停期间无效。原因：%s。", "Suspended since %s; it is not valid while suspended. Reason: %s."), since(), why()),
			actions
	case cert.StatusWithdrawn:
		return statusBadge(lang, v.Status),
			fmt.Sprintf(pick(lang, "证书已于%s被%s撤销，不再有效。原因：%s。", "Withdrawn by %[2]s on %[1]s; it is no longer valid. Reason: %[3]s."), since(), issuer, why()),
			[]string{notRely, fmt.Sprintf(pick(lang, "如对方仍出示本证书，请向%s核实。", "If it is still shown to you, ask %s."), issuer)}
	case cert.StatusCancelled:
		return statusBadge(lang, v.Status),
			fmt.Sprintf(pick(lang, "证书已于%s注销，不再有效。原因：%s。", "Cancelled on %s; it is no longer valid. Reason: %s."), since(), why()),
			[]string{notRely, fmt.Sprintf(pick(lang, "如对方仍出示本证书，请向%s核实。", "If it is still shown to you, ask %s."), issuer)}
	case cert.StatusExpired:
		return statusBadge(lang, v.Status),
			fmt.Sprintf(pick(lang, "证书有效期已于%s届满，不再有效。", "Expired: it was valid until %s."), formatDate(lang, c.ValidUntil)),
			[]string{notRely, pick(lang, "请向持证组织索取现行有效的证书。", "Ask the holder for its current certificate.")}
	case cert.StatusSuperseded:
		actions := []string{pick(lang, "请核验替代它的新证书。", "Verify the certificate that replaces it.")}
		return statusBadge(lang, v.Status),
			fmt.Sprintf(pick(lang, "证书已于%s被新证书替代（换证），本证书不再使用。", "Replaced by a newer certificate on %s; this one is no longer in use."), since()),
			actions
	}
	for _, ch := range v.Checks {
		if ch.Name == cert.CheckValidity && !ch.OK {
			return Badge{pick(lang, "尚未生效", "Not yet valid"), "!", "warn"},
				fmt.Sprintf(pick(lang, "证书尚未生效，有效期自%s开始。", "Not valid yet: valid from %s."), formatDate(lang, c.ValidFrom)),
				[]string{notRely}
		}
	}
	return Badge{pick(lang, "无效", "Not valid"), "✕", "bad"}, pick(lang, "此证书无效。", "This certificate is not valid."), []string{notRely}
}

// survText describes the surveillance state with its window.
func survText(lang string, s cert.Surveillance) (string, Badge) {
	start, end := formatDate(lang, s.WindowStart), formatDate(lang, s.WindowEnd)
	switch s.State {
	case cert.SurveillanceNotDue:
		return fmt.Sprintf(pick(lang, "下次监督审核期：%s 至 %s。", "Next surveillance audit: between %s and %s."), start, end),
			Badge{pick(lang, "未到期", "Not due yet"), "✓", "ok"}
	case cert.SurveillanceDue:
		return fmt.Sprintf(pick(lang, "监督审核期内：须在%[2]s前通过审核（审核期 %[1]s 至 %[2]s）。", "Surveillance audit due by %[2]s (window %[1]s to %[2]s)."), start, end),
			Badge{pick(lang, "审核期内", "Due"), "…", "info"}
	case cert.SurveillanceDone:
		return fmt.Sprintf(pick(lang, "本期监督审核已通过（审核期 %s 至 %s）。", "This period's surveillance audit was passed (window %s to %s)."), start, end),
			Badge{pick(lang, "已通过", "Passed"), "✓", "ok"}
	case cert.SurveillanceOverdue:
		return fmt.Sprintf(pick(lang, "逾期：审核期 %s 至 %s 已结束，未通过监督审核。", "Overdue: the window %s to %s closed without a passed audit."), start, end),
			Badge{pick(lang, "逾期", "Overdue"), "!", "bad"}
	}
	return pick(lang, "没有待进行的监督审核。", "No surveillance audit pending."), Badge{pick(lang, "无", "None"), "–", "muted"}
}
