package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/rabbitpay/rabbitpay/internal/shop"
)

// customerExists returns NotFound for an unknown customer.
func customerExists(ctx context.Context, q pgx.Tx, id int64) error {
	var ok bool
	if err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM customer WHERE id = $1)`, id).Scan(&ok); err != nil {
		return err
	}
	if !ok {
		return shop.NotFound("no customer has id %d", id)
	}
	return nil
}

// AddToCart puts qty of a product into the customer's cart, creating the
// cart if needed; a product already in the cart has its quantity raised.
func (s *Store) AddToCart(ctx context.Context, customerID int64, productRef string, qty int64) error {
	return s.Tx(ctx, func(tx pgx.Tx) error {
		if err := customerExists(ctx, tx, customerID); err != nil {
			return err
		}
		sku, id := productRefArgs(productRef)
		var productID int64
		err := tx.QueryRow(ctx, `SELECT id FROM product`+productWhere, sku, id).Scan(&productID)
		if errors.Is(err, pgx.ErrNoRows) {
			return shop.NotFound("no product has id or SKU %q", productRef)
		}
		if err != nil {
			return err
		}
		var total int64
		err = tx.QueryRow(ctx, `WITH c AS (
				INSERT INTO cart (customer_id) VALUES ($1)
				ON CONFLICT (customer_id) DO UPDATE SET updated_at = now() RETURNING cart_id)
			INSERT INTO cart_item (cart_id, product_id, quantity) SELECT c.cart_id, $2, $3 FROM c
			ON CONFLICT (cart_id, product_id) DO UPDATE SET quantity = cart_item.quantity + EXCLUDED.quantity
			RETURNING quantity`, customerID, productID, qty).Scan(&total)
		if err != nil {
			return err
		}
		return shop.ValidateQuantity(total)
	})
}

const lineSelect = `SELECT p.id, p.sku, p.name, ci.quantity, p.price, ci.added_at
	FROM cart c JOIN cart_item ci USING (cart_id) JOIN product p ON p.id = ci.product_id
	WHERE c.customer_id = $1 ORDER BY ci.added_at, ci.cart_item_id`

// Cart returns the customer's cart with current prices.
func (s *Store) Cart(ctx context.Context, customerID int64) (shop.Cart, error) {
	cart := shop.Cart{CustomerID: customerID, Items: []shop.CartLine{}}
	err := s.Tx(ctx, func(tx pgx.Tx) error {
		if err := customerExists(ctx, tx, customerID); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, lineSelect, customerID)
		if err != nil {
			return err
		}
		cart.Items, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (shop.CartLine, error) {
			var l shop.CartLine
			err := r.Scan(&l.ProductID, &l.SKU, &l.Name, &l.Quantity, &l.Price, &l.AddedAt)
			return l, err
		})
		return err
	})
	if err != nil {
		return cart, err
	}
	lines := make([]shop.Line, len(cart.Items))
	for i := range cart.Items {
		it := &cart.Items[i]
		if it.LineTotal, err = it.Price.MulQty(it.Quantity); err != nil {
			return cart, err
		}
		lines[i] = it.Line
	}
	cart.TotalAmount, err = shop.Total(lines)
	return cart, err
}

// customerLines runs a query of lines whose first column says whether the
// customer exists (one row with NULL lines when there are none): one round trip.
func (s *Store) customerLines(ctx context.Context, customerID int64, sql string, args ...any) ([]shop.Line, error) {
	rows, err := s.Pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	var lines []shop.Line
	exists := false
	var id *int64
	var sku, name *string
	var qty, price *int64
	_, err = pgx.ForEachRow(rows, []any{&exists, &id, &sku, &name, &qty, &price}, func() error {
		if id != nil {
			lines = append(lines, shop.Line{ProductID: *id, SKU: *sku, Name: *name, Quantity: *qty, Price: shop.Won(*price)})
		}
		return nil
	})
	if err == nil && !exists {
		err = shop.NotFound("no customer has id %d", customerID)
	}
	return lines, err
}

// CartLines returns the cart's items as order lines.
func (s *Store) CartLines(ctx context.Context, customerID int64) ([]shop.Line, error) {
	return s.customerLines(ctx, customerID, `SELECT c.id IS NOT NULL, p.id, p.sku, p.name, ci.quantity, p.price
		FROM (SELECT $1::bigint AS wanted) w LEFT JOIN customer c ON c.id = w.wanted
		LEFT JOIN cart ON cart.customer_id = c.id LEFT JOIN cart_item ci ON ci.cart_id = cart.cart_id
		LEFT JOIN product p ON p.id = ci.product_id ORDER BY ci.added_at, ci.cart_item_id`, customerID)
}

// RemoveFromCart takes a product out of the customer's cart.
func (s *Store) RemoveFromCart(ctx context.Context, customerID int64, productRef string) error {
	sku, id := productRefArgs(productRef)
	tag, err := s.Pool.Exec(ctx, `DELETE FROM cart_item WHERE cart_id = (SELECT cart_id FROM cart WHERE customer_id = $1)
		AND product_id = (SELECT id FROM product WHERE sku = $2 OR id = $3 ORDER BY sku = $2 DESC LIMIT 1)`, customerID, sku, id)
	if err == nil && tag.RowsAffected() == 0 {
		return shop.NotFound("product %q is not in customer %d's cart", productRef, customerID)
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

// ResolveItems checks the customer exists and finds each requested SKU's
// product and current price.
func (s *Store) ResolveItems(ctx context.Context, customerID int64, items []shop.ItemRequest) ([]shop.Line, error) {
	skus := make([]string, len(items))
	for i, it := range items {
		skus[i] = it.SKU
	}
	got, err := s.customerLines(ctx, customerID, `SELECT EXISTS (SELECT 1 FROM customer WHERE id = $1), p.id, p.sku, p.name, 0::bigint, p.price
		FROM (SELECT 1) one LEFT JOIN product p ON p.sku = ANY($2)`, customerID, skus)
	if err != nil {
		return nil, err
	}
	found := make(map[string]shop.Line, len(got))
	for _, l := range got {
		found[l.SKU] = l
	}
	lines := make([]shop.Line, len(items))
	for i, it := range items {
		l, ok := found[it.SKU]
		if !ok {
			return nil, shop.NotFound("no product has SKU %q", it.SKU)
		}
		l.Quantity = it.Quantity
		lines[i] = l
	}
	return lines, nil
}
