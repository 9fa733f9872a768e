package postgres

import (
	"context"
	"encoding/json"
	"strconv"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/rabbitpay/rabbitpay/internal/shop"
)

// RecordCallsSQL records provider calls ($2, JSON) made for the payment of order $1.
const RecordCallsSQL = `INSERT INTO payment_call (order_uuid, call, outcome, detail, duration_ms, at)
		SELECT $1, c.call, c.outcome, coalesce(c.detail, ''), c.duration_ms, c.at
		FROM jsonb_to_recordset($2::jsonb) AS c(call text, outcome text, detail text, duration_ms integer, at timestamptz)`

// queueCalls records provider calls made for the payment of order uuid.
func queueCalls(b *pgx.Batch, uuid string, calls []shop.PaymentCall) {
	b.Queue(RecordCallsSQL, uuid, jsonText(calls))
}

// RecordCalls records provider calls made outside any saga write (look-ups
// of finished payments).
func (s *Store) RecordCalls(ctx context.Context, uuid string, calls []shop.PaymentCall) error {
	if len(calls) == 0 {
		return nil
	}
	b := &pgx.Batch{}
	queueCalls(b, uuid, calls)
	return s.Pool.SendBatch(ctx, b).Close()
}

// RecordPending commits what the provider handed out for the payment before
// anyone is asked to approve it: its id (so a crash from here on can still
// look the payment up) and the approval URL.
func (l *SagaLog) RecordPending(ctx context.Context, providerRef, approvalURL string, ev shop.SagaEvent) error {
	return l.write(ctx, "the payment request", func(b *pgx.Batch) {
		l.fence(b, l.lease())
		b.Queue(`UPDATE payment SET provider_ref = $2, approval_url = NULLIF($3, '') WHERE order_uuid = $1 AND status = $4`,
			l.UUID, providerRef, approvalURL, shop.PaymentProgress)
		b.Queue(`UPDATE saga SET history = history || $2::jsonb, updated_at = now() WHERE order_uuid = $1`, l.UUID, events(ev))
	}, logged(ev))
}

// RecordApproval commits the buyer's approval before it is used to charge,
// so a process that takes the saga over can finish that charge.
func (l *SagaLog) RecordApproval(ctx context.Context, token string, ev shop.SagaEvent) error {
	return l.write(ctx, "the buyer's approval", func(b *pgx.Batch) {
		l.fence(b, l.lease())
		b.Queue(`UPDATE payment SET approval_token = $2 WHERE order_uuid = $1 AND status = $3`, l.UUID, token, shop.PaymentProgress)
		b.Queue(`UPDATE saga SET history = history || $2::jsonb, updated_at = now() WHERE order_uuid = $1`, l.UUID, events(ev))
	}, logged(ev))
}

const paymentCols = `p.id, p.order_uuid::text, p.order_id, p.method, p.status, p.amount, p.refunded_amount, coalesce(p.provider_tx_id, ''),
	coalesce(p.provider_ref, ''), coalesce(p.approval_url, ''),
	coalesce(p.failure_reason, ''), p.created_at, p.paid_at, p.cancelled_at`

const paymentSelect = `SELECT ` + paymentCols + ` FROM payment p`

func scanPayment(row pgx.Row) (shop.Payment, error) {
	var p shop.Payment
	err := row.Scan(&p.ID, &p.OrderUUID, &p.OrderID, &p.Method, &p.Status, &p.Amount, &p.Refunded, &p.ProviderTxID,
		&p.ProviderRef, &p.ApprovalURL, &p.FailureReason, &p.CreatedAt, &p.PaidAt, &p.CancelledAt)
	if p.Status != shop.PaymentProgress { // the buyer's link is only shown while the payment waits for them
		p.ApprovalURL = ""
	}
	return p, err
}

// ListPayments lists a page of payments, newest first; After is the last id
// seen. A date window is read on payment_created_id (see filters.windowPage).
func (s *Store) ListPayments(ctx context.Context, f shop.PaymentFilter, o shop.ListOptions) (shop.Page[shop.Payment], error) {
	w := newFilters().
		when(f.OrderID != 0, "p.order_id = @order", "order", f.OrderID).
		when(f.Status != "", "p.status = @status", "status", string(f.Status)).
		when(f.Method != "", "p.method = @method", "method", string(f.Method))
	rows, err := s.Pool.Query(ctx, paymentSelect+w.windowPage("payment", "p", o), w.args)
	if err != nil {
		return shop.Page[shop.Payment]{}, err
	}
	ps, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (shop.Payment, error) { return scanPayment(r) })
	return page(ps, o), err
}

// GetPayment reads one payment by id or order UUID, with every provider call
// made for it and its refunds.
func (s *Store) GetPayment(ctx context.Context, ref string) (shop.PaymentDetail, error) {
	var d shop.PaymentDetail
	id, _ := strconv.ParseInt(ref, 10, 64)
	if id <= 0 {
		u, err := uuid.Parse(ref)
		if err != nil {
			return d, shop.Invalid("%q is neither a payment id nor an order UUID", ref)
		}
		ref = u.String()
	}
	p, err := scanPayment(s.Pool.QueryRow(ctx, paymentSelect+` WHERE p.id = $1 OR ($1 = 0 AND p.order_uuid::text = $2)`, id, ref))
	if IsNoRows(err) {
		return d, shop.NotFound("no payment has id or order UUID %q", ref)
	}
	if err != nil {
		return d, err
	}
	d.Payment = p
	rows, err := s.Pool.Query(ctx, `SELECT at, call, outcome, detail, duration_ms FROM payment_call WHERE order_uuid = $1 ORDER BY id`, p.OrderUUID)
	if err != nil {
		return d, err
	}
	d.Calls, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (shop.PaymentCall, error) {
		var c shop.PaymentCall
		return c, r.Scan(&c.At, &c.Call, &c.Outcome, &c.Detail, &c.Duration)
	})
	if err != nil {
		return d, err
	}
	d.Refunds, err = s.refunds(ctx, `WHERE order_uuid = $1 ORDER BY id`, p.OrderUUID)
	return d, err
}

const refundSelect = `SELECT id, order_id, order_uuid::text, items, amount, reason, state, coalesce(error, ''), created_at, finished_at FROM order_refund `

func (s *Store) refunds(ctx context.Context, where string, args ...any) ([]shop.Refund, error) {
	rows, err := s.Pool.Query(ctx, refundSelect+where, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (shop.Refund, error) { return scanRefund(r) })
}

func scanRefund(row pgx.Row) (shop.Refund, error) {
	var f shop.Refund
	var items []byte
	err := row.Scan(&f.ID, &f.OrderID, &f.OrderUUID, &items, &f.Amount, &f.Reason, &f.State, &f.Error, &f.CreatedAt, &f.FinishedAt)
	if err == nil {
		err = json.Unmarshal(items, &f.Items)
	}
	return f, err
}

// UnfinishedRefunds lists refunds a crash left refunding, oldest first.
func (s *Store) UnfinishedRefunds(ctx context.Context) ([]shop.Refund, error) {
	return s.refunds(ctx, `WHERE state = `+lit(shop.RefundRefunding)+` ORDER BY created_at`) // order_refund_unfinished
}

// GetRefundByKey reads the refund an idempotency key was used for.
func (s *Store) GetRefundByKey(ctx context.Context, key string) (shop.Refund, error) {
	f, err := scanRefund(s.Pool.QueryRow(ctx, refundSelect+`WHERE key = $1`, key))
	if IsNoRows(err) {
		return f, shop.NotFound("no refund has key %q", key)
	}
	return f, err
}

// BeginRefund checks, under the order's row locks, that the items can be
// refunded (shop.PlanRefund) and records the refund as refunding, holding
// their quantities, all fenced by the saga's lease.
// A key used before returns that refund (existing true) when it was for the
// same items.
func (l *SagaLog) BeginRefund(ctx context.Context, orderID int64, key, reason string, lines []shop.Line, ev shop.SagaEvent) (f shop.Refund, existing bool, err error) {
	amount, err := shop.Total(lines)
	if err != nil {
		return f, false, err
	}
	err = pgx.BeginFunc(ctx, l.s.Pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT saga_fence($1, $2, $3)`, l.UUID, l.Token, l.lease()); err != nil {
			return err
		}
		o, err := lockOrder(ctx, tx, orderID)
		if err != nil {
			return err
		}
		prev, err := scanRefund(tx.QueryRow(ctx, refundSelect+`WHERE key = $1`, key))
		if err == nil {
			if err := shop.CheckRefundReplay(prev, key, orderID, amount); err != nil {
				return err
			}
			f, existing = prev, true
			return nil
		}
		if !IsNoRows(err) {
			return err
		}
		if amount, err = shop.PlanRefund(o, lines); err != nil {
			return err
		}
		ids, qtys, _ := lineArrays(lines)
		if _, err := tx.Exec(ctx, `UPDATE order_product op SET refunded_quantity = refunded_quantity + t.q
			FROM unnest($2::bigint[], $3::bigint[]) AS t(pid, q) WHERE op.order_id = $1 AND op.product_id = t.pid`, orderID, ids, qtys); err != nil {
			return err
		}
		f, err = scanRefund(tx.QueryRow(ctx, `INSERT INTO order_refund (order_id, order_uuid, key, items, amount, reason, state)
			VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id, order_id, order_uuid::text, items, amount, reason, state,
			coalesce(error, ''), created_at, finished_at`, orderID, l.UUID, key, jsonText(lines), amount, reason, shop.RefundRefunding))
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE saga SET history = history || $2::jsonb, updated_at = now() WHERE order_uuid = $1`, l.UUID, events(ev))
		return err
	})
	return f, existing, writeErr("the refund request", err)
}

// FinishRefund records the provider's refund: it gives the items' stock
// back, adds the amount to the payment's refunded amount, moves the order
// and its payment where shop.AfterRefund says (cancelled, and the payment
// CANCELLED, once nothing is left; shipped when every item left has
// shipped), queues payment.refunded and drops the saga's lease, all at once.
func (l *SagaLog) FinishRefund(ctx context.Context, f shop.Refund, txID string, ev shop.SagaEvent) error {
	ids, qtys, _ := lineArrays(f.Items)
	// While the refund is refunding nothing else changes its order's items
	// (shop.RefundInProgress), and their quantities count it already: where
	// the order goes once it is refunded can be read before the write.
	os, err := loadOrders(ctx, l.s.Pool, []int64{f.OrderID}, false)
	if err != nil {
		return err
	}
	if len(os) != 1 {
		return shop.NotFound("no order has id %d", f.OrderID)
	}
	order, pay := shop.AfterRefund(os[0])
	return l.write(ctx, "the refund", func(b *pgx.Batch) {
		l.fence(b, nil)
		b.Queue(`WITH r AS (UPDATE order_refund SET state = $7, finished_at = now() WHERE id = $1 AND state = $8
				AND EXISTS (SELECT FROM payment WHERE order_uuid = $5 AND status = $9) RETURNING id),
			stock AS (UPDATE product p SET stock_quantity = stock_quantity + t.q, updated_at = now()
				FROM unnest($2::bigint[], $3::bigint[]) AS t(pid, q), r WHERE p.id = t.pid),
			pay AS (UPDATE payment SET refunded_amount = refunded_amount + $4, status = $10,
				cancelled_at = CASE WHEN $11 THEN now() END
				FROM r WHERE order_uuid = $5 RETURNING payment.order_id, payment.method, payment.refunded_amount)
			`+QueueEvents(`$6::jsonb`, `SELECT o.customer_id, o.id AS order_id,
				jsonb_build_object('refunded_amount', pay.refunded_amount, 'method', pay.method) AS facts
			FROM pay JOIN orders o ON o.id = pay.order_id`),
			f.ID, ids, qtys, f.Amount, l.UUID, EventsParam(shop.PaymentRefundedV1{OrderUUID: l.UUID, Amount: f.Amount,
				ProviderTxID: txID, Items: f.Items}),
			shop.RefundRefunded, shop.RefundRefunding, shop.PaymentSuccess, pay, pay == shop.PaymentCancelled)
		if order != os[0].Status { // refunded whole: cancelled; its last unshipped item refunded: shipped
			queueOrderMove(b, []int64{f.OrderID}, order, f.ID)
		}
		b.Queue(`UPDATE saga SET history = history || $2::jsonb, updated_at = now() WHERE order_uuid = $1`, l.UUID, events(ev))
	}, logged(ev))
}

// FailRefund records that the provider refused the refund: the items'
// quantities are released and nothing else changes.
func (l *SagaLog) FailRefund(ctx context.Context, f shop.Refund, cause string, ev shop.SagaEvent) error {
	ids, qtys, _ := lineArrays(f.Items)
	return l.write(ctx, "the refund", func(b *pgx.Batch) {
		l.fence(b, nil)
		b.Queue(`WITH r AS (UPDATE order_refund SET state = $5, error = $4, finished_at = now() WHERE id = $1 AND state = $6 RETURNING order_id)
			UPDATE order_product op SET refunded_quantity = refunded_quantity - t.q
			FROM unnest($2::bigint[], $3::bigint[]) AS t(pid, q), r WHERE op.order_id = r.order_id AND op.product_id = t.pid`,
			f.ID, ids, qtys, cause, shop.RefundFailed, shop.RefundRefunding)
		b.Queue(`UPDATE saga SET history = history || $2::jsonb, updated_at = now() WHERE order_uuid = $1`, l.UUID, events(ev))
	}, logged(ev))
}
