// Package pdfattach reads one embedded file out of a PDF: the
// credential.jwt attachment that every certificate PDF of certd carries.
// certd's "verify a file" routes and certctl's verify command use it, so a
// PDF gives up the same credential to both.
//
// It reads what a PDF viewer may have done to the file after certd made
// it: object streams and cross-reference streams (PDF 1.5), incremental
// updates (the last definition of an object wins), linearization, and
// uncompressed streams (qpdf --qdf). It finds the attachment through the
// document catalog's /EmbeddedFiles name tree of the last revision, and
// falls back to any file specification of that name when the tree cannot
// be followed. It renders nothing and trusts nothing of the PDF: the
// credential's signature decides.
//
// Input comes from anyone, so every size is bounded: the decoded
// attachment (MaxAttachment), the objects read from object streams, the
// bytes inflated in total (zlib output read through a limit, never
// trusted to end), the nesting of objects and of name trees. Malformed
// input gives an error, never a panic (a fuzz test holds it).
//
// pdfattach imports only the standard library.
package pdfattach
