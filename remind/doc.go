// Package remind computes the reminders of certificates from the rules of
// their schemes and the lead times of their issuers (DESIGN section 12,
// issue 13 item 3), and hands the due ones to notify sinks.
//
// Occasions (occasion.go), per certificate:
//   - surveillance-open-<n>: the n-th surveillance window opens (not for a
//     window that opens with the validity: the issuance says it);
//   - surveillance-close-<n>-<d>d: the n-th window closes in d days and no
//     audit is recorded yet;
//   - overdue-suspension-<date>: the certificate is suspended because a
//     window closed without an audit; date is the day the scheme will
//     cancel or withdraw it (or the expiry, when that comes first);
//   - expiry-<d>d: the certificate expires in d days.
//
// Each occasion is sent at SendHour o'clock of its day in the
// certificate's time zone (the issuer's when it was issued), and only if its condition still
// holds when it is sent: no reminder at all for a certificate that is
// superseded, withdrawn, cancelled or expired; surveillance reminders only
// while it is active (a suspended certificate gets the overdue reminder and
// the expiry reminders); no close reminder once the audit is recorded. An
// occasion whose instant precedes the certificate's creation is not sent.
//
// The Sweeper (sweep.go) is stateless: it sends an occasion whose instant
// lies in (now-CatchUp, now], and sinks derive delivery ids from the
// Event.ID (notify.ReminderEventID), so repeated sweeps, restarts and
// several instances store each reminder once. A reminder whose instant is
// older than CatchUp (a longer downtime) is not sent late.
//
// It imports only the standard library, cert, store (interfaces) and
// notify; never a concrete backend, api or issuer.
package remind
