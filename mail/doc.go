// Package mail sends certd's e-mail (DESIGN section 12): it parses the
// relay's --smtp-url (config.go), composes the bilingual text and HTML
// message of a ChannelEmail delivery from templates embedded in the
// package (compose.go, templates/), sends it through the relay with
// github.com/wneessen/go-mail (sender.go), and turns certificate events
// and reminders into e-mail deliveries to the certified organization's
// contact address (sink.go).
//
// Sender is a notify.Mailer and OrganizationSink a notify.Sink; cmd/certd
// wires them. A delivery's certificate, its status, its scheme and its PDF
// come from functions the caller injects, so mail imports only the
// standard library, cert, notify and go-mail: never a store backend,
// templates, api or issuer.
//
// Caveat: the SMTP password lives in Server and is never written to an
// error, a log line or a delivery's LastError (Server.String redacts it).
package mail
