// Package notify delivers certd's notifications (DESIGN section 12). It
// owns the Standard Webhooks signature (sign.go), the HTTP client that
// refuses private and loopback receivers at dial time (client.go), the
// retry schedule of a delivery (retry.go), the worker that leases due
// deliveries from the store and posts them (worker.go), the sealing of
// signing secrets under the KEK with the migration of plaintext ones
// (secret.go), the webhook use cases behind the API, the console and
// certctl (webhooks.go), and the staff alerts of a webhook certd disabled
// (alert.go).
//
// It imports only the standard library, cert and the store interfaces;
// never a concrete backend, api or issuer.
package notify
