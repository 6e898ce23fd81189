package fpdf

import (
	"bytes"
	"os"
	"testing"
	"time"
)

// testFontFile is a CJK TrueType font CI installs (Debian
// fonts-arphic-gbsn00lp).
const testFontFile = "/usr/share/fonts/truetype/arphic-gbsn00lp/gbsn00lp.ttf"

// TestSharedFontSameBytes makes documents with a font parsed once and
// shared, from several goroutines (run it with -race), and with the font
// parsed by each document, and compares the bytes: the shared parse must
// not change a byte nor leak one document's characters into another's.
func TestSharedFontSameBytes(t *testing.T) {
	data, err := os.ReadFile(testFontFile)
	if err != nil {
		if os.Getenv("CERTD_REQUIRE_TOOLS") == "1" {
			t.Fatal(err)
		}
		t.Skipf("%v (install fonts-arphic-gbsn00lp)", err)
	}
	shared, err := ParseUTF8Font("song", "", data)
	if err != nil {
		t.Fatal(err)
	}
	img := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89" +
		"\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99=\x1d\x00\x00\x00\x00IEND\xaeB`\x82")
	parsedImg, err := ParseImage(ImageOptions{ImageType: "PNG"}, img)
	if err != nil {
		t.Fatal(err)
	}
	doc := func(text string, share bool) []byte {
		f := fixedDoc()
		if share {
			f.AddParsedUTF8Font(shared)
			f.RegisterParsedImage("dot", parsedImg)
		} else {
			f.AddUTF8FontFromBytes("song", "", data)
			f.RegisterImageOptionsReader("dot", ImageOptions{ImageType: "PNG"}, bytes.NewReader(img))
		}
		f.AddPage()
		f.SetFont("song", "", 12)
		f.Text(10, 20, text)
		f.ImageOptions("dot", 10, 30, 5, 5, false, ImageOptions{ImageType: "PNG"}, 0, "")
		var b bytes.Buffer
		if err := f.Output(&b); err != nil {
			t.Error(err)
		}
		return b.Bytes()
	}
	texts := []string{"北京示例科技有限公司", "上海数据中心 Shanghai data centre", "认证范围：信息系统运行维护服务"}
	want := make([][]byte, len(texts))
	for i, text := range texts {
		want[i] = doc(text, false)
	}
	done := make(chan struct{})
	for i, text := range texts {
		go func() {
			defer func() { done <- struct{}{} }()
			for range 2 {
				if got := doc(text, true); !bytes.Equal(got, want[i]) {
					t.Errorf("%q: the document with the shared font differs from one that parsed it (%d and %d bytes)", text, len(got), len(want[i]))
				}
			}
		}()
	}
	for range texts {
		<-done
	}
}

// TestFontSubsetsBounded writes documents with more distinct sets of
// characters than the subset cache keeps: it stays bounded, and a subset
// written again from the cache is the one cut anew.
func TestFontSubsetsBounded(t *testing.T) {
	data, err := os.ReadFile(testFontFile)
	if err != nil {
		if os.Getenv("CERTD_REQUIRE_TOOLS") == "1" {
			t.Fatal(err)
		}
		t.Skipf("%v (install fonts-arphic-gbsn00lp)", err)
	}
	shared, err := ParseUTF8Font("song", "", data)
	if err != nil {
		t.Fatal(err)
	}
	doc := func(text string, share bool) []byte {
		f := fixedDoc()
		if share {
			f.AddParsedUTF8Font(shared)
		} else {
			f.AddUTF8FontFromBytes("song", "", data)
		}
		f.AddPage()
		f.SetFont("song", "", 12)
		f.Text(10, 20, text)
		var b bytes.Buffer
		if err := f.Output(&b); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	subsets := &shared.def.utf8File.cut.subsets
	for i := range maxFontSubsets + 6 {
		text := "证书" + string(rune(0x4E00+i))
		first := doc(text, true)
		if again := doc(text, true); !bytes.Equal(again, first) {
			t.Fatalf("%q: the document written from the cached subset differs", text)
		}
		if n := len(subsets.m); n > maxFontSubsets || n == 0 {
			t.Fatalf("after %d sets of characters the cache holds %d subsets, want 1 to %d", i+1, n, maxFontSubsets)
		}
		if i%20 == 0 || i == maxFontSubsets+5 {
			if want := doc(text, false); !bytes.Equal(first, want) {
				t.Errorf("%q: the document with the shared font differs from one that parsed it", text)
			}
		}
	}
}

// fixedDoc is a new document whose bytes depend on its content alone:
// catalog sorted, creation and modification dates fixed (a modification
// date left to the clock made two documents written a second apart
// differ).
func fixedDoc() *Fpdf {
	f := New("L", "mm", "A4", "")
	f.SetCatalogSort(true)
	f.SetCreationDate(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	f.SetModificationDate(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	return f
}
