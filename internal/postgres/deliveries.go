package postgres

import (
	"context"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rabbitpay/rabbitpay/internal/shop"
)

// A delivery's quantity is what is left to ship: the item's quantity less
// what partial refunds gave back.
const deliveryCols = `d.id, op.order_id, d.order_product_id, o.customer_id, p.sku, p.name, op.quantity - op.refunded_quantity, d.status,
	coalesce(d.carrier, ''), coalesce(d.tracking_number, ''), d.created_at, d.updated_at, o.ship_to, o.pickup`

const deliveryFrom = ` FROM delivery d JOIN order_product op ON op.id = d.order_product_id
	JOIN orders o ON o.id = op.order_id JOIN product p ON p.id = op.product_id`

func scanDelivery(row pgx.Row) (shop.Delivery, error) {
	var d shop.Delivery
	err := row.Scan(&d.ID, &d.OrderID, &d.OrderProductID, &d.CustomerID, &d.SKU, &d.Name, &d.Quantity, &d.Status,
		&d.Carrier, &d.TrackingNumber, &d.CreatedAt, &d.UpdatedAt, &d.ShipTo, &d.Pickup)
	d.TrackingURL = shop.TrackingURL(d.Carrier, d.TrackingNumber)
	return d, err
}

// UpdateDeliveries locks the orders the deliveries deliveryIDs and the
// orders orderIDs belong to, loads them, lets decide plan the change, and
// applies the plan, all in one transaction, and returns the deliveries it
// wrote. Each planned write goes with its history row and notification, and
// the roll-up with its order_shipped, so none commits without the other.
func (s *Store) UpdateDeliveries(ctx context.Context, deliveryIDs, orderIDs []int64,
	decide func([]shop.OrderSnapshot) (shop.DeliveryPlan, error)) ([]shop.Delivery, error) {
	var ids []int64
	err := pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		// A delivery never changes order: its order is found before the lock.
		rows, err := tx.Query(ctx, `SELECT DISTINCT op.order_id FROM delivery d JOIN order_product op ON op.id = d.order_product_id
			WHERE d.id = ANY($1)`, deliveryIDs)
		if err != nil {
			return err
		}
		more, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return err
		}
		snap, err := lockOrders(ctx, tx, slices.Concat(orderIDs, more))
		if err != nil {
			return err
		}
		plan, err := decide(snap)
		if err != nil {
			return err
		}
		b := &pgx.Batch{}
		for _, op := range plan.Ops {
			queueDeliveryChange(b, op, func(id int64) {
				if !slices.Contains(ids, id) {
					ids = append(ids, id)
				}
			})
		}
		queueOrderMove(b, plan.Shipped, shop.OrderShipped, 0)
		return tx.SendBatch(ctx, b).Close()
	})
	if err != nil {
		return nil, writeErr("the delivery change", err)
	}
	return s.deliveries(ctx, ids)
}

// queueDeliveryChange queues one planned delivery write (a new READY
// delivery, or a move of one) with its history row and its notification, in
// one statement; wrote hears the delivery's id.
func queueDeliveryChange(b *pgx.Batch, op shop.DeliveryOp, wrote func(id int64)) {
	change := `UPDATE delivery SET status = $2, carrier = coalesce(NULLIF($3, ''), carrier),
			tracking_number = coalesce(NULLIF($4, ''), tracking_number), updated_at = coalesce($5, now())
		WHERE id = $1`
	target := op.DeliveryID
	if target == 0 {
		change = `INSERT INTO delivery (order_product_id, status, carrier, tracking_number, updated_at)
		VALUES ($1, $2, NULLIF($3, ''), NULLIF($4, ''), coalesce($5, now()))`
		target = op.OrderProductID
	}
	var at *time.Time
	if !op.At.IsZero() {
		at = &op.At
	}
	b.Queue(`WITH d AS (`+change+` RETURNING id, order_product_id, status, carrier, tracking_number, updated_at),
		h AS (INSERT INTO delivery_history (delivery_id, status, carrier, tracking_number, changed_at)
			SELECT id, status, carrier, tracking_number, updated_at FROM d),
		n AS (`+QueueEvents(`$6::jsonb`, `SELECT o.customer_id, o.id AS order_id, jsonb_build_object(
				'order_uuid', o.order_uuid, 'order_id', o.id, 'delivery_id', d.id, 'order_product_id', d.order_product_id,
				'sku', p.sku, 'product', p.name, 'quantity', op.quantity - op.refunded_quantity,
				'carrier', coalesce(d.carrier, ''), 'tracking_number', coalesce(d.tracking_number, ''), 'at', d.updated_at,
				'ship_to', o.ship_to, 'pickup', o.pickup) AS facts
			FROM d JOIN order_product op ON op.id = d.order_product_id JOIN orders o ON o.id = op.order_id
				JOIN product p ON p.id = op.product_id`)+`)
		SELECT id FROM d`, target, op.Status, op.Carrier, op.Tracking, at, EventsParam(shop.DeliveryChangedV1{Status: op.Status, TrackingURL: op.TrackingURL()})).QueryRow(func(row pgx.Row) error {
		var id int64
		err := row.Scan(&id)
		if err == nil {
			wrote(id)
		}
		return err
	})
}

func (s *Store) deliveries(ctx context.Context, ids []int64) ([]shop.Delivery, error) {
	rows, err := s.Pool.Query(ctx, `SELECT `+deliveryCols+deliveryFrom+` WHERE d.id = ANY($1) ORDER BY d.id`, ids)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (shop.Delivery, error) { return scanDelivery(r) })
}

// ListDeliveries lists a page of deliveries in id order; After is the last id seen.
func (s *Store) ListDeliveries(ctx context.Context, f shop.DeliveryFilter, o shop.ListOptions) (shop.Page[shop.Delivery], error) {
	w := newFilters().
		// nothing left to ship: not listed (deliver show still shows it)
		always(`NOT (d.status = `+lit(shop.DeliveryReady)+` AND (o.status = `+lit(shop.OrderCancelled)+` OR op.refunded_quantity >= op.quantity))`, "", nil).
		when(f.OrderID != 0, "op.order_id = @order", "order", f.OrderID).
		when(f.CustomerID != 0, "o.customer_id = @customer", "customer", f.CustomerID).
		when(f.Status != "", "d.status = @status", "status", string(f.Status)).
		when(!f.Since.IsZero(), "d.created_at >= @since", "since", f.Since)
	rows, err := s.Pool.Query(ctx, `SELECT `+deliveryCols+deliveryFrom+w.page("d", o, "d.id", false), w.args)
	if err != nil {
		return shop.Page[shop.Delivery]{}, err
	}
	ds, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (shop.Delivery, error) { return scanDelivery(r) })
	return page(ds, o), err
}

// GetDelivery returns one delivery with its status history.
func (s *Store) GetDelivery(ctx context.Context, id int64) (shop.Delivery, error) {
	d, err := scanDelivery(s.Pool.QueryRow(ctx, `SELECT `+deliveryCols+deliveryFrom+` WHERE d.id = $1`, id))
	if IsNoRows(err) {
		return d, shop.NotFound("no delivery has id %d", id)
	}
	if err != nil {
		return d, err
	}
	rows, err := s.Pool.Query(ctx, `SELECT status, coalesce(carrier, ''), coalesce(tracking_number, ''), changed_at
		FROM delivery_history WHERE delivery_id = $1 ORDER BY id`, id)
	if err != nil {
		return d, err
	}
	d.History, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (shop.DeliveryEvent, error) {
		var e shop.DeliveryEvent
		err := r.Scan(&e.Status, &e.Carrier, &e.TrackingNumber, &e.At)
		return e, err
	})
	return d, err
}

// queueOrderMove moves the orders orderIDs to status to, those still in a
// status shop.OrderMovesTo allows, and queues order.shipped for each one
// that shipped, in one statement. Run after a delivery change (shop.RollUp
// decided which orders ship) and after a refund (shop.AfterRefund):
// refundID, when not 0, makes it wait for that refund to be refunded (by
// the batch's earlier statement), so a refund whose write changed nothing
// moves nothing.
func queueOrderMove(b *pgx.Batch, orderIDs []int64, to shop.OrderStatus, refundID int64) {
	if len(orderIDs) == 0 {
		return
	}
	var evs []shop.Event
	if to == shop.OrderShipped {
		evs = append(evs, shop.OrderShippedV1{})
	}
	b.Queue(`WITH o AS (
		UPDATE orders o SET status = $4, updated_at = now() WHERE o.id = ANY($1) AND o.status = ANY($5::text[]::order_status[])
			AND ($3 = 0 OR EXISTS (SELECT FROM order_refund WHERE id = $3 AND state = $6))
		RETURNING o.id, o.customer_id, o.order_uuid, o.total_amount)
		`+QueueEvents(`$2::jsonb`, `SELECT customer_id, id AS order_id,
			jsonb_build_object('order_uuid', order_uuid, 'order_id', id, 'total_amount', total_amount) AS facts FROM o`),
		orderIDs, EventsParam(evs...), refundID, to, names(shop.OrderMovesTo(to)), shop.RefundRefunded)
}
