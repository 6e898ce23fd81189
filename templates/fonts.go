package templates

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode"

	"github.com/certd/certd/templates/internal/fpdf"
)

// ErrNoFont reports that no usable set of TrueType fonts for PDFs was found.
var ErrNoFont = errors.New("no CJK TrueType font found")

// latinFontPaths lists the Latin faces FindFonts tries, in order, when no
// font is named; the first usable one sets Latin, Cyrillic, Greek and
// symbols (®, ™, €, –). Entries may be glob patterns.
var latinFontPaths = []string{
	// Debian fonts-liberation2: Liberation Serif, metric-compatible with
	// Times New Roman.
	"/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf",
	"/usr/share/fonts/truetype/liberation/LiberationSerif-Regular.ttf",
	// Debian fonts-noto-core: Noto Serif.
	"/usr/share/fonts/truetype/noto/NotoSerif-Regular.ttf",
	// Other layouts (Fedora).
	"/usr/share/fonts/liberation-serif*/LiberationSerif-Regular.ttf",
}

// cjkFontPaths lists the CJK fonts FindFonts tries when no font is named:
// one file of each group that is usable joins the chain, in this order.
// Entries may be glob patterns. All are TrueType (glyf) fonts; .ttc
// collections and CFF-flavoured .otf files are left out because the PDF
// library can embed neither.
var cjkFontPaths = [][]string{
	// Debian fonts-arphic-gbsn00lp: AR PL SungtiL GB, a Song face (GB 2312:
	// simplified Chinese, kana, Greek, Cyrillic).
	{"/usr/share/fonts/truetype/arphic-gbsn00lp/gbsn00lp.ttf", "/usr/share/fonts/arphic-gbsn00lp*/gbsn00lp.ttf"},
	// Debian fonts-lxgw-wenkai: LXGW WenKai, a Kai face with wide coverage.
	{"/usr/share/fonts/truetype/lxgw*/LXGWWenKai-Regular.ttf", "/usr/share/fonts/truetype/lxgw*/*.ttf", "/usr/share/fonts/lxgw*/*.ttf"},
	// Debian fonts-arphic-gkai00mp: AR PL KaitiM GB, a Kai face (GB 2312).
	{"/usr/share/fonts/truetype/arphic-gkai00mp/gkai00mp.ttf"},
	// Debian fonts-arphic-bsmi00lp: AR PL Mingti2L Big5, a Ming face
	// (Big5: traditional Chinese).
	{"/usr/share/fonts/truetype/arphic-bsmi00lp/bsmi00lp.ttf"},
	// Debian fonts-droid-fallback: Droid Sans Fallback, a sans face for
	// what the others lack (CJK ideographs, Japanese kana, Hangul).
	{"/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf"},
	// Fonts a user copied in.
	{"/usr/local/share/fonts/*.ttf"},
}

// fontProbe holds characters every certificate prints: a set of fonts that
// lacks one of them is not used.
const fontProbe = " !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~" +
	"证书编号兹证明统一社会信用代码地址认证范围颁发日期有效至年月日机构：，。"

// Font is a TrueType font for PDFs: its file and the set of characters its
// cmap maps to a glyph. The zero Font covers nothing.
type Font struct {
	// Path is the file the font was read from.
	Path string
	// Data is the whole font file, as embedded (subset) into PDFs.
	Data []byte
	// covered holds sorted, disjoint, non-adjacent ranges of code points.
	covered []runeRange
}

type runeRange struct{ lo, hi rune }

// Fonts is the fallback chain certificate PDFs are set in: each character
// is set in the first font of the chain that has a glyph for it, so with a
// Latin face first, English is set in it and Chinese in the CJK faces that
// follow. Missing is the one rule of what can be printed: RenderPDF refuses
// a certificate that breaks it, and issuing refuses text that breaks it.
// The zero Fonts prints nothing.
type Fonts struct {
	list []Font
	// parsed holds each font of the chain as the PDF library parsed it,
	// made on first use and shared by every PDF: parsing a CJK font costs
	// several milliseconds, more than the rest of a certificate. Nil (a
	// Fonts not made by NewFonts or FindFonts) parses on every render.
	parsed []*pdfFont
}

// pdfFont is a font of a chain, parsed once under its family name.
type pdfFont struct {
	once sync.Once
	font *fpdf.UTF8Font
	err  error
}

// NewFonts returns the chain of the given fonts, in order.
func NewFonts(fonts ...Font) Fonts { return Fonts{list: slices.Clone(fonts)}.withCache() }

// withCache returns fs with room for its parsed fonts.
func (fs Fonts) withCache() Fonts {
	fs.parsed = make([]*pdfFont, len(fs.list))
	for i := range fs.parsed {
		fs.parsed[i] = &pdfFont{}
	}
	return fs
}

// addTo makes font i of the chain available in pdf under its family name,
// parsed once for all PDFs.
func (fs Fonts) addTo(pdf *fpdf.Fpdf, i int) {
	if fs.parsed == nil {
		pdf.AddUTF8FontFromBytes(fs.family(i), "", fs.list[i].Data)
		return
	}
	p := fs.parsed[i]
	p.once.Do(func() { p.font, p.err = fpdf.ParseUTF8Font(fs.family(i), "", fs.list[i].Data) })
	if p.err != nil {
		pdf.SetError(fmt.Errorf("font %s: %w", fs.list[i].Path, p.err))
		return
	}
	pdf.AddParsedUTF8Font(p.font)
}

// Paths returns the files of the chain, in order.
func (fs Fonts) Paths() []string {
	out := make([]string, len(fs.list))
	for i, f := range fs.list {
		out[i] = f.Path
	}
	return out
}

// family names font i of the chain in a PDF: its file name without the
// extension, in the characters a PDF font name may hold, so that pdffonts
// and viewers show which font it is.
func (fs Fonts) family(i int) string {
	name := strings.Map(func(r rune) rune {
		if r < 0x80 && (unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-') {
			return r
		}
		return -1
	}, strings.TrimSuffix(filepath.Base(fs.list[i].Path), filepath.Ext(fs.list[i].Path)))
	for j := range i {
		if fs.family(j) == name {
			return name + "-" + strconv.Itoa(i)
		}
	}
	if name == "" {
		return "font-" + strconv.Itoa(i)
	}
	return name
}

// Len returns the number of fonts in the chain.
func (fs Fonts) Len() int { return len(fs.list) }

// index returns the font that sets r, or -1 when none can. The PDF library
// addresses glyphs by 16-bit code, so characters outside the Basic
// Multilingual Plane cannot be printed whatever the fonts have.
func (fs Fonts) index(r rune) int {
	if r > 0xFFFF {
		return -1
	}
	for i, f := range fs.list {
		if f.Has(r) {
			return i
		}
	}
	return -1
}

// Missing returns the characters of text that no font of the chain can
// print, each once, in order of first appearance; nil when all can be.
func (fs Fonts) Missing(text string) []rune {
	var out []rune
	for _, r := range text {
		if fs.index(r) < 0 && !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out
}

// fontRun is a piece of text set in one font of a chain.
type fontRun struct {
	font int
	text string
}

// runs splits s into pieces each set in one font. White space stays in
// the run it is in when that font has it, so that a space between two
// Chinese words does not switch fonts. A character no font has goes with
// its neighbours (the coverage check keeps it from being drawn).
func (fs Fonts) runs(s string) []fontRun {
	var out []fontRun
	start, cur := 0, -1
	for i, r := range s {
		f := fs.index(r)
		switch {
		case cur >= 0 && unicode.IsSpace(r) && fs.list[cur].Has(r):
			f = cur
		case f < 0:
			f = max(cur, 0)
		}
		if f != cur {
			if cur >= 0 && i > start {
				out = append(out, fontRun{cur, s[start:i]})
			}
			start, cur = i, f
		}
	}
	if cur >= 0 && len(s) > start {
		out = append(out, fontRun{cur, s[start:]})
	}
	return out
}

// FindFonts returns the chain of TrueType fonts used for PDFs. When
// explicit is set (the --pdf-font flag: one file, or several separated by
// the list separator, ':' on Unix, in fallback order) those files are
// loaded and any problem with them is an error. Otherwise the chain is the
// first usable Latin face of latinFontPaths (Debian's fonts-liberation2 or
// fonts-noto-core), then one usable file of each group of cjkFontPaths
// (Debian's fonts-arphic-gbsn00lp, fonts-lxgw-wenkai,
// fonts-arphic-gkai00mp, fonts-arphic-bsmi00lp, fonts-droid-fallback,
// then /usr/local/share/fonts). Either way the chain must cover ASCII and
// the common Chinese characters of the certificate's wording; the error
// matches ErrNoFont when it does not, and says what to install.
func FindFonts(explicit string) (Fonts, error) {
	if explicit != "" {
		var fs Fonts
		for _, p := range filepath.SplitList(explicit) {
			f, err := LoadFont(p)
			if err != nil {
				return Fonts{}, fmt.Errorf("--pdf-font: %w", err)
			}
			fs.list = append(fs.list, f)
		}
		if m := fs.Missing(fontProbe); m != nil {
			return Fonts{}, fmt.Errorf("--pdf-font: %w: %s lack %d of the characters every certificate prints, such as %q",
				ErrNoFont, strings.Join(fs.Paths(), ", "), len(m), string(m[:min(len(m), 10)]))
		}
		return fs.withCache(), nil
	}
	var fs Fonts
	var tried []string
	first := func(patterns []string) (Font, bool) {
		for _, pattern := range patterns {
			matches, _ := filepath.Glob(pattern) // only ErrBadPattern, and the patterns are constant
			for _, p := range matches {
				f, err := LoadFont(p)
				if err == nil {
					return f, true
				}
				tried = append(tried, err.Error())
			}
		}
		return Font{}, false
	}
	if f, ok := first(latinFontPaths); ok {
		fs.list = append(fs.list, f)
	}
	for _, group := range cjkFontPaths {
		if f, ok := first(group); ok {
			fs.list = append(fs.list, f)
		}
	}
	if m := fs.Missing(fontProbe); m != nil {
		msg := "install the Debian packages fonts-liberation2 and fonts-arphic-gbsn00lp (and fonts-arphic-bsmi00lp and fonts-droid-fallback for traditional Chinese and Japanese), or pass --pdf-font with the paths of TrueType (.ttf) fonts that have Latin and Chinese glyphs"
		if fs.Len() > 0 {
			msg += fmt.Sprintf(" (the fonts found, %s, lack %q)", strings.Join(fs.Paths(), ", "), string(m[:min(len(m), 10)]))
		}
		if len(tried) > 0 {
			msg += fmt.Sprintf(" (unusable: %q)", tried)
		}
		return Fonts{}, fmt.Errorf("%w: %s", ErrNoFont, msg)
	}
	return fs.withCache(), nil
}

// LoadFont reads and checks a TrueType font file: it must be a single font
// with TrueType outlines (not a .ttc collection nor a CFF .otf), the tables
// the PDF library reads, and a Unicode cmap of format 4, which is what the
// PDF library embeds.
func LoadFont(path string) (Font, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Font{}, fmt.Errorf("font: %w", err)
	}
	covered, err := parseFont(data)
	if err != nil {
		return Font{}, fmt.Errorf("font %s: %w", path, err)
	}
	return Font{Path: path, Data: data, covered: covered}, nil
}

// Has reports whether the font maps r to a glyph.
func (f Font) Has(r rune) bool {
	i := sort.Search(len(f.covered), func(i int) bool { return f.covered[i].hi >= r })
	return i < len(f.covered) && f.covered[i].lo <= r
}

// Missing returns the characters of text that the font has no glyph for,
// each once, in order of first appearance; nil when it covers all of them.
// Coverage is read from the font's Unicode cmap subtables (formats 4 and 12).
func (f Font) Missing(text string) []rune {
	var out []rune
	for _, r := range text {
		if !f.Has(r) && !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out
}

// parseFont checks the sfnt structure and returns the covered code points.
func parseFont(data []byte) ([]runeRange, error) {
	if len(data) < 12 {
		return nil, errors.New("not a font file: too short")
	}
	switch string(data[:4]) {
	case "\x00\x01\x00\x00", "true":
	case "ttcf":
		return nil, errors.New("is a TrueType collection (.ttc); use a single-font .ttf file")
	case "OTTO":
		return nil, errors.New("has CFF (PostScript) outlines; use a TrueType (.ttf) font")
	default:
		return nil, errors.New("not a TrueType font file")
	}
	tables := map[string][]byte{}
	n := int(binary.BigEndian.Uint16(data[4:]))
	if len(data) < 12+16*n {
		return nil, errors.New("truncated table directory")
	}
	for i := range n {
		rec := data[12+16*i:]
		off, size := binary.BigEndian.Uint32(rec[8:]), binary.BigEndian.Uint32(rec[12:])
		if uint64(off)+uint64(size) > uint64(len(data)) {
			return nil, fmt.Errorf("table %q lies outside the file", rec[:4])
		}
		tables[string(rec[:4])] = data[off : off+size]
	}
	// The tables the PDF library reads; it does not check for them itself.
	for _, t := range []string{"OS/2", "cmap", "glyf", "head", "hhea", "hmtx", "loca", "maxp", "name", "post"} {
		if _, ok := tables[t]; !ok {
			return nil, fmt.Errorf("has no %q table", t)
		}
	}
	if len(tables["maxp"]) < 6 {
		return nil, errors.New("truncated maxp table")
	}
	numGlyphs := int(binary.BigEndian.Uint16(tables["maxp"][4:]))
	return parseCmap(tables["cmap"], numGlyphs)
}

// parseCmap returns the code points that the Unicode subtables of a cmap
// table (formats 4 and 12) map to a glyph other than .notdef. It fails when
// there is no Unicode format 4 subtable, which the PDF library needs.
func parseCmap(cmap []byte, numGlyphs int) ([]runeRange, error) {
	if len(cmap) < 4 {
		return nil, errors.New("truncated cmap table")
	}
	n := int(binary.BigEndian.Uint16(cmap[2:]))
	if len(cmap) < 4+8*n {
		return nil, errors.New("truncated cmap table")
	}
	var ranges []runeRange
	// add records that lo..hi map to glyphs first..first+(hi-lo).
	add := func(lo, hi rune, first int) {
		if first == 0 {
			lo, first = lo+1, 1 // .notdef is no glyph
		}
		if last := first + int(hi-lo); last >= numGlyphs {
			hi -= rune(last - numGlyphs + 1) // glyph ids past the font
		}
		if lo > hi {
			return
		}
		if k := len(ranges) - 1; k >= 0 && ranges[k].hi+1 == lo {
			ranges[k].hi = hi
			return
		}
		ranges = append(ranges, runeRange{lo, hi})
	}
	format4 := false
	for i := range n {
		rec := cmap[4+8*i:]
		platform, encoding := binary.BigEndian.Uint16(rec), binary.BigEndian.Uint16(rec[2:])
		if platform != 0 && !(platform == 3 && (encoding == 1 || encoding == 10)) {
			continue // not Unicode
		}
		off := int(binary.BigEndian.Uint32(rec[4:]))
		if off+4 > len(cmap) {
			return nil, errors.New("cmap subtable lies outside the table")
		}
		sub := cmap[off:]
		var err error
		switch binary.BigEndian.Uint16(sub) {
		case 4:
			format4 = true
			err = cmapFormat4(sub, add)
		case 12:
			err = cmapFormat12(sub, add)
		}
		if err != nil {
			return nil, err
		}
	}
	if !format4 {
		return nil, errors.New("has no Unicode cmap of format 4")
	}
	return mergeRanges(ranges), nil
}

// cmapFormat4 walks a segment mapping to delta values (BMP).
func cmapFormat4(sub []byte, add func(lo, hi rune, glyph int)) error {
	if len(sub) < 14 {
		return errors.New("truncated cmap format 4")
	}
	// The length field is not trusted: some old fonts get it wrong.
	segX2 := int(binary.BigEndian.Uint16(sub[6:]))
	if len(sub) < 16+4*segX2 || segX2%2 != 0 {
		return errors.New("truncated cmap format 4")
	}
	ends, starts := sub[14:], sub[16+segX2:]
	deltas, rangeOffsets := sub[16+2*segX2:], sub[16+3*segX2:]
	for s := 0; s < segX2; s += 2 {
		end, start := int(binary.BigEndian.Uint16(ends[s:])), int(binary.BigEndian.Uint16(starts[s:]))
		delta, ro := int(binary.BigEndian.Uint16(deltas[s:])), int(binary.BigEndian.Uint16(rangeOffsets[s:]))
		for c := start; c <= end; c++ {
			glyph := 0
			if ro == 0 {
				glyph = (c + delta) & 0xFFFF
			} else {
				// The offset counts from the idRangeOffset entry itself.
				p := 16 + 3*segX2 + s + ro + 2*(c-start)
				if p+2 > len(sub) {
					break
				}
				if g := int(binary.BigEndian.Uint16(sub[p:])); g != 0 {
					glyph = (g + delta) & 0xFFFF
				}
			}
			if glyph != 0 {
				add(rune(c), rune(c), glyph)
			}
		}
	}
	return nil
}

// cmapFormat12 walks a segmented coverage table (all planes).
func cmapFormat12(sub []byte, add func(lo, hi rune, glyph int)) error {
	if len(sub) < 16 {
		return errors.New("truncated cmap format 12")
	}
	groups := int(binary.BigEndian.Uint32(sub[12:]))
	if groups > (len(sub)-16)/12 {
		return errors.New("truncated cmap format 12")
	}
	for g := range groups {
		rec := sub[16+12*g:]
		start, end := binary.BigEndian.Uint32(rec), binary.BigEndian.Uint32(rec[4:])
		glyph := int(binary.BigEndian.Uint32(rec[8:]))
		if end > 0x10FFFF || start > end {
			return errors.New("bad group in cmap format 12")
		}
		add(rune(start), rune(end), glyph)
	}
	return nil
}

// mergeRanges sorts ranges and joins those that overlap or touch.
func mergeRanges(rs []runeRange) []runeRange {
	slices.SortFunc(rs, func(a, b runeRange) int { return int(a.lo - b.lo) })
	var out []runeRange
	for _, r := range rs {
		if k := len(out) - 1; k >= 0 && r.lo <= out[k].hi+1 {
			out[k].hi = max(out[k].hi, r.hi)
			continue
		}
		out = append(out, r)
	}
	return out
}
