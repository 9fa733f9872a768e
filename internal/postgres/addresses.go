package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/rabbitpay/rabbitpay/internal/shop"
)

const addressCols = `id, customer_id, recipient, phone, zip_code, line1, line2, memo, is_default`

func scanAddress(row pgx.Row) (shop.BookAddress, error) {
	var a shop.BookAddress
	err := row.Scan(&a.ID, &a.CustomerID, &a.Recipient, &a.Phone, &a.ZipCode, &a.Line1, &a.Line2, &a.Memo, &a.Default)
	return a, err
}

// AddAddress adds a to its customer's address book; it becomes the default
// when a.Default says so or when the customer has no default yet.
func (s *Store) AddAddress(ctx context.Context, a shop.BookAddress) (shop.BookAddress, error) {
	var out shop.BookAddress
	err := s.Tx(ctx, func(tx pgx.Tx) error {
		var hasDefault bool
		err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT FROM address WHERE customer_id = c.id AND is_default) FROM customer c WHERE c.id = $1 FOR UPDATE`,
			a.CustomerID).Scan(&hasDefault)
		if errors.Is(err, pgx.ErrNoRows) {
			return shop.NotFound("no customer has id %d", a.CustomerID)
		}
		if err != nil {
			return err
		}
		makeDefault := a.Default || !hasDefault
		if makeDefault && hasDefault {
			if _, err := tx.Exec(ctx, `UPDATE address SET is_default = false WHERE customer_id = $1 AND is_default`, a.CustomerID); err != nil {
				return err
			}
		}
		out, err = scanAddress(tx.QueryRow(ctx, `INSERT INTO address (customer_id, recipient, phone, zip_code, line1, line2, memo, is_default)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING `+addressCols,
			a.CustomerID, a.Recipient, a.Phone, a.ZipCode, a.Line1, a.Line2, a.Memo, makeDefault))
		return err
	})
	return out, err
}

// Addresses lists a customer's address book, the default first.
func (s *Store) Addresses(ctx context.Context, customerID int64) ([]shop.BookAddress, error) {
	rows, err := s.Pool.Query(ctx, `SELECT `+addressCols+` FROM address WHERE customer_id = $1 ORDER BY is_default DESC, id`, customerID)
	if err != nil {
		return nil, err
	}
	as, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (shop.BookAddress, error) { return scanAddress(r) })
	if err == nil && len(as) == 0 {
		var known bool
		if err = s.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT FROM customer WHERE id = $1)`, customerID).Scan(&known); err == nil && !known {
			err = shop.NotFound("no customer has id %d", customerID)
		}
	}
	if as == nil {
		as = []shop.BookAddress{}
	}
	return as, err
}

// SetDefaultAddress makes address id its customer's default.
func (s *Store) SetDefaultAddress(ctx context.Context, id int64) (shop.BookAddress, error) {
	var out shop.BookAddress
	err := s.Tx(ctx, func(tx pgx.Tx) error {
		var customerID int64
		err := tx.QueryRow(ctx, `SELECT customer_id FROM address WHERE id = $1`, id).Scan(&customerID)
		if errors.Is(err, pgx.ErrNoRows) {
			return shop.NotFound("no address has id %d", id)
		}
		if err != nil {
			return err
		}
		// The customer's row lock orders this against another change of default.
		if _, err := tx.Exec(ctx, `SELECT FROM customer WHERE id = $1 FOR UPDATE`, customerID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE address SET is_default = false WHERE customer_id = $1 AND is_default AND id <> $2`, customerID, id); err != nil {
			return err
		}
		out, err = scanAddress(tx.QueryRow(ctx, `UPDATE address SET is_default = true WHERE id = $1 RETURNING `+addressCols, id))
		return err
	})
	return out, err
}

// RemoveAddress deletes address id from the address book and returns it.
// Orders keep their own copy of where they go.
func (s *Store) RemoveAddress(ctx context.Context, id int64) (shop.BookAddress, error) {
	a, err := scanAddress(s.Pool.QueryRow(ctx, `DELETE FROM address WHERE id = $1 RETURNING `+addressCols, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return a, shop.NotFound("no address has id %d", id)
	}
	return a, err
}

// shipToCopy is what an order keeps of address a of customer c (as
// shop.ShipTo's JSON): an address without a recipient or a phone (one that
// customer register made) goes to the customer's name and phone. Migration
// 013 gave older orders the same copy.
const shipToCopy = `jsonb_strip_nulls(jsonb_build_object('address_id', a.id, 'recipient', coalesce(NULLIF(a.recipient, ''), c.name),
	'phone', coalesce(NULLIF(a.phone, ''), c.phone, ''), 'zip_code', a.zip_code, 'line1', a.line1,
	'line2', NULLIF(a.line2, ''), 'memo', NULLIF(a.memo, '')))`

// SetShipTo changes where order orderID goes, under the order's lock: check
// (shop.CheckShipToChange) decides on the order as it is, then the order
// gets a copy of dest's address (which must be its customer's) or pickup.
func (s *Store) SetShipTo(ctx context.Context, orderID int64, dest shop.Destination, check func(shop.OrderSnapshot) error) error {
	return pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		o, err := lockOrder(ctx, tx, orderID)
		if err != nil {
			return err
		}
		if err := check(o); err != nil {
			return err
		}
		var customerID int64
		var copied bool
		err = tx.QueryRow(ctx, `UPDATE orders o SET pickup = $3, updated_at = now(), ship_to = CASE WHEN NOT $3 THEN
				(SELECT `+shipToCopy+` FROM address a JOIN customer c ON c.id = a.customer_id
				WHERE a.id = $2 AND a.customer_id = o.customer_id) END
			WHERE o.id = $1 RETURNING o.customer_id, o.ship_to IS NOT NULL`, orderID, dest.AddressID, dest.Pickup).Scan(&customerID, &copied)
		if err == nil && !dest.Pickup && !copied {
			return shop.NotYourAddress(dest.AddressID, customerID) // rolls the change back
		}
		return err
	})
}
