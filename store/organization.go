package store

import "context"

// Organizations stores what a certification body decided about one of its
// certified organizations as a whole: the confidential flag, which applies
// to every certificate of that organization from that issuer, present and
// future. Each change is one atomic write of one record.
type Organizations interface {
	// SetOrganizationConfidential sets (true) or clears (false) the flag of
	// the organization uscc at issuer; setting a set flag or clearing a
	// clear one is no error.
	SetOrganizationConfidential(ctx context.Context, issuer, uscc string, confidential bool) error
	// ConfidentialOrganizations returns the identifiers (USCCs) of the
	// organizations whose flag is set at issuer, sorted; none is an empty
	// list.
	ConfidentialOrganizations(ctx context.Context, issuer string) ([]string, error)
}
