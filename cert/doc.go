// Package cert is the vocabulary of certd: issuers, schemes, certificates,
// organizations, events, key-ring records, API keys, derived status and the
// verification verdict, with their invariants and error kinds.
//
// cert imports only the standard library. Every other package of certd
// imports it; it imports none of them. If two outer packages need to share a
// type, it belongs here.
package cert
