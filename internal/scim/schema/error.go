package schema

import "fmt"

// ErrorType is an RFC 7644 §3.12 scimType.
type ErrorType string

const (
	InvalidFilter ErrorType = "invalidFilter"
	TooMany       ErrorType = "tooMany"
	NotUnique     ErrorType = "uniqueness"
	NotMutable    ErrorType = "mutability"
	InvalidSyntax ErrorType = "invalidSyntax"
	InvalidPath   ErrorType = "invalidPath"
	NoTarget      ErrorType = "noTarget"
	InvalidValue  ErrorType = "invalidValue"
	InvalidVers   ErrorType = "invalidVers"
	Sensitive     ErrorType = "sensitive"
)

// Error is a client error in a SCIM request: which scimType, where (an
// attribute path, a filter position or an operation index) and why. Its text
// is safe to show to the client.
type Error struct {
	Type   ErrorType
	Field  string
	Reason string
}

func (e *Error) Error() string {
	if e.Field == "" {
		return e.Reason
	}
	return e.Field + ": " + e.Reason
}

// Errorf builds an *Error.
func Errorf(t ErrorType, field, format string, args ...any) *Error {
	return &Error{Type: t, Field: field, Reason: fmt.Sprintf(format, args...)}
}
