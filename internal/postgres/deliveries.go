package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rabbitpay/rabbitpay/internal/shop"
)

// A delivery's quantity is what is left to ship: the item's quantity less
// what partial refunds gave back.
const deliveryCols = `d.id, op.order_id, d.order_product_id, o.customer_id, p.sku, p.name, op.quantity - op.refunded_quantity, d.status,
	coalesce(d.carrier, ''), coalesce(d.tracking_number, ''), d.created_at, d.updated_at`

const deliveryFrom = ` FROM delivery d JOIN order_product op ON op.id = d.order_product_id
	JOIN orders o ON o.id = op.order_id JOIN product p ON p.id = op.product_id`

func scanDelivery(row pgx.Row) (shop.Delivery, error) {
	var d shop.Delivery
	err := row.Scan(&d.ID, &d.OrderID, &d.OrderProductID, &d.CustomerID, &d.SKU, &d.Name, &d.Quantity, &d.Status,
		&d.Carrier, &d.TrackingNumber, &d.CreatedAt, &d.UpdatedAt)
	return d, err
}

// queueDeliveryChanged queues, for the deliveries in the CTE d (columns id,
// order_product_id, status, carrier, tracking_number, updated_at), their
// history rows and their notifications: every change and its notification
// are one statement, so neither can commit without the other.
const deliveryChanged = `
	h AS (INSERT INTO delivery_history (delivery_id, status, carrier, tracking_number, changed_at)
		SELECT id, status, carrier, tracking_number, updated_at FROM d),
	n AS (INSERT INTO notification (kind, customer_id, order_id, payload)
		SELECT 'delivery.' || lower(d.status::text), o.customer_id, o.id, jsonb_build_object('order_uuid', o.order_uuid,
			'order_id', o.id, 'delivery_id', d.id, 'order_product_id', d.order_product_id, 'sku', p.sku, 'product', p.name,
			'quantity', op.quantity - op.refunded_quantity, 'status', d.status, 'carrier', d.carrier, 'tracking_number', d.tracking_number, 'at', d.updated_at)
		FROM d JOIN order_product op ON op.id = d.order_product_id JOIN orders o ON o.id = op.order_id
			JOIN product p ON p.id = op.product_id)`

// lockOrder locks an order's row for a delivery change and checks it may deliver.
func lockOrders(ctx context.Context, tx pgx.Tx, ids []int64) (map[int64]error, error) {
	rows, err := tx.Query(ctx, `SELECT o.id, o.status, coalesce(s.state::text, ''),
			coalesce((SELECT min(r.id) FROM order_refund r WHERE r.order_id = o.id AND r.state = 'refunding'), 0)
		FROM orders o LEFT JOIN saga s USING (order_uuid)
		WHERE o.id = ANY($1) ORDER BY o.id FOR UPDATE OF o`, ids)
	if err != nil {
		return nil, err
	}
	out := map[int64]error{}
	var id, refunding int64
	var status shop.OrderStatus
	var state shop.SagaState
	_, err = pgx.ForEachRow(rows, []any{&id, &status, &state, &refunding}, func() error {
		out[id] = shop.CheckDeliverable(id, status, state)
		if out[id] == nil && refunding != 0 { // its quantities are not settled yet
			out[id] = errRefunding(id, refunding)
		}
		return nil
	})
	return out, err
}

func orderItems(ctx context.Context, tx pgx.Tx, orderIDs []int64) (map[int64][]shop.ItemRef, error) {
	rows, err := tx.Query(ctx, `SELECT op.order_id, op.id, op.product_id, p.sku, coalesce(d.id, 0), op.quantity - op.refunded_quantity
		FROM order_product op JOIN product p ON p.id = op.product_id LEFT JOIN delivery d ON d.order_product_id = op.id
		WHERE op.order_id = ANY($1) ORDER BY op.id`, orderIDs)
	if err != nil {
		return nil, err
	}
	out := map[int64][]shop.ItemRef{}
	var oid int64
	var it shop.ItemRef
	_, err = pgx.ForEachRow(rows, []any{&oid, &it.OrderProductID, &it.ProductID, &it.SKU, &it.DeliveryID, &it.Remaining}, func() error {
		out[oid] = append(out[oid], it)
		return nil
	})
	return out, err
}

// StartDeliveries creates READY deliveries for an order's chosen items
// (every item without one when none is chosen), under the order's row lock,
// with their history and notifications, in one transaction.
func (s *Store) StartDeliveries(ctx context.Context, req shop.DeliveryStart) ([]shop.Delivery, error) {
	var ids []int64
	err := pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		ok, err := lockOrders(ctx, tx, []int64{req.OrderID})
		if err != nil {
			return err
		}
		if e, found := ok[req.OrderID]; !found {
			return shop.NotFound("no order has id %d", req.OrderID)
		} else if e != nil {
			return e
		}
		all, err := orderItems(ctx, tx, []int64{req.OrderID})
		if err != nil {
			return err
		}
		var chosen []int64
		for _, ref := range req.Items {
			it, err := shop.MatchItem(req.OrderID, all[req.OrderID], ref)
			if err != nil {
				return err
			}
			if it.DeliveryID != 0 {
				return shop.Conflict("item %s of order %d already has delivery %d", it.SKU, req.OrderID, it.DeliveryID)
			}
			if it.Remaining == 0 {
				return shop.Conflict("item %s of order %d was refunded: there is nothing to deliver", it.SKU, req.OrderID)
			}
			if !contains(chosen, it.OrderProductID) {
				chosen = append(chosen, it.OrderProductID)
			}
		}
		if len(req.Items) == 0 {
			for _, it := range all[req.OrderID] {
				if it.DeliveryID == 0 && it.Remaining > 0 {
					chosen = append(chosen, it.OrderProductID)
				}
			}
			if len(chosen) == 0 {
				return shop.Conflict("every item of order %d already has a delivery", req.OrderID)
			}
		}
		rows, err := tx.Query(ctx, `WITH d AS (
			INSERT INTO delivery (order_product_id, status, carrier, tracking_number)
			SELECT t.id, 'READY', NULLIF($2, ''), NULLIF($3, '') FROM unnest($1::bigint[]) WITH ORDINALITY AS t(id, n) ORDER BY t.n
			RETURNING id, order_product_id, status, carrier, tracking_number, updated_at),`+deliveryChanged+`
			SELECT id FROM d ORDER BY id`, chosen, req.Carrier, req.Tracking)
		if err != nil {
			return err
		}
		ids, err = pgx.CollectRows(rows, pgx.RowTo[int64])
		return err
	})
	if err != nil {
		return nil, writeErr("the deliveries", err)
	}
	return s.deliveries(ctx, ids)
}

func contains(s []int64, v int64) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func (s *Store) deliveries(ctx context.Context, ids []int64) ([]shop.Delivery, error) {
	rows, err := s.Pool.Query(ctx, `SELECT `+deliveryCols+deliveryFrom+` WHERE d.id = ANY($1) ORDER BY d.id`, ids)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (shop.Delivery, error) { return scanDelivery(r) })
}

// ChangeDeliveries moves deliveries forward, all or nothing, in one
// transaction: it locks their orders (then the deliveries, in id order, so
// two operators cannot both win a race and nothing deadlocks), checks every
// change against the status it finds (a file may move one delivery twice,
// in its order), writes each change with its history and notification, and
// marks shipped every order whose items have all shipped.
//
// A change from a file (Line > 0) that is refused is reported with its line
// among all the file's refused rows (*shop.RowErrors); a change from the
// command line returns its own error. bad holds the rows the file reader
// refused already: the file is checked whole, then refused whole.
func (s *Store) ChangeDeliveries(ctx context.Context, changes []shop.DeliveryChange, fileErrs shop.RowErrors) ([]shop.Delivery, error) {
	var ids []int64
	err := pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		ids = nil
		bad := fileErrs
		refuse := func(c shop.DeliveryChange, err error) error {
			if c.Line == 0 {
				return err
			}
			bad.Add(shop.RowError{Line: c.Line, Reason: err.Error()})
			return nil
		}
		// Which orders the changes touch (a delivery never changes order).
		var byID, orderIDs []int64
		for _, c := range changes {
			if c.ID != 0 {
				byID = append(byID, c.ID)
			} else {
				orderIDs = append(orderIDs, c.OrderID)
			}
		}
		orderOf := map[int64]int64{}
		rows, err := tx.Query(ctx, `SELECT d.id, op.order_id FROM delivery d JOIN order_product op ON op.id = d.order_product_id
			WHERE d.id = ANY($1)`, byID)
		if err != nil {
			return err
		}
		var did, oid int64
		if _, err := pgx.ForEachRow(rows, []any{&did, &oid}, func() error { orderOf[did] = oid; return nil }); err != nil {
			return err
		}
		for _, id := range orderOf {
			orderIDs = append(orderIDs, id)
		}
		deliverable, err := lockOrders(ctx, tx, orderIDs)
		if err != nil {
			return err
		}
		items, err := orderItems(ctx, tx, orderIDs)
		if err != nil {
			return err
		}
		// Resolve each change to a delivery and its order.
		type target struct {
			c       shop.DeliveryChange
			orderID int64
		}
		var targets []target
		var lockIDs []int64
		for _, c := range changes {
			t := target{c: c, orderID: c.OrderID}
			if c.ID != 0 {
				if t.orderID = orderOf[c.ID]; t.orderID == 0 {
					if err := refuse(c, shop.NotFound("no delivery has id %d", c.ID)); err != nil {
						return err
					}
					continue
				}
			} else {
				if _, ok := deliverable[c.OrderID]; !ok {
					if err := refuse(c, shop.NotFound("no order has id %d", c.OrderID)); err != nil {
						return err
					}
					continue
				}
				it, err := shop.MatchItem(c.OrderID, items[c.OrderID], c.SKU)
				if err == nil && it.DeliveryID == 0 {
					err = shop.Conflict("item %s of order %d has no delivery yet: start one with 'rabbitpay deliver start --order %d'", it.SKU, c.OrderID, c.OrderID)
				}
				if err != nil {
					if err := refuse(c, err); err != nil {
						return err
					}
					continue
				}
				t.c.ID = it.DeliveryID
			}
			targets = append(targets, t)
			lockIDs = append(lockIDs, t.c.ID)
		}
		// The deliveries and their items (a refund locks the item too).
		status := map[int64]shop.DeliveryStatus{}
		refunded := map[int64]string{}
		rows, err = tx.Query(ctx, `SELECT d.id, d.status, CASE WHEN op.refunded_quantity = op.quantity THEN p.sku ELSE '' END
			FROM delivery d JOIN order_product op ON op.id = d.order_product_id JOIN product p ON p.id = op.product_id
			WHERE d.id = ANY($1) ORDER BY d.id FOR UPDATE OF d, op`, lockIDs)
		if err != nil {
			return err
		}
		var st shop.DeliveryStatus
		var sku string
		if _, err := pgx.ForEachRow(rows, []any{&did, &st, &sku}, func() error { status[did], refunded[did] = st, sku; return nil }); err != nil {
			return err
		}
		b := &pgx.Batch{}
		var touched []int64
		for _, t := range targets {
			err := deliverable[t.orderID]
			if err == nil && refunded[t.c.ID] != "" {
				err = shop.Conflict("delivery %d: item %s of order %d was refunded: there is nothing to deliver", t.c.ID, refunded[t.c.ID], t.orderID)
			}
			if err == nil {
				err = status[t.c.ID].CheckMove(t.c.ID, t.c.Status)
			}
			if err != nil {
				if err := refuse(t.c, err); err != nil {
					return err
				}
				continue
			}
			status[t.c.ID] = t.c.Status
			var at *time.Time
			if !t.c.At.IsZero() {
				at = &t.c.At
			}
			b.Queue(`WITH d AS (
				UPDATE delivery SET status = $2, carrier = coalesce(NULLIF($3, ''), carrier),
					tracking_number = coalesce(NULLIF($4, ''), tracking_number), updated_at = coalesce($5, now())
				WHERE id = $1 RETURNING id, order_product_id, status, carrier, tracking_number, updated_at),`+deliveryChanged+`
				SELECT count(*) FROM d`, t.c.ID, t.c.Status, t.c.Carrier, t.c.Tracking, at)
			if !contains(ids, t.c.ID) {
				ids = append(ids, t.c.ID)
			}
			if !contains(touched, t.orderID) {
				touched = append(touched, t.orderID)
			}
		}
		if bad.Total > 0 {
			bad.Sort()
			return &bad
		}
		b.Queue(rollUpShipped, touched, shop.NotifyOrderShipped)
		return tx.SendBatch(ctx, b).Close()
	})
	if err != nil {
		return nil, writeErr("the delivery change", err)
	}
	return s.deliveries(ctx, ids)
}

// ListDeliveries lists a page of deliveries in id order; After is the last id seen.
func (s *Store) ListDeliveries(ctx context.Context, f shop.DeliveryFilter, o shop.ListOptions) (shop.Page[shop.Delivery], error) {
	rows, err := s.Pool.Query(ctx, `SELECT `+deliveryCols+deliveryFrom+`
		WHERE ($1 = 0 OR op.order_id = $1) AND ($2 = 0 OR o.customer_id = $2) AND ($3 = '' OR d.status::text = $3) AND d.id > $4
		-- nothing left to ship: not listed (deliver show still shows it)
		AND NOT (d.status = 'READY' AND (o.status = 'cancelled' OR op.refunded_quantity >= op.quantity))
		ORDER BY d.id LIMIT $5`, f.OrderID, f.CustomerID, string(f.Status), o.After, limit(o))
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

// rollUpShipped is the roll-up: a paid order whose every item has shipped
// (but those refunded whole) is shipped, and says so. $1: the order ids, $2:
// order_shipped. Run after a delivery change and after a partial refund.
const rollUpShipped = `WITH o AS (
	UPDATE orders o SET status = 'shipped', updated_at = now()
	WHERE o.id = ANY($1) AND o.status = 'paid' AND NOT EXISTS (
		SELECT FROM order_product op LEFT JOIN delivery d ON d.order_product_id = op.id
		WHERE op.order_id = o.id AND op.refunded_quantity < op.quantity AND (d.id IS NULL OR d.status = 'READY'))
	RETURNING o.id, o.customer_id, o.order_uuid, o.total_amount)
	INSERT INTO notification (kind, customer_id, order_id, payload)
	SELECT $2, o.customer_id, o.id, jsonb_build_object('order_uuid', o.order_uuid, 'order_id', o.id, 'total_amount', o.total_amount)
	FROM o`
