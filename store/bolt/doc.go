// Package bolt is the embedded backend of certd's store: every interface of
// package store on one bbolt file (go.etcd.io/bbolt), the default when no
// MongoDB is configured.
//
// It owns the file layout: one bucket per kind of document, holding the
// cert types keyed by id (certificates as the binary record of codec.go,
// read on every verification; the others as JSON), and index buckets that
// make the unique constraints of the store contract and the listing order
// cheap:
//
//	certificates            id → certificate
//	certificates.number     issuer\x00number → id                (unique)
//	certificates.status     issuer\x00list\x00index → id [\x00 mark] (unique)
//	certificates.idem       issuer\x00idempotencyKey → id        (unique, when set)
//	certificates.created    createdAt id → nothing               (all issuers)
//	certificates.issuer     issuer\x00createdAt id → nothing
//	certificates.uscc       uscc\x00createdAt id → nothing
//	certificates.bynumber   number\x00createdAt id → nothing     (all issuers)
//	certificates.validfrom  issuer\x00validFrom id → nothing     (validity.go)
//	certificates.validuntil issuer\x00validUntil id → nothing
//	status.set              issuer\x00list\x00index → bits       (status bits set)
//	status.due              issuer\x00watch id → nothing
//	search.docs             seq → createdAt id                   (search index, searchindex.go)
//	search.postings         block term → ordinals
//	search.blocks           block → greatest createdAt id
//	search.words            word → nothing                       (vocabulary)
//	issuers, keyrings, apikeys (+ apikeys.hash), counters, meta
//
// createdAt is 12 big-endian bytes (seconds since 1970 with the sign bit
// flipped, then nanoseconds), so byte order is time order. A list cursor is
// the base64url of a tag naming the index and the last key returned.
//
// Caveats:
//   - Values returned by bbolt are valid only inside their transaction;
//     every read decodes inside the transaction, which copies.
//   - Counters are handed out from memory and reach the file with the
//     next write transaction, which is the one that uses them, or at
//     Close (counter.go).
//   - Writers that change certificates go through the
//     committer (commit.go), so the commits of concurrent writers are
//     grouped into one fsync: each commit takes every write that queued
//     while the one before ran. As with bbolt's DB.Batch, a function may
//     run more than once and a failing one runs again alone; the functions
//     here therefore only write to local results that are reset on every
//     run, report domain errors (ErrAlreadyExists,
//     ErrConflict, ...) through those results instead of failing the
//     transaction, and check every constraint before the first write, so a
//     rejected write leaves nothing behind. Fields of the caller's values
//     (Version) are set only after the commit.
//   - A lone writer commits at once: no delay waits for others to join.
//   - Values that form keys (ids, issuer, number, idempotency key, USCC,
//     API key hash, counter name) must be 1-1024 bytes without NUL, the
//     separator of index keys; others give cert.ErrInvalid.
//   - One process at a time: bbolt holds an exclusive file lock, and Open
//     gives up after the lock timeout with ErrLocked.
//   - Close writes a marker next to the file (path + ".clean": its size and
//     CRC-32C); Open removes it and, when it matches, skips the walk of
//     every page that a file without one (a crash) gets. Close therefore
//     reads the whole file once, and so does Open.
//
// bolt imports cert, store and bbolt; no other package of certd, and no
// package of certd imports bolt except cmd/certd.
package bolt
