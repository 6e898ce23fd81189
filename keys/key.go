package keys

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"

	"github.com/certd/certd/cert"
	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
)

// JWS algorithms of the two key types.
const (
	algEdDSA = "EdDSA"
	algES256 = "ES256"
)

// algOf maps a key type to its JWS algorithm; "" is the default, Ed25519.
func algOf(keyType string) (string, error) {
	switch keyType {
	case cert.KeyTypeEd25519, "":
		return algEdDSA, nil
	case cert.KeyTypeES256:
		return algES256, nil
	}
	return "", cert.Invalid("keyType", `must be "Ed25519" (default) or "ES256"`)
}

// PublicKey is a public signing key with what verification and
// publication need: an Ed25519 key (EdDSA) or a P-256 key (ES256). certd
// builds one per (issuer, kid) from its rings; certctl from a JWK Set it
// pins (ParsePublicJWK).
type PublicKey struct {
	kid string
	alg string
	ed  ed25519.PublicKey
	ec  *ecdsa.PublicKey
	// jwk is the public JWK with kid, alg and use, as published.
	jwk json.RawMessage
	// header is the encoded protected header certd writes for this key.
	header string
}

// Kid returns the key's kid, its RFC 7638 thumbprint.
func (p *PublicKey) Kid() string { return p.kid }

// Alg returns the key's JWS algorithm, EdDSA or ES256.
func (p *PublicKey) Alg() string { return p.alg }

// p256HalfOrder is n/2 for the order n of P-256: an ECDSA signature (r, s)
// has a twin (r, n-s) that verifies as well, so only the low-S one, s <=
// n/2, is accepted, and certd signs only that one.
var p256HalfOrder = new(big.Int).Rsh(elliptic.P256().Params().N, 1)

// errHighS is the reason an ES256 signature in its high-S form is refused.
const errHighS = "ES256 signature has a high S value: it is the second spelling of a signature, which certd never writes"

// verify checks a JWS signature over input with the key, the algorithm being
// the key's own. It returns "" when the signature verifies, else the reason.
func (p *PublicKey) verify(input, sig []byte) string {
	switch p.alg {
	case algEdDSA:
		if len(sig) == ed25519.SignatureSize && ed25519.Verify(p.ed, input, sig) {
			return ""
		}
	case algES256:
		if len(sig) != 64 {
			break
		}
		h := sha256.Sum256(input)
		r := new(big.Int).SetBytes(sig[:32])
		s := new(big.Int).SetBytes(sig[32:])
		if !ecdsa.Verify(p.ec, h[:], r, s) {
			break
		}
		if s.Cmp(p256HalfOrder) > 0 {
			return errHighS
		}
		return ""
	}
	return "the signature does not verify: the content was altered, or another key signed it"
}

// signer is a decrypted private key ready to sign, with its encoded header.
type signer struct {
	kid string
	alg string
	ed  ed25519.PrivateKey
	ec  *ecdsa.PrivateKey
	// header is the base64url protected header plus the trailing '.'.
	header string
}

// String keeps the private key out of any accidental print.
func (s *signer) String() string { return "signer(" + s.kid + ")" }

// GoString keeps the private key out of %#v.
func (s *signer) GoString() string { return s.String() }

// sign returns the JWS signature over input.
func (s *signer) sign(input []byte) ([]byte, error) {
	switch s.alg {
	case algEdDSA:
		return ed25519.Sign(s.ed, input), nil
	case algES256:
		h := sha256.Sum256(input)
		r, ss, err := ecdsa.Sign(rand.Reader, s.ec, h[:])
		if err != nil {
			return nil, fmt.Errorf("sign with key %s: %w", s.kid, err)
		}
		// The low-S form, the only one verification accepts.
		if ss.Cmp(p256HalfOrder) > 0 {
			ss.Sub(elliptic.P256().Params().N, ss)
		}
		sig := make([]byte, 64)
		r.FillBytes(sig[:32])
		ss.FillBytes(sig[32:])
		return sig, nil
	}
	return nil, fmt.Errorf("sign with key %s: unsupported alg %q", s.kid, s.alg)
}

// protectedHeader is the exact protected header of a certd credential, in
// this member order.
type protectedHeader struct {
	Alg string `json:"alg"`
	Kid string `json:"kid"`
	Typ string `json:"typ"`
	Cty string `json:"cty"`
}

// newSigner builds a signer from a private key.
func newSigner(kid, alg string, ed ed25519.PrivateKey, ec *ecdsa.PrivateKey) *signer {
	return &signer{kid: kid, alg: alg, ed: ed, ec: ec, header: encodeHeader(kid, alg) + "."}
}

// encodeHeader returns the base64url protected header of a credential
// signed by the key kid.
func encodeHeader(kid, alg string) string {
	h, _ := json.Marshal(protectedHeader{Alg: alg, Kid: kid, Typ: typVC, Cty: ctyVC})
	return base64.RawURLEncoding.EncodeToString(h)
}

// generate makes a new key record for issuer: a fresh private key of alg,
// sealed under kek, with its public JWK and kid.
func generate(kek KEK, issuer, alg string) (cert.KeyRecord, error) {
	var pub crypto.PublicKey
	var priv []byte
	switch alg {
	case algEdDSA:
		p, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return cert.KeyRecord{}, fmt.Errorf("generate Ed25519 key: %w", err)
		}
		pub, priv = p, k.Seed()
	case algES256:
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return cert.KeyRecord{}, fmt.Errorf("generate P-256 key: %w", err)
		}
		b, err := k.Bytes()
		if err != nil {
			return cert.KeyRecord{}, errors.New("generate P-256 key: cannot encode the private scalar")
		}
		pub, priv = &k.PublicKey, b
	default:
		return cert.KeyRecord{}, fmt.Errorf("generate key: unsupported alg %q", alg)
	}
	defer clear(priv)
	kid, pubJWK, err := PublicJWK(pub, alg)
	if err != nil {
		return cert.KeyRecord{}, err
	}
	sealed, err := kek.seal(issuer, kid, priv)
	if err != nil {
		return cert.KeyRecord{}, err
	}
	return cert.KeyRecord{Kid: kid, Alg: alg, State: cert.KeyActive, Public: pubJWK, Sealed: sealed}, nil
}

// PublicJWK returns the kid of a raw public key (ed25519.PublicKey or a
// P-256 *ecdsa.PublicKey), its RFC 7638 thumbprint, and its JWK with kid,
// alg ("EdDSA" or "ES256") and use "sig" (and nothing else beyond the key
// parameters). It is the one thumbprint function of certd.
func PublicJWK(pub crypto.PublicKey, alg string) (string, json.RawMessage, error) {
	k, err := jwk.Import(pub)
	if err != nil {
		return "", nil, fmt.Errorf("public key to JWK: %w", err)
	}
	tp, err := k.Thumbprint(crypto.SHA256)
	if err != nil {
		return "", nil, fmt.Errorf("JWK thumbprint: %w", err)
	}
	kid := base64.RawURLEncoding.EncodeToString(tp)
	var a jwa.SignatureAlgorithm
	switch alg {
	case algEdDSA:
		a = jwa.EdDSA()
	case algES256:
		a = jwa.ES256()
	default:
		return "", nil, fmt.Errorf("public key to JWK: unsupported alg %q", alg)
	}
	if err := k.Set(jwk.KeyIDKey, kid); err != nil {
		return "", nil, fmt.Errorf("JWK kid: %w", err)
	}
	if err := k.Set(jwk.AlgorithmKey, a); err != nil {
		return "", nil, fmt.Errorf("JWK alg: %w", err)
	}
	if err := k.Set(jwk.KeyUsageKey, jwk.ForSignature); err != nil {
		return "", nil, fmt.Errorf("JWK use: %w", err)
	}
	b, err := json.Marshal(k)
	if err != nil {
		return "", nil, fmt.Errorf("marshal JWK: %w", err)
	}
	return kid, b, nil
}

// parsePublic parses the stored public JWK of rec and checks that it is a
// public key of the record's algorithm whose thumbprint is the record's kid.
// The published JWK is rebuilt from the key itself, so nothing else that
// the stored JSON might carry (a private member, an x5u) is ever published.
func parsePublic(rec *cert.KeyRecord) (*PublicKey, error) {
	k, err := jwk.ParseKey(rec.Public)
	if err != nil {
		// jwx's message is not quoted: the stored JSON should be public, but
		// a damaged record must not get a private member into an error.
		return nil, fmt.Errorf("key %s: stored public key is not a valid JWK", rec.Kid)
	}
	if priv, err := jwk.IsPrivateKey(k); err != nil || priv {
		return nil, fmt.Errorf("key %s: stored public key is not a public key", rec.Kid)
	}
	var raw any
	if err := jwk.Export(k, &raw); err != nil {
		return nil, fmt.Errorf("key %s: stored public key cannot be used", rec.Kid)
	}
	p := &PublicKey{kid: rec.Kid, alg: rec.Alg}
	switch rec.Alg {
	case algEdDSA:
		ed, ok := raw.(ed25519.PublicKey)
		if !ok || len(ed) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("key %s: alg EdDSA needs an Ed25519 public key", rec.Kid)
		}
		p.ed = ed
	case algES256:
		ec, ok := raw.(*ecdsa.PublicKey)
		if !ok || ec.Curve != elliptic.P256() {
			return nil, fmt.Errorf("key %s: alg ES256 needs a P-256 public key", rec.Kid)
		}
		p.ec = ec
	default:
		return nil, fmt.Errorf("key %s: unsupported alg %q", rec.Kid, rec.Alg)
	}
	kid, pubJWK, err := PublicJWK(raw, rec.Alg)
	if err != nil {
		return nil, fmt.Errorf("key %s: %w", rec.Kid, err)
	}
	if kid != rec.Kid {
		return nil, fmt.Errorf("key %s: public key does not match its kid", rec.Kid)
	}
	p.jwk = pubJWK
	p.header = encodeHeader(p.kid, p.alg)
	return p, nil
}

// unseal decrypts the private key of rec and checks that it belongs to the
// record's kid, so a record whose parts were mixed up never signs.
func unseal(kek KEK, issuer string, rec *cert.KeyRecord) (*signer, error) {
	if len(rec.Sealed) == 0 {
		return nil, fmt.Errorf("key %s of issuer %s: no private key stored", rec.Kid, issuer)
	}
	plain, err := kek.open(issuer, rec.Kid, rec.Sealed)
	if err != nil {
		return nil, err
	}
	defer clear(plain)
	var (
		pub crypto.PublicKey
		ed  ed25519.PrivateKey
		ec  *ecdsa.PrivateKey
	)
	switch rec.Alg {
	case algEdDSA:
		if len(plain) != ed25519.SeedSize {
			return nil, fmt.Errorf("key %s of issuer %s: sealed Ed25519 key has the wrong length", rec.Kid, issuer)
		}
		ed = ed25519.NewKeyFromSeed(plain)
		pub = ed.Public()
	case algES256:
		ec, err = ecdsa.ParseRawPrivateKey(elliptic.P256(), plain)
		if err != nil {
			return nil, fmt.Errorf("key %s of issuer %s: sealed P-256 key is not valid", rec.Kid, issuer)
		}
		pub = &ec.PublicKey
	default:
		return nil, fmt.Errorf("key %s of issuer %s: unsupported alg %q", rec.Kid, issuer, rec.Alg)
	}
	kid, _, err := PublicJWK(pub, rec.Alg)
	if err != nil {
		return nil, fmt.Errorf("key %s of issuer %s: %w", rec.Kid, issuer, err)
	}
	if kid != rec.Kid {
		return nil, fmt.Errorf("key %s of issuer %s: private key does not match its kid", rec.Kid, issuer)
	}
	return newSigner(kid, rec.Alg, ed, ec), nil
}

// ParsePublicJWK reads one published JWK into a key that verifies tokens:
// an Ed25519 (EdDSA) or P-256 (ES256) public key whose kid is its RFC 7638
// thumbprint, with use "sig" and alg fitting the key when they are present.
// Private or symmetric key material is refused.
func ParsePublicJWK(raw []byte) (*PublicKey, error) {
	var m struct {
		Kty string `json:"kty"`
		Crv string `json:"crv"`
		Kid string `json:"kid"`
		Alg string `json:"alg"`
		Use string `json:"use"`
	}
	if err := UnmarshalStrict(raw, &m); err != nil {
		return nil, fmt.Errorf("not a JWK: %v", err)
	}
	if m.Use != "" && m.Use != "sig" {
		return nil, fmt.Errorf("use is %q, not sig", truncate(m.Use, 20))
	}
	k, err := jwk.ParseKey(raw)
	if err != nil {
		return nil, errors.New("not a valid JWK")
	}
	if priv, err := jwk.IsPrivateKey(k); err != nil || priv {
		return nil, errors.New("holds private or symmetric key material")
	}
	var pub any
	if err := jwk.Export(k, &pub); err != nil {
		return nil, errors.New("not a usable public key")
	}
	p := &PublicKey{}
	switch key := pub.(type) {
	case ed25519.PublicKey:
		if len(key) != ed25519.PublicKeySize {
			return nil, errors.New("an Ed25519 key has 32 bytes")
		}
		p.alg, p.ed = algEdDSA, key
	case *ecdsa.PublicKey:
		if key.Curve != elliptic.P256() {
			return nil, fmt.Errorf("key type %s %s is not one certd signs with (Ed25519, P-256)", truncate(m.Kty, 10), truncate(m.Crv, 10))
		}
		p.alg, p.ec = algES256, key
	default:
		return nil, fmt.Errorf("key type %s %s is not one certd signs with (Ed25519, P-256)", truncate(m.Kty, 10), truncate(m.Crv, 10))
	}
	if m.Alg != "" && m.Alg != p.alg {
		return nil, fmt.Errorf("alg %q does not fit a %s key", truncate(m.Alg, 20), m.Crv)
	}
	kid, pubJWK, err := PublicJWK(pub, p.alg)
	if err != nil {
		return nil, err
	}
	if kid != m.Kid {
		return nil, errors.New("kid is not the key's RFC 7638 thumbprint")
	}
	p.kid, p.jwk, p.header = kid, pubJWK, encodeHeader(kid, p.alg)
	return p, nil
}
