package postgres

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/rabbitpay/rabbitpay/internal/shop"
)

const orderCols = `o.id, o.order_uuid::text, o.customer_id, (SELECT name FROM customer WHERE id = o.customer_id), o.status, o.total_amount, o.created_at, o.updated_at,
	o.ship_to, o.pickup`

// ListOrders lists a page of orders, newest first; After is the last id seen.
// A date window is read newest first by (created_at, id), on the index
// orders_created_id, so an old week costs what a recent one does.
func (s *Store) ListOrders(ctx context.Context, f shop.OrderFilter, o shop.ListOptions) (shop.Page[shop.Order], error) {
	w := newFilters().
		when(f.CustomerID != 0, "o.customer_id = @customer", "customer", f.CustomerID).
		when(f.Status != "", "o.status = @status", "status", string(f.Status))
	rows, err := s.Pool.Query(ctx, `SELECT `+orderCols+`, `+orderItemsJSON+` FROM orders o`+w.windowPage("orders", "o", o), w.args)
	if err != nil {
		return shop.Page[shop.Order]{}, err
	}
	os, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (shop.Order, error) {
		var o shop.Order
		var items []byte
		if err := r.Scan(&o.ID, &o.OrderUUID, &o.CustomerID, &o.CustomerName, &o.Status, &o.TotalAmount, &o.CreatedAt, &o.UpdatedAt, &o.ShipTo, &o.Pickup, &items); err != nil {
			return o, err
		}
		return o, json.Unmarshal(items, &o.Items)
	})
	return page(os, o), err
}

// orderItemsJSON is an order's items with each one's delivery, for lists.
const orderItemsJSON = `(SELECT coalesce(jsonb_agg(jsonb_build_object('id', op.id, 'product_id', op.product_id, 'sku', p.sku,
	'name', p.name, 'quantity', op.quantity, 'order_price', op.order_price, 'delivery_id', d.id, 'delivery_status', d.status)
	ORDER BY op.id), '[]') FROM order_product op JOIN product p ON p.id = op.product_id
	LEFT JOIN delivery d ON d.order_product_id = op.id WHERE op.order_id = o.id)`

// OrderIDByUUID returns the id of the order a saga created.
func (s *Store) OrderIDByUUID(ctx context.Context, orderUUID string) (int64, error) {
	var id int64
	err := s.Pool.QueryRow(ctx, `SELECT id FROM orders WHERE order_uuid = $1`, orderUUID).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, shop.NotFound("no order has UUID %s", orderUUID)
	}
	return id, err
}

// GetOrder returns one order with its items, payment and saga trail.
func (s *Store) GetOrder(ctx context.Context, id int64) (shop.Order, error) {
	b := &pgx.Batch{}
	var o shop.Order
	b.Queue(`SELECT `+orderCols+`, s.history FROM orders o LEFT JOIN saga s USING (order_uuid) WHERE o.id = $1`, id).
		QueryRow(func(row pgx.Row) error {
			return row.Scan(&o.ID, &o.OrderUUID, &o.CustomerID, &o.CustomerName, &o.Status, &o.TotalAmount, &o.CreatedAt, &o.UpdatedAt, &o.ShipTo, &o.Pickup, &o.Saga)
		})
	b.Queue(`SELECT op.id, op.product_id, p.sku, p.name, op.quantity, op.order_price, op.refunded_quantity, coalesce(d.id, 0), coalesce(d.status::text, '')
		FROM order_product op JOIN product p ON p.id = op.product_id LEFT JOIN delivery d ON d.order_product_id = op.id
		WHERE op.order_id = $1 ORDER BY op.id`, id).Query(func(rows pgx.Rows) error {
		var err error
		o.Items, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (shop.OrderItem, error) {
			var it shop.OrderItem
			err := r.Scan(&it.ID, &it.ProductID, &it.SKU, &it.Name, &it.Quantity, &it.OrderPrice, &it.Refunded, &it.DeliveryID, &it.DeliveryStatus)
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
