package keys

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
)

// kekSize is the length of the key-encryption key in bytes.
const kekSize = 32

// redacted is what every printed form of a KEK shows.
const redacted = "[redacted]"

// KEK is the 32-byte key-encryption key that seals the private keys of every
// key ring (AES-256-GCM). The zero KEK holds no key: sealing and unsealing
// with it fail. A KEK never prints, logs or marshals its bytes: every fmt
// verb shows "[redacted]" and JSON or text marshalling fails.
type KEK struct {
	// aead is built once from the key; the raw bytes are not kept.
	aead cipher.AEAD
}

// ParseKEK reads a KEK in the form `openssl rand -base64 32` prints: the
// standard base64 encoding (with padding) of 32 bytes on one line; one
// trailing newline is allowed. Errors never quote the input.
func ParseKEK(b []byte) (KEK, error) {
	s := string(b)
	s = strings.TrimSuffix(s, "\n")
	s = strings.TrimSuffix(s, "\r")
	// The base64 decoder skips '\r' and '\n' anywhere, so a value spread
	// over several lines would pass it; refuse any whitespace explicitly.
	if strings.ContainsAny(s, " \t\r\n\v\f") {
		return KEK{}, errors.New("kek: must be one line of standard base64 (32 bytes, as `openssl rand -base64 32` prints)")
	}
	raw, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil {
		return KEK{}, errors.New("kek: not valid standard base64 (expected the 44 characters `openssl rand -base64 32` prints)")
	}
	defer clear(raw)
	if len(raw) != kekSize {
		return KEK{}, fmt.Errorf("kek: must encode %d bytes, got %d", kekSize, len(raw))
	}
	return newKEK(raw)
}

func newKEK(raw []byte) (KEK, error) {
	block, err := aes.NewCipher(raw)
	if err != nil {
		return KEK{}, errors.New("kek: cannot build AES-256 cipher")
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return KEK{}, errors.New("kek: cannot build AES-GCM")
	}
	return KEK{aead: aead}, nil
}

// LoadKEK reads the KEK file at path. It refuses a file that group or others
// may read or write (mode & 0o077 != 0): run `chmod 600` on it.
func LoadKEK(path string) (KEK, error) {
	f, err := os.Open(path)
	if err != nil {
		return KEK{}, fmt.Errorf("kek file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return KEK{}, fmt.Errorf("kek file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return KEK{}, fmt.Errorf("kek file %s: not a regular file", path)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return KEK{}, fmt.Errorf("kek file %s: mode %04o lets group or others access it; run `chmod 600 %s`", path, perm, path)
	}
	// A valid file is 45 bytes; read a little more to tell "too long" apart.
	b, err := io.ReadAll(io.LimitReader(f, 256))
	if err != nil {
		return KEK{}, fmt.Errorf("kek file %s: %w", path, err)
	}
	defer clear(b)
	k, err := ParseKEK(b)
	if err != nil {
		return KEK{}, fmt.Errorf("kek file %s: %w", path, err)
	}
	return k, nil
}

// EnsureKEK loads the KEK file at path, or, when it does not exist, generates
// 32 random bytes and writes them there (standard base64, one line) with mode
// 0600, creating the parent directory with mode 0700 if needed. created
// reports whether the file was generated. The file is created exclusively, so
// two processes starting together end up with the same KEK.
func EnsureKEK(path string) (k KEK, created bool, err error) {
	k, err = LoadKEK(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return k, false, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return KEK{}, false, fmt.Errorf("kek file: %w", err)
	}
	raw := make([]byte, kekSize)
	defer clear(raw)
	if _, err := rand.Read(raw); err != nil {
		return KEK{}, false, fmt.Errorf("kek: generate: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		// Another process created it first: use that one.
		k, err = LoadKEK(path)
		return k, false, err
	}
	if err != nil {
		return KEK{}, false, fmt.Errorf("kek file: %w", err)
	}
	line := []byte(base64.StdEncoding.EncodeToString(raw) + "\n")
	defer clear(line)
	_, werr := f.Write(line)
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		// Leave no half-written KEK behind for the next start to trip on.
		os.Remove(path)
		return KEK{}, false, fmt.Errorf("kek file %s: write: %w", path, werr)
	}
	k, err = newKEK(raw)
	return k, err == nil, err
}

// String returns "[redacted]".
func (KEK) String() string { return redacted }

// GoString returns "[redacted]", for %#v.
func (KEK) GoString() string { return redacted }

// Format prints "[redacted]" for every verb, so no fmt form shows the key.
func (KEK) Format(f fmt.State, _ rune) { io.WriteString(f, redacted) }

// LogValue makes log/slog print "[redacted]".
func (KEK) LogValue() slog.Value { return slog.StringValue(redacted) }

// errMarshalKEK is returned by every marshalling method of KEK.
var errMarshalKEK = errors.New("kek: a key-encryption key cannot be marshalled")

// MarshalJSON fails: a KEK never leaves the process.
func (KEK) MarshalJSON() ([]byte, error) { return nil, errMarshalKEK }

// MarshalText fails: a KEK never leaves the process.
func (KEK) MarshalText() ([]byte, error) { return nil, errMarshalKEK }

// MarshalBinary fails: a KEK never leaves the process.
func (KEK) MarshalBinary() ([]byte, error) { return nil, errMarshalKEK }

// ErrUnseal reports a sealed private key that the KEK does not open: the
// KEK is not the one that sealed it, or the record was damaged or moved.
var ErrUnseal = errors.New("wrong KEK or a damaged or moved record")

// errNoKEK reports a zero KEK.
var errNoKEK = errors.New("kek: no key-encryption key loaded")

// sealAD is the additional data that binds a sealed key to its record.
func sealAD(issuer, kid string) []byte {
	return []byte("certd/keys/v1\x00" + issuer + "\x00" + kid)
}

// secretAD is the additional data that binds a sealed secret to its record:
// another prefix than sealAD's, so a sealed secret never opens as a key.
func secretAD(kind, id string) []byte {
	return []byte("certd/secret/v1\x00" + kind + "\x00" + id)
}

// seal encrypts a private key for the record (issuer, kid): a random nonce
// followed by the AES-256-GCM ciphertext and tag.
func (k KEK) seal(issuer, kid string, plain []byte) ([]byte, error) {
	sealed, err := k.sealAD(sealAD(issuer, kid), plain)
	if err != nil {
		return nil, fmt.Errorf("seal key %s: %w", kid, err)
	}
	return sealed, nil
}

// open decrypts what seal produced for the same (issuer, kid).
func (k KEK) open(issuer, kid string, sealed []byte) ([]byte, error) {
	plain, err := k.openAD(sealAD(issuer, kid), sealed)
	if err != nil {
		return nil, fmt.Errorf("unseal key %s of issuer %s: %w", kid, issuer, err)
	}
	return plain, nil
}

// SealSecret encrypts a secret that certd must read back but a copy of the
// store must not reveal (a webhook's signing secret), bound to its record:
// kind names the record type ("webhook") and id the record. The result is
// nonce || AES-256-GCM ciphertext || tag; it opens only with OpenSecret of
// the same KEK, kind and id.
func (k KEK) SealSecret(kind, id string, plain []byte) ([]byte, error) {
	sealed, err := k.sealAD(secretAD(kind, id), plain)
	if err != nil {
		return nil, fmt.Errorf("seal %s secret %s: %w", kind, id, err)
	}
	return sealed, nil
}

// OpenSecret decrypts what SealSecret produced for the same kind and id;
// another KEK, kind or id, or a damaged value, gives an error matching
// ErrUnseal. Errors never quote the secret.
func (k KEK) OpenSecret(kind, id string, sealed []byte) ([]byte, error) {
	plain, err := k.openAD(secretAD(kind, id), sealed)
	if err != nil {
		return nil, fmt.Errorf("unseal %s secret %s: %w", kind, id, err)
	}
	return plain, nil
}

func (k KEK) sealAD(ad, plain []byte) ([]byte, error) {
	if k.aead == nil {
		return nil, errNoKEK
	}
	nonce := make([]byte, k.aead.NonceSize(), k.aead.NonceSize()+len(plain)+k.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("nonce: %w", err)
	}
	return k.aead.Seal(nonce, nonce, plain, ad), nil
}

func (k KEK) openAD(ad, sealed []byte) ([]byte, error) {
	if k.aead == nil {
		return nil, errNoKEK
	}
	n := k.aead.NonceSize()
	if len(sealed) < n+k.aead.Overhead() {
		return nil, fmt.Errorf("sealed value too short: %w", ErrUnseal)
	}
	plain, err := k.aead.Open(nil, sealed[:n], sealed[n:], ad)
	if err != nil {
		return nil, ErrUnseal
	}
	return plain, nil
}
