package keys_test

import (
	"context"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/keys"
	"github.com/certd/certd/keys/keystest"
)

// attacker holds a key that is not in any ring.
type attacker struct {
	priv ed25519.PrivateKey
	jwk  string
	kid  string
}

func newAttacker(t testing.TB) attacker {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k := publicJWK{Kty: "OKP", Crv: "Ed25519", X: b64url.EncodeToString(pub)}
	kid := thumbprint(t, k)
	return attacker{priv: priv, kid: kid,
		jwk: `{"kty":"OKP","crv":"Ed25519","x":"` + k.X + `","kid":"` + kid + `"}`}
}

// sign builds a token with any header, signed by the attacker's key.
func (a attacker) sign(header, payload string) string {
	input := b64url.EncodeToString([]byte(header)) + "." + b64url.EncodeToString([]byte(payload))
	return input + "." + b64url.EncodeToString(ed25519.Sign(a.priv, []byte(input)))
}

func hs256(secret []byte, header, payload string) string {
	input := b64url.EncodeToString([]byte(header)) + "." + b64url.EncodeToString([]byte(payload))
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(input))
	return input + "." + b64url.EncodeToString(m.Sum(nil))
}

func TestVerifyRejects(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.createRing(t, "a", cert.KeyTypeEd25519)
	e.createRing(t, "b", cert.KeyTypeEd25519)
	e.createRing(t, "es", cert.KeyTypeES256)
	good, kid := e.sign(t, "a", []byte(testPayload))
	otherIssuerTok, _ := e.sign(t, "b", []byte(testPayload))
	esTok, esKid := e.sign(t, "es", []byte(testPayload))
	parts := strings.Split(good, ".")
	pub := jwksOf(t, e.svc, "a")[0]
	x, _ := b64url.DecodeString(pub.X)
	atk := newAttacker(t)

	// genuine signs a header of our choosing with issuer a's real key: the
	// header rules must hold even when the signature is good.
	genuine := func(header string) string {
		t.Helper()
		tok, err := keys.SignRaw(ctx, e.svc, "a", []byte(header), []byte(testPayload))
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	hdr := func(extra string) string {
		return `{"alg":"EdDSA","kid":"` + kid + `","typ":"vc+jwt","cty":"vc"` + extra + `}`
	}
	// The header check reports the member by name; a genuine token with
	// the plain header verifies, so each case below fails for its reason.
	if _, _, err := e.svc.Verify(ctx, "a", genuine(hdr(""))); err != nil {
		t.Fatalf("control: genuine token with the standard header: %v", err)
	}

	tests := []struct {
		name   string
		issuer string
		token  string
		kind   error  // the specific kind, beyond ErrBadToken
		reason string // a word the message must contain
	}{
		{"fail/alg-none-empty-sig", "a", b64url.EncodeToString([]byte(`{"alg":"none","kid":"`+kid+`","typ":"vc+jwt"}`)) + "." + parts[1] + ".", nil, "empty"},
		{"fail/alg-none-genuine-sig", "a", genuine(`{"alg":"none","kid":"` + kid + `","typ":"vc+jwt","cty":"vc"}`), nil, "alg"},
		{"fail/hs256-public-key-secret", "a", hs256(x, `{"alg":"HS256","kid":"`+kid+`","typ":"vc+jwt","cty":"vc"}`, testPayload), nil, "alg"},
		{"fail/hs256-public-jwk-secret", "a", hs256([]byte(`{"crv":"Ed25519","kty":"OKP","x":"`+pub.X+`"}`), `{"alg":"HS256","kid":"`+kid+`","typ":"vc+jwt","cty":"vc"}`, testPayload), nil, "alg"},
		{"fail/embedded-jwk-attacker", "a", atk.sign(`{"alg":"EdDSA","kid":"`+atk.kid+`","typ":"vc+jwt","jwk":`+atk.jwk+`}`, testPayload), nil, "jwk"},
		{"fail/embedded-jwk-our-kid", "a", atk.sign(`{"alg":"EdDSA","kid":"`+kid+`","typ":"vc+jwt","jwk":`+atk.jwk+`}`, testPayload), nil, "jwk"},
		{"fail/embedded-jwk-genuine", "a", genuine(hdr(`,"jwk":` + atk.jwk)), nil, "jwk"},
		{"fail/jku", "a", genuine(hdr(`,"jku":"https://evil.example/jwks.json"`)), nil, "jku"},
		{"fail/jku-null", "a", genuine(hdr(`,"jku":null`)), nil, "jku"},
		{"fail/x5u", "a", genuine(hdr(`,"x5u":"https://evil.example/cert.pem"`)), nil, "x5u"},
		{"fail/x5c", "a", genuine(hdr(`,"x5c":["MIIB"]`)), nil, "x5c"},
		{"fail/crit", "a", genuine(hdr(`,"crit":["exp"],"exp":1`)), nil, "crit"},
		{"fail/crit-empty", "a", genuine(hdr(`,"crit":[]`)), nil, "crit"},
		{"fail/crit-b64", "a", genuine(hdr(`,"crit":["b64"],"b64":false`)), nil, "crit"},
		{"fail/unknown-member", "a", genuine(hdr(`,"zip":"DEF"`)), nil, "member"},
		{"fail/attacker-key", "a", atk.sign(`{"alg":"EdDSA","kid":"`+atk.kid+`","typ":"vc+jwt","cty":"vc"}`, testPayload), keys.ErrUnknownKey, "kid"},
		{"fail/attacker-key-our-kid", "a", atk.sign(`{"alg":"EdDSA","kid":"`+kid+`","typ":"vc+jwt","cty":"vc"}`, testPayload), nil, "signature"},
		{"fail/kid-of-other-issuer", "a", otherIssuerTok, keys.ErrUnknownKey, "kid"},
		{"fail/issuer-without-ring", "nobody", good, keys.ErrUnknownKey, "no keys"},
		{"fail/es256-token-as-eddsa", "es", genuineAlgSwap(t, esTok, "EdDSA"), nil, "alg"},
		{"fail/eddsa-token-as-es256", "a", genuineAlgSwap(t, good, "ES256"), nil, "alg"},
		{"fail/payload-changed", "a", parts[0] + "." + b64url.EncodeToString([]byte(strings.Replace(testPayload, "1890432000", "4102444800", 1))) + "." + parts[2], nil, "signature"},
		{"fail/payload-swapped-with-other-token", "es", strings.Split(esTok, ".")[0] + "." + b64url.EncodeToString([]byte(`{"iss":"x"}`)) + "." + strings.Split(esTok, ".")[2], nil, "signature"},
		{"fail/typ-jwt", "a", genuine(`{"alg":"EdDSA","kid":"` + kid + `","typ":"JWT","cty":"vc"}`), nil, "typ"},
		{"fail/typ-missing", "a", genuine(`{"alg":"EdDSA","kid":"` + kid + `","cty":"vc"}`), nil, "typ"},
		{"fail/typ-case", "a", genuine(`{"alg":"EdDSA","kid":"` + kid + `","typ":"VC+JWT","cty":"vc"}`), nil, "typ"},
		{"fail/cty-other", "a", genuine(`{"alg":"EdDSA","kid":"` + kid + `","typ":"vc+jwt","cty":"vp"}`), nil, "cty"},
		{"fail/kid-missing", "a", genuine(`{"alg":"EdDSA","typ":"vc+jwt","cty":"vc"}`), nil, "kid"},
		{"fail/kid-not-string", "a", genuine(`{"alg":"EdDSA","kid":1,"typ":"vc+jwt","cty":"vc"}`), nil, "header"},
		{"fail/alg-missing", "a", genuine(`{"kid":"` + kid + `","typ":"vc+jwt","cty":"vc"}`), nil, "alg"},
		{"fail/header-array", "a", genuine(`[]`), nil, "header"},
		{"fail/header-trailing-data", "a", genuine(hdr("") + `{}`), nil, "header"},
		{"fail/header-not-json", "a", genuine(`alg=EdDSA`), nil, "header"},
		{"fail/json-serialization", "a", `{"payload":"` + parts[1] + `","signatures":[{"protected":"` + parts[0] + `","signature":"` + parts[2] + `"}]}`, nil, "compact"},
		{"fail/json-flattened", "a", `{"payload":"` + parts[1] + `","protected":"` + parts[0] + `","signature":"` + parts[2] + `"}`, nil, "compact"},
		{"fail/1MiB", "a", parts[0] + "." + strings.Repeat("A", 1<<20) + "." + parts[2], nil, "larger"},
		{"fail/just-over-16KiB", "a", parts[0] + "." + strings.Repeat("A", keys.MaxTokenSize) + "." + parts[2], nil, "larger"},
		{"fail/two-signatures", "a", good + "." + parts[2], nil, "signature"},
		{"fail/extra-dot", "a", good + ".", nil, "parts"},
		{"fail/two-parts", "a", parts[0] + "." + parts[1], nil, "parts"},
		{"fail/empty", "a", "", nil, "empty"},
		{"fail/empty-payload", "a", parts[0] + ".." + parts[2], nil, "empty"},
		{"fail/padding-sig", "a", good + "==", nil, "padding"},
		{"fail/padding-header", "a", parts[0] + "=." + parts[1] + "." + parts[2], nil, "padding"},
		{"fail/std-base64-chars", "a", parts[0] + "." + parts[1] + "+/." + parts[2], nil, "base64url"},
		{"fail/whitespace", "a", parts[0] + ".\n" + parts[1] + "." + parts[2], nil, "base64url"},
		{"fail/trailing-newline", "a", good + "\n", nil, "base64url"},
		{"fail/non-canonical-sig-bits", "a", parts[0] + "." + parts[1] + "." + flipLastBits(parts[2]), nil, "signature"},
		{"fail/sig-truncated", "a", parts[0] + "." + parts[1] + "." + parts[2][:40], nil, "signature"},
		{"fail/sig-of-es-key", "es", strings.Split(esTok, ".")[0] + "." + strings.Split(esTok, ".")[1] + "." + parts[2], nil, "signature"},
		{"fail/header-names-upper-case", "a", genuine(`{"ALG":"EdDSA","KID":"` + kid + `","TYP":"vc+jwt","CTY":"vc"}`), nil, `must be spelt "alg"`},
		{"fail/header-typ-mixed-case", "a", genuine(`{"alg":"EdDSA","kid":"` + kid + `","Typ":"vc+jwt"}`), nil, `must be spelt "typ"`},
		{"fail/header-duplicate-typ", "a", genuine(hdr(`,"typ":"vc+jwt"`)), nil, `"typ" appears twice`},
		{"fail/header-duplicate-typ-jwt-first", "a", genuine(`{"alg":"EdDSA","kid":"` + kid + `","typ":"JWT","typ":"vc+jwt"}`), nil, `"typ" appears twice`},
		{"fail/header-duplicate-kid", "a", genuine(`{"alg":"EdDSA","kid":"x","kid":"` + kid + `","typ":"vc+jwt"}`), nil, `"kid" appears twice`},
		{"fail/es256-high-s", "es", keystest.HighS(esTok), nil, "high S"},
		{"fail/es256-zero-sig", "es", strings.Split(esTok, ".")[0] + "." + strings.Split(esTok, ".")[1] + "." + b64url.EncodeToString(make([]byte, 64)), nil, "signature"},
	}
	_ = esKid
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			payload, gotKid, err := e.svc.Verify(ctx, tc.issuer, tc.token)
			if err == nil {
				t.Fatalf("Verify accepted the token (kid %s)", gotKid)
			}
			if !errors.Is(err, keys.ErrBadToken) || !errors.Is(err, cert.ErrInvalid) {
				t.Errorf("Verify error %q does not match ErrBadToken and cert.ErrInvalid", err)
			}
			if tc.kind != nil && !errors.Is(err, tc.kind) {
				t.Errorf("Verify error %q does not match %v", err, tc.kind)
			}
			if !strings.HasPrefix(err.Error(), "token: ") || !strings.Contains(err.Error(), tc.reason) {
				t.Errorf("Verify error %q: want a \"token: \" reason mentioning %q", err, tc.reason)
			}
			if len(err.Error()) > 200 {
				t.Errorf("Verify error is %d bytes long: %.80q...", len(err.Error()), err)
			}
			if payload != nil {
				t.Errorf("Verify returned a payload with an error: %s", payload)
			}
		})
	}
}

// genuineAlgSwap re-signs nothing: it keeps the token's signature and only
// changes the alg member, which must fail on alg (the key's) before the
// signature is even looked at.
func genuineAlgSwap(t testing.TB, token, alg string) string {
	t.Helper()
	p := strings.Split(token, ".")
	h, err := b64url.DecodeString(p[0])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]string
	if err := json.Unmarshal(h, &m); err != nil {
		t.Fatal(err)
	}
	old := `"alg":"` + m["alg"] + `"`
	nh := strings.Replace(string(h), old, `"alg":"`+alg+`"`, 1)
	return b64url.EncodeToString([]byte(nh)) + "." + p[1] + "." + p[2]
}

// flipLastBits changes the unused low bits of the last base64url character,
// giving another spelling of the same bytes for a lax decoder.
func flipLastBits(s string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	i := strings.IndexByte(alphabet, s[len(s)-1])
	return s[:len(s)-1] + string(alphabet[i^1])
}

func TestPeekIssuer(t *testing.T) {
	e := newEnv(t)
	e.createRing(t, "a", "")
	good, _ := e.sign(t, "a", []byte(testPayload))
	enc := func(payload string) string {
		return b64url.EncodeToString([]byte(`{"alg":"EdDSA"}`)) + "." + b64url.EncodeToString([]byte(payload)) + ".c2ln"
	}
	tests := []struct {
		name, token, want string
	}{
		{"ok/signed", good, "https://certd.example/issuers/a"},
		{"ok/unsigned-is-fine-for-peeking", enc(`{"iss":"x"}`), "x"},
		{"fail/no-iss", enc(`{"sub":"x"}`), ""},
		{"fail/empty-iss", enc(`{"iss":""}`), ""},
		{"fail/iss-number", enc(`{"iss":1}`), ""},
		{"fail/payload-not-json", enc(`iss=x`), ""},
		{"fail/json-serialization", `{"payload":"e30","signatures":[]}`, ""},
		{"fail/1MiB", enc(`{"iss":"` + strings.Repeat("x", 1<<20) + `"}`), ""},
		{"fail/four-parts", good + ".x", ""},
		{"fail/padding", good + "=", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := keys.PeekIssuer(tc.token)
			if tc.want == "" {
				if err == nil || !errors.Is(err, keys.ErrBadToken) || !errors.Is(err, cert.ErrInvalid) {
					t.Fatalf("PeekIssuer = %q, %v; want an error matching ErrBadToken and ErrInvalid", got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("PeekIssuer = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestErrorKinds(t *testing.T) {
	for _, k := range []error{keys.ErrBadToken, keys.ErrUnknownKey, keys.ErrRevokedKey} {
		if !errors.Is(k, cert.ErrInvalid) || !errors.Is(k, keys.ErrBadToken) {
			t.Errorf("%v does not match cert.ErrInvalid and ErrBadToken", k)
		}
	}
	if errors.Is(keys.ErrBadToken, keys.ErrUnknownKey) || errors.Is(keys.ErrUnknownKey, keys.ErrRevokedKey) {
		t.Error("the kinds are not distinct")
	}
}

// FuzzVerify: no input panics, and only the genuine token verifies.
func FuzzVerify(f *testing.F) {
	e := newEnv(f)
	e.createRing(f, "a", "")
	e.createRing(f, "es", cert.KeyTypeES256)
	good, _ := e.sign(f, "a", []byte(testPayload))
	esTok, _ := e.sign(f, "es", []byte(testPayload))
	for _, s := range []string{good, esTok, "", ".", "..", "...", "e30.e30.", "{}", good + "=", strings.ToUpper(good)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, token string) {
		for _, issuer := range []string{"a", "es"} {
			_, _, err := e.svc.Verify(context.Background(), issuer, token)
			if err == nil && token != good && token != esTok {
				t.Fatalf("Verify(%s) accepted %q", issuer, token)
			}
			if err != nil && !errors.Is(err, keys.ErrBadToken) {
				t.Fatalf("Verify(%s) error %v is not ErrBadToken", issuer, err)
			}
		}
		keys.PeekIssuer(token)
	})
}

// TestES256SignsLowS: every ES256 signature certd writes is in the low-S
// form, the only one Verify accepts; its high-S twin is refused.
func TestES256SignsLowS(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.createRing(t, "es", cert.KeyTypeES256)
	for i := 0; i < 32; i++ {
		tok, _ := e.sign(t, "es", []byte(testPayload))
		if _, _, err := e.svc.Verify(ctx, "es", tok); err != nil {
			t.Fatalf("signature %d: %v", i, err)
		}
		if _, _, err := e.svc.Verify(ctx, "es", keystest.HighS(tok)); err == nil || !strings.Contains(err.Error(), "high S") {
			t.Fatalf("signature %d: the high-S twin: %v, want refused", i, err)
		}
	}
}

// TestUnmarshalStrict: the rules encoding/json does not apply.
func TestUnmarshalStrict(t *testing.T) {
	type inner struct {
		Name string `json:"name"`
	}
	type doc struct {
		A     string           `json:"a"`
		Kid   string           `json:"kid"`
		In    inner            `json:"in"`
		List  []inner          `json:"list"`
		Map   map[string]inner `json:"map"`
		Other json.RawMessage  `json:"other"`
	}
	for _, tc := range []struct{ name, in, want string }{
		{"ok/plain", `{"a":"x","in":{"name":"n"},"list":[{"name":"n"}],"map":{"k":{"name":"n"}},"other":{"b":1},"unknown":[1]}`, ""},
		{"fail/duplicate-top", `{"a":"x","a":"y"}`, `"a" appears twice`},
		{"fail/duplicate-escaped", `{"a":"x","\u0061":"y"}`, `"a" appears twice`},
		{"fail/duplicate-nested", `{"in":{"name":"n","name":"m"}}`, `"name" appears twice`},
		{"fail/duplicate-in-array", `{"list":[{"name":"n"},{"name":"n","name":"m"}]}`, `"name" appears twice`},
		{"fail/duplicate-in-map-value", `{"map":{"k":{"name":"n","name":"m"}}}`, `"name" appears twice`},
		{"fail/duplicate-in-unread-member", `{"other":{"b":1,"b":2}}`, `"b" appears twice`},
		{"fail/case-top", `{"A":"x"}`, `must be spelt "a"`},
		{"fail/case-nested", `{"in":{"NAME":"n"}}`, `must be spelt "name"`},
		{"fail/case-in-array", `{"list":[{"Name":"n"}]}`, `must be spelt "name"`},
		{"fail/case-kelvin-sign", `{"\u212aid":"x"}`, `must be spelt "kid"`},
		{"fail/not-object", `[1]`, "not a JSON object"},
		{"fail/trailing", `{"a":"x"} {}`, "data after"},
		{"fail/deep", `{"other":` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + `}`, "nested more than"},
		{"fail/type", `{"a":1}`, "member a must be a string"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var d doc
			err := keys.UnmarshalStrict([]byte(tc.in), &d)
			switch {
			case strings.HasPrefix(tc.name, "ok/") && err != nil:
				t.Fatalf("refused: %v", err)
			case strings.HasPrefix(tc.name, "fail/") && tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}
