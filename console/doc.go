// Package console is the certification body's staff web application,
// served under /console/: sign-in, dashboard, certificates (list, detail,
// issue, lifecycle actions), and the issuer's users. Pages are rendered on
// the server with html/template (its contextual escaping is the defence
// against injection) and work without JavaScript.
//
// It calls the same use cases as the REST API (issuer, accounts) with the
// signed-in user's principal, never the store around them, so the tenant
// rules are the API's. State-changing requests must pass
// net/http.CrossOriginProtection and carry the session's form token.
//
// It imports cert, accounts, issuer (request types), importfile (the import
// file rules it shares with certctl), report (XLSX tables), notify (the
// webhook request types) and the standard library: the HTTP framework of the API stays in package api, and the
// profile, keys and PDF preview come in as interfaces wired by cmd/certd.
package console
