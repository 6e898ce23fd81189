package mongo_test

import (
	"testing"

	"github.com/certd/certd/store"
	"github.com/certd/certd/store/mongo/mongotest"
	"github.com/certd/certd/store/storetest"
)

func TestOrganizationsConformance(t *testing.T) {
	storetest.RunOrganizations(t, func(t testing.TB) store.Organizations { return mongotest.Open(t) })
}
