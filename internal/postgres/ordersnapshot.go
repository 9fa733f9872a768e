package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rabbitpay/rabbitpay/internal/shop"
)

// querier is a transaction or the pool.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// lockOrders locks the orders ids (in id order, so two writers cannot
// deadlock) and their items, and loads them as the rules see them: the
// snapshot a rule decides on in the transaction that applies its decision.
// An id with no order is left out.
func lockOrders(ctx context.Context, tx pgx.Tx, ids []int64) ([]shop.OrderSnapshot, error) {
	return loadOrders(ctx, tx, ids, true)
}

// loadOrders reads orders as the rules see them, locked or not.
func loadOrders(ctx context.Context, q querier, ids []int64, lock bool) ([]shop.OrderSnapshot, error) {
	lockOrder, lockItems := "", ""
	if lock {
		// NO KEY UPDATE: serialises the writers (each takes the order's lock
		// first) without blocking foreign-key checks against these rows.
		lockOrder, lockItems = " FOR NO KEY UPDATE OF o", " FOR NO KEY UPDATE OF op"
	}
	rows, err := q.Query(ctx, `SELECT o.id, o.status, coalesce(s.state::text, ''), o.ship_to IS NOT NULL OR o.pickup,
			coalesce((SELECT min(r.id) FROM order_refund r WHERE r.order_id = o.id AND r.state = `+lit(shop.RefundRefunding)+`), 0)
		FROM orders o LEFT JOIN saga s USING (order_uuid)
		WHERE o.id = ANY($1) ORDER BY o.id`+lockOrder, ids)
	if err != nil {
		return nil, err
	}
	var out []shop.OrderSnapshot
	var o shop.OrderSnapshot
	if _, err := pgx.ForEachRow(rows, []any{&o.ID, &o.Status, &o.Saga, &o.Destined, &o.Refunding}, func() error {
		out = append(out, o)
		return nil
	}); err != nil {
		return nil, err
	}
	at := map[int64]int{}
	for i, o := range out {
		at[o.ID] = i
	}
	rows, err = q.Query(ctx, `SELECT op.order_id, op.id, op.product_id, p.sku, coalesce(d.id, 0), coalesce(d.status::text, ''),
			op.quantity, op.quantity - op.refunded_quantity, d.updated_at, coalesce(d.carrier, ''), coalesce(d.tracking_number, '')
		FROM order_product op JOIN product p ON p.id = op.product_id LEFT JOIN delivery d ON d.order_product_id = op.id
		WHERE op.order_id = ANY($1) ORDER BY op.id`+lockItems, ids)
	if err != nil {
		return nil, err
	}
	var oid int64
	var it shop.ItemRef
	var changed *time.Time
	_, err = pgx.ForEachRow(rows, []any{&oid, &it.OrderProductID, &it.ProductID, &it.SKU, &it.DeliveryID, &it.Delivery, &it.Quantity, &it.Remaining, &changed, &it.Carrier, &it.Tracking}, func() error {
		it.Changed = time.Time{}
		if changed != nil {
			it.Changed = *changed
		}
		if i, ok := at[oid]; ok {
			out[i].Items = append(out[i].Items, it)
		}
		return nil
	})
	return out, err
}

// lockOrder locks and loads one order.
func lockOrder(ctx context.Context, tx pgx.Tx, id int64) (shop.OrderSnapshot, error) {
	os, err := lockOrders(ctx, tx, []int64{id})
	if err == nil && len(os) == 0 {
		err = shop.NotFound("no order has id %d", id)
	}
	if err != nil {
		return shop.OrderSnapshot{}, err
	}
	return os[0], nil
}

// OrderSnapshot reads one order as the rules see it, without locks: for a
// rule to refuse a request before anything is taken or changed (the store
// checks again under its locks when it applies it).
func (s *Store) OrderSnapshot(ctx context.Context, id int64) (shop.OrderSnapshot, error) {
	os, err := loadOrders(ctx, s.Pool, []int64{id}, false)
	if err == nil && len(os) == 0 {
		err = shop.NotFound("no order has id %d", id)
	}
	if err != nil {
		return shop.OrderSnapshot{}, err
	}
	return os[0], nil
}
