package mongo_test

import (
	"testing"

	"github.com/certd/certd/store"
	"github.com/certd/certd/store/mongo/mongotest"
	"github.com/certd/certd/store/storetest"
)

func TestSubmissionsConformance(t *testing.T) {
	storetest.RunSubmissions(t, func(t testing.TB) store.Submissions { return mongotest.Open(t) })
}
