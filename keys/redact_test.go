package keys_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/keys"
)

// secretForms are the spellings of a secret that must never be output.
func secretForms(b []byte) []string {
	return []string{
		string(b),
		base64.StdEncoding.EncodeToString(b),
		base64.RawStdEncoding.EncodeToString(b),
		base64.RawURLEncoding.EncodeToString(b),
		hex.EncodeToString(b),
		fmt.Sprint(b), // [1 2 3 ...]
		fmt.Sprintf("%#v", b),
	}
}

// TestNoSecretInOutput prints and marshals every exported value the package
// gives out and looks for the KEK and the private keys in any spelling.
func TestNoSecretInOutput(t *testing.T) {
	ctx := context.Background()
	kek, kekRaw := testKEK(t)
	st, clk := newMemRings(), newClock()
	svc := keys.NewService(st, kek, clk.Now)
	var secrets [][]byte
	secrets = append(secrets, kekRaw)

	var out []string
	emit := func(vs ...any) {
		for _, v := range vs {
			for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d"} {
				out = append(out, fmt.Sprintf(verb, v))
			}
			if b, err := json.Marshal(v); err == nil {
				out = append(out, string(b))
			} else {
				out = append(out, err.Error())
			}
		}
	}

	for _, kt := range []string{cert.KeyTypeEd25519, cert.KeyTypeES256} {
		issuer := "i-" + strings.ToLower(kt)
		ki, err := svc.CreateRing(ctx, issuer, kt)
		if err != nil {
			t.Fatal(err)
		}
		priv, err := keys.PrivateKeyBytes(ctx, svc, issuer, ki.Kid)
		if err != nil || len(priv) != 32 {
			t.Fatalf("private key of %s: %d bytes, %v", issuer, len(priv), err)
		}
		secrets = append(secrets, priv)
		tok, kid, err := svc.Sign(ctx, issuer, []byte(testPayload))
		if err != nil {
			t.Fatal(err)
		}
		rot, err := svc.Rotate(ctx, issuer, "")
		if err != nil {
			t.Fatal(err)
		}
		revErr := svc.Revoke(ctx, issuer, rot.Kid)
		list, err := svc.Keys(ctx, issuer)
		if err != nil {
			t.Fatal(err)
		}
		jwks, _ := svc.JWKS(ctx, issuer)
		md, _ := svc.IssuerMetadata(ctx, issuer, "https://x/issuers/"+issuer)
		_, _, verr := svc.Verify(ctx, issuer, tok+"x")
		emit(ki, rot, list, string(jwks), string(md), tok, kid, revErr, verr)
	}
	all, _ := svc.JWKSAll(ctx, []string{"i-ed25519", "i-es256"})
	emit(string(all))

	// The KEK itself, alone and inside a config struct.
	type config struct {
		KEK  keys.KEK
		Path string
	}
	emit(kek, &kek, config{KEK: kek, Path: "/x"}, &config{KEK: kek})
	var logBuf bytes.Buffer
	for _, h := range []slog.Handler{slog.NewTextHandler(&logBuf, nil), slog.NewJSONHandler(&logBuf, nil)} {
		slog.New(h).Info("start", "kek", kek, "cfg", config{KEK: kek})
	}
	out = append(out, logBuf.String())
	if _, err := json.Marshal(kek); err == nil {
		t.Error("json.Marshal(KEK) succeeded; a KEK must not marshal")
	}
	if _, err := kek.MarshalText(); err == nil {
		t.Error("KEK.MarshalText succeeded")
	}
	for _, s := range []string{fmt.Sprint(kek), fmt.Sprintf("%#v", kek), kek.String(), kek.GoString()} {
		if s != "[redacted]" {
			t.Errorf("KEK prints as %q, want [redacted]", s)
		}
	}

	// Errors: another KEK (unseal fails), bad KEK files, a moved ring.
	other, _ := testKEK(t)
	_, _, e1 := keys.NewService(st, other, nil).Sign(ctx, "i-ed25519", []byte(`{}`))
	dir := t.TempDir()
	open := filepath.Join(dir, "open")
	os.WriteFile(open, []byte(base64.StdEncoding.EncodeToString(kekRaw)+"\n"), 0o644)
	os.Chmod(open, 0o644)
	_, e2 := keys.LoadKEK(open)
	_, e3 := keys.ParseKEK([]byte(base64.StdEncoding.EncodeToString(kekRaw) + "\n\n"))
	_, e4 := keys.ParseKEK([]byte(base64.StdEncoding.EncodeToString(kekRaw[:31])))
	_, e5 := keys.ParseKEK([]byte(" " + base64.StdEncoding.EncodeToString(kekRaw)))
	_, _, e6 := keys.EnsureKEK(open)
	st.set(func(m *memRings) {
		r := copyRing(m.rings["i-es256"])
		r.Issuer = "moved"
		m.rings["moved"] = r
	})
	_, _, e7 := svc.Sign(ctx, "moved", []byte(`{}`))
	errs := []error{e1, e2, e3, e4, e5, e6, e7}
	for i, err := range errs {
		if err == nil {
			t.Errorf("error case %d did not fail", i+1)
		}
	}
	emit(errs[0], errs[1], errs[2], errs[3], errs[4], errs[5], errs[6], errors.Join(errs...))

	for _, s := range out {
		for i, secret := range secrets {
			for _, form := range secretForms(secret) {
				if strings.Contains(s, form) {
					what := "the KEK"
					if i > 0 {
						what = "a private key"
					}
					t.Fatalf("output contains %s (%.12q...): %.200q", what, form, s)
				}
			}
		}
	}
}
