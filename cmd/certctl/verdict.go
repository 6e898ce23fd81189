package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/certd/certd/cert"
)

// statusRevoked is the status of an offline verdict whose revocation bit is
// set: the list tells that the certificate was withdrawn, cancelled or
// superseded, not which. Online verdicts never carry it.
const statusRevoked cert.Status = "revoked"

// verifyOffline verifies a credential against pinned keys and the status
// lists it names, and returns a verdict shaped like certd's.
func verifyOffline(ctx context.Context, token string, ks *keySet, now time.Time, timeout time.Duration) cert.Verdict {
	v := cert.Verdict{Checks: []cert.Check{}, CheckedAt: now.UTC()}
	fail := func(reason string) cert.Verdict {
		v.Verdict, v.Status = cert.VerdictInvalid, cert.StatusNotFound
		v.Reason = "This credential is not genuine or is malformed (" + reason + "). Do not rely on it."
		v.Checks = append(v.Checks, cert.Check{Name: cert.CheckSignature, OK: false, Detail: reason})
		return v
	}
	payload, key, err := verifyJWS(strings.TrimSpace(token), ks, maxTokenSize)
	if err != nil {
		return fail(err.Error())
	}
	c, err := credentialClaims(payload, ks, now)
	if err != nil {
		return fail(err.Error())
	}
	issuerID := c.IssuerID
	v.Issuer = &cert.VerdictIssuer{ID: issuerID, Name: c.Issuer.Name, URL: c.Iss}
	from, _ := time.Parse(time.RFC3339, c.ValidFrom)
	until, _ := time.Parse(time.RFC3339, c.ValidUntil)
	last := until.AddDate(0, 0, -1)
	subj := c.CredentialSubject
	v.Certificate = &cert.VerdictCertificate{
		ID: c.CertificateID, Number: subj.Certificate.Number, Scheme: subj.Certificate.Scheme,
		Standard: subj.Certificate.Standard, Category: subj.Certificate.Category, Level: subj.Certificate.Level,
		Scope: subj.Certificate.Scope, AssessmentBody: subj.Certificate.AssessmentBody,
		Organization: cert.Organization{Name: subj.Name, NameEn: subj.NameEn, USCC: subj.USCC, Address: subj.Address},
		ValidFrom:    from.Format(cert.DateLayout), ValidUntil: last.Format(cert.DateLayout), Kid: key.Kid(),
	}
	issuerName := c.Issuer.Name
	if issuerName == "" {
		issuerName = issuerID
	}
	v.Checks = append(v.Checks, cert.Check{Name: cert.CheckSignature, OK: true,
		Detail: fmt.Sprintf("signed by %s with key %s (%s) of the trusted JWKS %s", issuerName, key.Kid(), key.Alg(), ks.source)})

	period := fmt.Sprintf("%s to %s", from.Format(cert.DateLayout), last.Format(cert.DateLayout))
	var invalid []string
	switch {
	case now.Add(clockSkew).Before(from):
		v.Checks = append(v.Checks, cert.Check{Name: cert.CheckValidity, OK: false, Detail: "not valid before " + from.Format(cert.DateLayout)})
		invalid = append(invalid, "it is not valid before "+from.Format(cert.DateLayout))
	case !until.After(now.Add(-clockSkew)):
		v.Checks = append(v.Checks, cert.Check{Name: cert.CheckValidity, OK: false, Detail: "expired: valid " + period})
		invalid = append(invalid, "it expired: it was valid "+period)
		v.Status = cert.StatusExpired
	default:
		v.Checks = append(v.Checks, cert.Check{Name: cert.CheckValidity, OK: true, Detail: "valid " + period})
	}

	lists := newStatusLists(ks, now, timeout)
	var unknown []string
	for _, purpose := range []string{cert.PurposeRevocation, cert.PurposeSuspension} {
		name := cert.CheckRevocation
		if purpose == cert.PurposeSuspension {
			name = cert.CheckSuspension
		}
		var entry *cert.StatusEntry
		for i := range c.CredentialStatus {
			if c.CredentialStatus[i].StatusPurpose == purpose {
				entry = &c.CredentialStatus[i]
				break
			}
		}
		if entry == nil {
			msg := fmt.Sprintf("the credential names no %s status list, so its %s status cannot be checked", purpose, purpose)
			v.Checks = append(v.Checks, cert.Check{Name: name, OK: false, Detail: msg})
			unknown = append(unknown, msg)
			continue
		}
		set, err := lists.check(ctx, *entry, c.Iss)
		switch {
		case err != nil:
			msg := fmt.Sprintf("%s status could not be checked: %v", purpose, err)
			v.Checks = append(v.Checks, cert.Check{Name: name, OK: false, Detail: msg})
			unknown = append(unknown, msg)
		case set && purpose == cert.PurposeRevocation:
			v.Checks = append(v.Checks, cert.Check{Name: name, OK: false, Detail: "revoked: withdrawn, cancelled or superseded (the issuer's status list says so; ask the issuer which)"})
			invalid = append(invalid, "it has been revoked (withdrawn, cancelled or superseded by a revision)")
			v.Status = statusRevoked
		case set:
			v.Checks = append(v.Checks, cert.Check{Name: name, OK: false, Detail: "suspended (for example for a missed surveillance audit): the issuer's status list says so"})
			invalid = append(invalid, "it is suspended")
			if v.Status == "" {
				v.Status = cert.StatusSuspended
			}
		default:
			detail := "not revoked (status list " + entry.StatusListCredential + ")"
			if purpose == cert.PurposeSuspension {
				detail = "not suspended, surveillance overdue included (status list " + entry.StatusListCredential + ")"
			}
			v.Checks = append(v.Checks, cert.Check{Name: name, OK: true, Detail: detail})
		}
	}
	who := fmt.Sprintf("issued by %s to %s", issuerName, subj.Name)
	switch {
	case len(invalid) > 0:
		v.Verdict = cert.VerdictInvalid
		v.Reason = fmt.Sprintf("Genuine credential %s, but not valid: %s. Do not rely on it.", who, strings.Join(invalid, "; "))
	case len(unknown) > 0:
		v.Verdict, v.Status = cert.VerdictUnknown, ""
		v.Reason = fmt.Sprintf("The signature is genuine (%s) and the dates are valid, but the status cannot be confirmed: %s. Do not rely on it until the status lists can be read (or verify online).", who, strings.Join(unknown, "; "))
	default:
		v.Verdict, v.Status = cert.VerdictValid, cert.StatusActive
		v.Reason = fmt.Sprintf("Genuine and valid today: %s, valid until %s.", who, last.Format(cert.DateLayout))
	}
	return v
}

// printVerdict writes a verdict for people.
func printVerdict(w io.Writer, v cert.Verdict, how string) {
	head := strings.ToUpper(v.Verdict)
	fmt.Fprintf(w, "%s: %s\n\n", head, v.Reason)
	fields := [][2]string{{"status", string(v.Status)}}
	if c := v.Certificate; c != nil {
		org := c.Organization.Name
		if c.Organization.NameEn != "" {
			org += " (" + c.Organization.NameEn + ")"
		}
		fields = append(fields,
			[2]string{"certificate", strings.TrimSpace(c.Number + " (" + c.ID + ")")},
			[2]string{"organization", org}, [2]string{"uscc", c.Organization.USCC},
			[2]string{"scheme", strings.TrimSpace(c.Scheme + " " + c.Standard)},
			[2]string{"valid", c.ValidFrom + " to " + c.ValidUntil})
		if c.SupersededBy != "" {
			fields = append(fields, [2]string{"superseded by", c.SupersededBy})
		}
	}
	if is := v.Issuer; is != nil {
		name := is.Name
		if is.NameZh != "" {
			name = is.NameZh + " (" + is.Name + ")"
		}
		fields = append(fields, [2]string{"issuer", strings.TrimSpace(name + " " + is.URL)})
	}
	if s := v.Surveillance; s != nil && s.State != "" {
		surv := string(s.State)
		if s.WindowEnd != "" {
			surv += fmt.Sprintf(" (window %s to %s)", s.WindowStart, s.WindowEnd)
		}
		if s.LastAudit != nil {
			surv += ", last audit " + *s.LastAudit
		}
		fields = append(fields, [2]string{"surveillance", surv})
	}
	fields = append(fields, [2]string{"checked", v.CheckedAt.Format(time.RFC3339) + " (" + how + ")"})
	printFields(w, fields)
	if len(v.Checks) > 0 {
		fmt.Fprintln(w, "\nchecks:")
		rows := make([][]string, 0, len(v.Checks))
		for _, c := range v.Checks {
			mark := "ok"
			switch {
			case c.OK:
			case v.Verdict == cert.VerdictUnknown && strings.Contains(c.Detail, "could not be checked"):
				mark = "UNKNOWN"
			default:
				mark = "FAIL"
			}
			rows = append(rows, []string{"  " + mark, c.Name, c.Detail})
		}
		printTable(w, []string{"  RESULT", "CHECK", "DETAIL"}, rows)
	}
}
