package cert

import (
	"errors"
	"strings"
)

// Error kinds. Callers compare with errors.Is; the api package maps each kind
// to an HTTP status in one table.
var (
	// ErrNotFound reports that the named thing does not exist (or is not
	// visible to the caller, which must not be able to tell the difference).
	ErrNotFound = errors.New("not found")
	// ErrAlreadyExists reports a unique constraint that a write would break.
	ErrAlreadyExists = errors.New("already exists")
	// ErrConflict reports an optimistic-concurrency failure: the stored
	// version is not the one the write was based on.
	ErrConflict = errors.New("version conflict")
	// ErrInvalid reports input that breaks a rule; see ValidationError.
	ErrInvalid = errors.New("invalid input")
	// ErrTransition reports a lifecycle action that the certificate's
	// current status does not allow.
	ErrTransition = errors.New("transition not allowed")
	// ErrUnavailable reports that a dependency (the store) cannot answer now.
	ErrUnavailable = errors.New("unavailable")
	// ErrForbidden reports an authenticated caller acting outside its role.
	ErrForbidden = errors.New("forbidden")
	// ErrPrecondition reports an If-Match version that is not the
	// certificate's current version.
	ErrPrecondition = errors.New("precondition failed")
	// ErrUnsupportedMedia reports a request body of a media type the
	// operation does not take.
	ErrUnsupportedMedia = errors.New("unsupported media type")
	// ErrIdempotencyMismatch reports an Idempotency-Key reused with a
	// different request body.
	ErrIdempotencyMismatch = errors.New("idempotency key reused with a different request")
	// ErrLastAdminKey reports a change that would leave no active admin API
	// key, so that nobody could administer the deployment through the API.
	ErrLastAdminKey = errors.New("last active admin API key")
)

// FieldError names one invalid field and says what is accepted.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// ValidationError collects every field error of one input. It matches
// ErrInvalid with errors.Is.
type ValidationError struct {
	Fields []FieldError
}

// Add records a field error.
func (v *ValidationError) Add(field, message string) {
	v.Fields = append(v.Fields, FieldError{Field: field, Message: message})
}

// Err returns v when it holds at least one field error, nil otherwise.
func (v *ValidationError) Err() error {
	if v == nil || len(v.Fields) == 0 {
		return nil
	}
	return v
}

// Prefix returns a copy of v whose field names start with prefix (for nested
// objects and batch items).
func (v *ValidationError) Prefix(prefix string) *ValidationError {
	out := &ValidationError{Fields: make([]FieldError, len(v.Fields))}
	for i, f := range v.Fields {
		out.Fields[i] = FieldError{Field: prefix + f.Field, Message: f.Message}
	}
	return out
}

func (v *ValidationError) Error() string {
	parts := make([]string, len(v.Fields))
	for i, f := range v.Fields {
		parts[i] = f.Field + ": " + f.Message
	}
	return strings.Join(parts, "; ")
}

// Is makes errors.Is(err, ErrInvalid) true for a ValidationError.
func (v *ValidationError) Is(target error) bool { return target == ErrInvalid }

// Invalid returns a ValidationError with one field error.
func Invalid(field, message string) error {
	return &ValidationError{Fields: []FieldError{{Field: field, Message: message}}}
}
