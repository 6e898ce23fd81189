package notify

import (
	"context"
	"errors"
	"fmt"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/store"
)

// SecretBox seals webhook signing secrets at rest (keys.KEK is one): an
// AEAD under the deployment's key-encryption key, bound to the kind of
// record and its id, so that a copy of the database does not reveal the
// secrets and a sealed secret copied to another webhook does not open.
type SecretBox interface {
	SealSecret(kind, id string, plain []byte) ([]byte, error)
	OpenSecret(kind, id string, sealed []byte) ([]byte, error)
}

// secretKind names webhook records in the sealed secret's associated data.
const secretKind = "webhook"

// errNoSecretBox reports a use case wired without a SecretBox: certd
// stores no plaintext secret rather than quietly doing so.
var errNoSecretBox = errors.New("webhook secrets cannot be sealed: no key-encryption key")

// seal stores w's plaintext Secret as SealedSecret and clears Secret.
func seal(box SecretBox, w *cert.Webhook) error {
	if box == nil {
		return errNoSecretBox
	}
	sealed, err := box.SealSecret(secretKind, w.ID, []byte(w.Secret))
	if err != nil {
		return err
	}
	w.SealedSecret, w.Secret = sealed, ""
	return nil
}

// OpenSecret returns the signing secret of a stored webhook: its
// SealedSecret opened with box, or the plaintext Secret of a record that
// has not been sealed yet (stored before sealing, and SealSecrets not yet
// run).
func OpenSecret(box SecretBox, w *cert.Webhook) (string, error) {
	if len(w.SealedSecret) == 0 {
		if w.Secret == "" {
			return "", fmt.Errorf("webhook %s has no signing secret", w.ID)
		}
		return w.Secret, nil
	}
	if box == nil {
		return "", fmt.Errorf("webhook %s: %w", w.ID, errNoSecretBox)
	}
	plain, err := box.OpenSecret(secretKind, w.ID, w.SealedSecret)
	if err != nil {
		return "", err
	}
	return string(plain), nil
}

// SealSecrets seals the plaintext secrets of webhooks stored before
// secrets were sealed, and returns how many it sealed. It is idempotent
// and safe on several instances at once: each secret is replaced by one
// conditional write, and a secret another instance sealed first is
// skipped.
func SealSecrets(ctx context.Context, st store.Webhooks, box SecretBox) (int, error) {
	if box == nil {
		return 0, errNoSecretBox
	}
	hooks, err := st.Webhooks(ctx, "")
	if err != nil {
		return 0, fmt.Errorf("list webhooks: %w", err)
	}
	n := 0
	for _, w := range hooks {
		if w.Secret == "" {
			continue
		}
		sealed, err := box.SealSecret(secretKind, w.ID, []byte(w.Secret))
		if err != nil {
			return n, err
		}
		switch err := st.SealWebhookSecret(ctx, w.ID, w.Secret, sealed); {
		case err == nil:
			n++
		case errors.Is(err, store.ErrConflict), errors.Is(err, store.ErrNotFound):
			// Sealed by another instance, or deleted meanwhile.
		default:
			return n, fmt.Errorf("seal the secret of webhook %s: %w", w.ID, err)
		}
	}
	return n, nil
}
