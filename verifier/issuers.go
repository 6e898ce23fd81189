package verifier

import (
	"context"
	"sync"

	"github.com/certd/certd/cert"
)

// issuerCache keeps issuers once read: an issuer's identity (id, names) never
// changes after creation, and every verification names one.
type issuerCache struct {
	m sync.Map // id -> *cert.Issuer
}

// issuer returns the issuer with the id, from the cache or the store.
func (v *Service) issuer(ctx context.Context, id string) (*cert.Issuer, error) {
	if is, ok := v.issuers.m.Load(id); ok {
		return is.(*cert.Issuer), nil
	}
	is, err := v.st.Issuer(ctx, id)
	if err != nil {
		return nil, err
	}
	v.issuers.m.Store(id, is)
	return is, nil
}
