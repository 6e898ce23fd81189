package issuer

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"strconv"
	"sync"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/store"
)

// Time-derived changes (a window closing without an audit, a suspension
// reaching its limit, expiry) happen without a request. cert.StatusAt
// derives them from the events whenever the status is read; the functions
// here also record them in the audit trail, as cert.EventStatusChanged
// events by cert.SystemActor.
//
// Each derived change has an identity, its instant and reason (the reason
// determines the status), so every instance can compute which records are
// missing. Records are appended with the store's optimistic concurrency:
// when two instances race, one write wins and the other re-reads, finds the
// records there and writes nothing. A change is recorded once, and no event
// of a concurrent action is lost.

// sweepPage is how many certificates SweepDerived reads at once.
const sweepPage = 500

// sweepWorkers is how many due certificates SweepDerived writes at once.
const sweepWorkers = 8

// derivedKey is the identity of a derived change.
func derivedKey(e cert.Event) string {
	return strconv.FormatInt(e.At.UnixNano(), 10) + "|" + e.Reason
}

// missingDerived returns the derived changes of c up to now that c's
// events do not record yet, as events to append.
func (s *Service) missingDerived(c *cert.Certificate) []cert.Event {
	now := s.now()
	var out []cert.Event
	for ch := range unrecordedDerived(c, cert.StatusAt(c, s.schemes[c.Scheme], now).Changes) {
		e := cert.Event{Type: cert.EventStatusChanged, At: ch.At, RecordedAt: now, Actor: cert.SystemActor, Reason: ch.Reason, Status: ch.Status}
		if ch.Code != nil {
			e.ReasonCode = ch.Code.Code
		}
		out = append(out, e)
	}
	return out
}

// unrecordedDerived yields, in order, the time-derived changes among
// changes that c's events do not record (EventStatusChanged of the same
// instant and reason), each once.
func unrecordedDerived(c *cert.Certificate, changes []cert.Change) iter.Seq[cert.Change] {
	return func(yield func(cert.Change) bool) {
		var recorded map[string]bool
		for _, ch := range changes {
			if !ch.Derived {
				continue
			}
			if recorded == nil {
				recorded = map[string]bool{}
				for _, e := range c.Events {
					if e.Derived() {
						recorded[derivedKey(e)] = true
					}
				}
			}
			if k := derivedKey(cert.Event{At: ch.At, Reason: ch.Reason}); !recorded[k] {
				recorded[k] = true
				if !yield(ch) {
					return
				}
			}
		}
	}
}

// RecordDerived records the time-derived changes of the certificate id
// that its audit trail lacks and returns how many it added. It is safe to
// run on several instances at once: each change is recorded once.
func (s *Service) RecordDerived(ctx context.Context, id string) (recorded int, err error) {
	c, err := s.st.Certificate(ctx, id)
	if err != nil {
		return 0, fmt.Errorf("load certificate %s: %w", id, err)
	}
	return s.recordDerived(ctx, c)
}

// recordDerived is RecordDerived on a certificate already read; on a
// version conflict it re-reads and recomputes.
func (s *Service) recordDerived(ctx context.Context, c *cert.Certificate) (int, error) {
	id := c.ID
	for attempt := 1; ; attempt++ {
		missing := s.missingDerived(c)
		if len(missing) == 0 {
			return 0, nil
		}
		for _, e := range missing {
			c.Append(e)
		}
		err := s.st.UpdateCertificate(ctx, c)
		if err == nil {
			return len(missing), nil
		}
		if !errors.Is(err, cert.ErrConflict) || attempt == maxAttempts {
			return 0, fmt.Errorf("record derived changes of %s: %w", id, err)
		}
		if err := backoff(ctx, attempt); err != nil {
			return 0, err
		}
		if c, err = s.st.Certificate(ctx, id); err != nil {
			return 0, fmt.Errorf("reload certificate %s: %w", id, err)
		}
	}
}

// SweepDerived pages through the certificates of an issuer (of every
// issuer when issuer is "") and records their missing time-derived changes;
// it returns how many events it added. It also finishes the link of a
// renewal or revision whose old certificate was not updated (the process
// stopped between the two writes). certd runs it periodically on every
// instance. An error on one certificate does not stop the sweep; the
// errors are returned together.
//
// With the status index of Config.StatusLists ready, it reads only the
// certificates whose sweep instant has come (statusmark.go): those with a
// derived change to record, or a link to check. One that needed no write
// has its sweep instant moved to its next one; one it wrote was marked
// again by that write. Otherwise it reads every certificate.
func (s *Service) SweepDerived(ctx context.Context, issuer string) (recorded int, err error) {
	if l := s.lists; l != nil && l.index != nil && l.Indexed() {
		return s.sweepDue(ctx, l.index, issuer)
	}
	return s.sweepAll(ctx, issuer)
}

// sweepAll is SweepDerived by a read of every certificate.
func (s *Service) sweepAll(ctx context.Context, issuer string) (recorded int, err error) {
	var errs []error
	// Nothing of a page is kept once it is done (an id kept would keep its
	// whole decoded record alive): the sweep's memory must not grow with
	// the number of certificates.
	q := store.Query{Issuer: issuer, Limit: sweepPage}
	for {
		page, next, err := s.st.ListCertificates(ctx, q)
		if err != nil {
			return recorded, errors.Join(append(errs, fmt.Errorf("list certificates: %w", err))...)
		}
		for _, c := range page {
			if err := ctx.Err(); err != nil {
				return recorded, errors.Join(append(errs, err)...)
			}
			n, _, err := s.sweepOne(ctx, c)
			recorded += n
			if err != nil {
				errs = append(errs, err)
				if len(errs) >= 10 {
					return recorded, errors.Join(append(errs, errors.New("stopped after 10 errors"))...)
				}
			}
		}
		if next == "" {
			return recorded, errors.Join(errs...)
		}
		q.Cursor = next
	}
}

// sweepDue is SweepDerived from the status index: the certificates whose
// sweep instant is at or before now, of every issuer (those of another
// issuer than the one asked for are left due).
func (s *Service) sweepDue(ctx context.Context, idx store.StatusIndex, issuer string) (recorded int, err error) {
	var errs []error
	now := s.now()
	cursor := ""
	for {
		page, next, err := idx.SweepDue(ctx, now, cursor, sweepPage)
		if err != nil {
			return recorded, errors.Join(append(errs, fmt.Errorf("certificates due for the sweep: %w", err))...)
		}
		// The certificates of a page are independent writes (each one's
		// own, under optimistic concurrency, as with several instances):
		// a few at a time, so that the store can commit them together.
		var (
			mu   sync.Mutex
			wg   sync.WaitGroup
			slot = make(chan struct{}, sweepWorkers)
		)
		for _, c := range page {
			if issuer != "" && c.Issuer != issuer {
				continue
			}
			slot <- struct{}{}
			mu.Lock()
			stop := len(errs) >= 10
			mu.Unlock()
			if stop || ctx.Err() != nil {
				<-slot
				break
			}
			wg.Add(1)
			go func() {
				defer func() { <-slot; wg.Done() }()
				n, wrote, err := s.sweepOne(ctx, c)
				if err == nil && !wrote {
					// Nothing to write (its link was there, or made on
					// the other certificate): due again at its next
					// instant.
					err = idx.DeferSweep(ctx, c.ID, c.Version, nextSweep(c, s.schemes[c.Scheme], s.now()))
				}
				mu.Lock()
				defer mu.Unlock()
				recorded += n
				if err != nil {
					errs = append(errs, err)
				}
			}()
		}
		wg.Wait()
		if err := ctx.Err(); err != nil {
			return recorded, errors.Join(append(errs, err)...)
		}
		if len(errs) >= 10 {
			return recorded, errors.Join(append(errs, errors.New("stopped after 10 errors"))...)
		}
		if next == "" {
			return recorded, errors.Join(errs...)
		}
		cursor = next
	}
}

// sweepOne finishes the link of c when it is a successor whose
// predecessor lacks it, and records c's missing derived changes; it
// returns how many events it added and whether it wrote c.
func (s *Service) sweepOne(ctx context.Context, c *cert.Certificate) (recorded int, wrote bool, err error) {
	var errs []error
	// A successor made by renew or revise carries its predecessor's
	// successor key; repairLink reads the predecessor and links it when
	// the second write was lost.
	if linkToCheck(c) {
		n, err := s.repairLink(ctx, c)
		recorded += n
		if err != nil {
			errs = append(errs, err)
		}
	}
	n, err := s.recordDerived(ctx, c)
	recorded += n
	if err != nil {
		errs = append(errs, err)
	}
	return recorded, n > 0, errors.Join(errs...)
}

// repairLink makes sure the certificate next supersedes is linked to it.
func (s *Service) repairLink(ctx context.Context, next *cert.Certificate) (int, error) {
	old, err := s.st.Certificate(ctx, next.Supersedes)
	if err != nil {
		return 0, fmt.Errorf("load certificate %s superseded by %s: %w", next.Supersedes, next.ID, err)
	}
	if old.SupersededBy != "" || next.IdempotencyKey != successorKey(old.ID) {
		return 0, nil
	}
	// The predecessor's own derived changes up to now first, as a sweep
	// in the order of creation records them before it reaches the
	// successor: the link ends the predecessor's life and with it the
	// changes that would follow.
	n, err := s.recordDerived(ctx, old)
	if err != nil {
		return n, err
	}
	if err := s.link(ctx, old, next); err != nil {
		return n, err
	}
	return n + 1, nil
}
