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

	"github.com/certd/certd/cert"
	"github.com/go-pdf/fpdf"
)

// CredentialFilename is the name of the signed credential attached to every
// certificate PDF.
const CredentialFilename = "credential.jwt"

// ErrFontCoverage reports that the PDF font has no glyph for a character
// that the certificate would print; see CoverageError.
var ErrFontCoverage = errors.New("font lacks characters")

// CoverageError lists, per printed field, the characters the font lacks. It
// matches ErrFontCoverage with errors.Is.
type CoverageError struct {
	// Font is the path of the font file.
	Font string
	// Fields holds each field with missing characters, in print order.
	Fields []FieldCoverage
}

// FieldCoverage names one printed field and the characters of it that the
// font cannot print. Field "label" is the fixed wording of the certificate.
type FieldCoverage struct {
	Field   string
	Missing []rune
}

// Error names the font, then each field and its missing characters.
func (e *CoverageError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "pdf: font %s lacks characters:", e.Font)
	for i, f := range e.Fields {
		if i > 0 {
			b.WriteByte(';')
		}
		b.WriteString(" " + f.Field + ":")
		for _, r := range f.Missing {
			fmt.Fprintf(&b, " %U %q", r, r)
		}
	}
	b.WriteString(" (pass --pdf-font with a font that has them)")
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

// RenderPDF lays out doc as a one-page A4 landscape certificate in Chinese
// with English beneath, with a QR code of doc.QRContent, embeds the subset
// of font it uses, and attaches doc.Credential as CredentialFilename.
//
// Before drawing it checks that font has every character of every printed
// string: when it does not, the error matches ErrFontCoverage (a
// *CoverageError naming the fields and characters) and no PDF is made, so a
// certificate never shows empty boxes.
func RenderPDF(doc CertificateDoc, font Font) (out []byte, err error) {
	s, err := newPDFSheet(doc)
	if err != nil {
		return nil, err
	}
	if err := s.checkCoverage(font); err != nil {
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
			out, err = nil, fmt.Errorf("pdf: render with font %s: %v", font.Path, r)
		}
	}()

	pdf := fpdf.New("L", "mm", "A4", "")
	pdf.SetMargins(0, 0, 0)
	pdf.SetAutoPageBreak(false, 0)
	pdf.SetCompression(true)
	pdf.AddUTF8FontFromBytes(pdfFontFamily, "", font.Data)
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

	p := &pdfPainter{pdf}
	p.frame()
	if err := p.body(s); err != nil {
		return nil, err
	}
	if err := p.bottom(s, qr); err != nil {
		return nil, err
	}
	if s.watermarkZh != "" {
		p.watermark(s.watermarkZh, s.watermarkEn)
	}
	var b bytes.Buffer
	if err := pdf.Output(&b); err != nil {
		return nil, fmt.Errorf("pdf: %w", err)
	}
	return b.Bytes(), nil
}

const pdfFontFamily = "certd"

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
	claims      []pdfPair
	scope       pdfPair
	dates       []pdfPair
	issuer      []pdfPair
	issuerZh    string
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
	s.issuer = append(s.issuer, pdfPair{field: "issuer.name", labelZh: "发证机构", valZh: s.issuerZh, labelEn: "Issued by", valEn: pdfClean(is.Name)})
	acc := pdfClean(cert.AccreditationText(is.Accreditation))
	if acc != "" {
		s.issuer = append(s.issuer, pdfPair{field: "issuer.accreditation", labelZh: "认可", valZh: acc, labelEn: "Accreditation"})
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
			s.footerZh + s.footerEn},
	}
	for _, p := range slices.Concat(s.claims, []pdfPair{s.scope}, s.dates, s.issuer) {
		out = append(out, [2]string{"label", p.labelZh + p.labelEn}, [2]string{p.field, p.valZh + p.valEn})
	}
	return out
}

// checkCoverage fails with a *CoverageError when font cannot print the
// sheet. fpdf addresses glyphs by 16-bit code, so characters outside the
// Basic Multilingual Plane cannot be printed whatever the font has.
func (s *pdfSheet) checkCoverage(font Font) error {
	e := &CoverageError{Font: font.Path}
	for _, f := range s.printed() {
		var missing []rune
		for _, r := range f[1] {
			if (r > 0xFFFF || !font.Has(r)) && !pdfContainsRune(missing, r) {
				missing = append(missing, r)
			}
		}
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

// pdfPainter draws on the single page.
type pdfPainter struct{ pdf *fpdf.Fpdf }

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
	p.pdf.SetFont(pdfFontFamily, "", size)
	p.color(c)
	p.pdf.Text(x, y, s)
}

// centered draws s centred on the page, shrinking the size until it fits
// the content width.
func (p *pdfPainter) centered(y, size float64, c [3]int, s string) {
	size = p.fit(s, pdfContentW, size)
	p.pdf.SetFont(pdfFontFamily, "", size)
	p.color(c)
	p.pdf.Text((pdfPageW-p.pdf.GetStringWidth(s))/2, y, s)
}

// bold draws centred text filled and stroked, the only emphasis a single
// font face allows.
func (p *pdfPainter) bold(y, size, stroke float64, c [3]int, s string) {
	p.pdf.SetLineWidth(stroke)
	p.pdf.SetTextRenderingMode(2)
	p.centered(y, size, c, s)
	p.pdf.SetTextRenderingMode(0)
}

// fit returns the largest size, not above size, at which s is at most w
// wide.
func (p *pdfPainter) fit(s string, w, size float64) float64 {
	p.pdf.SetFont(pdfFontFamily, "", size)
	if sw := p.pdf.GetStringWidth(s); sw > w {
		size = math.Floor(size*w/sw*10) / 10
	}
	return size
}

// pdfPtToMM converts a font size in points to millimetres.
const pdfPtToMM = 25.4 / 72

// Vertical bounds of the free-flowing scope and of the bottom block.
const (
	pdfScopeLimit = 133.5 // last baseline of the scope
	pdfRule       = 139.0 // pdfGold rule above the bottom block
)

// body draws the title, the organization and what it is certified for.
func (p *pdfPainter) body(s *pdfSheet) error {
	f := p.pdf
	p.bold(33, 26, 0.25, pdfNavy, s.titleZh)
	p.centered(41, 12, pdfNavy, s.titleEn)
	p.centered(48.5, 10, pdfInk, "证书编号 Certificate No.  "+s.number)
	p.color(pdfGold)
	f.SetLineWidth(0.4)
	f.Line(pdfPageW/2-60, 52.5, pdfPageW/2+60, 52.5)

	p.centered(61, 11, pdfMuted, "兹证明")
	p.centered(65.5, 8.5, pdfMuted, "This is to certify that")
	y := 77.0
	p.bold(y, 22, 0.2, pdfInk, s.nameZh)
	if s.nameEn != "" {
		y += 8
		p.centered(y, 13, pdfInk, s.nameEn)
	}
	y += 6.5
	p.centered(y, 9, pdfMuted, "统一社会信用代码 USCC  "+s.uscc)
	if s.address != "" {
		y += 5
		p.centered(y, 9, pdfMuted, "地址 Address  "+s.address)
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
	if s.scope.valZh != "" {
		return p.scope(y+7.5, s.scope)
	}
	return nil
}

// scope draws the scope, the one long free text, centred from baseline y:
// wrapped, and smaller when needed to end above pdfScopeLimit.
func (p *pdfPainter) scope(y float64, sc pdfPair) error {
	zh := sc.labelZh + "：" + sc.valZh
	en := ""
	if sc.valEn != "" {
		en = sc.labelEn + ": " + sc.valEn
	}
	const w = pdfContentW - 20
	for size := 11.0; size >= 6; size -= 0.5 {
		enSize := size * 0.82
		p.pdf.SetFont(pdfFontFamily, "", size)
		zhLines := p.wrap(zh, w)
		p.pdf.SetFont(pdfFontFamily, "", enSize)
		enLines := p.wrap(en, w)
		zhStep, enStep := size*pdfPtToMM*1.5, enSize*pdfPtToMM*1.5
		last := y + float64(len(zhLines)-1)*zhStep
		if len(enLines) > 0 {
			last += enStep*0.9 + float64(len(enLines)-1)*enStep
		}
		if last > pdfScopeLimit {
			continue
		}
		for _, l := range zhLines {
			p.centered(y, size, pdfInk, l)
			y += zhStep
		}
		y -= zhStep - enStep*0.9
		for _, l := range enLines {
			p.centered(y, enSize, pdfMuted, l)
			y += enStep
		}
		return nil
	}
	return fmt.Errorf("pdf: scope is too long to print (%d characters in Chinese, %d in English)",
		len([]rune(sc.valZh)), len([]rune(sc.valEn)))
}

// wrap breaks s into lines at most w wide with the current font: between
// any two CJK characters, and at spaces elsewhere.
func (p *pdfPainter) wrap(s string, w float64) []string {
	var lines []string
	var line, word strings.Builder
	width := p.pdf.GetStringWidth
	flushWord := func() {
		if word.Len() == 0 {
			return
		}
		if line.Len() > 0 && width(line.String()+word.String()) > w {
			lines = append(lines, strings.TrimRight(line.String(), " "))
			line.Reset()
		}
		line.WriteString(word.String())
		word.Reset()
	}
	for _, r := range s {
		switch {
		case r == ' ':
			flushWord()
			if line.Len() > 0 {
				line.WriteRune(r)
			}
		case r >= 0x2E80 && !strings.ContainsRune("，。、；：）》」』】", r):
			flushWord()
			word.WriteRune(r)
		default:
			word.WriteRune(r)
		}
		// A word longer than a line is broken where it must.
		if width(word.String()) > w {
			ws := []rune(word.String())
			word.Reset()
			word.WriteRune(ws[len(ws)-1])
			if line.Len() > 0 {
				lines = append(lines, strings.TrimRight(line.String(), " "))
				line.Reset()
			}
			lines = append(lines, string(ws[:len(ws)-1]))
		}
	}
	flushWord()
	if line.Len() > 0 {
		lines = append(lines, strings.TrimRight(line.String(), " "))
	}
	return lines
}

// bottom draws the dates, the issuer block, the QR code with its caption,
// the verification URL and the status footer.
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
	f.SetFont(pdfFontFamily, "", 8)
	p.text(qx+(side-f.GetStringWidth(caption))/2, qy+side+2, 8, pdfNavy, caption)

	p.color(pdfGold)
	f.SetLineWidth(0.3)
	f.Line(pdfLeft, pdfRule, qx-4, pdfRule)
	column := func(x, w float64, items []pdfPair) {
		y := pdfRule + 8
		for _, it := range items {
			if it.valEn == "" {
				line := it.labelZh + " " + it.labelEn + "  " + it.valZh
				p.text(x, y, p.fit(line, w, 10), pdfInk, line)
			} else {
				zh := it.labelZh + "：" + it.valZh
				en := it.labelEn + ": " + it.valEn
				p.text(x, y, p.fit(zh, w, 10), pdfInk, zh)
				p.text(x, y+4.3, p.fit(en, w, 8), pdfMuted, en)
			}
			y += 10.5
		}
	}
	column(pdfLeft+2, 80, s.dates)
	column(pdfLeft+88, qx-pdfLeft-94, s.issuer)

	url := "验证网址 Verify at  " + s.verifyURL
	p.text(pdfLeft+2, 180, p.fit(url, qx-pdfLeft-6, 9.5), pdfNavy, url)
	p.text(pdfLeft+2, 188, p.fit(s.footerZh, qx-pdfLeft-6, 7.5), pdfMuted, s.footerZh)
	p.text(pdfLeft+2, 192, p.fit(s.footerEn, qx-pdfLeft-6, 6.5), pdfMuted, s.footerEn)
	return nil
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
