// Package shop is rabbitpay's domain: types, money, statuses and validation.
// It imports only the standard library.
package shop

import (
	"errors"
	"fmt"
)

// Error kinds. Callers test them with errors.Is; the CLI maps them to exit codes.
var (
	ErrInvalid  = errors.New("invalid input")
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("conflict")
)

// kindError carries a user-facing sentence and the kind it belongs to.
type kindError struct {
	kind error
	msg  string
}

func (e *kindError) Error() string        { return e.msg }
func (e *kindError) Is(target error) bool { return target == e.kind }

// Invalid returns an ErrInvalid error with a user-facing message.
func Invalid(format string, a ...any) error {
	return &kindError{ErrInvalid, fmt.Sprintf(format, a...)}
}

// NotFound returns an ErrNotFound error with a user-facing message.
func NotFound(format string, a ...any) error {
	return &kindError{ErrNotFound, fmt.Sprintf(format, a...)}
}

// Conflict returns an ErrConflict error with a user-facing message.
func Conflict(format string, a ...any) error {
	return &kindError{ErrConflict, fmt.Sprintf(format, a...)}
}
