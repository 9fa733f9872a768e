package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/rabbitpay/rabbitpay/internal/shop"
)

// SetCartQuantity sets how many of a product the customer's cart holds (0
// takes it out), in one transaction holding the product's row: check sees the
// product as it is then and may refuse the quantity.
func (s *Store) SetCartQuantity(ctx context.Context, customerID int64, productRef string, qty int64, check func(shop.Product) error) error {
	return s.Tx(ctx, func(tx pgx.Tx) error {
		if err := customerExists(ctx, tx, customerID); err != nil {
			return err
		}
		sku, id := productRefArgs(productRef)
		p, err := scanProduct(tx.QueryRow(ctx, `SELECT `+productCols+` FROM product`+productWhere+` FOR SHARE`, sku, id))
		if errors.Is(err, pgx.ErrNoRows) {
			return shop.NotFound("no product has id or SKU %q", productRef)
		}
		if err != nil {
			return domainErr(err)
		}
		if err := check(p); err != nil {
			return err
		}
		if qty == 0 {
			_, err = tx.Exec(ctx, `DELETE FROM cart_item WHERE cart_id = (SELECT cart_id FROM cart WHERE customer_id = $1) AND product_id = $2`,
				customerID, p.ID)
			return err
		}
		_, err = tx.Exec(ctx, `WITH c AS (
				INSERT INTO cart (customer_id) VALUES ($1)
				ON CONFLICT (customer_id) DO UPDATE SET updated_at = now() RETURNING cart_id)
			INSERT INTO cart_item (cart_id, product_id, quantity) SELECT c.cart_id, $2, $3 FROM c
			ON CONFLICT (cart_id, product_id) DO UPDATE SET quantity = EXCLUDED.quantity`, customerID, p.ID, qty)
		return err
	})
}
