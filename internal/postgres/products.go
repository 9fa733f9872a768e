package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/rabbitpay/rabbitpay/internal/shop"
)

const productCols = "id, sku, name, price, stock_quantity, created_at, updated_at, retired_at"

func scanProduct(row pgx.Row) (shop.Product, error) {
	var p shop.Product
	err := row.Scan(&p.ID, &p.SKU, &p.Name, &p.Price, &p.StockQuantity, &p.CreatedAt, &p.UpdatedAt, &p.RetiredAt)
	return p, err
}

// CreateProduct stores a new product; a taken SKU is a conflict.
func (s *Store) CreateProduct(ctx context.Context, p shop.Product) (shop.Product, error) {
	row := s.Pool.QueryRow(ctx, `INSERT INTO product (sku, name, price, stock_quantity) VALUES ($1, $2, $3, $4)
		RETURNING `+productCols, p.SKU, p.Name, p.Price, p.StockQuantity)
	out, err := scanProduct(row)
	if code(err) == codeUniqueViolation {
		return out, shop.Conflict("a product with SKU %q already exists", p.SKU)
	}
	return out, err
}

// productCandidates selects the products a reference may name: the one
// with its SKU and the one with its id (see refArgs); shop.PickProduct
// chooses between them.
const productCandidates = `SELECT ` + productCols + ` FROM product WHERE sku = $1 OR id = $2`

// refArgs are the SKU and id ref may name, NULL where it names none.
func refArgs(ref shop.ProductRef) (sku *string, id *int64) {
	if s := ref.SKU(); s != "" {
		sku = &s
	}
	if n := ref.ID(); n != 0 {
		id = &n
	}
	return sku, id
}

// lookupProduct finds the product ref names, in one round trip; lock is ""
// or a locking clause (" FOR UPDATE").
func lookupProduct(ctx context.Context, q interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}, ref shop.ProductRef, lock string) (shop.Product, error) {
	sku, id := refArgs(ref)
	rows, err := q.Query(ctx, productCandidates+lock, sku, id)
	if err != nil {
		return shop.Product{}, err
	}
	ps, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (shop.Product, error) { return scanProduct(r) })
	if err != nil {
		return shop.Product{}, err
	}
	return shop.PickProduct(ref, ps, func(p shop.Product) (int64, string) { return p.ID, p.SKU })
}

// GetProduct finds the product ref names.
func (s *Store) GetProduct(ctx context.Context, ref shop.ProductRef) (shop.Product, error) {
	return lookupProduct(ctx, s.Pool, ref, "")
}

// ListProducts returns a page of products matching o, by id unless o sorts
// otherwise.
func (s *Store) ListProducts(ctx context.Context, o shop.ListOptions) (shop.Page[shop.Product], error) {
	key, desc, err := o.SortKey("id", "sku", "name", "price", "stock")
	if err != nil {
		return shop.Page[shop.Product]{}, err
	}
	order := map[string]string{"id": "id", "sku": "sku", "name": "name", "price": "price", "stock": "stock_quantity"}[key]
	w := newFilters().
		when(o.Search != "", "(p.sku || ' ' || p.name) ILIKE '%' || @search || '%'", "search", likeEscape(o.Search)).
		when(o.InStock, "p.stock_quantity > 0", "", nil).
		when(!o.Retired, "p.retired_at IS NULL", "", nil)
	rows, err := s.Pool.Query(ctx, `SELECT `+productCols+` FROM product p`+w.page("p", o, "p."+order+direction(desc)+", p.id", false), w.args)
	if err != nil {
		return shop.Page[shop.Product]{}, err
	}
	ps, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (shop.Product, error) { return scanProduct(r) })
	return page(ps, o), err
}

// UpdateProduct changes the given fields of the product ref names, under a row
// lock, validating the result before it is written.
func (s *Store) UpdateProduct(ctx context.Context, ref shop.ProductRef, patch shop.ProductPatch) (shop.Product, error) {
	var out shop.Product
	err := s.Tx(ctx, func(tx pgx.Tx) error {
		p, err := lookupProduct(ctx, tx, ref, " FOR UPDATE")
		if err != nil {
			return err
		}
		if patch.Name != nil {
			p.Name = *patch.Name
		}
		if patch.Price != nil {
			p.Price = shop.Won(*patch.Price)
		}
		if patch.Stock != nil {
			p.StockQuantity = *patch.Stock
		}
		if err := p.Validate(); err != nil {
			return err
		}
		out, err = scanProduct(tx.QueryRow(ctx, `UPDATE product SET name = $2, price = $3, stock_quantity = $4, updated_at = now()
			WHERE id = $1 RETURNING `+productCols, p.ID, p.Name, p.Price, p.StockQuantity))
		return err
	})
	return out, err
}

// SetRetired retires (or restores) the product ref names.
func (s *Store) SetRetired(ctx context.Context, ref shop.ProductRef, retired bool) (shop.Product, error) {
	var out shop.Product
	err := s.Tx(ctx, func(tx pgx.Tx) error {
		p, err := lookupProduct(ctx, tx, ref, " FOR UPDATE")
		if err != nil {
			return err
		}
		if (p.RetiredAt != nil) == retired { // already so: nothing to write
			out = p
			return nil
		}
		out, err = scanProduct(tx.QueryRow(ctx, `UPDATE product SET retired_at = CASE WHEN $2 THEN coalesce(retired_at, now()) END,
			updated_at = now() WHERE id = $1 RETURNING `+productCols, p.ID, retired))
		return err
	})
	return out, err
}

// DeleteProduct removes a product that no order holds (and takes it out of carts).
func (s *Store) DeleteProduct(ctx context.Context, ref shop.ProductRef) (shop.Product, error) {
	var p shop.Product
	err := s.Tx(ctx, func(tx pgx.Tx) error {
		var err error
		if p, err = lookupProduct(ctx, tx, ref, " FOR UPDATE"); err != nil {
			return err
		}
		var ordered bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT FROM order_product WHERE product_id = $1)`, p.ID).Scan(&ordered); err != nil {
			return err
		}
		if ordered {
			return shop.Conflict("product %s has been ordered, so it stays in the order history: retire it instead", p.SKU)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM cart_item WHERE product_id = $1`, p.ID); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM product WHERE id = $1`, p.ID)
		return err
	})
	return p, err
}
