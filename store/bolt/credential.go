package bolt

import (
	"encoding/base64"
	"strings"
	"sync"

	"github.com/klauspost/compress/s2"

	"github.com/certd/certd/cert"
)

// How format 5 stores a certificate's credential (writer.credential).
const (
	// credPlain: the token as a string, for a value that is not a compact
	// JWS of three canonical base64url parts (kept as it is, byte for
	// byte).
	credPlain = 0
	// credS2: the protected header and the payload, decoded from base64url
	// and compressed together with S2 and credDict; then the signature's
	// bytes. The token is the three parts encoded again: unpadded
	// base64url is canonical, so encoding gives back the stored token
	// exactly (writer.credential checks that it does).
	credS2 = 1
)

// credDict primes S2 with what every credential says (DESIGN.md section
// 5): the JSON names, the context, the types and the status-list entries.
// A record of format 5 or later can only be read with this dictionary: never change
// it; a better one needs a new format.
var credDict = s2.MakeDict([]byte(`{"alg":"EdDSA","kid":"","typ":"vc+jwt","cty":"vc"}{"alg":"ES256","kid":"","typ":"vc+jwt","cty":"vc"}`+
	`{"@context":["https://www.w3.org/ns/credentials/v2"],"id":"https:///v/","type":["VerifiableCredential","ConformityCertificate"],`+
	`"issuer":{"id":"https:///issuers/","name":"","accreditation":{"accreditations":[{"body":"CNAS","number":"CNAS C"}],"approvalNumber":"CNCA-R-"}},`+
	`"validFrom":"T00:00:00+08:00","validUntil":"T00:00:00+08:00","credentialSubject":{"type":"Organization","name":"有限公司","nameEn":" Co., Ltd.",`+
	`"uscc":"9111","address":"市区路号","certificate":{"number":"-2026-00","scheme":"itss","standard":"GB/T 28827.1-2022","category":"运行维护","level":,`+
	`"scope":"信息系统运行维护服务","scopeEn":"","assessmentBody":""}},"credentialStatus":[{"type":"BitstringStatusListEntry","statusPurpose":"revocation",`+
	`"statusListIndex":"","statusListCredential":"https:///status//revocation/1"},{"type":"BitstringStatusListEntry","statusPurpose":"suspension",`+
	`"statusListIndex":"","statusListCredential":"https:///status//suspension/1"}],"iss":"https:///issuers/","jti":"https:///v/","iat":1,"exp":1}`),
	[]byte(`{"@context"`))

// maxCredential bounds a decompressed credential: tokens are at most
// 16 KiB (DESIGN.md section 5), so a record that claims more is corrupt.
const maxCredential = 1 << 20

var b64 = base64.RawURLEncoding

// credential writes a credential as credS2 when it is a compact JWS of
// canonical parts, else as credPlain.
func (w *writer) credential(token string) {
	hp, headerLen, sig, ok := jwsParts(token)
	if !ok {
		w.b = append(w.b, credPlain)
		w.str(token)
		return
	}
	w.b = append(w.b, credS2)
	w.uint(uint64(headerLen))
	// S2's fastest mode: 537 bytes on the credentials of a seeded store,
	// against 508 for the better mode at 11.8 instead of 3.3 µs an
	// encode; at a million certificates both gave the same pages (three
	// records a page either way), so the cheaper one stays. Every mode
	// decodes with the same Decode.
	block := credDict.Encode(nil, hp)
	w.uint(uint64(len(block)))
	w.b = append(w.b, block...)
	w.uint(uint64(len(sig)))
	w.b = append(w.b, sig...)
}

// b64Strict decodes only canonical unpadded base64url: it refuses
// non-zero trailing bits, the one freedom that encoding leaves besides the
// line breaks that every decoder of the package skips (jwsParts refuses
// those itself). A part it decodes encodes back to itself.
var b64Strict = b64.Strict()

// jwsParts decodes the three parts of a compact JWS, when each is
// canonical base64url: the protected header and the payload one after the
// other in hp (the header is hp[:headerLen]), then the signature.
func jwsParts(token string) (hp []byte, headerLen int, sig []byte, ok bool) {
	header, rest, ok1 := strings.Cut(token, ".")
	payload, signature, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 || header == "" || payload == "" || strings.IndexByte(signature, '.') >= 0 ||
		strings.ContainsAny(token, "\r\n") {
		return nil, 0, nil, false
	}
	buf := make([]byte, b64.DecodedLen(len(header))+b64.DecodedLen(len(payload))+b64.DecodedLen(len(signature)))
	n := 0
	for i, p := range [3]string{header, payload, signature} {
		m, err := b64Strict.Decode(buf[n:], []byte(p))
		if err != nil {
			return nil, 0, nil, false
		}
		if i == 0 {
			headerLen = m
		}
		if i == 1 {
			hp = buf[:n+m]
		}
		n += m
	}
	return hp, headerLen, buf[len(hp):n], true
}

// signedIssuer is the issuer object a stored credential signed
// (cert.SignedIssuer of it), read without making the token again: the
// payload of a credS2 credential is at hand once decompressed.
func (r *reader) signedIssuer() (cert.CredentialIssuer, bool) {
	if r.format < certFormatV5 || len(r.b) == 0 || r.b[0] != credS2 {
		if r.format < certFormatV5 {
			return cert.SignedIssuer(r.str())
		}
		return cert.SignedIssuer(r.credential())
	}
	r.byte()
	var (
		is cert.CredentialIssuer
		ok bool
	)
	r.parts(func(header, payload, _ []byte) { is, ok = cert.SignedIssuerOf(payload) })
	return is, ok
}

// credential reads what writer.credential wrote.
func (r *reader) credential() string {
	switch r.byte() {
	case credPlain:
		return r.str()
	case credS2:
	default:
		r.fail()
		return ""
	}
	var token string
	r.parts(func(header, payload, sig []byte) {
		var out strings.Builder
		out.Grow(b64.EncodedLen(len(header)) + b64.EncodedLen(len(payload)) + b64.EncodedLen(len(sig)) + 2)
		var chunk [768]byte // a multiple of 3 bytes encodes without padding
		for i, part := range [][]byte{header, payload, sig} {
			if i > 0 {
				out.WriteByte('.')
			}
			for len(part) > 0 {
				n := min(len(part), len(chunk)/4*3)
				m := b64.EncodedLen(n)
				b64.Encode(chunk[:m], part[:n])
				out.Write(chunk[:m])
				part = part[n:]
			}
		}
		token = out.String()
	})
	return token
}

// parts reads the rest of a credS2 credential and passes its protected
// header, payload and signature to use, which must not keep them (they
// are in a pooled buffer, or in the transaction's memory).
func (r *reader) parts(use func(header, payload, sig []byte)) {
	headerLen := r.uint()
	block, sig := r.raw(), r.raw()
	if r.err != nil {
		return
	}
	if n, err := s2.DecodedLen(block); err != nil || n > maxCredential || uint64(n) < headerLen {
		r.fail()
		return
	}
	bp := decoded.Get().(*[]byte)
	defer decoded.Put(bp)
	hp, err := credDict.Decode((*bp)[:cap(*bp)], block)
	if err != nil || uint64(len(hp)) < headerLen {
		r.fail()
		return
	}
	if cap(hp) <= maxPooled {
		*bp = hp
	}
	use(hp[:headerLen], hp[headerLen:], sig)
}

// decoded pools the buffers that hold decompressed credentials;
// maxPooled bounds what a pooled buffer keeps.
var decoded = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}

const maxPooled = 16 << 10
