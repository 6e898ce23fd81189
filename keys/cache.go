package keys

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/certd/certd/cert"
)

// ringTTL is how long a cached ring serves verification before it is read
// again, so a revocation made by another instance is seen within about this
// long. A kid missing from the cached ring always causes a read, so a key
// made by a rotation on another instance verifies at once.
const ringTTL = time.Second

// ringView is an immutable snapshot of one issuer's ring for verification
// and publication.
type ringView struct {
	version int64
	fetched time.Time
	// readSeq is the number of the store read that produced the view (see
	// ringCache.reads), 0 for a view published after a local write.
	readSeq uint64
	keys    map[string]viewKey
	// byHeader maps the encoded header certd writes for each key to it.
	byHeader map[string]viewKey
	// order lists the kids as the ring stores them (creation order).
	order []string
}

// viewKey is one key of a view: its current state and its parsed public key.
type viewKey struct {
	state cert.KeyState
	pub   *PublicKey
}

// ringCache holds the current view of one issuer.
type ringCache struct {
	view atomic.Pointer[ringView]
	// sem serializes store reads of this issuer's ring, so a burst of
	// tokens with unknown kids costs one read, not one each.
	sem chan struct{}
	// reads numbers the store reads started, under sem.
	reads atomic.Uint64
	// failed is the last read that failed, if any.
	failed atomic.Pointer[failedRead]
}

// failedRead is a store read of a ring that failed: callers that were
// waiting when it started take its error rather than each reading again
// in turn, so that on a database that does not answer every call fails
// after about two store timeouts, not after one per caller queued ahead.
type failedRead struct {
	seq uint64
	err error
}

// cachedRing returns a view of the issuer's ring that is younger than
// ringTTL and, when kid is not "", that was read after the call started if
// the kid is not in it. Store errors pass through wrapped; a caller that
// waited for a read that started after it arrived and failed gets that
// read's error.
func (s *Service) cachedRing(ctx context.Context, issuer, kid string) (*ringView, error) {
	c := s.ringCache(issuer)
	v := c.view.Load()
	if v != nil && s.fresh(v) && (kid == "" || v.has(kid)) {
		return v, nil
	}
	// Any read numbered above seen started after this point.
	seen := c.reads.Load()
	select {
	case c.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("load key ring %s: %w", issuer, ctx.Err())
	}
	defer func() { <-c.sem }()
	if v := c.view.Load(); v != nil && s.fresh(v) && (kid == "" || v.has(kid) || v.readSeq > seen) {
		return v, nil
	}
	if f := c.failed.Load(); f != nil && f.seq > seen {
		return nil, f.err
	}
	seq := c.reads.Add(1)
	fetched := s.now()
	r, err := s.rings.KeyRing(ctx, issuer)
	if err != nil {
		err = fmt.Errorf("load key ring %s: %w", issuer, err)
		if ctx.Err() == nil {
			// Not this caller's own deadline or cancellation: the store's.
			c.failed.Store(&failedRead{seq: seq, err: err})
		}
		if c.view.Load() == nil {
			// Keep no entry per issuer name a token made up.
			s.caches.CompareAndDelete(issuer, c)
		}
		return nil, err
	}
	nv, err := s.buildView(r, fetched, seq)
	if err != nil {
		return nil, err
	}
	return c.publish(nv, &s.changes), nil
}

// ringCache returns the cache entry of an issuer, creating it.
func (s *Service) ringCache(issuer string) *ringCache {
	if c, ok := s.caches.Load(issuer); ok {
		return c.(*ringCache)
	}
	c, _ := s.caches.LoadOrStore(issuer, &ringCache{sem: make(chan struct{}, 1)})
	return c.(*ringCache)
}

// fresh reports whether v may still serve. A clock that went back makes
// every view stale.
func (s *Service) fresh(v *ringView) bool {
	age := s.now().Sub(v.fetched)
	return age >= 0 && age < ringTTL
}

func (v *ringView) has(kid string) bool {
	_, ok := v.keys[kid]
	return ok
}

// publish makes nv the current view unless a newer ring version is already
// there, and returns the view now current.
// A view of another version than the one it replaces counts in changes.
func (c *ringCache) publish(nv *ringView, changes *atomic.Uint64) *ringView {
	for {
		cur := c.view.Load()
		if cur != nil && cur.version > nv.version {
			return cur
		}
		if c.view.CompareAndSwap(cur, nv) {
			if cur == nil || cur.version != nv.version {
				changes.Add(1)
			}
			return nv
		}
	}
}

// Changes counts the changes of the key rings this Service has seen: it
// grows when a ring of another version than the cached one is taken into
// use (after a write here, or read from the store), after the new view is
// in place. A verdict judged while the count stays the same saw the key
// states this Service answers now.
func (s *Service) Changes() uint64 { return s.changes.Load() }

// noteWritten publishes a ring this instance has just stored.
func (s *Service) noteWritten(r *cert.KeyRing) {
	v, err := s.buildView(r, s.now(), 0)
	if err != nil {
		// The next read rebuilds it and reports the error then.
		s.caches.Delete(r.Issuer)
		s.changes.Add(1)
		return
	}
	s.ringCache(r.Issuer).publish(v, &s.changes)
}

// buildView parses a ring into a view, reusing parsed public keys.
func (s *Service) buildView(r *cert.KeyRing, fetched time.Time, seq uint64) (*ringView, error) {
	v := &ringView{version: r.Version, fetched: fetched, readSeq: seq,
		keys: make(map[string]viewKey, len(r.Keys)), byHeader: make(map[string]viewKey, len(r.Keys)),
		order: make([]string, 0, len(r.Keys))}
	for i := range r.Keys {
		rec := &r.Keys[i]
		p, err := s.public(r.Issuer, rec)
		if err != nil {
			return nil, fmt.Errorf("key ring %s: %w", r.Issuer, err)
		}
		k := viewKey{state: rec.State, pub: p}
		v.keys[rec.Kid] = k
		v.byHeader[p.header] = k
		v.order = append(v.order, rec.Kid)
	}
	return v, nil
}

// public returns the parsed public key of rec, from the cache when this
// (issuer, kid) was parsed before. A kid is the thumbprint of its key,
// checked when parsed, so the entry never goes stale.
func (s *Service) public(issuer string, rec *cert.KeyRecord) (*PublicKey, error) {
	ck := issuer + "\x00" + rec.Kid
	if p, ok := s.pubs.Load(ck); ok {
		pk := p.(*PublicKey)
		if pk.alg == rec.Alg {
			return pk, nil
		}
	}
	p, err := parsePublic(rec)
	if err != nil {
		return nil, err
	}
	s.pubs.Store(ck, p)
	return p, nil
}

// signerFor returns the decrypted signer of the issuer's key rec, from the
// cache when it was decrypted before.
func (s *Service) signerFor(issuer string, rec *cert.KeyRecord) (*signer, error) {
	ck := issuer + "\x00" + rec.Kid
	if v, ok := s.signers.Load(ck); ok {
		sg := v.(*signer)
		if sg.alg == rec.Alg {
			return sg, nil
		}
	}
	sg, err := unseal(s.kek, issuer, rec)
	if err != nil {
		return nil, err
	}
	s.signers.Store(ck, sg)
	return sg, nil
}

// forget drops what is cached for a key (after revocation).
func (s *Service) forget(issuer, kid string) {
	s.signers.Delete(issuer + "\x00" + kid)
}
