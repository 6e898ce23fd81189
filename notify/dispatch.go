package notify

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/certd/certd/store"
)

// Dispatch enqueues the delivery of one event to every active webhook of
// the issuer that subscribes to its type, and returns how many it
// enqueued now. The delivery id comes from (eventID, webhook), so calling
// Dispatch again for the same event, after a crash or on another
// instance, enqueues nothing twice.
func Dispatch(ctx context.Context, st store.Webhooks, issuer, eventID string, m Message, now time.Time) (int, error) {
	hooks, err := st.Webhooks(ctx, issuer)
	if err != nil {
		return 0, fmt.Errorf("webhooks of %s: %w", issuer, err)
	}
	n := 0
	for _, w := range hooks {
		if !w.Active || !w.Wants(m.Type) {
			continue
		}
		d, err := NewDelivery(w, eventID, m, now)
		if err != nil {
			return n, err
		}
		switch err := st.EnqueueDelivery(ctx, d); {
		case errors.Is(err, store.ErrAlreadyExists):
		case err != nil:
			return n, fmt.Errorf("enqueue %s for webhook %s: %w", eventID, w.ID, err)
		default:
			n++
		}
	}
	return n, nil
}
