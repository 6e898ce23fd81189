package keys

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"sync"

	"github.com/certd/certd/cert"
)

// Header values of every credential certd signs (DESIGN.md section 5).
const (
	typVC = "vc+jwt"
	ctyVC = "vc"
)

// Sign signs payload, as given, with the issuer's active key and returns the
// compact JWS and the kid. The protected header is exactly
// {"alg":"EdDSA"|"ES256","kid":"<kid>","typ":"vc+jwt","cty":"vc"}. The ring
// is read from the store on every call, so a rotation made by another
// instance signs the next credential; the decrypted key is cached by kid.
func (s *Service) Sign(ctx context.Context, issuer string, payload []byte) (token, kid string, err error) {
	toks, kid, err := s.signMany(ctx, issuer, [][]byte{payload}, MaxTokenSize)
	if err != nil {
		return "", "", err
	}
	return toks[0], kid, nil
}

// CheckSigning reads the issuer's ring from the store and makes sure its
// active key can sign: that it exists and that the KEK unseals it (once;
// the unsealed key is cached by kid, so later checks cost one store read).
// An error matching ErrUnseal means the KEK is not the one that sealed the
// key.
func (s *Service) CheckSigning(ctx context.Context, issuer string) error {
	r, err := s.rings.KeyRing(ctx, issuer)
	if err != nil {
		return fmt.Errorf("load key ring %s: %w", issuer, err)
	}
	a := r.Active()
	if a == nil {
		return fmt.Errorf("key ring of %s has no active key: %w", issuer, cert.ErrNotFound)
	}
	if _, err := s.signerFor(issuer, a); err != nil {
		return fmt.Errorf("signing key of %s: %w", issuer, err)
	}
	return nil
}

// MaxListTokenSize bounds a signed status list: a 131,072-entry list is
// 16 KiB before compression, so even an incompressible one fits.
const MaxListTokenSize = 64 << 10

// SignStatusList signs a status list credential like Sign; the payload may
// be larger than a certificate credential, up to MaxListTokenSize signed.
func (s *Service) SignStatusList(ctx context.Context, issuer string, payload []byte) (token, kid string, err error) {
	toks, kid, err := s.signMany(ctx, issuer, [][]byte{payload}, MaxListTokenSize)
	if err != nil {
		return "", "", err
	}
	return toks[0], kid, nil
}

// SignMany signs every payload with the issuer's active key after one read of
// the ring; tokens[i] is the token of payloads[i]. A payload that is empty,
// or so large that its token would exceed MaxTokenSize, fails the batch with
// an error matching cert.ErrInvalid.
func (s *Service) SignMany(ctx context.Context, issuer string, payloads [][]byte) (tokens []string, kid string, err error) {
	return s.signMany(ctx, issuer, payloads, MaxTokenSize)
}

func (s *Service) signMany(ctx context.Context, issuer string, payloads [][]byte, limit int) (tokens []string, kid string, err error) {
	for i, p := range payloads {
		if err := checkPayload(p, limit); err != nil {
			if len(payloads) > 1 {
				return nil, "", cert.Invalid("payloads["+strconv.Itoa(i)+"]", err.Error())
			}
			return nil, "", cert.Invalid("payload", err.Error())
		}
	}
	r, err := s.rings.KeyRing(ctx, issuer)
	if err != nil {
		return nil, "", fmt.Errorf("sign for %s: load key ring: %w", issuer, err)
	}
	a := r.Active()
	if a == nil {
		return nil, "", fmt.Errorf("sign for %s: key ring has no active key: %w", issuer, cert.ErrNotFound)
	}
	sg, err := s.signerFor(issuer, a)
	if err != nil {
		return nil, "", fmt.Errorf("sign for %s: %w", issuer, err)
	}
	tokens, err = sg.tokens(payloads)
	if err != nil {
		return nil, "", fmt.Errorf("sign for %s: %w", issuer, err)
	}
	return tokens, sg.kid, nil
}

// parallelFrom is the batch size from which signing is spread over the
// cores (a signature costs tens of microseconds; goroutines cost less).
const parallelFrom = 32

// tokens signs every payload, on all cores for a large batch.
func (sg *signer) tokens(payloads [][]byte) ([]string, error) {
	tokens := make([]string, len(payloads))
	workers := min(runtime.GOMAXPROCS(0), len(payloads)/parallelFrom+1)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(payloads); i += workers {
				t, err := sg.token(payloads[i])
				if err != nil {
					errs[w] = err
					return
				}
				tokens[i] = t
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return tokens, nil
}

// token builds the compact JWS of payload.
func (sg *signer) token(payload []byte) (string, error) {
	enc := base64.RawURLEncoding
	sigLen := enc.EncodedLen(64)
	buf := make([]byte, 0, len(sg.header)+enc.EncodedLen(len(payload))+1+sigLen)
	buf = append(buf, sg.header...)
	buf = enc.AppendEncode(buf, payload)
	sig, err := sg.sign(buf)
	if err != nil {
		return "", err
	}
	buf = append(buf, '.')
	buf = enc.AppendEncode(buf, sig)
	return string(buf), nil
}

// checkPayload refuses what would give a token Verify rejects.
func checkPayload(p []byte, limit int) error {
	if len(p) == 0 {
		return fmt.Errorf("must not be empty")
	}
	// Header (at most ~130 characters) and signature (86) leave the rest.
	if base64.RawURLEncoding.EncodedLen(len(p)) > limit-256 {
		return fmt.Errorf("too large: a signed token may be at most %d bytes", limit)
	}
	return nil
}
