package postgres

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/rabbitpay/rabbitpay/internal/shop"
)

// PostgreSQL error codes rabbitpay acts on. This file is the one place they
// are turned into domain errors.
const (
	codeUniqueViolation    = "23505"
	codeRaiseException     = "P0001" // reduce_stock: not enough stock
	codeSagaFenced         = "RPF01" // saga_fence: another process took the saga over
	codeSagaMissing        = "RPF02" // saga_fence: no such saga
	codeIdleSessionTimeout = "57P05" // sent only to an idle session
	codeUndefinedTable     = "42P01"
	codeDuplicateDB        = "42P04"
	codeInvalidCatalog     = "3D000"
	codeLockNotAvailable   = "55P03" // lock_timeout ran out
	codeReadOnly           = "25006" // read_only_sql_transaction: a standby, a recovering cluster
	constraintIdemKey      = "idempotency_key_pkey"
)

// ErrKeyUsed means the idempotency key already names an order.
var ErrKeyUsed = errors.New("idempotency key already used")

// ErrReadOnly is a write refused by a server that takes none (a standby, a
// cluster still recovering): it changed nothing.
var ErrReadOnly = shop.Conflict("the database is read-only (a standby, or a restore that has not finished): nothing was changed; use the primary")

// IsNoRows reports whether err means a query found nothing.
func IsNoRows(err error) bool { return errors.Is(err, pgx.ErrNoRows) }

func pgErr(err error) *pgconn.PgError {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe
	}
	return nil
}

func code(err error) string {
	if pe := pgErr(err); pe != nil {
		return pe.Code
	}
	return ""
}

// domainErr turns the errors the server raises on purpose into domain errors
// and leaves every other error as it is.
func domainErr(err error) error {
	pe := pgErr(err)
	if pe == nil {
		return err
	}
	switch {
	case pe.Code == codeUniqueViolation && pe.ConstraintName == constraintIdemKey:
		return ErrKeyUsed
	case pe.Code == codeRaiseException:
		return shop.Conflict("%s", pe.Message)
	case pe.Code == codeSagaFenced:
		return shop.Fenced("%s: it can change nothing more", pe.Message)
	case pe.Code == codeSagaMissing: // met mid-work, not an id the user typed: a conflict, not bad input
		return shop.Conflict("%s", pe.Message)
	case pe.Code == codeReadOnly:
		return ErrReadOnly
	}
	return err
}

// writeErr classifies the error of a write: a server error means it was
// rolled back; an error before anything was sent means nothing happened;
// anything else (the connection lost or the session terminated mid-commit,
// a deadline) leaves the outcome unknown, reported as shop.ErrIncomplete.
func writeErr(what string, err error) error {
	if err == nil || refused(err) { // our own refusal, before anything was committed
		return err
	}
	var ce *pgconn.ConnectError
	var pre pgx.ErrPreprocessingBatch // statements are prepared and encoded before any runs
	pe := pgErr(err)
	if pe != nil && !sessionEnding(pe) || pe != nil && pe.Code == codeIdleSessionTimeout ||
		pgconn.SafeToRetry(err) || errors.As(err, &ce) || errors.As(err, &pre) {
		return domainErr(err)
	}
	// A FATAL error ends the session: it may have come after the commit.
	return shop.UnknownOutcome("the database did not confirm "+what, err)
}

// refused reports whether err is a refusal of ours (a rule, a missing row,
// bad rows) returned inside a transaction, which rolled it back: nothing
// was committed, so the outcome is known.
func refused(err error) bool {
	return pgErr(err) == nil && (errors.Is(err, shop.ErrConflict) || errors.Is(err, shop.ErrNotFound) || errors.Is(err, shop.ErrInvalid))
}

// deadBeforeRunning reports whether err says the connection was already dead
// when a batch was sent, before any of its statements ran.
func deadBeforeRunning(err error) bool {
	var pre pgx.ErrPreprocessingBatch
	if errors.As(err, &pre) {
		pe := pgErr(err)
		return pe == nil || sessionEnding(pe)
	}
	pe := pgErr(err)
	return pgconn.SafeToRetry(err) || pe != nil && pe.Code == codeIdleSessionTimeout
}

// Unavailable reports whether err means the database could not be reached,
// or ended the session (shut down, restarting, a network failure), rather
// than refusing what was asked: the same write may be tried again once it
// is back, when repeating it is harmless.
func Unavailable(err error) bool {
	// A deadline or a cancel of ours (a commit's wait for a standby cut
	// short) is not the server gone: what it cut off may be committed.
	if err == nil || refused(err) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return false
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) || pgconn.SafeToRetry(err) {
		return true
	}
	if pe := pgErr(err); pe != nil {
		// 08: connection exception; 57P: the server shut down or is starting.
		return sessionEnding(pe) && pe.Code != codeSagaFenced || strings.HasPrefix(pe.Code, "08") || strings.HasPrefix(pe.Code, "57P")
	}
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.ErrUnexpectedEOF)
}

// sessionEnding reports whether the server ended the session with e (FATAL
// or PANIC), read from the severity the server does not translate.
func sessionEnding(e *pgconn.PgError) bool {
	sev := e.SeverityUnlocalized
	if sev == "" {
		sev = e.Severity
	}
	return sev == "FATAL" || sev == "PANIC"
}
