package issuer

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/store"
)

// Status lists from the store's status index (store.StatusIndex).
//
// Every certificate write stores, atomically with the certificate, its
// mark: the bits it has at the write, and the watch instant from which
// time alone may change them (the first later change that StatusAt derives
// from the same events: a window closing without an audit, a suspension
// limit, an expiry that clears a suspension bit, a future-dated event).
// A rebuild then reads, instead of every certificate of the issuer:
//   - the list numbers in use (one index seek per list);
//   - the positions whose mark has a bit set;
//   - the certificates whose watch instant has passed ("due"): their
//     bits are derived again with StatusAt at the rebuild, exactly as the
//     full read does. They stay due until a write marks them again; the
//     periodic sweep (SweepDerived) is such a write, as it records the
//     derived change, so their number is bounded by what changed since
//     the last sweep.
//
// The marks are therefore never less correct than a full read at the same
// instant: a certificate whose bits could have changed since its last
// write is read and derived. Marks depend on the scheme rules; their tag
// names the rules, and PrepareIndex marks every certificate again (one
// full read, at start, in the background) when the tag stored differs or
// none is, as after an upgrade. Until then, rebuilds read every
// certificate as before.

// statusMarkVersion changes whenever statusMark computes differently.
// Version 2 adds the sweep instant.
const statusMarkVersion = "statusmark/2"

// farFuture bounds the walk that finds a certificate's future changes;
// every walk ends earlier, at the certificate's expiry.
var farFuture = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

// statusMark is the mark of c at now: its bits, and the first later
// instant at which the bits differ with no further event.
func statusMark(c *cert.Certificate, s *cert.Scheme, now time.Time) store.StatusMark {
	// One walk to the end of the certificate's life: the changes up to now
	// are those StatusAt(c, s, now) makes (the walk is the same), so the
	// last of them is the status at now.
	changes := cert.StatusAt(c, s, farFuture).Changes
	cur, i := cert.StatusActive, 0
	for ; i < len(changes) && !changes[i].At.After(now); i++ {
		cur = changes[i].Status
	}
	var m store.StatusMark
	m.Revoked, m.Suspended = bitsOf(c, cur, now)
	for _, ch := range changes[i:] {
		r, su := bitsOf(c, ch.Status, ch.At)
		if r != m.Revoked || su != m.Suspended {
			m.Watch = ch.At
			break
		}
	}
	m.Sweep = sweepInstant(c, changes, now)
	if linkToCheck(c) {
		// Due at once: the link on the superseded certificate may be
		// missing (SweepDerived checks it and then defers the sweep).
		at := c.CreatedAt
		if at.IsZero() || at.After(now) {
			at = now
		}
		if m.Sweep.IsZero() || at.Before(m.Sweep) {
			m.Sweep = at
		}
	}
	return m
}

// sweepInstant is the first instant at which SweepDerived has a change
// of c to record, given the changes of c's whole life (StatusAt at
// farFuture, whose changes up to any instant are those StatusAt makes at
// that instant): the first time-derived change its events do not record,
// or an event dated after now, from which on the changes may differ
// (looked at again then, to be safe). Zero when there is none.
func sweepInstant(c *cert.Certificate, changes []cert.Change, now time.Time) time.Time {
	var at time.Time
	earlier := func(t time.Time) {
		if at.IsZero() || t.Before(at) {
			at = t
		}
	}
	for ch := range unrecordedDerived(c, changes) {
		earlier(ch.At)
		break
	}
	for _, e := range c.Events {
		if !e.Derived() && e.At.After(now) {
			earlier(e.At)
		}
	}
	return at
}

// nextSweep is the sweep instant of c at now without its link check: the
// instant SweepDerived defers c to once it found nothing to write.
func nextSweep(c *cert.Certificate, s *cert.Scheme, now time.Time) time.Time {
	return sweepInstant(c, cert.StatusAt(c, s, farFuture).Changes, now)
}

// linkToCheck reports whether c was made by a renewal or revision, whose
// link on the certificate it supersedes is a second write that may be
// missing (repairLink).
func linkToCheck(c *cert.Certificate) bool {
	return c.Supersedes != "" && c.IdempotencyKey == successorKey(c.Supersedes)
}

// markerTag names the marker's rules: its version and the schemes.
func markerTag(schemes cert.Schemes) string {
	b, err := json.Marshal(schemes)
	if err != nil {
		// Schemes are plain data; should they ever fail to encode, a tag
		// that matches no stored one makes PrepareIndex reindex.
		b = []byte(err.Error())
	}
	sum := sha256.Sum256(b)
	return statusMarkVersion + " " + hex.EncodeToString(sum[:12])
}

func (l *StatusLists) mark(c *cert.Certificate) store.StatusMark {
	return statusMark(c, l.schemes[c.Scheme], l.now())
}

// PrepareIndex makes rebuilds use the store's status index: when the
// marks in the store were not all computed with the rules of this
// instance (first start after an upgrade, scheme rules changed), it marks
// every certificate again first. Until it returns nil, lists are derived
// from a read of every certificate. Without a status index it does
// nothing.
func (l *StatusLists) PrepareIndex(ctx context.Context) error {
	if l.index == nil {
		return nil
	}
	tag, err := l.index.StatusMarkerTag(ctx)
	if err != nil {
		return fmt.Errorf("read status marker tag: %w", err)
	}
	if tag != l.tag {
		l.index.SetStatusMarker(l.tag, l.mark)
		if err := l.index.ReindexStatus(ctx); err != nil {
			return fmt.Errorf("reindex status marks: %w", err)
		}
	}
	l.indexed.Store(true)
	return nil
}

// Indexed reports whether rebuilds use the store's status index.
func (l *StatusLists) Indexed() bool { return l.indexed.Load() }

// rebuildIndexed fills s with the issuer's lists at now from the status
// index: marked bits, then the due certificates derived again.
func (l *StatusLists) rebuildIndexed(ctx context.Context, issuer string, s *snapshot, now time.Time) error {
	view, err := l.index.StatusView(ctx, issuer, now)
	if err != nil {
		return fmt.Errorf("status index of %s: %w", issuer, err)
	}
	for _, n := range view.Lists {
		if n >= 1 {
			s.list(n)
		}
	}
	for _, e := range view.Marked {
		if e.List < 1 || e.Index < 0 || e.Index >= cert.StatusListSize {
			continue
		}
		lb := s.list(e.List)
		if e.Revoked {
			setBit(lb[0].bits, e.Index)
		}
		if e.Suspended {
			setBit(lb[1].bits, e.Index)
		}
	}
	for _, c := range view.Due {
		if c.StatusList < 1 || c.StatusIndex < 0 || c.StatusIndex >= cert.StatusListSize {
			continue
		}
		lb := s.list(c.StatusList)
		revoked, suspended := statusBits(c, l.schemes[c.Scheme], now)
		putBit(lb[0].bits, c.StatusIndex, revoked)
		putBit(lb[1].bits, c.StatusIndex, suspended)
	}
	return nil
}

// list returns list n of s, empty when new.
func (s *snapshot) list(n int) *[len(purposes)]*listBits {
	lb := s.lists[n]
	if lb == nil {
		lb = &[len(purposes)]*listBits{}
		for p := range lb {
			lb[p] = &listBits{bits: make([]byte, cert.StatusListSize/8)}
		}
		s.lists[n] = lb
	}
	return lb
}

func putBit(bits []byte, i int, on bool) {
	if on {
		setBit(bits, i)
	} else {
		bits[i/8] &^= 0x80 >> (i % 8)
	}
}
