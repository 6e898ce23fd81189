// Package mongo is the MongoDB backend of certd: it implements store.Store
// on go.mongodb.org/mongo-driver/v2 and passes the conformance suite in
// store/storetest, against MongoDB and against FerretDB (the tests' embedded
// server, see mongotest).
//
// It owns five collections of one database: certificates (_id = certificate
// id, with its events), issuers (_id = issuer id), keyrings (_id = issuer
// id), apikeys (_id = key id) and counters (_id = counter name). Open creates
// their indexes idempotently: unique (issuer, number), unique (issuer,
// statusList, statusIndex), unique (issuer, idempotencyKey) partial on
// documents that have a key, unique apikeys.hash, and the indexes of the
// listings ((issuer, createdAt, createdAtNs, _id), (createdAt, createdAtNs,
// _id), organization.uscc, number, apikeys.issuer), and the search index:
// searchTerms (multikey) on the certificates, and the vocabulary
// collection searchwords, both filled at Open when missing
// (searchindex.go).
//
// The driver and BSON stay inside this package: documents are private
// structs converted from and to the cert types (which carry no bson tags),
// and driver errors are translated at the boundary: no document gives
// store.ErrNotFound, a unique index store.ErrAlreadyExists, a version that
// does not match store.ErrConflict, and a deployment that cannot answer
// (network, timeout, server selection, shutdown, failover, unsatisfied
// write concern, canceled context) an error matching store.ErrUnavailable.
//
// Atomicity. Every write is one document: an insert checked by the unique
// indexes, or a conditional update filtered on (_id, version), or one
// find-and-modify ($inc) for counters. No operation needs a transaction,
// so the backend runs on deployments without them. Updates keep the
// contract's immutable fields (id, issuer, number, status position,
// idempotency key) as stored: UpdateCertificate $sets everything else.
//
// Every guarantee rests on the server: no lock inside the process stands
// in for one, so several certd processes on one deployment are as correct
// as one. That needs a server that executes each command atomically, as
// MongoDB does. FerretDB v1 alone does not (it executes an update as a read
// followed by a write, so two concurrent conditional updates of one
// document can both succeed and two $inc can hand out one value twice):
// the tests' FerretDB runs behind a proxy that executes one command at a
// time (mongotest). Run production on MongoDB. FerretDB v1 also lacks
// partial indexes: the idempotency key index is then a plain unique index,
// which FerretDB's SQL backends make behave the same (a missing field is
// NULL, and NULLs never collide).
//
// Consistency and deadlines. Writes use write concern majority, reads read
// concern majority (local when the server refuses majority reads), except
// CertificateByIdempotencyKey, which reads the primary with read concern
// local: after an insert lost on the key's unique index, the winner is on
// the primary, perhaps not yet majority-committed, and must be found. Every
// call, including those Open and Close make, runs under
// context.WithTimeout(ctx, timeout) (WithTimeout, default 5s), so no call
// hangs on a database that is gone; the driver reconnects by itself when the
// database comes back.
//
// Time. BSON dates hold milliseconds; every time is stored as a date (the
// instant floored to the millisecond, which queries and indexes use) plus the
// nanoseconds below it in a sibling "…Ns" field, so times come back with
// their instant to the nanosecond. A certificate's times come back in its
// time zone (cert.LoadLocation of TimeZone), so ValidFrom is midnight in
// the issuer's zone again; the other records' times come back in UTC.
// ListCertificates orders by (createdAt, createdAtNs, _id); its cursor is
// opaque (base64url of the last position).
//
// Only cmd/certd (and tests) import this package.
package mongo
