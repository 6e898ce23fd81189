// Package deadlines tells a certification body's staff what it still owes
// regulators and registries (DESIGN.md sections 12 and 13): for each
// report target, the periods with outstanding changes and their
// deadlines (the console's dashboard shows them), and a staff-alert
// e-mail to the issuer's console admins when a deadline is within
// report.DueSoonDays or has passed, once per period and target.
//
// deadlines imports cert, report, notify and store (for its interfaces);
// it never imports a backend, the api or the console.
package deadlines
