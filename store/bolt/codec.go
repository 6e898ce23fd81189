package bolt

import (
	"bytes"
	"encoding/json"

	"github.com/certd/certd/cert"
)

// A stored certificate is its JSON without the credential, a NUL byte, then
// the credential (a compact JWS: base64url and dots). The credential is most
// of the bytes of a certificate; keeping it out of the JSON spares the
// decoder from scanning it on every read (verification reads a certificate
// per request). JSON never contains a raw NUL, so the split is unambiguous.
const credentialSep = 0

// encodeCert encodes c for the certificates bucket.
func encodeCert(c *cert.Certificate) ([]byte, error) {
	cp := *c
	cp.Credential = ""
	v, err := json.Marshal(&cp)
	if err != nil {
		return nil, err
	}
	v = append(v, credentialSep)
	return append(v, c.Credential...), nil
}

// splitCert returns the JSON part and the credential of a stored value.
func splitCert(v []byte) (doc, credential []byte) {
	if i := bytes.IndexByte(v, credentialSep); i >= 0 {
		return v[:i], v[i+1:]
	}
	return v, nil
}

// decodeCert decodes a stored certificate into c, copying everything out of
// v (bbolt values are valid only inside their transaction).
func decodeCert(v []byte, c *cert.Certificate) error {
	doc, credential := splitCert(v)
	if err := json.Unmarshal(doc, c); err != nil {
		return err
	}
	if len(credential) > 0 {
		c.Credential = string(credential)
	}
	return nil
}
