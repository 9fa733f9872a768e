package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/rabbitpay/rabbitpay/internal/shop"
)

// UpdateCartQuantity changes how many of a product the customer's cart
// holds, in one transaction holding the customer's cart row (so writers of
// the same cart, the CLI's included, take turns) and the product's row: next
// sees the product and the quantity the cart holds then (0: none) and returns
// the new quantity (0 takes the line out), or refuses.
func (s *Store) UpdateCartQuantity(ctx context.Context, customerID int64, productRef shop.ProductRef,
	next func(p shop.Product, current int64) (int64, error)) error {
	return s.Tx(ctx, func(tx pgx.Tx) error {
		if err := customerExists(ctx, tx, customerID); err != nil {
			return err
		}
		p, err := lookupProduct(ctx, tx, productRef, " FOR SHARE")
		if err != nil {
			return err
		}
		var cartID, current int64
		if err := tx.QueryRow(ctx, `INSERT INTO cart (customer_id) VALUES ($1)
			ON CONFLICT (customer_id) DO UPDATE SET updated_at = now() RETURNING cart_id`, customerID).Scan(&cartID); err != nil {
			return domainErr(err)
		}
		err = tx.QueryRow(ctx, `SELECT quantity FROM cart_item WHERE cart_id = $1 AND product_id = $2 FOR UPDATE`,
			cartID, p.ID).Scan(&current)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return domainErr(err)
		}
		qty, err := next(p, current)
		if err != nil {
			return err
		}
		switch {
		case qty == current:
			return nil
		case qty <= 0:
			_, err = tx.Exec(ctx, `DELETE FROM cart_item WHERE cart_id = $1 AND product_id = $2`, cartID, p.ID)
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO cart_item (cart_id, product_id, quantity) VALUES ($1, $2, $3)
			ON CONFLICT (cart_id, product_id) DO UPDATE SET quantity = EXCLUDED.quantity`, cartID, p.ID, qty)
		return err
	})
}
