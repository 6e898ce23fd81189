// Package keys owns the signing keys of certd (DESIGN.md section 6): one key
// ring per issuer with one active key, retired keys (verify only, still
// published) and revoked keys (compromised: nothing they signed verifies).
// It generates Ed25519 (EdDSA) and P-256 (ES256) keys, seals their private
// parts under the key-encryption key (KEK), names each key by its RFC 7638
// thumbprint, signs credentials as compact JWS with the protected header
// {"alg","kid","typ":"vc+jwt","cty":"vc"}, verifies presented tokens strictly
// (DESIGN.md section 5) and publishes the public keys as JWK Sets and SD-JWT
// VC issuer metadata.
//
// At rest a private key is the Ed25519 seed or the P-256 scalar (32 bytes),
// sealed with AES-256-GCM under the KEK as nonce (12 bytes) || ciphertext ||
// tag, with the additional data "certd/keys/v1" NUL issuer NUL kid, so a
// sealed key moved to another record does not open. The KEK and private
// keys never appear in an error, a String, a log value or a marshalled form.
//
// VerifyToken is the one strict JWS verification of certd and certctl, and
// UnmarshalStrict the one strict JSON reader of headers and claims (no
// member twice, none spelt in another case). Service.Verify takes the key by
// kid from a cached view of the ring, read again after a second or when the
// kid is not in it, and the algorithm from that key, never from the token.
// Claims (iss, exp, iat, nbf, jti) are checked by the verifier package, not
// here. Signing reads the ring from the store on every
// call, so a rotation on another instance sharing the store takes effect at
// once, and keeps decrypted keys in memory by kid.
//
// keys imports only the standard library, cert and
// github.com/lestrrat-go/jwx/v3, which no other certd package may import. It
// must not import store, issuer, verifier, api or any backend: storage comes
// in through the RingStore interface declared here.
package keys
