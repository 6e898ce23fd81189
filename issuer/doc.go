// Package issuer holds the use cases that change certificates: issuing one
// or a batch, numbering, status-list positions, and the lifecycle actions
// (surveillance, suspend, reinstate, withdraw, cancel, renew, revise).
//
// issuer imports cert and the interfaces it declares here, which the store
// backends and the keys package satisfy. It never imports verifier, api or a
// concrete backend.
package issuer
