package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rabbitpay/rabbitpay/internal/shop"
)

// customerExists returns NotFound for an unknown customer.
func customerExists(ctx context.Context, q querier, id int64) error {
	var ok bool
	if err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM customer WHERE id = $1)`, id).Scan(&ok); err != nil {
		return err
	}
	if !ok {
		return shop.NotFound("no customer has id %d", id)
	}
	return nil
}

// Cart returns the customer's cart with current prices, in one query.
func (s *Store) Cart(ctx context.Context, customerID int64) (shop.Cart, error) {
	cart, _, err := s.cart(ctx, customerID, nil)
	return cart, err
}

// cart is Cart and, with dest, where the order goes (see customerLines).
func (s *Store) cart(ctx context.Context, customerID int64, dest *shop.Destination) (shop.Cart, *shop.ShipTo, error) {
	cart := shop.Cart{CustomerID: customerID, Items: []shop.CartLine{}}
	items, shipTo, err := s.customerLines(ctx, customerID, dest, `SELECT c.id IS NOT NULL, p.id, p.sku, p.name, ci.quantity, p.price, p.stock_quantity, ci.added_at
		FROM (SELECT $1::bigint AS wanted) w LEFT JOIN customer c ON c.id = w.wanted
		LEFT JOIN cart ON cart.customer_id = c.id LEFT JOIN cart_item ci ON ci.cart_id = cart.cart_id
		LEFT JOIN product p ON p.id = ci.product_id ORDER BY ci.added_at, ci.cart_item_id`, customerID)
	if err != nil {
		return cart, nil, err
	}
	lines := make([]shop.Line, len(items))
	for i := range items {
		it := &items[i]
		if it.LineTotal, err = it.Price.MulQty(it.Quantity); err != nil {
			return cart, nil, err
		}
		lines[i] = it.Line
	}
	cart.Items = append(cart.Items, items...)
	cart.TotalAmount, err = shop.Total(lines)
	return cart, shipTo, err
}

// customerLines runs a query of lines whose first column says whether the
// customer exists (one row with NULL lines when there are none). With dest
// (not a pickup), it also copies the address the order goes to, in the
// same round trip: the customer's entry dest.AddressID (refused when it is
// not theirs), or their default address (none without one).
func (s *Store) customerLines(ctx context.Context, customerID int64, dest *shop.Destination, sql string, args ...any) ([]shop.CartLine, *shop.ShipTo, error) {
	b := &pgx.Batch{}
	var lines []shop.CartLine
	exists := false
	var id *int64
	var sku, name *string
	var qty, price, stock *int64
	var added *time.Time
	b.Queue(sql, args...).Query(func(rows pgx.Rows) error {
		_, err := pgx.ForEachRow(rows, []any{&exists, &id, &sku, &name, &qty, &price, &stock, &added}, func() error {
			if id != nil {
				l := shop.CartLine{Line: shop.Line{ProductID: *id, SKU: *sku, Name: *name, Quantity: *qty, Price: shop.Won(*price)}, Stock: *stock}
				if added != nil {
					l.AddedAt = *added
				}
				lines = append(lines, l)
			}
			return nil
		})
		return err
	})
	var shipTo *shop.ShipTo
	if dest != nil && !dest.Pickup {
		b.Queue(`SELECT `+shipToCopy+` FROM address a JOIN customer c ON c.id = a.customer_id
			WHERE a.customer_id = $1 AND CASE WHEN $2::bigint = 0 THEN a.is_default ELSE a.id = $2::bigint END`, customerID, dest.AddressID).
			Query(func(rows pgx.Rows) error {
				_, err := pgx.ForEachRow(rows, []any{&shipTo}, func() error { return nil })
				return err
			})
	}
	if err := s.Pool.SendBatch(ctx, b).Close(); err != nil {
		return nil, nil, err
	}
	switch {
	case !exists:
		return nil, nil, shop.NotFound("no customer has id %d", customerID)
	case dest != nil && dest.AddressID != 0 && shipTo == nil:
		return nil, nil, shop.NotYourAddress(dest.AddressID, customerID)
	}
	return lines, shipTo, nil
}

// CartLines returns the cart's items as order lines and, with dest, where
// the order goes (see customerLines).
func (s *Store) CartLines(ctx context.Context, customerID int64, dest *shop.Destination) ([]shop.Line, *shop.ShipTo, error) {
	cart, shipTo, err := s.cart(ctx, customerID, dest)
	lines := make([]shop.Line, len(cart.Items))
	for i, it := range cart.Items {
		lines[i] = it.Line
	}
	return lines, shipTo, err
}

// RemoveFromCart takes a product out of the customer's cart.
func (s *Store) RemoveFromCart(ctx context.Context, customerID int64, productRef shop.ProductRef) error {
	notInCart := shop.NotFound("product %q is not in customer %d's cart", productRef, customerID)
	if err := customerExists(ctx, s.Pool, customerID); err != nil { // the customer, not the product, is what is missing
		return err
	}
	p, err := lookupProduct(ctx, s.Pool, productRef, "")
	if errors.Is(err, shop.ErrNotFound) {
		return notInCart
	}
	if err != nil {
		return err
	}
	tag, err := s.Pool.Exec(ctx, `DELETE FROM cart_item WHERE cart_id = (SELECT cart_id FROM cart WHERE customer_id = $1)
		AND product_id = $2`, customerID, p.ID)
	if err == nil && tag.RowsAffected() == 0 {
		return notInCart
	}
	return err
}

// ClearCart empties the customer's cart and returns how many items it held.
func (s *Store) ClearCart(ctx context.Context, customerID int64) (int64, error) {
	var n int64
	err := s.Tx(ctx, func(tx pgx.Tx) error {
		if err := customerExists(ctx, tx, customerID); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `DELETE FROM cart_item WHERE cart_id = (SELECT cart_id FROM cart WHERE customer_id = $1)`, customerID)
		n = tag.RowsAffected()
		return err
	})
	return n, err
}

// ResolveItems checks the customer exists and finds each requested
// product (as shop.ProductRef reads references) and its current price, in
// one round trip. Two references to one product make one line.
func (s *Store) ResolveItems(ctx context.Context, customerID int64, items []shop.ItemRequest, dest *shop.Destination) ([]shop.Line, *shop.ShipTo, error) {
	skus := make([]*string, len(items))
	ids := make([]*int64, len(items))
	for i, it := range items {
		skus[i], ids[i] = refArgs(it.Ref)
	}
	// The quantity column carries each line's position in the request; a
	// reference has at most two candidates (by SKU and by id).
	got, shipTo, err := s.customerLines(ctx, customerID, dest, `SELECT EXISTS (SELECT 1 FROM customer WHERE id = $1), p.id, p.sku, p.name, r.n, p.price,
		p.stock_quantity, NULL::timestamptz FROM (SELECT 1) one LEFT JOIN (unnest($2::text[], $3::bigint[]) WITH ORDINALITY AS r(sku, id, n)
		JOIN product p ON p.sku = r.sku OR p.id = r.id) ON true`, customerID, skus, ids)
	if err != nil {
		return nil, nil, err
	}
	candidates := make(map[int64][]shop.Line, len(items))
	for _, l := range got {
		candidates[l.Quantity-1] = append(candidates[l.Quantity-1], l.Line)
	}
	var lines []shop.Line
	at := map[int64]int{} // product id → index in lines
	for i, it := range items {
		l, err := shop.PickProduct(it.Ref, candidates[int64(i)], func(l shop.Line) (int64, string) { return l.ProductID, l.SKU })
		if err != nil {
			return nil, nil, err
		}
		if j, ok := at[l.ProductID]; ok {
			lines[j].Quantity += it.Quantity
			if err := shop.ValidateQuantity(lines[j].Quantity); err != nil {
				return nil, nil, err
			}
			continue
		}
		l.Quantity = it.Quantity
		at[l.ProductID] = len(lines)
		lines = append(lines, l)
	}
	return lines, shipTo, nil
}
