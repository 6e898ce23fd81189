package fpdf

// This file is certd's addition to its copy of fpdf v0.12.0 (see
// README.md): fonts and images parsed once and shared by many documents.
// Every document that uses them writes the bytes it would write had it
// parsed them itself.

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"slices"
	"sync"
)

// utf8CutTables is what cutting a subset reads from the whole font: the
// map of characters to glyphs, the widths in font units and the glyph
// offsets. They do not depend on the characters used, and are read only.
type utf8CutTables struct {
	charSymbolDictionary map[int]int
	charWidths           []int
	defaultWidth         float64
	symbolPosition       []int
	// subsets are the subsets of the font already written (putfonts).
	subsets fontSubsets
}

// UTF8Font is a TrueType font parsed once, for AddParsedUTF8Font. It is read
// only and safe for concurrent use by many documents.
type UTF8Font struct {
	data []byte
	def  fontDefType
}

// ParseUTF8Font parses a TrueType font as AddUTF8FontFromBytes does, for
// documents made with New (whose page-count alias is the default), under
// the family name and style they will select it by.
func ParseUTF8Font(familyStr, styleStr string, utf8Bytes []byte) (*UTF8Font, error) {
	f := New("P", "mm", "A4", "")
	f.AddUTF8FontFromBytes(familyStr, styleStr, utf8Bytes)
	if err := f.Error(); err != nil {
		return nil, err
	}
	def, ok := f.fonts[getFontKey(fontFamilyEscape(familyStr), styleStr)]
	if !ok || def.utf8File == nil {
		return nil, errors.New("fpdf: cannot parse the font")
	}
	// A cut of the font's own copy reads the tables that every later cut
	// reuses; the cut itself is thrown away.
	u := *def.utf8File
	u.fileReader = &fileReader{array: utf8Bytes}
	if u.GenerateCutFont(map[int]int{}) != nil {
		def.utf8File.cut = &utf8CutTables{
			charSymbolDictionary: u.charSymbolDictionary,
			charWidths:           u.CharWidths,
			defaultWidth:         u.DefaultWidth,
			symbolPosition:       u.symbolPosition,
		}
	}
	def.usedRunes = nil
	return &UTF8Font{data: utf8Bytes, def: def}, nil
}

// AddParsedUTF8Font makes a parsed font available in the document under the
// family name and style it was parsed with, as AddUTF8FontFromBytes does
// with the same bytes.
func (f *Fpdf) AddParsedUTF8Font(font *UTF8Font) {
	if f.err != nil {
		return
	}
	key := font.def.Name
	if _, ok := f.fonts[key]; ok {
		return
	}
	def := font.def
	u := *font.def.utf8File
	u.fileReader = &fileReader{array: font.data}
	def.utf8File = &u
	if f.aliasNbPagesStr == "" {
		def.usedRunes = makeSubsetRange(57)
	} else {
		def.usedRunes = makeSubsetRange(32)
	}
	f.fonts[key] = def
}

// Image is an image parsed once, for RegisterParsedImage. It is read only and
// safe for concurrent use by many documents.
type Image struct {
	info       ImageInfoType
	pdfVersion pdfVersion
}

// ParseImage reads an image as RegisterImageOptionsReader does in a
// document made with New("L", "mm", ...) (the unit sets its scale).
func ParseImage(options ImageOptions, data []byte) (*Image, error) {
	f := New("L", "mm", "A4", "")
	base := f.pdfVersion
	info := f.RegisterImageOptionsReader("image", options, bytes.NewReader(data))
	if err := f.Error(); err != nil {
		return nil, err
	}
	return &Image{info: *info, pdfVersion: max(base, f.pdfVersion)}, nil
}

// Width and Height return the image's size in pixels, as ImageInfoType's
// methods do.
func (img *Image) Width() float64  { return img.info.Width() }
func (img *Image) Height() float64 { return img.info.Height() }

// RegisterParsedImage adds a parsed image to the document under name, as
// RegisterImageOptionsReader does with the same bytes, and returns its
// information. A name already registered keeps its image.
func (f *Fpdf) RegisterParsedImage(name string, img *Image) *ImageInfoType {
	if f.err != nil {
		return nil
	}
	if info, ok := f.images[name]; ok {
		return info
	}
	info := img.info // the document numbers its copy
	f.images[name] = &info
	f.pdfVersion = max(f.pdfVersion, img.pdfVersion)
	return &info
}

// fontSubset is what putfonts writes of a font, beyond object numbers, for
// one set of used characters: the widths array, the compressed CID to
// glyph map and the compressed subset with its uncompressed length. It
// depends on nothing else, so a document that uses the same characters of
// the same parsed font writes the same bytes from it. Read only once made.
type fontSubset struct {
	widths   []byte
	cidToGID []byte
	font     []byte
	length1  int
}

// maxFontSubsets bounds the subsets kept per parsed font; when full, the
// cache starts again empty.
const maxFontSubsets = 64

// fontSubsets holds the subsets of one parsed font cut so far, by the
// SHA-256 of the used characters (subsetKey).
type fontSubsets struct {
	mu sync.Mutex
	m  map[[32]byte]*fontSubset
}

func (c *fontSubsets) get(k [32]byte) *fontSubset {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[k]
}

func (c *fontSubsets) put(k [32]byte, s *fontSubset) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxFontSubsets {
		c.m = make(map[[32]byte]*fontSubset)
	}
	c.m[k] = s
}

// subsetKey names a set of used characters: keys and values of usedRunes
// (the library marks a rune used by mapping it to itself), in key order.
func subsetKey(usedRunes map[int]int) [32]byte {
	keys := make([]int, 0, len(usedRunes))
	for r := range usedRunes {
		keys = append(keys, r)
	}
	slices.Sort(keys)
	b := make([]byte, 0, 8*len(keys))
	for _, r := range keys {
		b = binary.BigEndian.AppendUint32(b, uint32(r))
		b = binary.BigEndian.AppendUint32(b, uint32(usedRunes[r]))
	}
	return sha256.Sum256(b)
}

// subsetCache returns the subset cache of font and the key of its used
// characters, or nil when the font was not parsed by ParseUTF8Font or the
// document is encrypted (streams are then encrypted in place, with the
// object number).
func (f *Fpdf) subsetCache(font *fontDefType) (*fontSubsets, [32]byte) {
	if font.utf8File == nil || font.utf8File.cut == nil || f.protect.encrypted || f.state == 2 {
		return nil, [32]byte{}
	}
	return &font.utf8File.cut.subsets, subsetKey(font.usedRunes)
}
