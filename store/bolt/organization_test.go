package bolt_test

import (
	"testing"

	"github.com/certd/certd/store"
	"github.com/certd/certd/store/storetest"
)

func TestOrganizationsConformance(t *testing.T) {
	storetest.RunOrganizations(t, func(t testing.TB) store.Organizations {
		s, _ := open(t)
		return s
	})
}
