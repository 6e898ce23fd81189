// Package verifier holds the use cases that check certificates: by id, by a
// presented token (the strict recipe of DESIGN.md section 5) and in batches.
// ParseClaims is the one check of a credential's claims, which certctl's
// offline verification calls too. Every answer is a cert.Verdict with each check named; when a check cannot
// be made the verdict is "unknown", never "valid" (fail closed).
//
// verifier imports cert and the interfaces it declares here. It never
// imports issuer, api or a concrete backend.
package verifier
