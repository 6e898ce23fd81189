// Package store declares the narrow storage interfaces of certd and their
// contract; backends live in store/bolt and store/mongo, and every backend
// passes the conformance suite in store/storetest.
//
// The contract, for every backend:
//   - Every write is atomic on one document (one certificate with all its
//     events, one key ring, one API key). No operation spans documents
//     transactionally; the design needs none.
//   - Optimistic concurrency: an update names the version it was based on;
//     a stored version that differs gives ErrConflict and changes nothing.
//     A successful update stores version+1.
//   - Unique constraints: certificate id; (issuer, number); (issuer, status
//     list, status index); (issuer, idempotency key) when the key is set;
//     issuer id; API key id and hash. A write that would break one gives
//     ErrAlreadyExists and changes nothing.
//   - A certificate's status mark (StatusIndex, its sweep instant
//     included) and its validity dates (ValidityIndex) are indexed with it,
//     in the same transaction or document.
//   - A missing document gives ErrNotFound.
//   - Returned values are copies: callers may keep and change them.
//   - Errors of the storage technology are translated at the boundary: a
//     backend that cannot answer returns an error matching ErrUnavailable.
//
// store imports only cert.
package store
