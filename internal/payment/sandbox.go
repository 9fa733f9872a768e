package payment

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/rabbitpay/rabbitpay/internal/postgres"
	"github.com/rabbitpay/rabbitpay/internal/shop"
)

// Sandbox is an offline stand-in for a provider: a SANDBOX, not a real payment.
// It keeps its own ledger (the sandbox_payment table) as the provider would,
// declines every amount above DeclineOver, and answers look-ups after a crash.
type Sandbox struct {
	Method      shop.PaymentMethod
	DeclineOver shop.Won // 0: never decline
	// Ledger is the pool the sandbox keeps its ledger through. It commits
	// durably: a provider never forgets a charge it confirmed.
	Ledger *pgxpool.Pool
}

// NewSandboxLedger opens the sandbox's ledger pool on the database at url.
func NewSandboxLedger(url string, maxConns int32) (*pgxpool.Pool, error) {
	cfg, err := postgres.ParsePoolConfig(url) // connect timeout; the embedded cluster's passfile beats PGPASSWORD
	if err != nil {
		return nil, err
	}
	cfg.MaxConns = maxConns
	cfg.ConnConfig.RuntimeParams["application_name"] = "rabbitpay-payment-sandbox"
	return pgxpool.NewWithConfig(context.Background(), cfg)
}

func (s *Sandbox) name() string {
	if s.Method == shop.Kakao {
		return "Kakao Pay sandbox"
	}
	return "Naver Pay sandbox"
}

// newTxID makes an identifier shaped like the provider's: Kakao's tid
// ("T" + 19 characters), Naver's paymentId (date + 12 digits).
func (s *Sandbox) newTxID() string {
	b := make([]byte, 10)
	rand.Read(b)
	if s.Method == shop.Kakao {
		return "T" + hex.EncodeToString(b)[:19]
	}
	n := uint64(0)
	for _, c := range b[:8] {
		n = n<<8 | uint64(c)
	}
	return fmt.Sprintf("%s%012d", time.Now().UTC().Format("20060102"), n%1_000_000_000_000)
}

// Ready needs nothing from the buyer: the sandbox charges on Approve.
func (s *Sandbox) Ready(context.Context, Request) (Pending, error) { return Pending{}, nil }

// Callback is never reached: the sandbox asks no buyer to approve.
func (s *Sandbox) Callback(*url.URL) (string, string) { return "", "" }

// Approve charges the order once; approving an order again returns the
// first answer.
func (s *Sandbox) Approve(ctx context.Context, r Ref) (Result, error) {
	status, reason := shop.PaymentSuccess, ""
	if s.DeclineOver > 0 && r.Amount > s.DeclineOver {
		status = shop.PaymentFailed
		reason = fmt.Sprintf("declined by the %s: %s is over its limit of %s", s.name(), r.Amount, s.DeclineOver)
	}
	return s.scan(s.Ledger.QueryRow(ctx, `INSERT INTO sandbox_payment (order_uuid, method, tx_id, amount, status, reason)
		VALUES ($1, $2, $3, $4, $5, NULLIF($6, ''))
		ON CONFLICT (order_uuid) DO UPDATE SET order_uuid = EXCLUDED.order_uuid
		RETURNING `+ledgerColumns, r.OrderUUID, s.Method, s.newTxID(), r.Amount, status, reason))
}

// ledgerColumns are what scan reads: the provider's view of a payment.
const ledgerColumns = `tx_id, status, CASE WHEN status = 'FAILED' THEN 0 ELSE amount END, refunded, coalesce(reason, '')`

func (s *Sandbox) scan(row pgx.Row) (Result, error) {
	var res Result
	err := row.Scan(&res.TxID, &res.Status, &res.Amount, &res.Refunded, &res.Reason)
	return res, err
}

// Cancel refunds part or all of a successful payment, once per refund key;
// a fully refunded payment is CANCELLED.
func (s *Sandbox) Cancel(ctx context.Context, ref Ref, r Refund) (Result, error) {
	var res Result
	err := pgx.BeginFunc(ctx, s.Ledger, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO sandbox_refund (key, order_uuid, amount) VALUES ($1, $2, $3) ON CONFLICT (key) DO NOTHING`,
			r.Key, ref.OrderUUID, r.Amount)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 { // refunded already: answer as the provider would
			res, err = s.scan(tx.QueryRow(ctx, `SELECT `+ledgerColumns+` FROM sandbox_payment WHERE order_uuid = $1`, ref.OrderUUID))
			return err
		}
		res, err = s.scan(tx.QueryRow(ctx, `UPDATE sandbox_payment SET refunded = refunded + $2,
				status = CASE WHEN refunded + $2 >= amount THEN 'CANCELLED' ELSE status END,
				cancelled_at = CASE WHEN refunded + $2 >= amount THEN now() END
			WHERE order_uuid = $1 AND status = 'SUCCESS' AND refunded + $2 <= amount
			RETURNING `+ledgerColumns, ref.OrderUUID, r.Amount))
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("the %s has no successful payment with %s left to refund for order %s", s.name(), r.Amount, ref.OrderUUID)
		}
		return err
	})
	return res, err
}

// Lookup returns the sandbox's record of the order's payment.
func (s *Sandbox) Lookup(ctx context.Context, ref Ref) (Result, error) {
	res, err := s.scan(s.Ledger.QueryRow(ctx, `SELECT `+ledgerColumns+` FROM sandbox_payment WHERE order_uuid = $1`, ref.OrderUUID))
	if errors.Is(err, pgx.ErrNoRows) {
		return Result{}, nil
	}
	return res, err
}

// voidReason is the sandbox's answer for an order voided before any charge.
const voidReason = "voided by the merchant before any charge"

// Void records that the order will not be charged, unless a charge landed
// first, and returns the ledger's answer for the order either way (DO UPDATE
// waits for a charge being written and returns it).
func (s *Sandbox) Void(ctx context.Context, ref Ref) (Result, error) {
	return s.scan(s.Ledger.QueryRow(ctx, `INSERT INTO sandbox_payment (order_uuid, method, tx_id, amount, status, reason)
		VALUES ($1, $2, $3, 0, 'FAILED', $4) ON CONFLICT (order_uuid) DO UPDATE SET order_uuid = EXCLUDED.order_uuid
		RETURNING `+ledgerColumns, ref.OrderUUID, s.Method, s.newTxID(), voidReason))
}
