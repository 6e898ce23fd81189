package issuer

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/store"
)

// Status lists (DESIGN.md section 7) are W3C Bitstring Status Lists v1.0:
// per issuer and purpose, lists of cert.StatusListSize entries, one bit per
// certificate at its position (StatusList, StatusIndex), published as a
// BitstringStatusListCredential secured as vc+jwt.
//
// Status is derived from time, so a list can change without any write.
// StatusLists derives the bits of every list of an issuer (both purposes)
// at one instant, keeps that snapshot in memory, and derives it again when
//   - it is ttl old: time-derived changes and changes made through other
//     instances reach the lists within ttl;
//   - a certificate of the issuer was written through this instance
//     (Invalidate, called by Service through Config.OnChange): such a
//     change is in the next answer.
//
// A derivation reads the store's status index when it has one and
// PrepareIndex made it current (statusmark.go): the marked positions and
// the few certificates whose bits may have changed with time since their
// last write, never every certificate. Otherwise it reads every
// certificate of the issuer and derives each with cert.StatusAt.
//
// Rebuilds are single-flight per issuer. A list is gzipped and signed only
// when it is published, and a signed list is served for at most ttl after
// its signature; one whose bits did not change keeps its signature (and so
// its ETag) across rebuilds until then.

// StatusListCredentialType is the VC type of a published status list.
const StatusListCredentialType = "BitstringStatusListCredential"

// DefaultStatusListTTL is the ttl of status lists when none is configured;
// it is also the default of the Bitstring Status List specification.
const DefaultStatusListTTL = 5 * time.Minute

// listPage is how many certificates a rebuild reads at once.
const listPage = 1000

// purposes are the status purposes, in the order of a snapshot's bitstrings.
var purposes = [...]string{cert.PurposeRevocation, cert.PurposeSuspension}

func purposeIndex(p string) (int, bool) {
	for i, q := range purposes {
		if q == p {
			return i, true
		}
	}
	return 0, false
}

// StatusListStore is what building status lists reads.
type StatusListStore interface {
	ListCertificates(ctx context.Context, q store.Query) ([]*cert.Certificate, string, error)
	Issuer(ctx context.Context, id string) (*cert.Issuer, error)
}

// ListSigner signs a status list payload with the issuer's active key, with
// the protected header of certificate credentials (typ vc+jwt).
type ListSigner interface {
	SignStatusList(ctx context.Context, issuer string, payload []byte) (token, kid string, err error)
}

// StatusListConfig wires StatusLists.
type StatusListConfig struct {
	Store   StatusListStore
	Signer  ListSigner
	Schemes cert.Schemes
	// PublicURL is the base URL readers see, without a trailing slash.
	PublicURL string
	// TTL is the longest time a list is served without being derived
	// again, and its published ttl; DefaultStatusListTTL when 0.
	TTL time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// StatusLists derives, signs and caches the status lists of every issuer.
// It is safe for concurrent use.
type StatusLists struct {
	st        StatusListStore
	signer    ListSigner
	schemes   cert.Schemes
	publicURL string
	ttl       time.Duration
	now       func() time.Time

	mu      sync.Mutex
	issuers map[string]*issuerLists

	// index is the store's status index, if it has one; indexed is set
	// once PrepareIndex made its marks current (statusmark.go).
	index   store.StatusIndex
	tag     string
	indexed atomic.Bool
}

// NewStatusLists returns a StatusLists. When the store keeps a status
// index (store.StatusIndex), it sets the store's marker: create it before
// any certificate is written, and call PrepareIndex to use the index.
func NewStatusLists(cfg StatusListConfig) *StatusLists {
	if cfg.TTL <= 0 {
		cfg.TTL = DefaultStatusListTTL
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	l := &StatusLists{
		st: cfg.Store, signer: cfg.Signer, schemes: cfg.Schemes, publicURL: cfg.PublicURL,
		ttl: cfg.TTL, now: cfg.Now, issuers: map[string]*issuerLists{},
	}
	if idx, ok := cfg.Store.(store.StatusIndex); ok {
		l.index, l.tag = idx, markerTag(cfg.Schemes)
		idx.SetStatusMarker(l.tag, l.mark)
	}
	return l
}

// TTL is the time to live of the published lists.
func (l *StatusLists) TTL() time.Duration { return l.ttl }

// issuerLists is the state of one issuer's lists.
type issuerLists struct {
	// gen counts the changes reported by Invalidate.
	gen atomic.Uint64
	// build admits one rebuild at a time (a channel, so waiting honours
	// the context).
	build chan struct{}
	snap  atomic.Pointer[snapshot]
	// builds numbers the rebuilds started, under build; failed is the last
	// one that failed, if any.
	builds atomic.Uint64
	failed atomic.Pointer[failedBuild]
}

// failedBuild is a rebuild that failed: callers that were waiting when it
// started take its error rather than each rebuilding in turn, so that on a
// database that does not answer every call fails after about two store
// timeouts, not after one per caller queued ahead.
type failedBuild struct {
	seq uint64
	err error
}

// snapshot is the derived state of every list of an issuer at builtAt.
type snapshot struct {
	builtAt time.Time
	// gen is the issuer's change count read before the certificates were:
	// every change reported before then is in the snapshot.
	gen   uint64
	name  string
	lists map[int]*[len(purposes)]*listBits

	// mu guards the tokens of the lists.
	mu sync.Mutex
}

// listBits is one bitstring and, once published, its signed credential.
type listBits struct {
	bits []byte
	// signed is guarded by snapshot.mu.
	signed *SignedStatusList
}

// SignedStatusList is a published status list credential.
type SignedStatusList struct {
	// Token is the compact JWS (application/vc+jwt).
	Token string
	// ETag is a strong entity tag of Token, quoted.
	ETag string
	// SignedAt is the list's validFrom; TTL its ttl.
	SignedAt time.Time
	TTL      time.Duration
}

// Invalidate reports that a certificate of the issuer changed: the next
// list or bit asked for reflects the change.
func (l *StatusLists) Invalidate(issuer string) {
	l.mu.Lock()
	il := l.issuers[issuer]
	l.mu.Unlock()
	if il != nil {
		il.gen.Add(1)
	}
}

// List returns the signed status list n (from 1) of the issuer for the
// purpose (cert.PurposeRevocation or cert.PurposeSuspension). An unknown
// issuer or purpose, or a list that holds no certificate, gives an error
// matching cert.ErrNotFound.
func (l *StatusLists) List(ctx context.Context, issuer, purpose string, n int) (*SignedStatusList, error) {
	p, ok := purposeIndex(purpose)
	if !ok {
		return nil, fmt.Errorf("status purpose %q: the purposes are %s and %s: %w", purpose, cert.PurposeRevocation, cert.PurposeSuspension, cert.ErrNotFound)
	}
	snap, err := l.snapshot(ctx, issuer)
	if err != nil {
		return nil, err
	}
	lb := snap.lists[n]
	if lb == nil {
		return nil, fmt.Errorf("status list %d of issuer %s holds no certificate: %w", n, issuer, cert.ErrNotFound)
	}
	snap.mu.Lock()
	defer snap.mu.Unlock()
	b := lb[p]
	now := l.now()
	if s := b.signed; s != nil && !now.Before(s.SignedAt) && now.Sub(s.SignedAt) < l.ttl {
		return s, nil
	}
	s, err := l.sign(ctx, issuer, snap.name, purpose, n, b.bits, now)
	if err != nil {
		return nil, err
	}
	b.signed = s
	return s, nil
}

// Bit reports whether the entry index of list n of the issuer is set for
// the purpose, as the published list has it. A list that holds no
// certificate has no bit set; an unknown issuer gives cert.ErrNotFound,
// an unknown purpose or an index out of range cert.ErrInvalid, and a list
// that cannot be derived (store unavailable) the store's error.
func (l *StatusLists) Bit(ctx context.Context, issuer, purpose string, n, index int) (bool, error) {
	p, ok := purposeIndex(purpose)
	if !ok {
		return false, cert.Invalid("statusPurpose", fmt.Sprintf("must be %s or %s", cert.PurposeRevocation, cert.PurposeSuspension))
	}
	if index < 0 || index >= cert.StatusListSize {
		return false, cert.Invalid("statusListIndex", fmt.Sprintf("must be between 0 and %d", cert.StatusListSize-1))
	}
	snap, err := l.snapshot(ctx, issuer)
	if err != nil {
		return false, err
	}
	lb := snap.lists[n]
	if lb == nil {
		return false, nil
	}
	return bitAt(lb[p].bits, index), nil
}

// snapshot returns a snapshot of the issuer's lists that is less than ttl
// old and holds every change reported before the call, deriving one if
// needed. Concurrent callers share one rebuild.
func (l *StatusLists) snapshot(ctx context.Context, issuer string) (*snapshot, error) {
	il, err := l.issuerLists(ctx, issuer)
	if err != nil {
		return nil, err
	}
	want := il.gen.Load()
	if s := il.snap.Load(); l.fresh(s, want) {
		return s, nil
	}
	// Any rebuild numbered above seen started after this point.
	seen := il.builds.Load()
	select {
	case il.build <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("wait for the status lists of %s: %w: %w", issuer, cert.ErrUnavailable, ctx.Err())
	}
	defer func() { <-il.build }()
	// A rebuild that started after this call began holds what it needs,
	// or failed for it too.
	if s := il.snap.Load(); l.fresh(s, want) {
		return s, nil
	}
	if f := il.failed.Load(); f != nil && f.seq > seen {
		return nil, f.err
	}
	seq := il.builds.Add(1)
	s, err := l.rebuild(ctx, issuer, il)
	if err != nil {
		if ctx.Err() == nil {
			// Not this caller's own deadline or cancellation: the store's.
			il.failed.Store(&failedBuild{seq: seq, err: err})
		}
		return nil, err
	}
	il.snap.Store(s)
	return s, nil
}

// fresh reports whether s holds the changes up to gen want and is less
// than ttl old.
func (l *StatusLists) fresh(s *snapshot, want uint64) bool {
	if s == nil || s.gen < want {
		return false
	}
	age := l.now().Sub(s.builtAt)
	return age >= 0 && age < l.ttl
}

// issuerLists returns the state of an existing issuer's lists; an unknown
// issuer gets none, so unknown names cannot fill memory.
func (l *StatusLists) issuerLists(ctx context.Context, issuer string) (*issuerLists, error) {
	l.mu.Lock()
	il := l.issuers[issuer]
	l.mu.Unlock()
	if il != nil {
		return il, nil
	}
	if _, err := l.st.Issuer(ctx, issuer); err != nil {
		if errors.Is(err, cert.ErrNotFound) {
			return nil, fmt.Errorf("no issuer %q exists here: %w", issuer, cert.ErrNotFound)
		}
		return nil, fmt.Errorf("load issuer %s: %w", issuer, err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if il = l.issuers[issuer]; il == nil {
		il = &issuerLists{build: make(chan struct{}, 1)}
		l.issuers[issuer] = il
	}
	return il, nil
}

// rebuild derives every list of the issuer, from the status index or from
// one read of its certificates. Lists whose bits did not change keep their
// signature.
func (l *StatusLists) rebuild(ctx context.Context, issuer string, il *issuerLists) (*snapshot, error) {
	gen := il.gen.Load()
	now := l.now()
	is, err := l.st.Issuer(ctx, issuer)
	if err != nil {
		if errors.Is(err, cert.ErrNotFound) {
			return nil, fmt.Errorf("no issuer %q exists here: %w", issuer, cert.ErrNotFound)
		}
		return nil, fmt.Errorf("load issuer %s: %w", issuer, err)
	}
	s := &snapshot{builtAt: now, gen: gen, name: is.Name, lists: map[int]*[len(purposes)]*listBits{}}
	if is.NameZh != "" {
		s.name = is.NameZh
	}
	if l.indexed.Load() {
		if err := l.rebuildIndexed(ctx, issuer, s, now); err != nil {
			return nil, err
		}
	} else if err := l.rebuildFull(ctx, issuer, s, now); err != nil {
		return nil, err
	}
	if old := il.snap.Load(); old != nil {
		old.mu.Lock()
		for n, lb := range s.lists {
			if ob := old.lists[n]; ob != nil && old.name == s.name {
				for p := range lb {
					if bytes.Equal(lb[p].bits, ob[p].bits) {
						lb[p].signed = ob[p].signed
					}
				}
			}
		}
		old.mu.Unlock()
	}
	return s, nil
}

// rebuildFull fills s with the issuer's lists at now from one read of
// all its certificates.
func (l *StatusLists) rebuildFull(ctx context.Context, issuer string, s *snapshot, now time.Time) error {
	q := store.Query{Issuer: issuer, Limit: listPage}
	for {
		page, next, err := l.st.ListCertificates(ctx, q)
		if err != nil {
			return fmt.Errorf("list certificates of %s: %w", issuer, err)
		}
		for _, c := range page {
			if c.StatusList < 1 || c.StatusIndex < 0 || c.StatusIndex >= cert.StatusListSize {
				continue
			}
			lb := s.list(c.StatusList)
			revoked, suspended := statusBits(c, l.schemes[c.Scheme], now)
			if revoked {
				setBit(lb[0].bits, c.StatusIndex)
			}
			if suspended {
				setBit(lb[1].bits, c.StatusIndex)
			}
		}
		if next == "" {
			return nil
		}
		q.Cursor = next
	}
}

// statusBits tells which status bits certificate c has at now: revocation
// when it is withdrawn, cancelled or superseded by a revision; suspension
// when it is suspended, for any reason. A certificate superseded by a
// renewal has neither: it reached the end of its life, replaced.
func statusBits(c *cert.Certificate, s *cert.Scheme, now time.Time) (revoked, suspended bool) {
	return bitsOf(c, cert.StatusAt(c, s, now).Status, now)
}

// bitsOf is statusBits for c in status st at now.
func bitsOf(c *cert.Certificate, st cert.Status, now time.Time) (revoked, suspended bool) {
	switch st {
	case cert.StatusWithdrawn, cert.StatusCancelled:
		return true, false
	case cert.StatusSuspended:
		return false, true
	case cert.StatusSuperseded:
		return supersededBy(c, now) == cert.EventRevised, false
	}
	return false, false
}

// supersededBy is the type of the event that superseded c by now: the
// earliest renewal or revision in effect, as StatusAt orders events.
func supersededBy(c *cert.Certificate, now time.Time) cert.EventType {
	var first *cert.Event
	for i := range c.Events {
		e := &c.Events[i]
		if (e.Type != cert.EventRenewed && e.Type != cert.EventRevised) || e.At.After(now) {
			continue
		}
		if first == nil || e.At.Before(first.At) {
			first = e
		}
	}
	if first == nil {
		return ""
	}
	return first.Type
}

// statusListCredential is the payload of a published list: a
// BitstringStatusListCredential (Bitstring Status List v1.0 section 2.2)
// with the JWT claims of certificate credentials.
type statusListCredential struct {
	Context           []string              `json:"@context"`
	ID                string                `json:"id"`
	Type              []string              `json:"type"`
	Issuer            cert.CredentialIssuer `json:"issuer"`
	ValidFrom         string                `json:"validFrom"`
	ValidUntil        string                `json:"validUntil"`
	CredentialSubject statusListSubject     `json:"credentialSubject"`
	Iss               string                `json:"iss"`
	Jti               string                `json:"jti"`
	Iat               int64                 `json:"iat"`
	Exp               int64                 `json:"exp"`
}

type statusListSubject struct {
	ID            string `json:"id"`
	Type          string `json:"type"`
	StatusPurpose string `json:"statusPurpose"`
	EncodedList   string `json:"encodedList"`
	// TTL is in milliseconds.
	TTL int64 `json:"ttl"`
}

// sign builds and signs the credential of one list at now. It is valid for
// twice the ttl: it is served for at most ttl after now and may then be
// cached for ttl (Cache-Control max-age).
func (l *StatusLists) sign(ctx context.Context, issuer, name, purpose string, n int, bits []byte, now time.Time) (*SignedStatusList, error) {
	payload, err := statusListPayload(l.publicURL, issuer, name, purpose, n, bits, l.ttl, now)
	if err != nil {
		return nil, err
	}
	token, _, err := l.signer.SignStatusList(ctx, issuer, payload)
	if err != nil {
		if errors.Is(err, cert.ErrInvalid) {
			// Our own payload was refused (too large for the signer): a
			// fault of ours, not of the request.
			return nil, fmt.Errorf("sign status list %s/%s/%d (%d bytes): %v", issuer, purpose, n, len(payload), err)
		}
		return nil, fmt.Errorf("sign status list %s/%s/%d: %w", issuer, purpose, n, err)
	}
	sum := sha256.Sum256([]byte(token))
	return &SignedStatusList{
		Token: token, ETag: `"` + base64.RawURLEncoding.EncodeToString(sum[:18]) + `"`,
		SignedAt: now.Truncate(time.Second), TTL: l.ttl,
	}, nil
}

// statusListPayload is the unsigned credential of list n of the issuer
// (whose display name is name) for the purpose, with bits (index 0 at the
// most significant bit of the first byte), valid from at (to the second)
// for 2*ttl.
func statusListPayload(publicURL, issuer, name, purpose string, n int, bits []byte, ttl time.Duration, at time.Time) ([]byte, error) {
	enc, err := encodeBitstring(bits)
	if err != nil {
		return nil, err
	}
	from := at.UTC().Truncate(time.Second)
	until := from.Add(2 * ttl)
	id := cert.StatusListURL(publicURL, issuer, purpose, n)
	issuerURL := cert.IssuerURL(publicURL, issuer)
	b, err := json.Marshal(statusListCredential{
		Context:    []string{"https://www.w3.org/ns/credentials/v2"},
		ID:         id,
		Type:       []string{"VerifiableCredential", StatusListCredentialType},
		Issuer:     cert.CredentialIssuer{ID: issuerURL, Name: name},
		ValidFrom:  from.Format(time.RFC3339),
		ValidUntil: until.Format(time.RFC3339),
		CredentialSubject: statusListSubject{
			ID: id + "#list", Type: "BitstringStatusList", StatusPurpose: purpose,
			EncodedList: enc, TTL: ttl.Milliseconds(),
		},
		Iss: issuerURL, Jti: id, Iat: from.Unix(), Exp: until.Unix(),
	})
	if err != nil {
		return nil, fmt.Errorf("encode status list credential: %w", err)
	}
	return b, nil
}

// encodeBitstring is the encodedList of bits: the multibase prefix "u" and
// the base64url encoding, without padding, of the GZIP compression of the
// bitstring (Bitstring Status List v1.0, Bitstring Generation Algorithm).
func encodeBitstring(bits []byte) (string, error) {
	var buf bytes.Buffer
	zw := gzipWriters.Get().(*gzip.Writer)
	defer gzipWriters.Put(zw)
	zw.Reset(&buf)
	if _, err := zw.Write(bits); err != nil {
		return "", fmt.Errorf("compress status list: %w", err)
	}
	if err := zw.Close(); err != nil {
		return "", fmt.Errorf("compress status list: %w", err)
	}
	return "u" + base64.RawURLEncoding.EncodeToString(buf.Bytes()), nil
}

// gzipWriters reuses compressors (about 800 KiB each). The default level:
// on sparse lists the best one is five times slower for a tenth less.
var gzipWriters = sync.Pool{New: func() any { return gzip.NewWriter(nil) }}

// setBit sets entry i: index 0 is the left-most (most significant) bit of
// the first byte.
func setBit(bits []byte, i int) { bits[i/8] |= 0x80 >> (i % 8) }

func bitAt(bits []byte, i int) bool { return bits[i/8]&(0x80>>(i%8)) != 0 }

// notifyingStore calls onChange with the issuer after every successful
// certificate write, so that caches derived from certificates (the status
// lists) know at once.
type notifyingStore struct {
	Store
	onChange func(issuer string)
}

func (n notifyingStore) CreateCertificate(ctx context.Context, c *cert.Certificate) error {
	err := n.Store.CreateCertificate(ctx, c)
	if err == nil {
		n.onChange(c.Issuer)
	}
	return err
}

func (n notifyingStore) CreateCertificates(ctx context.Context, cs []*cert.Certificate) ([]error, error) {
	errs, err := n.Store.CreateCertificates(ctx, cs)
	if err != nil {
		return errs, err
	}
	var seen []string
	for i, c := range cs {
		if i < len(errs) && errs[i] == nil && !slices.Contains(seen, c.Issuer) {
			seen = append(seen, c.Issuer)
			n.onChange(c.Issuer)
		}
	}
	return errs, nil
}

func (n notifyingStore) UpdateCertificate(ctx context.Context, c *cert.Certificate) error {
	err := n.Store.UpdateCertificate(ctx, c)
	if err == nil {
		n.onChange(c.Issuer)
	}
	return err
}
