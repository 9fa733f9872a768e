package payment

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
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

// Pay charges the order once; paying an order again returns the first answer.
func (s *Sandbox) Pay(ctx context.Context, r Request) (Result, error) {
	status, reason := shop.PaymentSuccess, ""
	if s.DeclineOver > 0 && r.Amount > s.DeclineOver {
		status = shop.PaymentFailed
		reason = fmt.Sprintf("declined by the %s: %s is over its limit of %s", s.name(), r.Amount, s.DeclineOver)
	}
	var res Result
	err := s.Ledger.QueryRow(ctx, `INSERT INTO sandbox_payment (order_uuid, method, tx_id, amount, status, reason)
		VALUES ($1, $2, $3, $4, $5, NULLIF($6, ''))
		ON CONFLICT (order_uuid) DO UPDATE SET order_uuid = EXCLUDED.order_uuid
		RETURNING tx_id, status, coalesce(reason, '')`,
		r.OrderUUID, s.Method, s.newTxID(), r.Amount, status, reason).Scan(&res.TxID, &res.Status, &res.Reason)
	return res, err
}

// Cancel refunds a successful payment; a cancelled one stays cancelled.
func (s *Sandbox) Cancel(ctx context.Context, orderUUID string) (Result, error) {
	var res Result
	err := s.Ledger.QueryRow(ctx, `UPDATE sandbox_payment SET status = 'CANCELLED', cancelled_at = coalesce(cancelled_at, now())
		WHERE order_uuid = $1 AND status IN ('SUCCESS', 'CANCELLED') RETURNING tx_id, status`, orderUUID).Scan(&res.TxID, &res.Status)
	if errors.Is(err, pgx.ErrNoRows) {
		return res, fmt.Errorf("the %s has no successful payment for order %s to cancel", s.name(), orderUUID)
	}
	return res, err
}

// Lookup returns the sandbox's record of the order's payment.
func (s *Sandbox) Lookup(ctx context.Context, orderUUID string) (Result, error) {
	var res Result
	err := s.Ledger.QueryRow(ctx, `SELECT tx_id, status, coalesce(reason, '') FROM sandbox_payment WHERE order_uuid = $1`,
		orderUUID).Scan(&res.TxID, &res.Status, &res.Reason)
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
func (s *Sandbox) Void(ctx context.Context, orderUUID string) (Result, error) {
	var res Result
	err := s.Ledger.QueryRow(ctx, `WITH v AS (
			INSERT INTO sandbox_payment (order_uuid, method, tx_id, amount, status, reason)
			VALUES ($1, $2, $3, 0, 'FAILED', $4) ON CONFLICT (order_uuid) DO UPDATE SET order_uuid = EXCLUDED.order_uuid
			RETURNING tx_id, status, reason)
		SELECT tx_id, status, coalesce(reason, '') FROM v`,
		orderUUID, s.Method, s.newTxID(), voidReason).Scan(&res.TxID, &res.Status, &res.Reason)
	return res, err
}
