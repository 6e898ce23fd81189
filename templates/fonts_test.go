package templates

import (
	"encoding/binary"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The fonts CI installs: Debian fonts-arphic-gbsn00lp, fonts-liberation2,
// fonts-arphic-bsmi00lp and fonts-droid-fallback.
const (
	gbsn00lp        = "/usr/share/fonts/truetype/arphic-gbsn00lp/gbsn00lp.ttf"
	liberationSerif = "/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf"
	bsmi00lp        = "/usr/share/fonts/truetype/arphic-bsmi00lp/bsmi00lp.ttf"
	droidFallback   = "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf"
)

// testFonts returns the chain FindFonts finds on a machine with the fonts
// CI installs, or skips (fails under CERTD_REQUIRE_TOOLS=1) without them.
func testFonts(t testing.TB) Fonts {
	t.Helper()
	for _, f := range []string{liberationSerif, gbsn00lp, bsmi00lp, droidFallback} {
		requireTool(t, f)
	}
	fs, err := FindFonts("")
	if err != nil {
		t.Fatalf("FindFonts: %v", err)
	}
	return fs
}

// testFont loads the font CI installs, or skips (fails under
// CERTD_REQUIRE_TOOLS=1) without it.
func testFont(t testing.TB) Font {
	t.Helper()
	f, err := LoadFont(requireTool(t, gbsn00lp))
	if err != nil {
		t.Fatalf("LoadFont: %v", err)
	}
	return f
}

func TestFontCoverage(t *testing.T) {
	f := testFont(t)
	if f.Path != gbsn00lp || len(f.Data) == 0 {
		t.Fatalf("font %q with %d bytes", f.Path, len(f.Data))
	}
	covered := "北京示例科技有限公司 信息技术服务标准符合性证书 运行维护 三级 2026年11月27日 ：，。（）"
	var ascii strings.Builder
	for r := rune(0x20); r < 0x7f; r++ {
		ascii.WriteRune(r)
	}
	for _, text := range []string{covered, ascii.String()} {
		if got := f.Missing(text); got != nil {
			t.Errorf("Missing(%q) = %q, want nil", text, got)
		}
	}
	tests := []struct {
		name, text string
		want       []rune
	}{
		{"emoji", "北京😀示例😀", []rune{0x1F600}},
		{"bmp-symbols", "A\u2603B\uA66E", []rune{0x2603, 0xA66E}},
		{"control", "a\x01b", []rune{1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := f.Missing(tc.text); !slices.Equal(got, tc.want) {
				t.Errorf("Missing(%q) = %U, want %U", tc.text, got, tc.want)
			}
		})
	}
}

func TestFindFonts(t *testing.T) {
	fs := testFonts(t)
	// The Latin face first, then the CJK faces in the order of
	// cjkFontPaths.
	want := []string{liberationSerif, gbsn00lp}
	if got := fs.Paths(); len(got) < 2 || !slices.Equal(got[:2], want) {
		t.Errorf("FindFonts found %q, want %q first", got, want)
	}
	for _, p := range []string{bsmi00lp, droidFallback} {
		if !slices.Contains(fs.Paths(), p) {
			t.Errorf("FindFonts found %q, without %s", fs.Paths(), p)
		}
	}
	// One file alone, as before.
	one, err := FindFonts(gbsn00lp)
	if err != nil || !slices.Equal(one.Paths(), []string{gbsn00lp}) {
		t.Errorf("FindFonts(%q) = %q, %v", gbsn00lp, one.Paths(), err)
	}
	// A list, in the order given.
	two, err := FindFonts(liberationSerif + string(filepath.ListSeparator) + gbsn00lp)
	if err != nil || !slices.Equal(two.Paths(), want) {
		t.Errorf("FindFonts(list) = %q, %v", two.Paths(), err)
	}
	// A Latin face alone lacks the Chinese wording.
	if _, err := FindFonts(liberationSerif); !errors.Is(err, ErrNoFont) || !strings.Contains(err.Error(), "--pdf-font") {
		t.Errorf("FindFonts(Latin only): %v, want ErrNoFont naming --pdf-font", err)
	}
}

// TestFontsChain checks which font of the chain sets what: English,
// symbols and Cyrillic in the Latin face, simplified Chinese in
// gbsn00lp, traditional Chinese and Japanese in the fallbacks, and
// nothing outside the Basic Multilingual Plane.
func TestFontsChain(t *testing.T) {
	fs := testFonts(t)
	paths := fs.Paths()
	tests := []struct {
		text string
		font string // "" for none
	}{
		{"Beijing Example Technology Co., Ltd.", liberationSerif},
		{"®™€–—“”", liberationSerif},
		{"Москва", liberationSerif},
		{"2026", liberationSerif},
		{"北京示例科技有限公司", gbsn00lp},
		{"：，。", gbsn00lp},
		{"臺灣體", bsmi00lp},
		{"😀", ""},
		{"𠮷", ""},
	}
	for _, tc := range tests {
		for _, r := range tc.text {
			i := fs.index(r)
			got := ""
			if i >= 0 {
				got = paths[i]
			}
			if got != tc.font {
				t.Errorf("%q (%U) is set in %q, want %q", r, r, got, tc.font)
			}
		}
	}
	// Kana: in gbsn00lp (GB 2312 has them) or a later fallback.
	if m := fs.Missing("あいうえおアイウエオ株式会社"); m != nil {
		t.Errorf("Missing(Japanese) = %U, want nil", m)
	}
	if m := fs.Missing("北京😀示例𠮷"); !slices.Equal(m, []rune{0x1F600, 0x20BB7}) {
		t.Errorf("Missing = %U, want U+1F600 U+20BB7", m)
	}
	// Runs: spaces stay in the run they are in; each run in one font.
	runs := fs.runs("证书编号 Certificate No. ITSS-2026 北京 示例")
	var texts []string
	for _, r := range runs {
		texts = append(texts, paths[r.font]+"|"+r.text)
	}
	wantRuns := []string{gbsn00lp + "|证书编号 ", liberationSerif + "|Certificate No. ITSS-2026 ", gbsn00lp + "|北京 示例"}
	if !slices.Equal(texts, wantRuns) {
		t.Errorf("runs = %q, want %q", texts, wantRuns)
	}
}

func TestFindFontsNone(t *testing.T) {
	savedLatin, savedCJK := latinFontPaths, cjkFontPaths
	t.Cleanup(func() { latinFontPaths, cjkFontPaths = savedLatin, savedCJK })
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.ttf")
	if err := os.WriteFile(bad, []byte("ttcf and more bytes than twelve"), 0o600); err != nil {
		t.Fatal(err)
	}
	latinFontPaths = []string{filepath.Join(dir, "none", "*.ttf")}
	cjkFontPaths = [][]string{{filepath.Join(dir, "none", "*.ttf"), bad}}
	_, err := FindFonts("")
	if !errors.Is(err, ErrNoFont) {
		t.Fatalf("FindFonts with no fonts: %v, want ErrNoFont", err)
	}
	for _, want := range []string{"fonts-arphic-gbsn00lp", "fonts-liberation2", "--pdf-font", "bad.ttf", "collection"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

// sfnt builds a font file with the tables LoadFont looks for: a maxp of
// numGlyphs, the given cmap, and empty stand-ins for the others. The PDF
// library could not use it, but LoadFont and FindFonts can judge it.
func sfnt(cmap []byte, numGlyphs uint16) []byte {
	tables := map[string][]byte{"cmap": cmap, "maxp": binary.BigEndian.AppendUint16([]byte{0, 0, 0x50, 0}, numGlyphs)}
	for _, name := range []string{"OS/2", "glyf", "head", "hhea", "hmtx", "loca", "name", "post"} {
		tables[name] = []byte{0, 0, 0, 0}
	}
	names := slices.Sorted(maps.Keys(tables))
	b := []byte{0, 1, 0, 0}
	b = binary.BigEndian.AppendUint16(b, uint16(len(names)))
	b = append(b, 0, 0, 0, 0, 0, 0)
	off := 12 + 16*len(names)
	var data []byte
	for _, name := range names {
		b = append(b, name...)
		b = append(b, 0, 0, 0, 0) // checksum, unchecked
		b = binary.BigEndian.AppendUint32(b, uint32(off+len(data)))
		b = binary.BigEndian.AppendUint32(b, uint32(len(tables[name])))
		data = append(data, tables[name]...)
	}
	return append(b, data...)
}

// TestFindFontNoLatin checks that a CJK font without Latin letters (such as
// Debian's Droid Sans Fallback) loads but is refused for PDFs: certificates
// print both.
func TestFindFontNoLatin(t *testing.T) {
	file := filepath.Join(t.TempDir(), "cjk-only.ttf")
	cmap := cmapTable(format4([]seg4{{start: 0x4E00, end: 0x9FA5, delta: 1 - 0x4E00}}))
	if err := os.WriteFile(file, sfnt(cmap, 0x9FA5-0x4E00+2), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := LoadFont(file)
	if err != nil || !f.Has('京') || f.Has('A') {
		t.Fatalf("LoadFont: has 京 %v, has A %v, %v; want 京 without A", f.Has('京'), f.Has('A'), err)
	}
	_, err = FindFonts(file)
	if err == nil || !strings.Contains(err.Error(), "lack") || !strings.Contains(err.Error(), "--pdf-font") {
		t.Errorf("FindFont: %v, want an error saying the --pdf-font font lacks characters", err)
	}
}

func TestLoadFontErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		data []byte // nil: no file
		want string
	}{
		{"fail/missing", nil, "no such file"},
		{"fail/collection", []byte("ttcf\x00\x01\x00\x00\x00\x00\x00\x00"), ".ttc"},
		{"fail/cff", []byte("OTTO\x00\x00\x00\x00\x00\x00\x00\x00"), "CFF"},
		{"fail/not-a-font", []byte("<html>not a font</html>"), "not a TrueType font"},
		{"fail/short", []byte("ab"), "too short"},
		{"fail/no-tables", []byte("\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"), `no "OS/2" table`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, "/", "-")+".ttf")
			if tc.data != nil {
				if err := os.WriteFile(path, tc.data, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			_, err := LoadFont(path)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("LoadFont: %v, want an error mentioning %q", err, tc.want)
			}
			if _, err := FindFonts(path); err == nil || !strings.Contains(err.Error(), "--pdf-font") {
				t.Errorf("FindFonts(%q): %v, want an error naming --pdf-font", path, err)
			}
		})
	}
}

// cmapTable builds a cmap table with the given subtables, each under
// (platform 3, encoding 1 or 10 by format).
func cmapTable(subs ...[]byte) []byte {
	b := binary.BigEndian.AppendUint16(nil, 0)
	b = binary.BigEndian.AppendUint16(b, uint16(len(subs)))
	off := 4 + 8*len(subs)
	for _, s := range subs {
		enc := uint16(1)
		if binary.BigEndian.Uint16(s) == 12 {
			enc = 10
		}
		b = binary.BigEndian.AppendUint16(b, 3)
		b = binary.BigEndian.AppendUint16(b, enc)
		b = binary.BigEndian.AppendUint32(b, uint32(off))
		off += len(s)
	}
	for _, s := range subs {
		b = append(b, s...)
	}
	return b
}

// format4 builds a cmap format 4 subtable. Each segment is start, end,
// delta and, when glyphs is not nil, glyph ids through idRangeOffset.
func format4(segs []seg4) []byte {
	segs = append(segs, seg4{start: 0xFFFF, end: 0xFFFF, delta: 1})
	n := len(segs)
	var ends, starts, deltas, offsets, glyphs []byte
	glyphStart := 0
	for i, s := range segs {
		ends = binary.BigEndian.AppendUint16(ends, s.end)
		starts = binary.BigEndian.AppendUint16(starts, s.start)
		deltas = binary.BigEndian.AppendUint16(deltas, uint16(s.delta))
		if s.glyphs == nil {
			offsets = binary.BigEndian.AppendUint16(offsets, 0)
			continue
		}
		// From this offset entry to the glyph: the rest of the offsets,
		// then the glyphs already written.
		offsets = binary.BigEndian.AppendUint16(offsets, uint16(2*(n-i)+2*glyphStart))
		for _, g := range s.glyphs {
			glyphs = binary.BigEndian.AppendUint16(glyphs, g)
		}
		glyphStart += len(s.glyphs)
	}
	b := binary.BigEndian.AppendUint16(nil, 4)
	b = binary.BigEndian.AppendUint16(b, uint16(16+8*n+len(glyphs)))
	b = binary.BigEndian.AppendUint16(b, 0)
	b = binary.BigEndian.AppendUint16(b, uint16(2*n))
	b = append(b, 0, 0, 0, 0, 0, 0) // search hints, unused
	b = append(b, ends...)
	b = append(b, 0, 0)
	b = append(b, starts...)
	b = append(b, deltas...)
	b = append(b, offsets...)
	return append(b, glyphs...)
}

type seg4 struct {
	start, end uint16
	delta      int16
	glyphs     []uint16
}

func format12(groups ...[3]uint32) []byte {
	b := binary.BigEndian.AppendUint16(nil, 12)
	b = binary.BigEndian.AppendUint16(b, 0)
	b = binary.BigEndian.AppendUint32(b, uint32(16+12*len(groups)))
	b = binary.BigEndian.AppendUint32(b, 0)
	b = binary.BigEndian.AppendUint32(b, uint32(len(groups)))
	for _, g := range groups {
		b = binary.BigEndian.AppendUint32(b, g[0])
		b = binary.BigEndian.AppendUint32(b, g[1])
		b = binary.BigEndian.AppendUint32(b, g[2])
	}
	return b
}

// TestParseCmap checks the cmap parser on tables built here, so it runs
// without any installed font.
func TestParseCmap(t *testing.T) {
	f4 := format4([]seg4{
		{start: 'A', end: 'Z', delta: 3 - 'A'},                   // glyphs 3..28
		{start: 'a', end: 'c', glyphs: []uint16{40, 0, 41}},      // 'b' maps to .notdef
		{start: 0x4E00, end: 0x4E01, delta: int16(-0x4E00 + 50)}, // 一 丁: glyphs 50, 51
		{start: 0x4E03, end: 0x4E03, delta: int16(-0x4E03 + 99)}, // glyph 99: past numGlyphs
	})
	f12 := format12(
		[3]uint32{0x1F600, 0x1F601, 60}, // 😀 😁
		[3]uint32{0x20000, 0x20000, 0},  // .notdef
		[3]uint32{0x20001, 0x20003, 97}, // glyphs 97..99: only 97 exists
	)
	const numGlyphs = 98
	tests := []struct {
		name   string
		cmap   []byte
		has    string
		hasNot string
	}{
		{"ok/format4", cmapTable(f4), "AMZac一丁", "b@[d丂七\U0001F600"},
		{"ok/format4-and-12", cmapTable(f4, f12), "AZac一丁\U0001F600\U0001F601\U00020001", "b丂七\U0001F602\U00020000\U00020002\U00020003"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ranges, err := parseCmap(tc.cmap, numGlyphs)
			if err != nil {
				t.Fatalf("parseCmap: %v", err)
			}
			f := Font{covered: ranges}
			if got := f.Missing(tc.has); got != nil {
				t.Errorf("Missing(%q) = %U, want none", tc.has, got)
			}
			if got := f.Missing(tc.hasNot); !slices.Equal(got, []rune(tc.hasNot)) {
				t.Errorf("Missing(%q) = %U, want all of it", tc.hasNot, got)
			}
		})
	}
	if _, err := parseCmap(cmapTable(f12), numGlyphs); err == nil || !strings.Contains(err.Error(), "format 4") {
		t.Errorf("parseCmap without format 4: %v, want an error naming format 4", err)
	}
	if _, err := parseCmap(cmapTable(f4[:20]), numGlyphs); err == nil {
		t.Error("parseCmap of a truncated format 4: no error")
	}
}
