package verifier

import (
	"context"
	"sync"
	"time"

	"github.com/certd/certd/cert"
)

// issuerTTL bounds how long a cached issuer is used: an issuer's profile
// (its current name) can change on another instance, which cannot tell
// this one.
const issuerTTL = time.Minute

// issuerCache keeps issuers once read, for issuerTTL; every verification
// names one.
type issuerCache struct {
	m sync.Map // id -> issuerEntry
}

type issuerEntry struct {
	is      *cert.Issuer
	fetched time.Time
}

// issuer returns the issuer with the id, from the cache or the store.
func (v *Service) issuer(ctx context.Context, id string) (*cert.Issuer, error) {
	now := time.Now()
	if e, ok := v.issuers.fresh(id, now); ok {
		return e.is, nil
	}
	is, err := v.st.Issuer(ctx, id)
	if err != nil {
		return nil, err
	}
	v.issuers.m.Store(id, issuerEntry{is: is, fetched: now})
	return is, nil
}

// ForgetIssuer drops the cached copy of an issuer (after a change of its
// profile on this instance).
func (v *Service) ForgetIssuer(id string) {
	v.issuers.m.Delete(id)
	if v.verdicts != nil {
		v.verdicts.local.Add(1)
	}
}

// fresh returns the entry of issuer id if it is younger than issuerTTL at
// now.
func (c *issuerCache) fresh(id string, now time.Time) (issuerEntry, bool) {
	if e, ok := c.m.Load(id); ok && now.Sub(e.(issuerEntry).fetched) < issuerTTL {
		return e.(issuerEntry), true
	}
	return issuerEntry{}, false
}
