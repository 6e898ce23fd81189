package bolt_test

import (
	"testing"

	"github.com/certd/certd/store"
	"github.com/certd/certd/store/storetest"
)

func TestSubmissionsConformance(t *testing.T) {
	storetest.RunSubmissions(t, func(t testing.TB) store.Submissions {
		s, _ := open(t)
		return s
	})
}
