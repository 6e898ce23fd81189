// Package watch owns watchlists (issue 13, DESIGN section 12): the public
// e-mail subscription of the verification page with double opt-in and
// one-click unsubscribe (subscribe.go), the API watches of verifiers that
// hold a watcher key (watcher.go), and the notify.Sink that turns a
// certificate's status change into e-mails and webhook deliveries to its
// watchers (sink.go).
//
// A watcher's e-mail address is stored to send mail and used for nothing
// else: no answer, page, log line or metric of this package carries it,
// and the certification body's API and console cannot list it. Tokens
// are 32 random bytes; only their SHA-256 is stored.
//
// It imports only the standard library, cert, store (interfaces) and
// notify; never a concrete backend, api or issuer.
package watch
