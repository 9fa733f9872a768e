// Package shop is rabbitpay's domain: types, money, statuses and validation.
// It imports only the standard library.
package shop

import (
	"errors"
	"fmt"
	"slices"
)

// Error kinds. Callers test them with errors.Is; the CLI maps them to exit codes.
var (
	ErrInvalid  = errors.New("invalid input")
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("conflict")
	// ErrIncomplete means work was left unfinished or its outcome is unknown:
	// `saga recover` finishes it.
	ErrIncomplete = errors.New("incomplete")
	// ErrFenced means another process took a saga over: ours may change nothing
	// more. It is also ErrIncomplete.
	ErrFenced = errors.New("saga taken over")
	// ErrInterrupted means the operator interrupted the command (Ctrl-C).
	ErrInterrupted = errors.New("interrupted")
	// ErrCartEmpty means an order from the cart found it empty. It is also ErrInvalid.
	ErrCartEmpty = errors.New("cart is empty")
)

// CartEmpty says the customer's cart has nothing to order.
func CartEmpty(customerID int64) error {
	return &kindError{kinds: []error{ErrCartEmpty, ErrInvalid}, msg: fmt.Sprintf("customer %d's cart is empty", customerID)}
}

// kindError carries a user-facing sentence and the kinds it belongs to.
type kindError struct {
	kinds []error
	msg   string
	cause error
}

func (e *kindError) Error() string        { return e.msg }
func (e *kindError) Is(target error) bool { return slices.Contains(e.kinds, target) }
func (e *kindError) Unwrap() error        { return e.cause }

// Invalid returns an ErrInvalid error with a user-facing message.
func Invalid(format string, a ...any) error {
	return &kindError{kinds: []error{ErrInvalid}, msg: fmt.Sprintf(format, a...)}
}

// NotFound returns an ErrNotFound error with a user-facing message.
func NotFound(format string, a ...any) error {
	return &kindError{kinds: []error{ErrNotFound}, msg: fmt.Sprintf(format, a...)}
}

// Conflict returns an ErrConflict error with a user-facing message.
func Conflict(format string, a ...any) error {
	return &kindError{kinds: []error{ErrConflict}, msg: fmt.Sprintf(format, a...)}
}

// Incomplete returns an ErrIncomplete error with a user-facing message.
func Incomplete(format string, a ...any) error {
	return &kindError{kinds: []error{ErrIncomplete}, msg: fmt.Sprintf(format, a...)}
}

// Fenced returns an error that is both ErrFenced and ErrIncomplete.
func Fenced(format string, a ...any) error {
	return &kindError{kinds: []error{ErrFenced, ErrIncomplete}, msg: fmt.Sprintf(format, a...)}
}

// Interrupted returns an ErrInterrupted error saying what was interrupted.
func Interrupted(format string, a ...any) error {
	return &kindError{kinds: []error{ErrInterrupted}, msg: fmt.Sprintf(format, a...)}
}

// UnknownOutcome wraps err, whose outcome could not be confirmed (a lost
// connection mid-commit), as ErrIncomplete.
func UnknownOutcome(what string, err error) error {
	return &kindError{kinds: []error{ErrIncomplete}, msg: fmt.Sprintf("%s: outcome unknown (%v)", what, err), cause: err}
}

// FieldError says which input field an error is about, in the domain's words
// ("carrier", "delivery time", "data dir"): a front end points its user at
// where they typed it (the CLI names the flag), or shows the sentence as it
// is. The wrapped error decides the kind.
type FieldError struct {
	Field string
	Err   error
}

func (e *FieldError) Error() string { return e.Err.Error() }
func (e *FieldError) Unwrap() error { return e.Err }

// InField marks err (nil stays nil) as being about field.
func InField(field string, err error) error {
	if err == nil {
		return nil
	}
	return &FieldError{Field: field, Err: err}
}
