package notify

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/certd/certd/cert"
)

// SecretPrefix starts every signing secret in the Standard Webhooks form.
const SecretPrefix = "whsec_"

// Header names of the Standard Webhooks specification.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// secretBytes is the length of the key NewSecret makes; the specification
// asks for 24 to 64 bytes.
const secretBytes = 32

// NewSecret returns a fresh signing secret: "whsec_" and the standard
// base64 of 32 random bytes.
func NewSecret() (string, error) {
	key := make([]byte, secretBytes)
	if _, err := rand.Read(key); err != nil {
		return "", fmt.Errorf("webhook secret: %w", err)
	}
	return SecretPrefix + base64.StdEncoding.EncodeToString(key), nil
}

// ParseSecret returns the key of a secret in the form "whsec_<base64>".
// A malformed secret gives an error matching cert.ErrInvalid.
func ParseSecret(secret string) ([]byte, error) {
	enc, ok := strings.CutPrefix(secret, SecretPrefix)
	if !ok {
		return nil, cert.Invalid("secret", "must start with "+SecretPrefix)
	}
	key, err := base64.StdEncoding.DecodeString(enc)
	if err != nil || len(key) == 0 {
		return nil, cert.Invalid("secret", "must be "+SecretPrefix+" and the standard base64 of the key")
	}
	return key, nil
}

// Sign returns the webhook-signature value of one message: "v1," and the
// base64 HMAC-SHA256, under the secret's key, of id "." unix seconds "."
// body.
func Sign(secret, id string, at time.Time, body []byte) (string, error) {
	key, err := ParseSecret(secret)
	if err != nil {
		return "", err
	}
	return sign(key, id, at.Unix(), body), nil
}

func sign(key []byte, id string, unix int64, body []byte) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id))
	mac.Write([]byte{'.'})
	mac.Write([]byte(strconv.FormatInt(unix, 10)))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// SignedHeaders returns the three Standard Webhooks headers of one attempt
// and the JSON content type. Every attempt of a delivery has the same id
// and its own timestamp, hence its own signature.
func SignedHeaders(secret, id string, at time.Time, body []byte) (http.Header, error) {
	if id == "" || strings.ContainsAny(id, " ,.\r\n") {
		return nil, cert.Invalid("id", "must be a non-empty token without spaces, commas or dots")
	}
	sig, err := Sign(secret, id, at, body)
	if err != nil {
		return nil, err
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set(HeaderID, id)
	h.Set(HeaderTimestamp, strconv.FormatInt(at.Unix(), 10))
	h.Set(HeaderSignature, sig)
	return h, nil
}
