package main

import (
	"errors"
	"flag"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/issuer"
)

// actionRequest is the body of POST /api/v1/certificates/{id}/{action}:
// the server's own type. Only what the user gave is set; certd validates.
type actionRequest = issuer.ActionRequest

// orgPatch is what a revision changes of the organization.
type orgPatch = issuer.OrganizationChange

// action describes one lifecycle action for its command.
type action struct {
	name, summary, synopsis, details, example string
	// reasonRequired mirrors certd: every action but surveillance needs one.
	reasonRequired bool
	setup          func(fs *flag.FlagSet, r *actionRequest, x *actionExtra)
	check          func(r *actionRequest, x *actionExtra) error
}

// actionExtra holds the revise flags, sent only when given.
type actionExtra struct {
	level                                                        int
	category, scope, scopeEn, orgName, orgNameEn, addr, orgEmail setString
}

func lifecycleCommands() []*command {
	actions := []action{
		{
			name: "surveillance", summary: "record a surveillance audit (passed or failed)",
			synopsis: "surveillance ID --date YYYY-MM-DD --result passed|failed [--audit-ref REF] [--reason TEXT]",
			example:  "  certctl surveillance 6P74JZDPWJQBXSBR1AXDWR697C --date 2027-10-12 --result passed --audit-ref AUD-2027-118",
			setup: func(fs *flag.FlagSet, r *actionRequest, _ *actionExtra) {
				fs.StringVar(&r.Date, "date", "", "audit `date` YYYY-MM-DD (required)")
				fs.StringVar(&r.Result, "result", "", "passed or failed (required)")
				fs.StringVar(&r.AuditRef, "audit-ref", "", "audit report `reference`")
			},
			check: func(r *actionRequest, _ *actionExtra) error {
				var errs []error
				if err := checkDate("--date", r.Date, true); err != nil {
					errs = append(errs, err)
				}
				if r.Result != "passed" && r.Result != "failed" {
					errs = append(errs, errors.New("--result: must be passed or failed"))
				}
				return errors.Join(errs...)
			},
		},
		{
			name: "suspend", summary: "suspend a certificate (暂停)", reasonRequired: true,
			synopsis: "suspend ID --reason TEXT [--until YYYY-MM-DD]",
			example:  "  certctl suspend 6P74JZDPWJQBXSBR1AXDWR697C --reason \"corrective actions pending\" --until 2027-03-01",
			setup: func(fs *flag.FlagSet, r *actionRequest, _ *actionExtra) {
				fs.StringVar(&r.Until, "until", "", "end the suspension automatically at the start of this `date` YYYY-MM-DD")
			},
			check: func(r *actionRequest, _ *actionExtra) error { return checkDate("--until", r.Until, false) },
		},
		{
			name: "reinstate", summary: "reinstate a suspended certificate", reasonRequired: true,
			synopsis: "reinstate ID --reason TEXT",
			example:  "  certctl reinstate 6P74JZDPWJQBXSBR1AXDWR697C --reason \"corrective actions verified\"",
		},
		{
			name: "withdraw", summary: "withdraw a certificate (撤销)", reasonRequired: true,
			synopsis: "withdraw ID --reason TEXT",
			example:  "  certctl withdraw 6P74JZDPWJQBXSBR1AXDWR697C --reason \"major nonconformity not corrected\"",
		},
		{
			name: "cancel", summary: "cancel a certificate (注销)", reasonRequired: true,
			synopsis: "cancel ID --reason TEXT",
			example:  "  certctl cancel 6P74JZDPWJQBXSBR1AXDWR697C --reason \"requested by the holder\"",
		},
		{
			name: "renew", summary: "renew a certificate: a new certificate for a new validity period", reasonRequired: true,
			synopsis: "renew ID --reason TEXT [--valid-from YYYY-MM-DD] [--number N] [--decision-date YYYY-MM-DD]",
			example:  "  certctl renew 6P74JZDPWJQBXSBR1AXDWR697C --reason \"recertification audit passed\" --decision-date 2029-10-20",
			setup: func(fs *flag.FlagSet, r *actionRequest, _ *actionExtra) {
				fs.StringVar(&r.ValidFrom, "valid-from", "", "first `day` of the new certificate YYYY-MM-DD (default: the day the current one expires)")
				fs.StringVar(&r.Number, "number", "", "`number` of the new certificate (default: from the issuer's pattern)")
				fs.StringVar(&r.DecisionDate, "decision-date", "", "certification decision `date` YYYY-MM-DD")
			},
			check: func(r *actionRequest, _ *actionExtra) error {
				return errors.Join(checkDate("--valid-from", r.ValidFrom, false), checkDate("--decision-date", r.DecisionDate, false))
			},
		},
		{
			name: "revise", summary: "revise a certificate: reissue it with changed level, category, scope or organization name", reasonRequired: true,
			synopsis: "revise ID --reason TEXT [--level N] [--category C] [--scope TEXT] [--scope-en TEXT] [--org-name NAME] [--org-name-en NAME] [--address TEXT] [--org-email ADDRESS]",
			example:  "  certctl revise 6P74JZDPWJQBXSBR1AXDWR697C --reason \"level upgraded after audit\" --level 2",
			setup: func(fs *flag.FlagSet, r *actionRequest, x *actionExtra) {
				fs.IntVar(&x.level, "level", 0, "new `level`")
				fs.Var(&x.category, "category", "new `category`")
				fs.Var(&x.scope, "scope", "new `scope` (Chinese)")
				fs.Var(&x.scopeEn, "scope-en", "new `scope` in English")
				fs.Var(&x.orgName, "org-name", "new legal `name` of the organization (the USCC cannot change)")
				fs.Var(&x.orgNameEn, "org-name-en", "new English `name`")
				fs.Var(&x.addr, "address", "new `address`")
				fs.Var(&x.orgEmail, "org-email", "new contact e-mail `address` of the organization for notifications (\"\" removes it)")
				fs.StringVar(&r.DecisionDate, "decision-date", "", "certification decision `date` YYYY-MM-DD")
			},
			check: func(r *actionRequest, x *actionExtra) error {
				if x.level != 0 {
					r.Level = &x.level
				}
				given := func(s *setString) *string {
					if s.set {
						return &s.val
					}
					return nil
				}
				r.Category, r.Scope, r.ScopeEn = given(&x.category), given(&x.scope), given(&x.scopeEn)
				if o := (orgPatch{Name: given(&x.orgName), NameEn: given(&x.orgNameEn), Address: given(&x.addr), Email: given(&x.orgEmail)}); o != (orgPatch{}) {
					r.Organization = &o
				}
				if r.Level == nil && r.Category == nil && r.Scope == nil && r.ScopeEn == nil && r.Organization == nil {
					return errors.New("nothing to revise: give --level, --category, --scope, --scope-en, --org-name, --org-name-en, --address or --org-email")
				}
				return checkDate("--decision-date", r.DecisionDate, false)
			},
		},
	}
	out := make([]*command, 0, len(actions))
	for _, ac := range actions {
		var (
			req     actionRequest
			extra   actionExtra
			ifMatch int64
		)
		out = append(out, &command{
			name: ac.name, group: "Certificate lifecycle", summary: ac.summary,
			synopsis: ac.synopsis + " [--if-match VERSION]",
			details: "Applies POST /api/v1/certificates/ID/" + ac.name + ". With --if-match, certd refuses (412) when\n" +
				"the certificate is no longer at that version (see certctl get ID), so a decision taken on\n" +
				"a stale view is not applied.",
			example: ac.example,
			args:    argCount{1, 1, "a certificate ID"},
			setup: func(fs *flag.FlagSet) {
				usage := "why, in words the certificate holder and its customers will read"
				if ac.reasonRequired {
					usage += " (required)"
				}
				fs.StringVar(&req.Reason, "reason", "", usage)
				switch ac.name {
				case "suspend", "withdraw", "cancel", "revise":
					fs.StringVar(&req.ReasonCode, "reason-code", "", "the scheme's coded `reason` (see GET /api/v1/schemes; required by some schemes)")
				}
				fs.Int64Var(&ifMatch, "if-match", 0, "apply only if the certificate is at this `version`")
				if ac.setup != nil {
					ac.setup(fs, &req, &extra)
				}
			},
			run: func(a *app, args []string) int {
				id, err := certID(args[0])
				if err != nil {
					return a.report(err)
				}
				req.Reason = strings.TrimSpace(req.Reason)
				var errs []error
				if ac.reasonRequired && req.Reason == "" {
					errs = append(errs, errors.New("--reason: is required: say why, in words the certificate holder and its customers will read"))
				}
				if ac.check != nil {
					if err := ac.check(&req, &extra); err != nil {
						errs = append(errs, err)
					}
				}
				if ifMatch < 0 {
					errs = append(errs, errors.New("--if-match: must be a positive version"))
				}
				if err := errors.Join(errs...); err != nil {
					fmt.Fprintf(a.stderr, "certctl %s: %v\n", ac.name, err)
					return exitUsage
				}
				return a.act(id, ac.name, req, ifMatch)
			},
		})
	}
	return out
}

func checkDate(flagName, v string, required bool) error {
	if v == "" {
		if required {
			return fmt.Errorf("%s: is required (YYYY-MM-DD)", flagName)
		}
		return nil
	}
	if _, err := time.Parse(cert.DateLayout, v); err != nil {
		return fmt.Errorf("%s: %q must be a date YYYY-MM-DD", flagName, v)
	}
	return nil
}

func (a *app) act(id, name string, req actionRequest, ifMatch int64) int {
	c, err := a.newClient(true)
	if err != nil {
		return a.report(err)
	}
	h := http.Header{}
	if ifMatch > 0 {
		h.Set("If-Match", strconv.Quote(strconv.FormatInt(ifMatch, 10)))
	}
	// certd answers a repeated renew or revise with the certificate the
	// first one created, so those are safe to retry after a broken
	// connection; the other actions only when certd did not act.
	retry := retryUnsent
	if name == "renew" || name == "revise" {
		retry = retryAlways
	}
	resp, err := c.call(a.ctx, request{
		method: http.MethodPost, path: "/api/v1/certificates/" + id + "/" + name, body: req, auth: true,
		header: h, retry: retry,
	}, nil)
	if err != nil {
		var ae *apiError
		if errors.As(err, &ae) && ae.status == http.StatusPreconditionFailed {
			a.printErr(err)
			fmt.Fprintf(a.stderr, "certctl: nothing was changed; look at the certificate again (certctl get %s) and decide on its current state\n", id)
			return exitFailure
		}
		return a.report(err)
	}
	if resp.status == http.StatusCreated && !a.jsonOutput() {
		fmt.Fprintf(a.stderr, "certctl: %s: created the certificate below; it replaces %s\n", name, id)
	}
	if err := a.printCertificate(resp.body); err != nil {
		return a.report(err)
	}
	return exitOK
}
