package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/rabbitpay/rabbitpay/internal/payment"
	"github.com/rabbitpay/rabbitpay/internal/shop"
)

// SandboxLedger is the payment sandboxes' ledger (tables sandbox_payment and
// sandbox_refund): the provider's side of a sandbox payment. It keeps its
// books apart from the shop's as a provider does — its own tables, and
// transactions of its own that never include a shop write — on the store's
// pool (NewSandboxLedger) or on a pool of its own (OpenSandboxLedger). It
// implements payment.Ledger.
type SandboxLedger struct {
	pool  *pgxpool.Pool
	owned bool // Close closes the pool
}

// NewSandboxLedger returns the ledger on s's pool.
func NewSandboxLedger(s *Store) *SandboxLedger { return &SandboxLedger{pool: s.Pool} }

// OpenSandboxLedger opens the ledger on a pool of its own on the database at url.
func OpenSandboxLedger(url string, maxConns int32, opts ...Option) (*SandboxLedger, error) {
	pool, err := openPool(url, maxConns, "rabbitpay-payment-sandbox", opts)
	if err != nil {
		return nil, err
	}
	return &SandboxLedger{pool: pool, owned: true}, nil
}

// Close releases the ledger's connections when its pool is its own.
func (l *SandboxLedger) Close() {
	if l.owned {
		l.pool.Close()
	}
}

// ledgerColumns are what scanLedger reads: the provider's view of a payment.
const ledgerColumns = `tx_id, status, amount, refunded, coalesce(reason, '')`

// scanLedger reads a payment as the provider tells it: a failed one charged nothing.
func scanLedger(row pgx.Row) (payment.Result, error) {
	var res payment.Result
	err := row.Scan(&res.TxID, &res.Status, &res.Amount, &res.Refunded, &res.Reason)
	if res.Status == shop.PaymentFailed {
		res.Amount = 0
	}
	return res, err
}

// Record writes the order's payment unless it has one (DO UPDATE waits for a
// payment being written and returns it).
func (l *SandboxLedger) Record(ctx context.Context, m shop.PaymentMethod, orderUUID string, p payment.Result) (payment.Result, error) {
	return scanLedger(l.pool.QueryRow(ctx, SandboxRecordSQL, orderUUID, m, p.TxID, p.Amount, p.Status, p.Reason))
}

// SandboxRecordSQL is the sandbox's charge: order $1, method $2, tx id $3,
// amount $4, status $5, reason $6.
const SandboxRecordSQL = `INSERT INTO sandbox_payment (order_uuid, method, tx_id, amount, status, reason)
		VALUES ($1, $2, $3, $4, $5, NULLIF($6, ''))
		ON CONFLICT (order_uuid) DO UPDATE SET order_uuid = EXCLUDED.order_uuid
		RETURNING ` + ledgerColumns

// Refund takes r.Amount off the order's successful payment once per r.Key.
func (l *SandboxLedger) Refund(ctx context.Context, orderUUID string, r payment.Refund) (res payment.Result, ok bool, err error) {
	err = pgx.BeginFunc(ctx, l.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO sandbox_refund (key, order_uuid, amount) VALUES ($1, $2, $3) ON CONFLICT (key) DO NOTHING`,
			r.Key, orderUUID, r.Amount)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 { // refunded already: answer as the provider would
			res, err = scanLedger(tx.QueryRow(ctx, `SELECT `+ledgerColumns+` FROM sandbox_payment WHERE order_uuid = $1`, orderUUID))
			ok = err == nil
			return err
		}
		before, err := scanLedger(tx.QueryRow(ctx, `SELECT `+ledgerColumns+` FROM sandbox_payment WHERE order_uuid = $1 FOR UPDATE`, orderUUID))
		if errors.Is(err, pgx.ErrNoRows) {
			return errNothingToRefund
		}
		if err != nil {
			return err
		}
		if res, ok = payment.RefundOf(before, r.Amount); !ok {
			return errNothingToRefund
		}
		_, err = tx.Exec(ctx, `UPDATE sandbox_payment SET refunded = $2, status = $3,
				cancelled_at = CASE WHEN $4 THEN now() END WHERE order_uuid = $1`,
			orderUUID, res.Refunded, res.Status, res.Status == shop.PaymentCancelled)
		return err
	})
	if errors.Is(err, errNothingToRefund) {
		return payment.Result{}, false, nil
	}
	return res, ok, err
}

// errNothingToRefund rolls back a refund that found nothing to take it from.
var errNothingToRefund = errors.New("no successful payment with that much left to refund")

// Lookup returns the order's payment, a zero Result when it has none.
func (l *SandboxLedger) Lookup(ctx context.Context, orderUUID string) (payment.Result, error) {
	res, err := scanLedger(l.pool.QueryRow(ctx, `SELECT `+ledgerColumns+` FROM sandbox_payment WHERE order_uuid = $1`, orderUUID))
	if errors.Is(err, pgx.ErrNoRows) {
		return payment.Result{}, nil
	}
	return res, err
}
