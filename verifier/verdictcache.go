package verifier

import (
	"context"
	"hash/maphash"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/certd/certd/cert"
)

// The verdicts of ids are kept, so that a certificate scanned again (the
// QR code of a popular supplier, a page reloaded) is answered without
// reading and judging it again. A kept verdict is exact, not a stale
// guess; it is answered only while nothing it was made of can have
// changed:
//   - the store counts its writes (changeCounter) and the key service the
//     changes of the key rings it has seen; a verdict is kept with both
//     counts taken before it was made, and answered only while both are
//     the same. Before a kept verdict is answered, the key service is
//     asked for its key's state, which reads a ring older than its ttl
//     again (and counts a change found). A store offers the count only
//     when this process makes every change of it (bbolt); on MongoDB
//     nothing is kept, since other instances write too.
//   - time changes a verdict only at the instants of cert.NextChange; a
//     verdict is answered only before the next one, and not at all when
//     the clock went back to before it was made.
//   - the issuer's profile is read through the issuer cache, which may be
//     up to issuerTTL old: a kept verdict is answered no longer than the
//     issuer it named would have been.
//   - the verdict of a renewed or revised certificate, or of its
//     successor, shows the other one's status (or lacks it when it could
//     not be read), which time changes too: it is not kept.
// Everything else that changes a verdict is a write.
//
// The verdict of a presented token is kept with the token's claims
// (claimsCache), under the same rules. Its signature and times are checked
// on every request all the same, and the published status lists, which
// change with their ttl, are applied to a copy of the kept verdict each
// time.

// changeCounter is what a Store offers when it can tell when anything in
// it changed (see bolt.Store.Changes), and Keys when it can tell when a
// key ring changed (keys.Service.Changes).
type changeCounter interface{ Changes() uint64 }

// counts are the change counts a kept verdict was made under.
type counts struct{ store, keys, local uint64 }

// verdictShards spreads the kept verdicts over locks.
const verdictShards = 32

// verdictCache keeps at most about size verdicts, by normalized id. When a shard
// is full, an entry chosen at random makes room.
type verdictCache struct {
	store, keys changeCounter
	perShard    int
	seed        maphash.Seed
	shards      [verdictShards]verdictShard
	// local counts the changes made known to the Service itself
	// (ForgetIssuer).
	local atomic.Uint64
	// hits counts the verdicts answered from the cache, misses those
	// judged from the store while it was on.
	hits, misses atomic.Uint64
}

type verdictShard struct {
	mu sync.Mutex
	m  map[string]*keptVerdict
}

type keptVerdict struct {
	vd cert.Verdict
	// issuer and kid name the key that signed the certificate.
	issuer, kid string
	counts      counts
	// from and until bound the instants it holds for, by the Service's
	// clock; issuerUntil ends it when the issuer it named would have been
	// read again, by the clock of the issuer cache.
	from, until, issuerUntil time.Time
}

// newVerdictCache returns a cache of size verdicts, or nil when size is not
// positive or the store or keys cannot count their changes.
func newVerdictCache(size int, st Store, keys Keys) *verdictCache {
	sc, ok1 := st.(changeCounter)
	kc, ok2 := keys.(changeCounter)
	if size <= 0 || !ok1 || !ok2 {
		return nil
	}
	c := &verdictCache{store: sc, keys: kc, perShard: max(1, size/verdictShards), seed: maphash.MakeSeed()}
	for i := range c.shards {
		c.shards[i].m = make(map[string]*keptVerdict)
	}
	return c
}

// counts returns the change counts now. Taken before a verdict is made,
// they are at most what the verdict saw.
func (c *verdictCache) counts() counts {
	return counts{store: c.store.Changes(), keys: c.keys.Changes(), local: c.local.Load()}
}

func (c *verdictCache) shard(id string) *verdictShard {
	return &c.shards[maphash.String(c.seed, id)%verdictShards]
}

// lookup returns the verdict kept for id, if any, whether it holds or
// not.
func (c *verdictCache) lookup(id string) *keptVerdict {
	s := c.shard(id)
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m[id]
}

// answer returns e's verdict at now if it holds under cur.
func (c *verdictCache) answer(e *keptVerdict, cur counts, now time.Time) (cert.Verdict, bool) {
	if !e.holds(cur, now) {
		c.misses.Add(1)
		return cert.Verdict{}, false
	}
	c.hits.Add(1)
	vd := e.vd
	vd.CheckedAt = now
	return vd, true
}

// holds reports whether e, if any, is the verdict at now under cur.
func (e *keptVerdict) holds(cur counts, now time.Time) bool {
	return e != nil && e.counts == cur && !now.Before(e.from) && now.Before(e.until) && time.Now().Before(e.issuerUntil)
}

// put keeps vd for id.
func (c *verdictCache) put(id string, e *keptVerdict) {
	s := c.shard(id)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.m[id]; !ok && len(s.m) >= c.perShard {
		for k := range s.m {
			delete(s.m, k)
			break
		}
	}
	s.m[id] = e
}

// issuerUntil is when the issuer cache will read the issuer id again: a
// verdict judged from now on names the issuer as it is until then.
func (v *Service) issuerUntil(id string) time.Time {
	now := time.Now()
	if e, ok := v.issuers.fresh(id, now); ok {
		return e.fetched.Add(issuerTTL)
	}
	return now.Add(issuerTTL)
}

// kept returns the verdict vd of c, judged at now under cur, to keep
// until it may change, or nil when it is not to be kept; issuerUntil is
// what issuerUntil said before it was judged.
func (v *Service) kept(c *cert.Certificate, vd cert.Verdict, cur counts, now, issuerUntil time.Time) *keptVerdict {
	// A verdict of a renewed or revised certificate, or of its
	// successor, shows the other one's status (or lacks it, when it could
	// not be read): not kept.
	if v.verdicts == nil || vd.Verdict == cert.VerdictUnknown || vd.Certificate == nil ||
		c.SupersededBy != "" || c.Supersedes != "" {
		return nil
	}
	until, ok := cert.NextChange(c, v.schemes[c.Scheme], now)
	if !ok {
		// Time changes nothing more; the other bounds still hold.
		until = now.AddDate(1, 0, 0)
	}
	// The checks are the kept verdict's own: the status lists of a token
	// change the returned verdict's checks in place.
	vd.Checks = slices.Clone(vd.Checks)
	// from without its monotonic reading: a wall clock set back is seen.
	return &keptVerdict{vd: vd, issuer: c.Issuer, kid: c.Kid, counts: cur, from: now.Round(0), until: until, issuerUntil: issuerUntil}
}

// keptByID answers the verdict kept for id if it holds at now. The key
// state it showed is asked of the key service first: a view of the ring
// older than the key service's ttl is read again then, and a change found
// counts, as it would for a verdict judged now.
func (v *Service) keptByID(ctx context.Context, id string, now time.Time) (cert.Verdict, bool) {
	e := v.verdicts.lookup(id)
	if e != nil {
		_, _ = v.keys.KeyState(ctx, e.issuer, e.kid)
	}
	return v.verdicts.answer(e, v.verdicts.counts(), now)
}

// KeptVerdicts tells how many verdicts by id were answered from the
// verdicts kept, and how many were judged from the store while some are
// kept (0, 0 when none are).
func (v *Service) KeptVerdicts() (answered, judged uint64) {
	if v.verdicts == nil {
		return 0, 0
	}
	return v.verdicts.hits.Load(), v.verdicts.misses.Load()
}
