package notify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/certd/certd/cert"
)

// The example of the Standard Webhooks reference libraries
// (standard-webhooks/standard-webhooks, libraries/*/ tests).
const (
	vectorSecret    = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	vectorID        = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	vectorTimestamp = 1614265330
	vectorBody      = `{"test": 2432232314}`
	vectorSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

func TestSignPublishedVector(t *testing.T) {
	got, err := Sign(vectorSecret, vectorID, time.Unix(vectorTimestamp, 0), []byte(vectorBody))
	if err != nil {
		t.Fatal(err)
	}
	if got != vectorSignature {
		t.Errorf("Sign = %q, want %q", got, vectorSignature)
	}
}

// verify is the receiver's side of the specification, written from its
// text and not from sign.go: split the secret, decode, HMAC the signed
// content, compare with every space-separated "v1," signature.
func verify(secret string, header map[string][]string, body []byte) error {
	get := func(k string) string {
		for name, v := range header {
			if strings.EqualFold(name, k) && len(v) > 0 {
				return v[0]
			}
		}
		return ""
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return err
	}
	content := get("webhook-id") + "." + get("webhook-timestamp") + "." + string(body)
	m := hmac.New(sha256.New, key)
	m.Write([]byte(content))
	want := m.Sum(nil)
	for _, s := range strings.Fields(get("webhook-signature")) {
		version, b64, ok := strings.Cut(s, ",")
		if !ok || version != "v1" {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(b64)
		if err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return errors.New("no matching signature")
}

func TestSignedHeadersVerifyIndependently(t *testing.T) {
	secret, err := NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	key, err := ParseSecret(secret)
	if err != nil {
		t.Fatal(err)
	}
	if len(key) != 32 {
		t.Errorf("key length = %d, want 32", len(key))
	}
	body := []byte(`{"type":"certificate.issued","timestamp":"2026-12-03T10:00:00Z","data":{"id":"X"}}`)
	at := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	h, err := SignedHeaders(secret, "msg_01", at, body)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := h.Get(HeaderTimestamp), fmt.Sprint(at.Unix()); got != want {
		t.Errorf("webhook-timestamp = %q, want %q", got, want)
	}
	if got := h.Get(HeaderID); got != "msg_01" {
		t.Errorf("webhook-id = %q, want msg_01", got)
	}
	if err := verify(secret, h, body); err != nil {
		t.Errorf("independent verifier: %v", err)
	}
	if err := verify(secret, h, append(body, ' ')); err == nil {
		t.Error("independent verifier accepted a changed body")
	}
	other, _ := NewSecret()
	if err := verify(other, h, body); err == nil {
		t.Error("independent verifier accepted another secret")
	}
	// The published vector through the same verifier.
	vh := map[string][]string{"webhook-id": {vectorID}, "webhook-timestamp": {fmt.Sprint(vectorTimestamp)}, "webhook-signature": {vectorSignature}}
	if err := verify(vectorSecret, vh, []byte(vectorBody)); err != nil {
		t.Errorf("independent verifier rejects the published vector: %v", err)
	}
}

func TestSecretsDiffer(t *testing.T) {
	a, _ := NewSecret()
	b, _ := NewSecret()
	if a == b || !strings.HasPrefix(a, SecretPrefix) {
		t.Errorf("NewSecret gave %q and %q", a, b)
	}
}

func TestParseSecretRejects(t *testing.T) {
	for _, s := range []string{"", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_", "whsec_!!!", "WHSEC_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"} {
		if _, err := ParseSecret(s); !errors.Is(err, cert.ErrInvalid) {
			t.Errorf("ParseSecret(%q) = %v, want ErrInvalid", s, err)
		}
	}
	if _, err := SignedHeaders(vectorSecret, "a.b", time.Unix(0, 0), nil); !errors.Is(err, cert.ErrInvalid) {
		t.Errorf("id with a dot: %v, want ErrInvalid", err)
	}
}
