// Package api is certd's HTTP interface on echo v5: every route registered
// in one function (routes.go), handlers that return errors, one error handler
// that turns them into RFC 9457 problem documents (problem.go), or into HTML
// pages for browsers outside /api/, HEAD on every GET route, API-key
// authentication with tenant isolation, request ids, body limits, rate
// limiting of public routes, metrics and the OpenAPI document.
//
// api imports cert, the issuer and verifier use cases (through the small
// interfaces it declares), templates and pdfattach (the credential of an
// uploaded PDF). It never imports a storage backend;
// HTTP status codes appear only here.
package api
