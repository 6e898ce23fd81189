// Package accounts holds the console's staff accounts: users per issuer
// with the roles of API keys, argon2id password hashes, an optional TOTP
// second factor with recovery codes, server-side sessions with idle and
// absolute expiry, one-time setup and invitation links, sign-in throttling
// per account and per client IP, and an audit event for every sign-in,
// failure and change of a user.
//
// It imports cert and the store interfaces only; the console (HTTP, pages,
// cookies) is another package's. Secrets never leave it in clear: the
// store keeps hashes of session cookies, links and recovery codes, and no
// error, event or log line carries a password, a TOTP secret or a token.
package accounts
