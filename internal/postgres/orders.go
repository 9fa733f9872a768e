package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/rabbitpay/rabbitpay/internal/shop"
)

// IsNoRows reports whether err means a query found nothing.
func IsNoRows(err error) bool { return errors.Is(err, pgx.ErrNoRows) }

const orderCols = `o.id, o.order_uuid::text, o.customer_id, o.status, o.total_amount, o.created_at, o.updated_at`

func scanOrder(row pgx.Row) (shop.Order, error) {
	var o shop.Order
	err := row.Scan(&o.ID, &o.OrderUUID, &o.CustomerID, &o.Status, &o.TotalAmount, &o.CreatedAt, &o.UpdatedAt)
	return o, err
}

// OrderFilter narrows `order list`.
type OrderFilter struct {
	CustomerID int64
	Status     shop.OrderStatus
}

// ListOrders lists orders, newest first.
func (s *Store) ListOrders(ctx context.Context, f OrderFilter) ([]shop.Order, error) {
	rows, err := s.Pool.Query(ctx, `SELECT `+orderCols+` FROM orders o
		WHERE ($1 = 0 OR o.customer_id = $1) AND ($2 = '' OR o.status::text = $2) ORDER BY o.id DESC`, f.CustomerID, string(f.Status))
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (shop.Order, error) { return scanOrder(r) })
}

// GetOrder returns one order with its items, payment and saga trail.
func (s *Store) GetOrder(ctx context.Context, id int64) (shop.Order, error) {
	b := &pgx.Batch{}
	var o shop.Order
	b.Queue(`SELECT `+orderCols+`, s.history FROM orders o LEFT JOIN saga s USING (order_uuid) WHERE o.id = $1`, id).
		QueryRow(func(row pgx.Row) error {
			return row.Scan(&o.ID, &o.OrderUUID, &o.CustomerID, &o.Status, &o.TotalAmount, &o.CreatedAt, &o.UpdatedAt, &o.Saga)
		})
	b.Queue(`SELECT op.id, op.product_id, p.sku, p.name, op.quantity, op.order_price, coalesce(d.status::text, '')
		FROM order_product op JOIN product p ON p.id = op.product_id LEFT JOIN delivery d ON d.order_product_id = op.id
		WHERE op.order_id = $1 ORDER BY op.id`, id).Query(func(rows pgx.Rows) error {
		var err error
		o.Items, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (shop.OrderItem, error) {
			var it shop.OrderItem
			err := r.Scan(&it.ID, &it.ProductID, &it.SKU, &it.Name, &it.Quantity, &it.OrderPrice, &it.DeliveryStatus)
			return it, err
		})
		return err
	})
	b.Queue(paymentSelect+` WHERE p.order_uuid = (SELECT order_uuid FROM orders WHERE id = $1)`, id).Query(func(rows pgx.Rows) error {
		ps, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (shop.Payment, error) { return scanPayment(r) })
		if len(ps) > 0 {
			o.Payment = &ps[0]
		}
		return err
	})
	err := s.Pool.SendBatch(ctx, b).Close()
	if errors.Is(err, pgx.ErrNoRows) {
		return o, shop.NotFound("no order has id %d", id)
	}
	return o, err
}

const paymentSelect = `SELECT p.id, p.order_uuid::text, p.order_id, p.method, p.status, p.amount, coalesce(p.provider_tx_id, ''),
	coalesce(p.failure_reason, ''), p.created_at, p.paid_at, p.cancelled_at FROM payment p`

func scanPayment(row pgx.Row) (shop.Payment, error) {
	var p shop.Payment
	err := row.Scan(&p.ID, &p.OrderUUID, &p.OrderID, &p.Method, &p.Status, &p.Amount, &p.ProviderTxID, &p.FailureReason,
		&p.CreatedAt, &p.PaidAt, &p.CancelledAt)
	return p, err
}

// BeginCancel checks that the order can be cancelled and marks its saga
// cancelling, under the order's row lock. It returns done when the order was
// cancelled already.
func (ss *SagaSession) BeginCancel(ctx context.Context, orderID int64, ev shop.SagaEvent) (done bool, err error) {
	err = pgx.BeginFunc(ctx, ss.conn, func(tx pgx.Tx) error {
		var status string
		if err := tx.QueryRow(ctx, `SELECT status FROM orders WHERE id = $1 FOR UPDATE`, orderID).Scan(&status); err != nil {
			return err
		}
		switch shop.OrderStatus(status) {
		case shop.OrderCancelled:
			done = true
			return nil
		case shop.OrderShipped:
			return shop.Conflict("order %d has shipped and cannot be cancelled", orderID)
		}
		var sku, dstatus string
		err := tx.QueryRow(ctx, `SELECT p.sku, d.status FROM order_product op JOIN product p ON p.id = op.product_id
			JOIN delivery d ON d.order_product_id = op.id WHERE op.order_id = $1 AND d.status <> 'READY' LIMIT 1`, orderID).Scan(&sku, &dstatus)
		if err == nil {
			return shop.Conflict("order %d cannot be cancelled: item %s has shipped (%s)", orderID, sku, dstatus)
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		history, err := jsonArg([]shop.SagaEvent{ev})
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE saga SET state = 'cancelling', history = history || $2, updated_at = now() WHERE order_uuid = $1`,
			ss.UUID, history)
		return err
	})
	return done, err
}

// FinishCancel sets the order cancelled, queues order_cancelled and closes the saga.
func (ss *SagaSession) FinishCancel(ctx context.Context, ev shop.SagaEvent) error {
	history, err := jsonArg([]shop.SagaEvent{ev})
	if err != nil {
		return err
	}
	b := &pgx.Batch{}
	b.Queue(`UPDATE orders SET status = 'cancelled', updated_at = now() WHERE order_uuid = $1 AND status <> 'cancelled'`, ss.UUID)
	b.Queue(`INSERT INTO notification (kind, customer_id, order_id, payload)
		SELECT 'order_cancelled', o.customer_id, o.id, jsonb_build_object('order_uuid', o.order_uuid, 'order_id', o.id, 'total_amount', o.total_amount)
		FROM orders o JOIN saga s USING (order_uuid) WHERE o.order_uuid = $1 AND s.state = 'cancelling'`, ss.UUID)
	b.Queue(`UPDATE saga SET state = 'cancelled', history = history || $2, updated_at = now() WHERE order_uuid = $1`, ss.UUID, history)
	return ss.batch(ctx, b)
}
