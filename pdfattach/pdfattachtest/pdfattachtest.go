// Package pdfattachtest changes the attachment of a PDF the way a viewer
// or a forger would, for tests of readers and verifiers.
package pdfattachtest

import (
	"bytes"
	"compress/zlib"
	"crypto/md5"
	"fmt"
	"strings"
)

// Deflate compresses b with zlib, as PDF streams are.
func Deflate(b []byte) []byte {
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	_, _ = zw.Write(b)
	_ = zw.Close()
	return z.Bytes()
}

// Replace appends a revision to pdf, as a viewer saving
// changes does: a new embedded file holding token, a file specification,
// name tree and catalog that use it, and a cross-reference section (with
// /Prev) naming the new catalog. With objStm, the three dictionaries go
// into a compressed object stream and the section is a cross-reference
// stream (PDF 1.5), as Acrobat writes them. The new catalog's page tree
// is object 1, where fpdf (and so certd) puts it.
func Replace(pdf []byte, token string, objStm bool) []byte {
	prev := 0
	if i := bytes.LastIndex(pdf, []byte("startxref")); i >= 0 {
		_, _ = fmt.Sscan(string(pdf[i+len("startxref"):]), &prev)
	}
	var b bytes.Buffer
	b.Write(pdf)
	offsets := map[int]int{}
	body := Deflate([]byte(token))
	sum := md5.Sum([]byte(token))
	b.WriteString("\n")
	offsets[9001] = b.Len()
	fmt.Fprintf(&b, "9001 0 obj\n<< /Type /EmbeddedFile /Filter /FlateDecode /Length %d /Params << /Size %d /CheckSum <%x> >> >>\nstream\n", len(body), len(token), sum)
	b.Write(body)
	b.WriteString("\nendstream\nendobj\n")
	dicts := []string{
		"<< /Type /Filespec /F (credential.jwt) /UF <FEFF00630072006500640065006E007400690061006C002E006A00770074> /EF << /F 9001 0 R >> >>",
		"<< /EmbeddedFiles << /Names [<FEFF00630072006500640065006E007400690061006C002E006A00770074> 9002 0 R] >> >>",
		"<< /Type /Catalog /Pages 1 0 R /Names 9003 0 R >>",
	}
	if !objStm {
		for i, d := range dicts {
			offsets[9002+i] = b.Len()
			fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", 9002+i, d)
		}
		xref := b.Len()
		b.WriteString("xref\n0 1\n0000000000 65535 f \n9001 4\n")
		for n := 9001; n <= 9004; n++ {
			fmt.Fprintf(&b, "%010d 00000 n \n", offsets[n])
		}
		fmt.Fprintf(&b, "trailer\n<< /Size 9005 /Root 9004 0 R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n", prev, xref)
		return b.Bytes()
	}
	var head, objs strings.Builder
	for i, d := range dicts {
		fmt.Fprintf(&head, "%d %d ", 9002+i, objs.Len())
		objs.WriteString(d + "\n")
	}
	data := Deflate([]byte(head.String() + objs.String()))
	offsets[9005] = b.Len()
	fmt.Fprintf(&b, "9005 0 obj\n<< /Type /ObjStm /N 3 /First %d /Filter /FlateDecode /Length %d >>\nstream\n", head.Len(), len(data))
	b.Write(data)
	b.WriteString("\nendstream\nendobj\n")
	xref := b.Len()
	// Entries of 1+4+2 bytes: type 1 (offset) or 2 (object stream, index).
	var rows bytes.Buffer
	entry := func(typ byte, f2, f3 int) {
		rows.WriteByte(typ)
		rows.Write([]byte{byte(f2 >> 24), byte(f2 >> 16), byte(f2 >> 8), byte(f2)})
		rows.Write([]byte{byte(f3 >> 8), byte(f3)})
	}
	entry(1, offsets[9001], 0)
	for i := range dicts {
		entry(2, 9005, i)
	}
	entry(1, offsets[9005], 0)
	entry(1, xref, 0)
	fmt.Fprintf(&b, "9006 0 obj\n<< /Type /XRef /Size 9007 /Index [9001 6] /W [1 4 2] /Root 9004 0 R /Prev %d /Length %d >>\nstream\n", prev, rows.Len())
	b.Write(rows.Bytes())
	fmt.Fprintf(&b, "\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n", xref)
	return b.Bytes()
}
