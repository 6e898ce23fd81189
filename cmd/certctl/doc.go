// Command certctl is the command line of certd for certification bodies
// and verifiers: a client of the HTTP API (DESIGN.md section 9) and an
// offline verifier of certificate credentials (section 5).
//
// It issues certificates one at a time or in bulk from a CSV file (every
// row validated before anything is sent; each row sent with an
// Idempotency-Key derived from its content, so that an interrupted import
// can be run again without issuing anything twice), applies lifecycle
// actions, reads certificates and their events, downloads PDFs and QR
// codes, administers issuers, keys and API keys, and verifies a
// certificate given as an id, a verification URL, a number, a token, a
// .jwt file, a PDF (its credential.jwt attachment) or a photo of its QR
// code. Offline verification checks the signature against a JWK Set the
// user trusts, by the strict rules of certd's own verifier, and the
// revocation and suspension status lists; it fails closed: when a status
// list cannot be read the verdict is "unknown" (exit 2), never "valid".
//
// certctl imports only the standard library, the cert package (domain
// types and validation, shared with the server) and gozxing for QR
// decoding. It never imports the server's packages: it speaks to certd
// over HTTP only.
//
// Run "certctl help" for the commands and "certctl COMMAND -h" for each
// command's flags and an example.
package main
