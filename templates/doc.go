// Package templates renders what certd shows to people: the QR code that
// leads to a certificate's verification page (PNG and SVG, QRContent for
// what it encodes), the certificate PDF (RenderPDF, one A4 landscape page
// in Chinese with English beneath, with the signed credential attached as
// credential.jwt so it can be verified offline), and the discovery of the
// TrueType font the PDF embeds (FindFont). The embedded HTML templates of
// the public pages will live here too.
//
// templates imports only the standard library, cert, and the rendering
// libraries github.com/skip2/go-qrcode and github.com/go-pdf/fpdf, which no
// other package of certd may import. It knows nothing of storage, keys or
// HTTP: callers hand it the certificate, its issuer and scheme, the status
// they derived and the URLs to print.
//
// Caveats:
//   - The PDF library embeds TrueType (glyf) fonts with a Unicode cmap of
//     format 4 only, and prints characters of the Basic Multilingual Plane
//     only. RenderPDF checks every printed string against the font first and
//     fails with ErrFontCoverage rather than print empty boxes.
//   - A Font holds the whole font file (several MB); load it once at start
//     and share it: RenderPDF only reads it.
//   - The status printed on a PDF (footer, watermark) is the status at
//     CertificateDoc.GeneratedAt; the verification page is authoritative.
package templates
