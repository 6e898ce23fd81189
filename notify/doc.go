// Package notify delivers certd's notifications (DESIGN section 12). It
// owns the Standard Webhooks signature (sign.go), the HTTP client that
// refuses private and loopback receivers at dial time (client.go), the
// retry schedule of a delivery (retry.go) and the worker that leases due
// deliveries from the store and posts them (worker.go).
//
// It imports only the standard library, cert and the store interfaces;
// never a concrete backend, api or issuer.
package notify
