// Package templates renders what certd shows to people: the public pages
// (the verification page, VerifyPage; the search page, SearchPage; the
// landing page, LandingPage; the "verify a file" page, VerifyFilePage; the
// error pages browsers get, ErrorPage), the QR code that leads to a certificate's
// verification page (PNG and SVG, QRContent for what it encodes), the
// certificate PDF (RenderPDF, one A4 landscape page in Chinese with English
// beneath, and annex pages for a scope too long for it, with the signed
// credential attached as credential.jwt so it can be verified offline), and
// the discovery of the TrueType fonts the PDF embeds (FindFonts: a Latin
// face, then CJK faces, as a fallback chain).
//
// The pages speak Chinese (zh-CN, the default) and English (PickLanguage):
// their fixed texts are in messages, and every sentence that depends on a
// certificate (what a verdict means, why its status changed, what to do)
// is built here from the verdict's structured fields, never taken from the
// English sentence of the verifier. They need no JavaScript (there is
// none) and carry their stylesheet inline.
//
// templates imports only the standard library, cert, and the rendering
// libraries github.com/skip2/go-qrcode and codeberg.org/go-pdf/fpdf (its copy
// in templates/internal/fpdf, see the README there), which no other package
// of certd may import. It knows nothing of storage, keys or
// HTTP: callers hand it the certificate or verdict, its issuer and scheme,
// the status they derived and the URLs to print.
//
// Caveats:
//   - The HTML templates in html/ are embedded and parsed once per language
//     at start (a template that does not parse panics before anything is
//     served); the fixed texts are put into the template source before
//     parsing. A test checks that every file of html/ is a page or a partial
//     and that every message a template uses exists in both languages.
//   - html/template costs about a microsecond of reflection per value, and
//     the verification page shows some eighty. Its values are therefore
//     written by markup (markup.go), which escapes every value the way
//     html.EscapeString does and writes only links that are paths of this
//     site; the templates keep the document, its sections and its fixed
//     texts. The page's start and footer, the same for every page of a
//     language and public URL, are rendered once.
//   - The PDF library embeds TrueType (glyf) fonts with a Unicode cmap of
//     format 4 only, and prints characters of the Basic Multilingual Plane
//     only. Fonts.Missing is the one rule of what can be printed: RenderPDF
//     checks every printed string with it first and fails with
//     ErrFontCoverage rather than print empty boxes, and certd's issuing
//     refuses text that breaks it (issuer.Config.Printer), so the check at
//     render time only fails for certificates issued before, or after the
//     fonts changed. The error names the font files: log it, do not show it.
//   - A Font holds the whole font file (several MB); load the Fonts once at
//     start and share them: RenderPDF only reads them. Each render parses
//     and subsets only the fonts the certificate uses.
//   - The status printed on a PDF (footer, watermark) is the status at
//     CertificateDoc.GeneratedAt; the verification page is authoritative.
package templates
