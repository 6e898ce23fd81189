package watch

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/store"
)

// MaxPerWatcher is how many watches one watcher key may keep.
const MaxPerWatcher = 10000

// Request makes an API watch: exactly one of a certificate id, a printed
// number with its issuer, or a USCC (every certificate of the
// organization, present and future).
type Request struct {
	Certificate string `json:"certificate,omitempty"`
	Number      string `json:"number,omitempty"`
	Issuer      string `json:"issuer,omitempty"`
	USCC        string `json:"uscc,omitempty"`
}

func watcherOf(p cert.Principal) error {
	if p.Role != cert.RoleWatcher || p.KeyID == "" {
		return fmt.Errorf("watchlists need a watcher key (role %q, created by an admin): %w", cert.RoleWatcher, cert.ErrForbidden)
	}
	return nil
}

// Add makes a watch for the watcher p. created is false when p already
// watches the same target (the existing watch is returned). Errors: not a
// watcher key (ErrForbidden), a request that names no or several targets
// or an unknown certificate, and the limit of MaxPerWatcher (ErrInvalid,
// naming the field).
func (s *Service) Add(ctx context.Context, p cert.Principal, req Request) (w *cert.Watch, created bool, err error) {
	if err := watcherOf(p); err != nil {
		return nil, false, err
	}
	req.Certificate, req.Number, req.Issuer = strings.TrimSpace(req.Certificate), strings.TrimSpace(req.Number), strings.TrimSpace(req.Issuer)
	req.USCC = strings.ToUpper(strings.TrimSpace(req.USCC))
	named := 0
	for _, v := range []string{req.Certificate, req.Number + req.Issuer, req.USCC} {
		if v != "" {
			named++
		}
	}
	if named != 1 {
		return nil, false, cert.Invalid("certificate", `name exactly one target: "certificate" (an id), "number" with "issuer", or "uscc"`)
	}
	w = &cert.Watch{Watcher: p.KeyID, Status: cert.WatchConfirmed}
	switch {
	case req.Certificate != "":
		id, ok := cert.NormalizeID(req.Certificate)
		if !ok {
			return nil, false, cert.Invalid("certificate", "must be a certificate id (26 characters)")
		}
		c, err := s.Store.Certificate(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return nil, false, cert.Invalid("certificate", "no certificate with this id is registered here")
		} else if err != nil {
			return nil, false, err
		}
		w.Certificate = c.ID
		w.ID = hashID("wa_", p.KeyID, "certificate", c.ID)
	case req.USCC != "":
		if err := cert.ValidateUSCC(req.USCC); err != nil {
			return nil, false, cert.Invalid("uscc", err.Error())
		}
		w.USCC = req.USCC
		w.ID = hashID("wa_", p.KeyID, "uscc", req.USCC)
	default:
		if req.Number == "" || req.Issuer == "" {
			return nil, false, cert.Invalid("number", `"number" and "issuer" go together: the printed number and the issuer id`)
		}
		c, err := s.Store.CertificateByNumber(ctx, req.Issuer, req.Number)
		if errors.Is(err, store.ErrNotFound) {
			return nil, false, cert.Invalid("number", "no certificate of this issuer has this number here")
		} else if err != nil {
			return nil, false, err
		}
		w.Certificate, w.Issuer, w.Number = c.ID, c.Issuer, c.Number
		w.ID = hashID("wa_", p.KeyID, "certificate", c.ID)
	}
	if old, err := s.Store.Watch(ctx, w.ID); err == nil {
		return old, false, nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, false, err
	}
	n, err := s.Store.CountWatches(ctx, p.KeyID)
	if err != nil {
		return nil, false, err
	}
	limit := s.MaxPerWatcher
	if limit <= 0 {
		limit = MaxPerWatcher
	}
	if n >= limit {
		return nil, false, cert.Invalid("watches", fmt.Sprintf("a watcher keeps at most %d watches and this one has %d: remove some first", limit, n))
	}
	now := s.now()
	w.CreatedAt, w.ConfirmedAt = now, &now
	if err := s.Store.CreateWatch(ctx, w); errors.Is(err, store.ErrAlreadyExists) {
		old, err := s.Store.Watch(ctx, w.ID)
		return old, false, err
	} else if err != nil {
		return nil, false, err
	}
	return w, true, nil
}

// List returns a page of the watcher's own watches, in id order, and the
// cursor of the next page ("" on the last).
func (s *Service) List(ctx context.Context, p cert.Principal, cursor string, limit int) ([]*cert.Watch, string, error) {
	if err := watcherOf(p); err != nil {
		return nil, "", err
	}
	if limit < 1 || limit > 1000 {
		limit = 100
	}
	ws, err := s.Store.WatchesOfWatcher(ctx, p.KeyID, cursor, limit+1)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(ws) > limit {
		ws, next = ws[:limit], ws[limit-1].ID
	}
	return ws, next, nil
}

// Remove deletes a watch of the watcher; another watcher's watch, or an
// e-mail subscription, does not exist for it (ErrNotFound).
func (s *Service) Remove(ctx context.Context, p cert.Principal, id string) error {
	if err := watcherOf(p); err != nil {
		return err
	}
	w, err := s.Store.Watch(ctx, id)
	if err != nil {
		return err
	}
	if w.Watcher != p.KeyID {
		return fmt.Errorf("watch %s: %w", id, cert.ErrNotFound)
	}
	return s.Store.DeleteWatch(ctx, id)
}
