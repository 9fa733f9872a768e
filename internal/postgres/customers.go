package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/rabbitpay/rabbitpay/internal/shop"
)

// CreateCustomer stores a customer, its default address (if any) and password hash (if any).
func (s *Store) CreateCustomer(ctx context.Context, c shop.Customer, passwordHash string) (shop.Customer, error) {
	err := s.Tx(ctx, func(tx pgx.Tx) error {
		var hash *string
		if passwordHash != "" {
			hash = &passwordHash
		}
		if err := tx.QueryRow(ctx, `INSERT INTO customer (name, password_hash, phone, email) VALUES ($1, $2, NULLIF($3, ''), NULLIF($4, ''))
			RETURNING id, created_at`, c.Name, hash, c.Phone, c.Email).Scan(&c.ID, &c.CreatedAt); err != nil {
			return err
		}
		c.HasPassword = hash != nil
		if c.Address == nil {
			return nil
		}
		_, err := tx.Exec(ctx, `INSERT INTO address (customer_id, zip_code, line1, line2, is_default) VALUES ($1, $2, $3, $4, true)`,
			c.ID, c.Address.ZipCode, c.Address.Line1, c.Address.Line2)
		return err
	})
	return c, err
}

const customerSelect = `SELECT c.id, c.name, c.password_hash IS NOT NULL, coalesce(c.phone, ''), coalesce(c.email, ''), c.created_at,
	a.zip_code, a.line1, a.line2
	FROM customer c LEFT JOIN address a ON a.customer_id = c.id AND a.is_default`

func scanCustomer(row pgx.Row) (shop.Customer, error) {
	var c shop.Customer
	var zip, l1, l2 *string
	if err := row.Scan(&c.ID, &c.Name, &c.HasPassword, &c.Phone, &c.Email, &c.CreatedAt, &zip, &l1, &l2); err != nil {
		return c, err
	}
	if zip != nil {
		c.Address = &shop.Address{ZipCode: *zip, Line1: *l1, Line2: *l2}
	}
	return c, nil
}

// GetCustomer finds a customer by id.
func (s *Store) GetCustomer(ctx context.Context, id int64) (shop.Customer, error) {
	c, err := scanCustomer(s.Pool.QueryRow(ctx, customerSelect+` WHERE c.id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return c, shop.NotFound("no customer has id %d", id)
	}
	return c, err
}

// ListCustomers returns a page of customers matching o.
func (s *Store) ListCustomers(ctx context.Context, o shop.ListOptions) (shop.Page[shop.Customer], error) {
	key, desc, err := o.SortKey("id", "name")
	if err != nil {
		return shop.Page[shop.Customer]{}, err
	}
	w := newFilters().when(o.Search != "", "c.name ILIKE '%' || @search || '%'", "search", likeEscape(o.Search))
	rows, err := s.Pool.Query(ctx, customerSelect+w.page("c", o, "c."+key+direction(desc)+", c.id", false), w.args)
	if err != nil {
		return shop.Page[shop.Customer]{}, err
	}
	cs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (shop.Customer, error) { return scanCustomer(r) })
	return page(cs, o), err
}

// UpdateCustomer changes a customer under its row lock: change edits the
// current record (and validates it); a non-empty hash replaces the password.
func (s *Store) UpdateCustomer(ctx context.Context, id int64, change func(*shop.Customer) error, passwordHash string) (shop.Customer, error) {
	var c shop.Customer
	err := s.Tx(ctx, func(tx pgx.Tx) error {
		var err error
		c, err = scanCustomer(tx.QueryRow(ctx, customerSelect+` WHERE c.id = $1 FOR UPDATE OF c`, id))
		if errors.Is(err, pgx.ErrNoRows) {
			return shop.NotFound("no customer has id %d", id)
		}
		if err != nil {
			return err
		}
		if err := change(&c); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE customer SET name = $2, password_hash = coalesce(NULLIF($3, ''), password_hash),
			phone = NULLIF($4, ''), email = NULLIF($5, '') WHERE id = $1`, id, c.Name, passwordHash, c.Phone, c.Email); err != nil {
			return err
		}
		c.HasPassword = c.HasPassword || passwordHash != ""
		if c.Address == nil {
			return nil
		}
		_, err = tx.Exec(ctx, `WITH u AS (UPDATE address SET zip_code = $2, line1 = $3, line2 = $4 WHERE customer_id = $1 AND is_default RETURNING 1)
			INSERT INTO address (customer_id, zip_code, line1, line2, is_default) SELECT $1, $2, $3, $4, true WHERE NOT EXISTS (SELECT FROM u)`,
			id, c.Address.ZipCode, c.Address.Line1, c.Address.Line2)
		return err
	})
	return c, err
}
