package tui

import (
	"errors"
	"io"
	"net"
	"syscall"

	"github.com/rabbitpay/rabbitpay/internal/shop"
)

// sentence is err as the screen says it: the domain's own sentence, or,
// for a database (or other connection) that went away, one sentence saying
// so with its cause, instead of a driver's text cut at the screen's edge.
func sentence(err error) string {
	for _, kind := range []error{shop.ErrInvalid, shop.ErrNotFound, shop.ErrConflict, shop.ErrIncomplete, shop.ErrInterrupted} {
		if errors.Is(err, kind) {
			return err.Error()
		}
	}
	var op *net.OpError
	cause := ""
	switch {
	case errors.As(err, &op):
		cause = op.Err.Error()
		var se interface{ Unwrap() error }
		if errors.As(op.Err, &se) && se.Unwrap() != nil {
			cause = se.Unwrap().Error()
		}
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		var errno syscall.Errno
		errors.As(err, &errno)
		cause = errno.Error()
	case errors.Is(err, io.ErrUnexpectedEOF):
		cause = "the connection closed"
	default:
		return err.Error()
	}
	return "the database is unreachable (" + cause + "); nothing more was done — try again once it is back"
}
