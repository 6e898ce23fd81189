// Package storetest is the conformance suite of the store contract: one set
// of behaviour tests that every backend (store/bolt, store/mongo) passes
// unchanged. A backend's test file hands Run a function that opens a fresh,
// empty store:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t testing.TB) store.Store {
//			s, err := bolt.Open(filepath.Join(t.TempDir(), "certd.db"))
//			if err != nil {
//				t.Fatal(err)
//			}
//			t.Cleanup(func() { s.Close() })
//			return s
//		})
//	}
//
// Every clause of the contract in package store has a subtest named after
// what it checks ("certificates/duplicate-number", "counters/concurrent"),
// so a failure names the clause a backend breaks. Beyond the written
// contract, the suite pins two readings of it: "creation order" is the order
// of CreatedAt (then id), and time values keep their instant to the
// nanosecond.
//
// storetest imports only the standard library, cert and store: never a
// backend. It is imported only by tests.
package storetest
