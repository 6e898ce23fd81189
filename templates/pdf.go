package templates

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/templates/internal/fpdf"
)

// CredentialFilename is the name of the signed credential attached to every
// certificate PDF.
const CredentialFilename = "credential.jwt"

// ErrFontCoverage reports that the PDF font has no glyph for a character
// that the certificate would print; see CoverageError.
var ErrFontCoverage = errors.New("font lacks characters")

// CoverageError lists, per printed field, the characters no font of the
// chain has. It matches ErrFontCoverage with errors.Is. Its message names
// the font files: log it, never show it to the public.
type CoverageError struct {
	// Fonts are the paths of the font files of the chain.
	Fonts []string
	// Fields holds each field with missing characters, in print order.
	Fields []FieldCoverage
}

// FieldCoverage names one printed field and the characters of it that the
// fonts cannot print. Field "label" is the fixed wording of the certificate.
type FieldCoverage struct {
	Field   string
	Missing []rune
}

// Error names the font, then each field and its missing characters.
func (e *CoverageError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "pdf: fonts %s lack characters:", strings.Join(e.Fonts, ", "))
	for i, f := range e.Fields {
		if i > 0 {
			b.WriteByte(';')
		}
		b.WriteString(" " + f.Field + ":")
		for _, r := range f.Missing {
			fmt.Fprintf(&b, " %U %q", r, r)
		}
	}
	b.WriteString(" (pass --pdf-font with fonts that have them)")
	return b.String()
}

// Is makes errors.Is(err, ErrFontCoverage) true for a CoverageError.
func (e *CoverageError) Is(target error) bool { return target == ErrFontCoverage }

// CertificateDoc is what the printed certificate shows. All pointers are
// required; the API fills it from the stored certificate and its status.
type CertificateDoc struct {
	Certificate *cert.Certificate
	Issuer      *cert.Issuer
	Scheme      *cert.Scheme
	// Status is the certificate's status at GeneratedAt. Any status other
	// than active puts a watermark across the page.
	Status cert.Status
	// VerifyURL is the verification page, printed in text.
	VerifyURL string
	// QRContent is what the QR code encodes (see QRContent); VerifyURL when
	// empty.
	QRContent string
	// Credential is the signed compact JWS, attached as CredentialFilename
	// so the PDF can be verified offline.
	Credential string
	// GeneratedAt is when the PDF is made: the footer states the status at
	// this moment and it is the PDF creation date. Zero means now.
	GeneratedAt time.Time
	// Logo and Seal are the issuer's current images as PNG, nil when it
	// has none: the logo heads the page, the seal is printed over the
	// issuer's name and the date. An image that cannot be read is left
	// out rather than failing the certificate.
	Logo, Seal []byte
}

// Page geometry, in millimetres (A4 landscape).
const (
	pdfPageW, pdfPageH = 297.0, 210.0
	pdfFrameOuter      = 7.0  // inset of the thick outer frame line
	pdfFrameInner      = 10.5 // inset of the thin inner frame line
	pdfLeft, pdfRight  = 24.0, pdfPageW - 24.0
	pdfContentW        = pdfRight - pdfLeft
	// pdfMinQRSide is the smallest printed QR code, quiet zone included.
	pdfMinQRSide = 30.0
)

// Colours.
var (
	pdfNavy  = [3]int{22, 48, 96}
	pdfGold  = [3]int{176, 141, 68}
	pdfInk   = [3]int{25, 25, 25}
	pdfMuted = [3]int{90, 90, 90}
	pdfRed   = [3]int{200, 30, 30}
)

// RenderPDF lays out doc as an A4 landscape certificate in Chinese with
// English beneath, with a QR code of doc.QRContent, embeds the subsets of
// the fonts it uses, and attaches doc.Credential as CredentialFilename.
// Each character is set in the first font of the chain that has it
// (Fonts). Text that is too long for its place shrinks, and wraps where it
// may; a scope too long for the page is printed on annex pages that follow
// the certificate, and the certificate says so.
//
// Before drawing it checks that the fonts have every character of every
// printed string (Fonts.Missing): when they do not, the error matches
// ErrFontCoverage (a *CoverageError naming the fields and characters) and
// no PDF is made, so a certificate never shows empty boxes.
func RenderPDF(doc CertificateDoc, fonts Fonts) (out []byte, err error) {
	s, err := newPDFSheet(doc)
	if err != nil {
		return nil, err
	}
	if err := s.checkCoverage(fonts); err != nil {
		return nil, err
	}
	qrContent := doc.QRContent
	if qrContent == "" {
		qrContent = doc.VerifyURL
	}
	qr, err := qrMatrix(qrContent)
	if err != nil {
		return nil, fmt.Errorf("pdf: %w", err)
	}
	// fpdf panics on some malformed font and image data; a bad font must
	// fail one request, not the server.
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("pdf: render with fonts %s: %v", strings.Join(fonts.Paths(), ", "), r)
		}
	}()

	pdf := fpdf.New("L", "mm", "A4", "")
	pdf.SetMargins(0, 0, 0)
	pdf.SetAutoPageBreak(false, 0)
	pdf.SetCompression(true)
	pdf.SetCatalogSort(true) // the same document gives the same bytes
	// Only the fonts the sheet uses are parsed and embedded; the first
	// (the Latin face) always is, as it sets the digits.
	used := make([]bool, fonts.Len())
	used[0] = true
	for _, f := range s.printed() {
		for _, r := range fonts.runs(f[1]) {
			used[r.font] = true
		}
	}
	for i, u := range used {
		if u {
			fonts.addTo(pdf, i)
		}
	}
	pdf.SetTitle(s.titleZh+" "+s.number, true)
	pdf.SetSubject(s.nameZh, true)
	pdf.SetAuthor(s.issuerZh, true)
	pdf.SetKeywords(s.number+" "+doc.Certificate.ID, true)
	pdf.SetCreator("certd", false)
	pdf.SetLang("zh-CN")
	pdf.SetCreationDate(s.generated)
	pdf.SetModificationDate(s.generated)
	pdf.SetAttachments([]fpdf.Attachment{{
		Content:     []byte(doc.Credential),
		Filename:    CredentialFilename,
		Description: "Signed credential (vc+jwt) of certificate " + s.number,
	}})
	pdf.AddPage()

	p := &pdfPainter{pdf: pdf, fonts: fonts, families: make([]string, fonts.Len())}
	for i := range p.families {
		p.families[i] = fonts.family(i)
	}
	p.logo = p.register("logo", doc.Logo, pdfLogoPx)
	p.seal = p.register("seal", doc.Seal, pdfSealPx)
	p.frame()
	annex, annexTitle := p.body(s)
	if err := p.bottom(s, qr); err != nil {
		return nil, err
	}
	if s.watermarkZh != "" {
		p.watermark(s.watermarkZh, s.watermarkEn)
	}
	for i, page := range annex {
		pdf.AddPage()
		p.frame()
		p.annexPage(s, annexTitle, page, i+1, len(annex))
		if s.watermarkZh != "" {
			p.watermark(s.watermarkZh, s.watermarkEn)
		}
	}
	var b bytes.Buffer
	if err := pdf.Output(&b); err != nil {
		return nil, fmt.Errorf("pdf: %w", err)
	}
	return b.Bytes(), nil
}

// pdfPair is one printed item: Chinese first, English beneath. field names
// where the value comes from, for coverage errors. A pair without valEn
// has a value that reads the same in both languages and is printed once,
// after both labels.
type pdfPair struct {
	field          string
	labelZh, valZh string
	labelEn, valEn string
}

// pdfSheet holds every string the certificate prints, already formatted.
type pdfSheet struct {
	titleZh, titleEn string
	number           string
	nameZh, nameEn   string
	uscc, address    string
	// claims (standard, category, level) share one line a language.
	claims []pdfPair
	scope  pdfPair
	dates  []pdfPair
	// issuer holds the accreditation, approval and assessment body.
	issuer []pdfPair
	// issuerName is the issuer as signed (Chinese, English); issuerNow
	// its name now when it was renamed since.
	issuerName pdfPair
	issuerNow  string
	issuerZh   string
	// signatory has the name in valZh and the title in valEn.
	signatory   pdfPair
	issueDate   string
	sites       []cert.Site
	verifyURL   string
	footerZh    string
	footerEn    string
	watermarkZh string
	watermarkEn string
	generated   time.Time
}

func newPDFSheet(doc CertificateDoc) (*pdfSheet, error) {
	c, is, sc := doc.Certificate, doc.Issuer, doc.Scheme
	switch {
	case c == nil:
		return nil, errors.New("pdf: certificate is required")
	case is == nil:
		return nil, errors.New("pdf: issuer is required")
	case sc == nil:
		return nil, errors.New("pdf: scheme is required")
	case doc.Status == "":
		return nil, errors.New("pdf: status is required")
	case doc.VerifyURL == "":
		return nil, errors.New("pdf: verification URL is required")
	case doc.Credential == "":
		return nil, errors.New("pdf: credential is required")
	}
	loc := c.Location()
	s := &pdfSheet{
		titleZh:   pdfClean(pdfFirstOf(sc.TitleZh, sc.NameZh, sc.Title, sc.Name)),
		titleEn:   pdfClean(pdfFirstOf(sc.Title, sc.Name)),
		number:    pdfClean(c.Number),
		nameZh:    pdfClean(c.Organization.Name),
		nameEn:    pdfClean(c.Organization.NameEn),
		uscc:      pdfClean(c.Organization.USCC),
		address:   pdfClean(c.Organization.Address),
		issuerZh:  pdfClean(pdfFirstOf(is.NameZh, is.Name)),
		verifyURL: pdfClean(doc.VerifyURL),
		generated: doc.GeneratedAt,
	}
	if s.generated.IsZero() {
		s.generated = time.Now()
	}
	if std := pdfClean(c.Standard); std != "" {
		s.claims = append(s.claims, pdfPair{field: "standard", labelZh: "符合标准", valZh: std, labelEn: "Conforms to", valEn: std})
	}
	if cat := pdfClean(c.Category); cat != "" {
		s.claims = append(s.claims, pdfPair{field: "category", labelZh: "类别", valZh: cat, labelEn: "Category",
			valEn: pdfClean(pdfFirstOf(sc.CategoryEn(c.Category), cat))})
	}
	if c.Level != 0 {
		s.claims = append(s.claims, pdfPair{field: "level", labelZh: "级别", valZh: pdfLevelZh(c.Level), labelEn: "Level",
			valEn: strconv.Itoa(c.Level)})
	}
	if scope := pdfClean(c.Scope); scope != "" {
		s.scope = pdfPair{field: "scope", labelZh: "认证范围", valZh: scope, labelEn: "Scope", valEn: pdfClean(c.ScopeEn)}
	}
	from, until := c.ValidFrom.In(loc), c.ValidUntilInclusive()
	s.dates = append(s.dates,
		pdfPair{field: "validFrom", labelZh: "颁证日期", valZh: pdfDateZh(from), labelEn: "Issue date", valEn: from.Format(cert.DateLayout)},
		pdfPair{field: "validUntil", labelZh: "有效期至", valZh: pdfDateZh(until), labelEn: "Valid until", valEn: until.Format(cert.DateLayout)})
	if c.OriginalDate != "" {
		p := pdfPair{field: "originalDate", labelZh: "初次认证日期", valZh: pdfClean(c.OriginalDate), labelEn: "Original certification", valEn: pdfClean(c.OriginalDate)}
		if d, err := cert.ParseDate(c.OriginalDate, loc); err == nil {
			p.valZh = pdfDateZh(d)
		}
		s.dates = append(s.dates, p)
	}
	s.issueDate = pdfDateZh(from)
	// The name, accreditation and approval are printed as the credential
	// signed them; the current profile stands in for what an older
	// credential does not carry.
	accreditations, approval := is.Accreditation, is.ApprovalNumber
	s.issuerName = pdfPair{field: "issuer.name", valZh: s.issuerZh, valEn: pdfClean(is.Name)}
	if signed, ok := cert.SignedIssuer(doc.Credential); ok {
		if name := pdfClean(signed.Name); name != "" && name != s.issuerZh {
			// Renamed since: the English name is the new one's, so it is
			// shown only as part of the current name.
			s.issuerName.valZh, s.issuerName.valEn = name, ""
			s.issuerNow = pdfClean(pdfJoin(" ", s.issuerZh, pdfUnless(is.Name, s.issuerZh)))
			s.issuerZh = name
		}
		if signed.Accreditation != nil {
			accreditations, approval = signed.Accreditation.Accreditations, signed.Accreditation.ApprovalNumber
		}
	}
	if s.issuerName.valEn == s.issuerName.valZh {
		s.issuerName.valEn = ""
	}
	if acc := pdfClean(cert.AccreditationText(accreditations)); acc != "" {
		s.issuer = append(s.issuer, pdfPair{field: "issuer.accreditation", labelZh: "认可", valZh: acc, labelEn: "Accreditation"})
	}
	if a := pdfClean(approval); a != "" {
		s.issuer = append(s.issuer, pdfPair{field: "issuer.approvalNumber", labelZh: "批准号", valZh: a, labelEn: "CNCA approval No."})
	}
	if sg := is.Signatory; sg != nil && pdfClean(sg.Name) != "" {
		s.signatory = pdfPair{field: "signatory", labelZh: pdfSignatoryZh, labelEn: pdfSignatoryEn, valZh: pdfClean(sg.Name), valEn: pdfClean(sg.Title)}
	}
	for _, site := range c.Sites {
		site = cert.Site{Name: pdfClean(site.Name), Address: pdfClean(site.Address), Scope: pdfClean(site.Scope)}
		if site != (cert.Site{}) {
			s.sites = append(s.sites, site)
		}
	}
	if ab := pdfClean(c.AssessmentBody); ab != "" {
		s.issuer = append(s.issuer, pdfPair{field: "assessmentBody", labelZh: "审核机构", valZh: ab, labelEn: "Assessment body"})
	}
	day := s.generated.In(loc)
	zh, en := pdfStatusNames(doc.Status)
	s.footerZh = "本证书于" + pdfDateZh(day) + "的状态：" + zh + "。证书当前状态以扫描二维码或访问验证网址的查询结果为准。"
	s.footerEn = "Status on " + day.Format(cert.DateLayout) + ": " + strings.ToLower(en) +
		". Scan the QR code or open the verification URL for the current status."
	if doc.Status != cert.StatusActive {
		s.watermarkZh, s.watermarkEn = zh, en
	}
	return s, nil
}

// printed lists every string the sheet prints, with the field it comes from.
func (s *pdfSheet) printed() [][2]string {
	out := [][2]string{
		{"scheme.title", s.titleZh + s.titleEn},
		{"number", s.number},
		{"organization.name", s.nameZh},
		{"organization.nameEn", s.nameEn},
		{"organization.uscc", s.uscc},
		{"organization.address", s.address},
		{"verifyURL", s.verifyURL},
		{"status", s.watermarkZh + s.watermarkEn},
		{"label", "证书编号 Certificate No. 兹证明 This is to certify that 统一社会信用代码 USCC 地址 Address：: 扫码验证 Scan to verify 验证网址 Verify at　" +
			pdfAnnexLabels + pdfSiteLabels + s.footerZh + s.footerEn + s.issueDate},
		{"issuer.currentName", s.issuerNow},
	}
	for _, p := range slices.Concat(s.claims, []pdfPair{s.scope}, s.dates, []pdfPair{s.issuerName}, s.issuer, []pdfPair{s.signatory}) {
		out = append(out, [2]string{"label", p.labelZh + p.labelEn}, [2]string{p.field, p.valZh + p.valEn})
	}
	for i, site := range s.sites {
		out = append(out, [2]string{fmt.Sprintf("sites[%d]", i), site.Name + site.Address + site.Scope})
	}
	return out
}

// checkCoverage fails with a *CoverageError when the fonts cannot print
// the sheet.
func (s *pdfSheet) checkCoverage(fonts Fonts) error {
	e := &CoverageError{Fonts: fonts.Paths()}
	for _, f := range s.printed() {
		missing := fonts.Missing(f[1])
		if len(missing) == 0 {
			continue
		}
		if k := len(e.Fields) - 1; k >= 0 && e.Fields[k].Field == f[0] {
			for _, r := range missing {
				if !pdfContainsRune(e.Fields[k].Missing, r) {
					e.Fields[k].Missing = append(e.Fields[k].Missing, r)
				}
			}
			continue
		}
		e.Fields = append(e.Fields, FieldCoverage{Field: f[0], Missing: missing})
	}
	if len(e.Fields) > 0 {
		return e
	}
	return nil
}

func pdfContainsRune(rs []rune, r rune) bool { return strings.ContainsRune(string(rs), r) }

// pdfStatusNames returns the printed names of a status in Chinese and English.
func pdfStatusNames(st cert.Status) (zh, en string) {
	switch st {
	case cert.StatusActive:
		return "有效", "ACTIVE"
	case cert.StatusSuspended:
		return "已暂停", "SUSPENDED"
	case cert.StatusWithdrawn:
		return "已撤销", "WITHDRAWN"
	case cert.StatusCancelled:
		return "已注销", "CANCELLED"
	case cert.StatusExpired:
		return "已过期", "EXPIRED"
	case cert.StatusSuperseded:
		return "已换证", "SUPERSEDED"
	}
	return "无效", "NOT VALID"
}

// pdfLevelZh writes a level the way Chinese certificates do: 一级 ... 十级.
func pdfLevelZh(n int) string {
	const digits = "零一二三四五六七八九十"
	if n >= 1 && n <= 10 {
		return string([]rune(digits)[n]) + "级"
	}
	return strconv.Itoa(n) + "级"
}

// pdfDateZh writes a date the Chinese way, without leading zeros: 2026年3月5日.
func pdfDateZh(t time.Time) string {
	return fmt.Sprintf("%d年%d月%d日", t.Year(), t.Month(), t.Day())
}

// pdfJoin joins the non-empty strings of ss with sep.
func pdfJoin(sep string, ss ...string) string {
	return strings.Join(slices.DeleteFunc(slices.Clone(ss), func(s string) bool { return s == "" }), sep)
}

// pdfUnless returns s, or "" when it equals other.
func pdfUnless(s, other string) string {
	if s == other {
		return ""
	}
	return s
}

func pdfFirstOf(ss ...string) string {
	for _, s := range ss {
		if strings.TrimSpace(s) != "" {
			return s
		}
	}
	return ""
}

// pdfClean folds control characters and runs of white space into single
// spaces: every printed value is one logical line.
func pdfClean(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r)
	}), " ")
}

// pdfPainter draws on the pages, each string in the fonts of its runs.
type pdfPainter struct {
	pdf   *fpdf.Fpdf
	fonts Fonts
	// families are the fonts' family names (Fonts.family), by index.
	families []string
	// logo and seal name the registered images; "" when there is none.
	logo, seal string
}

// register adds a PNG image, scaled down to at most maxPx pixels on its
// longer side, and returns its name, or "" when data is empty or
// unreadable (see pdfImage).
func (p *pdfPainter) register(name string, data []byte, maxPx int) string {
	if len(data) == 0 {
		return ""
	}
	img, suffix := pdfImage(data, maxPx)
	if img == nil {
		return ""
	}
	p.pdf.RegisterParsedImage(name+suffix, img)
	return name + suffix
}

// imageBox returns the size of a registered image scaled to fit w by h,
// keeping its proportions.
func (p *pdfPainter) imageBox(name string, w, h float64) (float64, float64) {
	info := p.pdf.GetImageInfo(name)
	if info == nil || info.Width() <= 0 || info.Height() <= 0 {
		return 0, 0
	}
	if ih := w * info.Height() / info.Width(); ih <= h {
		return w, ih
	}
	return h * info.Width() / info.Height(), h
}

// width returns how wide s is at size.
func (p *pdfPainter) width(s string, size float64) float64 {
	w := 0.0
	for _, r := range p.fonts.runs(s) {
		p.pdf.SetFont(p.families[r.font], "", size)
		w += p.pdf.GetStringWidth(r.text)
	}
	return w
}

// runeWidth is width(string(r), size) without splitting into runs: one
// character is one run, in the first font that has it (or the first).
func (p *pdfPainter) runeWidth(r rune, size float64) float64 {
	p.pdf.SetFont(p.families[max(p.fonts.index(r), 0)], "", size)
	var b [utf8.UTFMax]byte
	return p.pdf.GetStringWidth(string(utf8.AppendRune(b[:0], r)))
}

// draw writes s with its left end at x and baseline at y, run by run.
func (p *pdfPainter) draw(x, y, size float64, s string) {
	for _, r := range p.fonts.runs(s) {
		p.pdf.SetFont(p.families[r.font], "", size)
		p.pdf.Text(x, y, r.text)
		x += p.pdf.GetStringWidth(r.text)
	}
}

func (p *pdfPainter) color(c [3]int) {
	p.pdf.SetTextColor(c[0], c[1], c[2])
	p.pdf.SetDrawColor(c[0], c[1], c[2])
	p.pdf.SetFillColor(c[0], c[1], c[2])
}

// frame draws the border: a thick navy line, a thin gold one inside it, a
// thin navy one inside that, and corner ornaments.
func (p *pdfPainter) frame() {
	f := p.pdf
	p.color(pdfNavy)
	f.SetLineWidth(1.4)
	f.Rect(pdfFrameOuter, pdfFrameOuter, pdfPageW-2*pdfFrameOuter, pdfPageH-2*pdfFrameOuter, "D")
	f.SetLineWidth(0.25)
	f.Rect(pdfFrameInner, pdfFrameInner, pdfPageW-2*pdfFrameInner, pdfPageH-2*pdfFrameInner, "D")
	p.color(pdfGold)
	f.SetLineWidth(0.6)
	mid := (pdfFrameOuter + pdfFrameInner) / 2
	f.Rect(mid, mid, pdfPageW-2*mid, pdfPageH-2*mid, "D")
	// Corner ornaments: a gold square turned 45 degrees on each inner corner.
	for _, c := range [][2]float64{{pdfFrameInner, pdfFrameInner}, {pdfPageW - pdfFrameInner, pdfFrameInner},
		{pdfFrameInner, pdfPageH - pdfFrameInner}, {pdfPageW - pdfFrameInner, pdfPageH - pdfFrameInner}} {
		const r = 3.2
		p.color(pdfGold)
		f.Polygon([]fpdf.PointType{{X: c[0] - r, Y: c[1]}, {X: c[0], Y: c[1] - r}, {X: c[0] + r, Y: c[1]}, {X: c[0], Y: c[1] + r}}, "F")
		p.color(pdfNavy)
		f.Circle(c[0], c[1], 0.9, "F")
	}
}

// text draws s with its left end at x and baseline at y.
func (p *pdfPainter) text(x, y, size float64, c [3]int, s string) {
	p.color(c)
	p.draw(x, y, size, s)
}

// centered draws s centred on the page, shrinking the size until it fits
// the content width.
func (p *pdfPainter) centered(y, size float64, c [3]int, s string) {
	p.centeredAt(pdfPageW/2, pdfContentW, y, size, c, s)
}

// centeredAt draws s centred on x, shrinking the size until it is at most
// w wide.
func (p *pdfPainter) centeredAt(x, w, y, size float64, c [3]int, s string) {
	size = p.fit(s, w, size)
	p.color(c)
	p.draw(x-p.width(s, size)/2, y, size, s)
}

// bold draws centred text filled and stroked, the only emphasis a single
// font face allows.
func (p *pdfPainter) bold(y, size, stroke float64, c [3]int, s string) {
	p.boldAt(pdfPageW/2, pdfContentW, y, size, stroke, c, s)
}

// boldAt is bold centred on x, at most w wide.
func (p *pdfPainter) boldAt(x, w, y, size, stroke float64, c [3]int, s string) {
	p.pdf.SetLineWidth(stroke)
	p.pdf.SetTextRenderingMode(2)
	p.centeredAt(x, w, y, size, c, s)
	p.pdf.SetTextRenderingMode(0)
}

// fit returns the largest size, not above size, at which s is at most w
// wide.
func (p *pdfPainter) fit(s string, w, size float64) float64 {
	if sw := p.width(s, size); sw > w {
		size = math.Floor(size*w/sw*10) / 10
	}
	return size
}

// pdfPtToMM converts a font size in points to millimetres.
const pdfPtToMM = 25.4 / 72

// Vertical bounds of the free-flowing scope and of the bottom block.
const (
	pdfScopeLimit = 136.5 // last baseline of the scope
	pdfRule       = 142.0 // pdfGold rule above the bottom block
)

// The issuer's logo: the box it is scaled into, in the top left corner.
const (
	pdfLogoX, pdfLogoY = 16.0, 15.0
	pdfLogoW, pdfLogoH = 46.0, 22.0
)

// body draws the logo, the title, the organization and what it is
// certified for. It returns the annex pages the scope and the sites
// continue on, if any, and their title.
func (p *pdfPainter) body(s *pdfSheet) ([][]pdfLine, [2]string) {
	f := p.pdf
	titleW := pdfContentW
	if p.logo != "" {
		w, h := p.imageBox(p.logo, pdfLogoW, pdfLogoH)
		f.ImageOptions(p.logo, pdfLogoX, pdfLogoY+(pdfLogoH-h)/2, w, h, false, fpdf.ImageOptions{ImageType: "PNG"}, 0, "")
		// The title keeps clear of the logo on both sides, to stay centred.
		titleW = pdfPageW - 2*(pdfLogoX+w+3)
	}
	p.boldAt(pdfPageW/2, titleW, 33, 26, 0.25, pdfNavy, s.titleZh)
	p.centeredAt(pdfPageW/2, titleW, 41, 12, pdfNavy, s.titleEn)
	p.centered(48.5, 10, pdfInk, "证书编号 Certificate No.  "+s.number)
	p.color(pdfGold)
	f.SetLineWidth(0.4)
	f.Line(pdfPageW/2-60, 52.5, pdfPageW/2+60, 52.5)

	p.centered(61, 11, pdfMuted, "兹证明")
	p.centered(65.5, 8.5, pdfMuted, "This is to certify that")
	y := p.paragraph(77, 22, 16, 12, 2, 0.2, pdfInk, s.nameZh)
	if s.nameEn != "" {
		y = p.paragraph(y+8, 13, 10, 8, 2, 0, pdfInk, s.nameEn)
	}
	y += 6.5
	p.centered(y, 9, pdfMuted, "统一社会信用代码 USCC  "+s.uscc)
	if s.address != "" {
		y = p.paragraph(y+5, 9, 8, 6.5, 2, 0, pdfMuted, "地址 Address  "+s.address)
	}
	if len(s.claims) > 0 {
		var zh, en []string
		for _, c := range s.claims {
			zh = append(zh, c.labelZh+"："+c.valZh)
			en = append(en, c.labelEn+": "+c.valEn)
		}
		y += 9.5
		p.centered(y, 11, pdfInk, strings.Join(zh, "　　"))
		y += 5
		p.centered(y, 9, pdfMuted, strings.Join(en, "    "))
	}
	if s.scope.valZh == "" && len(s.sites) == 0 {
		return nil, [2]string{}
	}
	return p.flow(y+7.5, s)
}

// paragraph draws s centred from baseline y: on one line at the largest
// size from size down to wrapAt at which it fits, else in at most maxLines
// lines of the content width at the largest size from wrapAt down to
// minSize at which they fit; below that, the last line shrinks to fit. A
// stroke above 0 draws it bold. It returns the baseline of the last line.
func (p *pdfPainter) paragraph(y, size, wrapAt, minSize float64, maxLines int, stroke float64, c [3]int, s string) float64 {
	return p.paragraphAt(pdfPageW/2, pdfContentW, y, size, wrapAt, minSize, maxLines, stroke, c, s)
}

// paragraphAt is paragraph centred on x, in lines at most w wide.
func (p *pdfPainter) paragraphAt(x, w, y, size, wrapAt, minSize float64, maxLines int, stroke float64, c [3]int, s string) float64 {
	lines, size := p.lines(s, w, size, wrapAt, minSize, maxLines)
	for i, l := range lines {
		if i > 0 {
			y += size * pdfPtToMM * 1.2
		}
		if stroke > 0 {
			p.boldAt(x, w, y, size, stroke, c, l)
		} else {
			p.centeredAt(x, w, y, size, c, l)
		}
	}
	return y
}

// lines breaks s for a place w wide: one line at the size from size down
// to wrapAt at which it fits (or at size when it fits nowhere and
// maxLines < 2), else at most maxLines lines at the largest size from
// wrapAt down to minSize at which they fit, the last holding what is left
// (drawers shrink it to fit). It returns the lines and their size.
func (p *pdfPainter) lines(s string, w, size, wrapAt, minSize float64, maxLines int) ([]string, float64) {
	if p.width(s, wrapAt) <= w || maxLines < 2 {
		return []string{s}, min(size, max(wrapAt, p.fit(s, w, size)))
	}
	var lines []string
	for size = wrapAt; ; size -= 0.5 {
		lines = p.wrap(s, w, size)
		if len(lines) <= maxLines || size-0.5 < minSize {
			break
		}
	}
	if len(lines) > maxLines {
		// What does not fit goes on the last line, which shrinks.
		rest := strings.Join(lines[maxLines-1:], " ")
		if pdfIsCJK(s) {
			rest = strings.Join(lines[maxLines-1:], "")
		}
		lines = append(lines[:maxLines-1], rest)
	}
	return lines, size
}

// pdfIsCJK reports whether s is mostly CJK text, which is written without
// spaces between words.
func pdfIsCJK(s string) bool {
	n := 0
	for _, r := range s {
		if r >= 0x2E80 {
			n++
		}
	}
	return n*2 > utf8.RuneCountInString(s)
}

// pdfLine is one line of wrapped text.
type pdfLine struct {
	text  string
	size  float64
	color [3]int
	// step is the distance from the previous baseline.
	step float64
}

// pdfScopeLines wraps the scope at size (the English at 82% of it) into
// lines w wide, the English beneath the Chinese.
func (p *pdfPainter) pdfScopeLines(zh, en string, w, size float64) []pdfLine {
	enSize := size * 0.82
	zhStep, enStep := size*pdfPtToMM*1.5, enSize*pdfPtToMM*1.5
	var out []pdfLine
	for _, l := range p.wrap(zh, w, size) {
		out = append(out, pdfLine{l, size, pdfInk, zhStep})
	}
	for i, l := range p.wrap(en, w, enSize) {
		step := enStep
		if i == 0 {
			step = enStep * 0.9
		}
		out = append(out, pdfLine{l, enSize, pdfMuted, step})
	}
	if len(out) > 0 {
		out[0].step = 0
	}
	return out
}

// Sizes of the scope and the sites: the largest and the smallest on the
// certificate, and the size on annex pages.
const (
	pdfScopeMax   = 11.0
	pdfScopeMin   = 6.0
	pdfScopeAnnex = 10.0
	// pdfSitesMin is the smallest size of the scope and the sites together
	// on the certificate.
	pdfSitesMin = 7.5
	// pdfSiteRefSize is the size of the line that refers to the sites on
	// the annex.
	pdfSiteRefSize = 9.0
)

// siteLines lists the certified sites under a heading, each wrapped at
// size*0.9 into lines w wide.
func (p *pdfPainter) siteLines(sites []cert.Site, w, size float64) []pdfLine {
	if len(sites) == 0 {
		return nil
	}
	itemSize := size * 0.9
	out := []pdfLine{{pdfSitesZh + "　" + pdfSitesEn, size, pdfNavy, size * pdfPtToMM * 1.6}}
	for i, site := range sites {
		text := pdfJoin("　", fmt.Sprintf("%d. %s", i+1, site.Name), site.Address)
		if site.Scope != "" {
			text += "　" + pdfSiteScope + site.Scope
		}
		for j, l := range p.wrap(text, w, itemSize) {
			step := itemSize * pdfPtToMM * 1.35
			if j == 0 {
				step *= 1.1
			}
			out = append(out, pdfLine{l, itemSize, pdfInk, step})
		}
	}
	return out
}

// flowLines returns the lines of the scope (when scope) and of the sites
// (when sites) at size, w wide, the first with step 0.
func (p *pdfPainter) flowLines(s *pdfSheet, scope, sites bool, w, size float64) []pdfLine {
	var out []pdfLine
	if scope && s.scope.valZh != "" {
		en := ""
		if s.scope.valEn != "" {
			en = s.scope.labelEn + ": " + s.scope.valEn
		}
		out = p.pdfScopeLines(s.scope.labelZh+"："+s.scope.valZh, en, w, size)
	}
	if sites {
		out = append(out, p.siteLines(s.sites, w, size)...)
	}
	if len(out) > 0 {
		out[0].step = 0
	}
	return out
}

// flow draws the scope and then the sites, centred from baseline y:
// wrapped, and smaller when needed to end above pdfScopeLimit. What does
// not fit even at pdfScopeMin goes on annex pages: the sites first, then
// the scope with them; the certificate refers to the annex in their
// place. It returns the annex pages and their title.
func (p *pdfPainter) flow(y float64, s *pdfSheet) ([][]pdfLine, [2]string) {
	const w = pdfContentW - 20
	hasScope, hasSites := s.scope.valZh != "", len(s.sites) > 0
	// The reference to the sites on the annex: one line under the scope.
	refH := pdfSiteRefSize * pdfPtToMM * 1.6
	try := func(sites bool, limit float64) bool {
		// Sites join the scope on the certificate only while both stay
		// readable; else they go on the annex and the scope keeps its size.
		minSize := pdfScopeMin
		if sites {
			minSize = pdfSitesMin
		}
		for size := pdfScopeMax; size >= minSize; size -= 0.5 {
			lines := p.flowLines(s, true, sites, w, size)
			last := y
			for _, l := range lines {
				last += l.step
			}
			if last > limit {
				continue
			}
			for _, l := range lines {
				y += l.step
				p.centered(y, l.size, l.color, l.text)
			}
			return true
		}
		return false
	}
	if try(hasSites, pdfScopeLimit) {
		return nil, [2]string{}
	}
	if hasScope && hasSites && try(false, pdfScopeLimit-refH) {
		pages := p.annexPages(p.siteLines(s.sites, pdfContentW, pdfScopeAnnex))
		ref := fmt.Sprintf(pdfAnnexRefEn, len(pages))
		if len(pages) == 1 {
			ref = strings.Replace(ref, "pages", "page", 1)
		}
		p.centered(y+refH, pdfSiteRefSize, pdfNavy, pdfSitesZh+"："+fmt.Sprintf(pdfAnnexRefZh, len(pages))+"　"+pdfSitesEn+": "+ref)
		return pages, [2]string{pdfAnnexSitesZh, pdfAnnexSitesEn}
	}
	pages := p.annexPages(p.flowLines(s, true, true, pdfContentW, pdfScopeAnnex))
	switch {
	case hasScope && hasSites:
		p.reference(y, pdfScopeAndSitesZh, pdfScopeAndSitesEn, len(pages))
		return pages, [2]string{pdfAnnexBothZh, pdfAnnexBothEn}
	case hasSites:
		p.reference(y, pdfSitesZh, pdfSitesEn, len(pages))
		return pages, [2]string{pdfAnnexSitesZh, pdfAnnexSitesEn}
	}
	p.reference(y, s.scope.labelZh, s.scope.labelEn, len(pages))
	return pages, [2]string{pdfAnnexTitleZh, pdfAnnexTitleEn}
}

// reference draws, from baseline y, the line that says what continues on
// the annex of n pages.
func (p *pdfPainter) reference(y float64, labelZh, labelEn string, n int) {
	p.centered(y, pdfScopeMax, pdfInk, labelZh+"："+fmt.Sprintf(pdfAnnexRefZh, n))
	ref := fmt.Sprintf(pdfAnnexRefEn, n)
	if n == 1 {
		ref = strings.Replace(ref, "pages", "page", 1)
	}
	p.centered(y+pdfScopeMax*pdfPtToMM*1.5*0.9, pdfScopeMax*0.82, pdfMuted, labelEn+": "+ref)
}

// Annex pages: the wording, and the baselines the text flows between.
const (
	pdfAnnexTitleZh    = "附件　认证范围"
	pdfAnnexTitleEn    = "Annex: Scope of certification"
	pdfAnnexSitesZh    = "附件　认证场所"
	pdfAnnexSitesEn    = "Annex: Certified sites"
	pdfAnnexBothZh     = "附件　认证范围及认证场所"
	pdfAnnexBothEn     = "Annex: Scope and sites of certification"
	pdfScopeAndSitesZh = "认证范围及认证场所"
	pdfScopeAndSitesEn = "Scope and certified sites"
	pdfAnnexRefZh      = "见附件（%d页）"
	pdfAnnexRefEn      = "see the annex (%d pages)"
	pdfAnnexPageZh     = "附件第%d页，共%d页"
	pdfAnnexPageEn     = "Annex page %d of %d"
	// pdfAnnexLabels holds every fixed character of annex pages, for the
	// coverage check.
	pdfAnnexLabels = pdfAnnexTitleZh + pdfAnnexTitleEn + pdfAnnexSitesZh + pdfAnnexSitesEn + pdfAnnexBothZh + pdfAnnexBothEn +
		pdfAnnexRefZh + pdfAnnexRefEn + pdfAnnexPageZh + pdfAnnexPageEn + "·"
	pdfAnnexTop    = 58.0  // first baseline
	pdfAnnexBottom = 182.0 // last baseline
)

// The wording of the sites and of the signature block.
const (
	pdfSitesZh     = "认证场所"
	pdfSitesEn     = "Certified sites"
	pdfSiteScope   = "范围 Scope："
	pdfSignatoryZh = "授权签字人"
	pdfSignatoryEn = "Authorized signatory"
	pdfNowZh       = "现名称"
	pdfNowEn       = "Now"
	// pdfSiteLabels holds every fixed character of the sites and the
	// signature block, for the coverage check.
	pdfSiteLabels = pdfSitesZh + pdfSitesEn + pdfSiteScope + pdfScopeAndSitesZh + pdfScopeAndSitesEn +
		pdfSignatoryZh + pdfSignatoryEn + pdfNowZh + pdfNowEn + "0123456789. 　"
)

// annexPages splits lines into pages.
func (p *pdfPainter) annexPages(lines []pdfLine) [][]pdfLine {
	var pages [][]pdfLine
	var page []pdfLine
	y := pdfAnnexTop
	for _, l := range lines {
		if len(page) > 0 && y+l.step > pdfAnnexBottom {
			pages = append(pages, page)
			page, y = nil, pdfAnnexTop
		}
		if len(page) == 0 {
			l.step = 0
		}
		y += l.step
		page = append(page, l)
	}
	if len(page) > 0 {
		pages = append(pages, page)
	}
	return pages
}

// annexPage draws annex page n of total: the heading that names the
// certificate, the lines, and the page number.
func (p *pdfPainter) annexPage(s *pdfSheet, title [2]string, lines []pdfLine, n, total int) {
	p.bold(30, 18, 0.2, pdfNavy, title[0])
	p.centered(37, 10, pdfNavy, title[1])
	p.centered(44, 9, pdfMuted, "证书编号 Certificate No.  "+s.number+"  ·  "+s.nameZh)
	p.color(pdfGold)
	p.pdf.SetLineWidth(0.4)
	p.pdf.Line(pdfPageW/2-60, 48, pdfPageW/2+60, 48)
	y := pdfAnnexTop
	for _, l := range lines {
		y += l.step
		p.color(l.color)
		p.draw(pdfLeft, y, l.size, l.text)
	}
	p.centered(192, 7.5, pdfMuted, fmt.Sprintf(pdfAnnexPageZh, n, total)+"  ·  "+fmt.Sprintf(pdfAnnexPageEn, n, total))
}

// wrap breaks s into lines at most w wide at size: between any two CJK
// characters, and at spaces elsewhere. fpdf does not kern, so a string is
// as wide as the sum of its characters.
func (p *pdfPainter) wrap(s string, w, size float64) []string {
	widths := map[rune]float64{}
	rw := func(r rune) float64 {
		v, ok := widths[r]
		if !ok {
			v = p.runeWidth(r, size)
			widths[r] = v
		}
		return v
	}
	var lines []string
	var line, word []rune
	var lineW, wordW float64
	emit := func() {
		lines = append(lines, strings.TrimRight(string(line), " "))
		line, lineW = line[:0], 0
	}
	flushWord := func() {
		if len(word) == 0 {
			return
		}
		if len(line) > 0 && lineW+wordW > w {
			emit()
		}
		line, lineW = append(line, word...), lineW+wordW
		word, wordW = word[:0], 0
	}
	for _, r := range s {
		switch {
		case r == ' ':
			flushWord()
			if len(line) > 0 {
				line, lineW = append(line, r), lineW+rw(r)
			}
			continue
		case r >= 0x2E80 && !strings.ContainsRune("，。、；：）》」』】", r):
			flushWord()
		}
		word, wordW = append(word, r), wordW+rw(r)
		// A word longer than a line is broken where it must.
		if wordW > w && len(word) > 1 {
			last := word[len(word)-1]
			if len(line) > 0 {
				emit()
			}
			lines = append(lines, string(word[:len(word)-1]))
			word, wordW = append(word[:0], last), rw(last)
		}
	}
	flushWord()
	if len(line) > 0 {
		emit()
	}
	return lines
}

// The signature block: its width, and the diameter of the seal.
const (
	pdfSignW = 62.0
	pdfSealD = 32.0
)

// bottom draws the dates, the accreditation, the signature block (the
// signatory, the issuer's name and the date under its seal), the QR code
// with its caption, the verification URL and the status footer.
func (p *pdfPainter) bottom(s *pdfSheet, qr [][]bool) error {
	f := p.pdf
	// The QR code: each module a whole number of points (at least 3, about
	// 1 mm) and the image 4 pixels a point, so every module is a square of
	// whole pixels at any zoom a viewer or printer picks for a point.
	n := len(qr)
	modulePt := max(3, int(math.Ceil(pdfMinQRSide/pdfPtToMM/float64(n))))
	side := float64(n*modulePt) * pdfPtToMM
	img, err := qrPNG(qr, 4*modulePt)
	if err != nil {
		return fmt.Errorf("pdf: %w", err)
	}
	opt := fpdf.ImageOptions{ImageType: "PNG"}
	f.RegisterImageOptionsReader("qr", opt, bytes.NewReader(img))
	qx, qy := pdfRight+2-side, pdfRule+2
	f.ImageOptions("qr", qx, qy, side, side, false, opt, 0, "")
	caption := "扫码验证 Scan to verify"
	p.text(qx+(side-p.width(caption, 8))/2, qy+side+2, 8, pdfNavy, caption)

	p.color(pdfGold)
	f.SetLineWidth(0.3)
	f.Line(pdfLeft, pdfRule, qx-4, pdfRule)

	signX1 := qx - 4
	signX0 := signX1 - pdfSignW
	detailX := pdfLeft + 72
	// Dates: Chinese, English beneath.
	y := pdfRule + 7
	for _, it := range s.dates {
		zh := it.labelZh + "：" + it.valZh
		en := it.labelEn + ": " + it.valEn
		p.text(pdfLeft+2, y, p.fit(zh, detailX-pdfLeft-6, 10), pdfInk, zh)
		p.text(pdfLeft+2, y+4.3, p.fit(en, detailX-pdfLeft-6, 8), pdfMuted, en)
		y += 10
	}
	// Accreditation, approval, assessment body: the labels, the value
	// beneath.
	y = pdfRule + 7
	detailW := signX0 - detailX - 3
	for _, it := range s.issuer {
		label := it.labelZh + " " + it.labelEn
		p.text(detailX, y, p.fit(label, detailW, 7.5), pdfMuted, label)
		// A long value (several accreditations) takes a second line.
		lines, size := p.lines(it.valZh, detailW, 10, 8, 7, 2)
		for i, l := range lines {
			if i > 0 {
				y += size * pdfPtToMM * 1.2
			}
			p.text(detailX, y+4.5, p.fit(l, detailW, size), pdfInk, l)
		}
		y += 10
	}
	p.signature(s, (signX0+signX1)/2)

	url := "验证网址 Verify at  " + s.verifyURL
	p.text(pdfLeft+2, 181.5, p.fit(url, signX0-pdfLeft-6, 9.5), pdfNavy, url)
	p.text(pdfLeft+2, 188, p.fit(s.footerZh, qx-pdfLeft-6, 7.5), pdfMuted, s.footerZh)
	p.text(pdfLeft+2, 192, p.fit(s.footerEn, qx-pdfLeft-6, 6.5), pdfMuted, s.footerEn)
	return nil
}

// signature draws the signature block centred on x: the signatory, the
// issuer's name as signed (and its name now, when renamed) and the issue
// date, with the seal stamped over the name and the date.
func (p *pdfPainter) signature(s *pdfSheet, x float64) {
	const w = pdfSignW
	if sg := s.signatory; sg.valZh != "" {
		p.centeredAt(x, w, pdfRule+6, 7, pdfMuted, sg.labelZh+" "+sg.labelEn)
		if line := pdfJoin("　", sg.valZh, sg.valEn); p.width(line, 9) <= w {
			p.centeredAt(x, w, pdfRule+11.5, 10.5, pdfInk, line)
		} else {
			// The title on a line of its own.
			p.centeredAt(x, w, pdfRule+11, 10.5, pdfInk, sg.valZh)
			p.centeredAt(x, w, pdfRule+14.8, 7.5, pdfInk, sg.valEn)
		}
	}
	// A name too long for one line takes two, starting higher.
	y := pdfRule + 23
	if p.width(s.issuerName.valZh, 9) > w {
		y = pdfRule + 20
	}
	y = p.paragraphAt(x, w, y, 11, 9, 8, 2, 0.15, pdfNavy, s.issuerName.valZh)
	if s.issuerName.valEn != "" {
		p.centeredAt(x, w, y+4.5, 7.5, pdfMuted, s.issuerName.valEn)
	}
	p.centeredAt(x, w, pdfRule+33.5, 10, pdfInk, s.issueDate)
	if s.issuerNow != "" {
		// Below the date, where the seal's edge leaves it legible.
		p.centeredAt(x, w+8, pdfRule+40.5, 7, pdfNavy, pdfNowZh+" "+pdfNowEn+": "+s.issuerNow)
	}
	if p.seal == "" {
		return
	}
	// Stamped ink: multiplied with what lies beneath, so the name and the
	// date stay legible through it, as under a real seal.
	sw, sh := p.imageBox(p.seal, pdfSealD, pdfSealD)
	p.pdf.SetAlpha(0.9, "Multiply")
	p.pdf.ImageOptions(p.seal, x-sw/2, pdfRule+28-sh/2, sw, sh, false, fpdf.ImageOptions{ImageType: "PNG"}, 0, "")
	p.pdf.SetAlpha(1, "Normal")
}

// watermark writes the status diagonally across the page, translucent, on
// top of everything so it cannot be hidden by cropping one element.
func (p *pdfPainter) watermark(zh, en string) {
	f := p.pdf
	cx, cy := pdfPageW/2, pdfPageH/2
	f.SetAlpha(0.2, "Normal")
	f.TransformBegin()
	f.TransformRotate(math.Atan2(pdfPageH, pdfPageW)*180/math.Pi, cx, cy)
	// Baselines placed so that the two lines together centre on the page.
	p.centered(cy+8, 120, pdfRed, zh)
	p.centered(cy+30, 66, pdfRed, en)
	f.TransformEnd()
	f.SetAlpha(1, "Normal")
}
