package verifier

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/certd/certd/cert"
)

// StatusLists reads the bits of the status lists this service publishes.
type StatusLists interface {
	// Bit reports whether entry index of list n of the issuer is set for
	// the purpose. An error means the bit cannot be known now.
	Bit(ctx context.Context, issuer, purpose string, list, index int) (set bool, err error)
}

// listEntry is a credentialStatus entry that names one of our lists.
type listEntry struct {
	issuer, purpose string
	list, index     int
	url             string
}

// ourEntry parses a credentialStatus entry naming a list of this service;
// ok is false for entries of other services or purposes, err tells that an
// entry names our list but is malformed.
func (v *Service) ourEntry(e cert.StatusEntry) (le listEntry, ok bool, err error) {
	rest, found := strings.CutPrefix(e.StatusListCredential, v.publicURL+"/status/")
	if !found || e.Type != "BitstringStatusListEntry" {
		return le, false, nil
	}
	if e.StatusPurpose != cert.PurposeRevocation && e.StatusPurpose != cert.PurposeSuspension {
		return le, false, nil
	}
	parts := strings.Split(rest, "/")
	if len(parts) != 3 || parts[0] == "" || parts[1] != e.StatusPurpose {
		return le, true, fmt.Errorf("status list %s does not name a %s list of an issuer", e.StatusListCredential, e.StatusPurpose)
	}
	n, err := strconv.Atoi(parts[2])
	if err != nil || n < 1 {
		return le, true, fmt.Errorf("status list %s has no valid list number", e.StatusListCredential)
	}
	idx, err := strconv.Atoi(e.StatusListIndex)
	if err != nil || idx < 0 || idx >= cert.StatusListSize {
		return le, true, fmt.Errorf("statusListIndex %q is not an entry of a list of %d", e.StatusListIndex, cert.StatusListSize)
	}
	return listEntry{issuer: parts[0], purpose: e.StatusPurpose, list: n, index: idx, url: e.StatusListCredential}, true, nil
}

// checkStatusLists applies the status lists named by a presented
// credential to its verdict (DESIGN.md section 5: "then status"). The
// verdict was derived from the stored events; a set bit makes the
// matching check fail and the credential invalid, a bit that cannot be
// read makes an otherwise valid verdict unknown. Without StatusLists
// nothing is checked.
func (v *Service) checkStatusLists(ctx context.Context, cl *cert.Credential, vd *cert.Verdict) {
	if v.lists == nil {
		return
	}
	for _, e := range cl.CredentialStatus {
		le, ours, err := v.ourEntry(e)
		if !ours {
			continue
		}
		check := findCheck(vd, checkOf(e.StatusPurpose))
		if check == nil {
			continue
		}
		var set bool
		if err == nil {
			set, err = v.lists.Bit(ctx, le.issuer, le.purpose, le.list, le.index)
		}
		switch {
		case err != nil:
			check.OK = false
			check.Detail += "; the " + e.StatusPurpose + " list cannot be read right now"
			if vd.Verdict == cert.VerdictValid {
				vd.Verdict, vd.Reason = cert.VerdictUnknown, reasonUnknown
				vd.Cause = fmt.Errorf("status list %s: %w", e.StatusListCredential, err)
			}
		case set:
			check.Detail += fmt.Sprintf("; set in the %s list %s (entry %d)", e.StatusPurpose, le.url, le.index)
			if check.OK {
				check.OK = false
				vd.Verdict = cert.VerdictInvalid
				vd.Reason = fmt.Sprintf("The issuer's published %s list marks this credential as %s. Do not rely on it; verify it again in a few minutes or contact the issuer.", e.StatusPurpose, markedAs(e.StatusPurpose))
			}
		case check.OK:
			check.Detail += fmt.Sprintf("; not set in the %s list %s", e.StatusPurpose, le.url)
		default:
			check.Detail += fmt.Sprintf("; not yet set in the published %s list %s, which follows within its ttl", e.StatusPurpose, le.url)
		}
	}
}

func checkOf(purpose string) string {
	if purpose == cert.PurposeRevocation {
		return cert.CheckRevocation
	}
	return cert.CheckSuspension
}

func markedAs(purpose string) string {
	if purpose == cert.PurposeRevocation {
		return "revoked"
	}
	return "suspended"
}

func findCheck(vd *cert.Verdict, name string) *cert.Check {
	for i := range vd.Checks {
		if vd.Checks[i].Name == name {
			return &vd.Checks[i]
		}
	}
	return nil
}
