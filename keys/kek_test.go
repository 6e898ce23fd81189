package keys_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certd/certd/keys"
)

func TestParseKEK(t *testing.T) {
	raw := bytes.Repeat([]byte{0xfb, 0xef, 0xbe}, 11)[:32] // encodes with '+' and '/'
	std := base64.StdEncoding.EncodeToString(raw)
	tests := []struct {
		name string
		in   string
		ok   bool
	}{
		{"ok/openssl-line", std + "\n", true},
		{"ok/no-newline", std, true},
		{"ok/crlf", std + "\r\n", true},
		{"fail/empty", "", false},
		{"fail/16-bytes", base64.StdEncoding.EncodeToString(raw[:16]) + "\n", false},
		{"fail/33-bytes", base64.StdEncoding.EncodeToString(append(raw, 1)) + "\n", false},
		{"fail/url-alphabet", base64.URLEncoding.EncodeToString(raw), false},
		{"fail/no-padding", base64.RawStdEncoding.EncodeToString(raw), false},
		{"fail/two-lines", std[:20] + "\n" + std[20:] + "\n", false},
		{"fail/leading-space", " " + std, false},
		{"fail/two-newlines", std + "\n\n", false},
		{"fail/hex", strings.Repeat("ab", 32), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := keys.ParseKEK([]byte(tc.in))
			if (err == nil) != tc.ok {
				t.Fatalf("ParseKEK(%q) error = %v, want ok=%v", tc.in, err, tc.ok)
			}
			if err != nil && strings.Contains(err.Error(), std[:10]) {
				t.Errorf("error quotes the input: %v", err)
			}
		})
	}
}

func writeKEKFile(t *testing.T, mode os.FileMode) string {
	t.Helper()
	_, raw := testKEK(t)
	path := filepath.Join(t.TempDir(), "kek")
	if err := os.WriteFile(path, []byte(base64.StdEncoding.EncodeToString(raw)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadKEK(t *testing.T) {
	tests := []struct {
		name string
		mode os.FileMode
		ok   bool
	}{
		{"ok/0600", 0o600, true},
		{"ok/0400", 0o400, true},
		{"fail/0644", 0o644, false},
		{"fail/0640", 0o640, false},
		{"fail/0604", 0o604, false},
		{"fail/0620", 0o620, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := writeKEKFile(t, tc.mode)
			_, err := keys.LoadKEK(path)
			if (err == nil) != tc.ok {
				t.Fatalf("LoadKEK(mode %04o) error = %v, want ok=%v", tc.mode, err, tc.ok)
			}
			if err != nil && !strings.Contains(err.Error(), "chmod 600") {
				t.Errorf("error %q does not tell to chmod 600", err)
			}
		})
	}
	t.Run("fail/missing", func(t *testing.T) {
		_, err := keys.LoadKEK(filepath.Join(t.TempDir(), "nope"))
		if !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("LoadKEK(missing) error = %v, want fs.ErrNotExist", err)
		}
	})
	t.Run("fail/garbage", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "kek")
		if err := os.WriteFile(path, []byte("not a key\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := keys.LoadKEK(path); err == nil {
			t.Fatal("LoadKEK(garbage) succeeded")
		}
	})
}

func TestEnsureKEK(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "data", "kek")
	k1, created, err := keys.EnsureKEK(path)
	if err != nil || !created {
		t.Fatalf("EnsureKEK(new) = created %v, err %v; want created, nil", created, err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != 0o600 {
		t.Errorf("created KEK file mode = %04o, want 0600", got)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != 45 || b[44] != '\n' {
		t.Errorf("KEK file is %d bytes %q..., want 44 base64 characters and a newline", len(b), b[:4])
	}

	k2, created, err := keys.EnsureKEK(path)
	if err != nil || created {
		t.Fatalf("EnsureKEK(existing) = created %v, err %v; want not created, nil", created, err)
	}
	// The same KEK: a key sealed under k1 signs through a service with k2.
	st := newMemRings()
	if _, err := keys.NewService(st, k1, nil).CreateRing(ctx, "a", ""); err != nil {
		t.Fatal(err)
	}
	if _, _, err := keys.NewService(st, k2, nil).Sign(ctx, "a", []byte(`{}`)); err != nil {
		t.Fatalf("sign with the reloaded KEK: %v", err)
	}

	t.Run("fail/existing-0644-not-overwritten", func(t *testing.T) {
		p := writeKEKFile(t, 0o644)
		before, _ := os.ReadFile(p)
		if _, _, err := keys.EnsureKEK(p); err == nil || !strings.Contains(err.Error(), "chmod 600") {
			t.Fatalf("EnsureKEK(0644) error = %v, want a chmod 600 refusal", err)
		}
		after, _ := os.ReadFile(p)
		if !bytes.Equal(before, after) {
			t.Error("EnsureKEK changed an existing KEK file")
		}
	})
}

// TestSealSecret: a sealed secret opens with the same KEK, kind and id
// only, and never as another record's.
func TestSealSecret(t *testing.T) {
	k, _ := testKEK(t)
	other, _ := testKEK(t)
	plain := []byte("whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0IQ==")
	sealed, err := k.SealSecret("webhook", "wh_1", plain)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, plain) || bytes.Contains(sealed, []byte("c2VjcmV0")) {
		t.Fatal("the sealed value holds the secret")
	}
	again, _ := k.SealSecret("webhook", "wh_1", plain)
	if bytes.Equal(again, sealed) {
		t.Error("two seals of one secret are equal: the nonce is not random")
	}
	got, err := k.OpenSecret("webhook", "wh_1", sealed)
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("OpenSecret = %q, %v", got, err)
	}
	for _, tc := range []struct {
		name     string
		k        keys.KEK
		kind, id string
		sealed   []byte
	}{
		{"fail/other-id", k, "webhook", "wh_2", sealed},
		{"fail/other-kind", k, "apikey", "wh_1", sealed},
		{"fail/other-kek", other, "webhook", "wh_1", sealed},
		{"fail/damaged", k, "webhook", "wh_1", append(bytes.Clone(sealed[:len(sealed)-1]), sealed[len(sealed)-1]^1)},
		{"fail/short", k, "webhook", "wh_1", sealed[:10]},
		{"fail/zero-kek", keys.KEK{}, "webhook", "wh_1", sealed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.k.OpenSecret(tc.kind, tc.id, tc.sealed)
			if err == nil {
				t.Fatal("opened")
			}
			if strings.Contains(err.Error(), string(plain)) {
				t.Errorf("error quotes the secret: %v", err)
			}
			if tc.name != "fail/zero-kek" && !errors.Is(err, keys.ErrUnseal) {
				t.Errorf("error %v, want ErrUnseal", err)
			}
		})
	}
}
