package postgres

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rabbitpay/rabbitpay/internal/shop"
)

// ImportSummary counts what an import did (or, dry, would do).
type ImportSummary struct {
	Rows      int64 `json:"rows"`
	Inserted  int64 `json:"inserted"`
	Updated   int64 `json:"updated"`
	Unchanged int64 `json:"unchanged"`
	DryRun    bool  `json:"dry_run"`
}

// copySource feeds valid rows to COPY and reports progress. When direct
// (copying straight into product), a row whose SKU may repeat an earlier one
// is held back for a check after the COPY instead of aborting it.
type copySource struct {
	rd       *shop.CatalogueReader
	row      shop.ImportRow
	vals     []any
	progress func(rows int64)
	next     time.Time
	direct   bool
	held     []shop.ImportRow
}

func (c *copySource) Next() bool {
	var ok bool
	for {
		c.row, ok = c.rd.Next()
		if !ok || !c.direct || len(c.rd.Candidates) == 0 || c.rd.Candidates[len(c.rd.Candidates)-1].Second != c.row.Line {
			break
		}
		c.held = append(c.held, c.row)
	}
	if c.progress != nil && c.rd.Rows%4096 == 0 {
		if now := time.Now(); now.After(c.next) {
			c.progress(c.rd.Rows)
			c.next = now.Add(200 * time.Millisecond)
		}
	}
	return ok
}

func (c *copySource) Values() ([]any, error) {
	p := c.row.Product
	if c.direct {
		c.vals[0], c.vals[1], c.vals[2], c.vals[3] = p.SKU, p.Name, int64(p.Price), p.StockQuantity
	} else {
		c.vals[0], c.vals[1], c.vals[2], c.vals[3], c.vals[4] = int32(c.row.Line), p.SKU, p.Name, int64(p.Price), p.StockQuantity
	}
	return c.vals, nil
}

func (c *copySource) Err() error { return c.rd.Err() }

// ImportProducts upserts a catalogue by SKU in one transaction: valid rows
// stream into a temporary table with COPY, then one INSERT … ON CONFLICT
// applies them. Any bad row (or SKU repeated in the file) rolls everything
// back. With dryRun nothing is written.
func (s *Store) ImportProducts(ctx context.Context, rd *shop.CatalogueReader, dryRun bool, progress func(rows int64)) (ImportSummary, error) {
	sum := ImportSummary{DryRun: dryRun}
	conn, err := s.Pool.Acquire(ctx)
	if err != nil {
		return sum, err
	}
	defer conn.Release()
	// Fresh sessions only: temp_buffers can be set before the first temp table.
	conn.Exec(ctx, `SET temp_buffers = '256MB'`)
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if !dryRun {
			loaded, err := loadEmpty(ctx, tx, rd, progress)
			if loaded || err != nil {
				sum.Rows, sum.Inserted = rd.Rows, rd.Rows
				return err
			}
		}
		if _, err := tx.Exec(ctx, `CREATE TEMP TABLE import_product (line int, sku text, name text, price bigint, stock bigint) ON COMMIT DROP`); err != nil {
			return err
		}
		src := &copySource{rd: rd, vals: make([]any, 5), progress: progress}
		n, err := tx.CopyFrom(ctx, pgx.Identifier{"import_product"}, []string{"line", "sku", "name", "price", "stock"}, src)
		if err != nil {
			return fmt.Errorf("read the import: %w", err)
		}
		sum.Rows = rd.Rows
		if err := confirmDuplicates(ctx, tx, rd); err != nil {
			return err
		}
		if rd.Errors.Total > 0 {
			return &rd.Errors
		}
		if dryRun {
			err = tx.QueryRow(ctx, `SELECT count(*) FILTER (WHERE p.id IS NULL),
				count(*) FILTER (WHERE p.id IS NOT NULL AND (p.name, p.price, p.stock_quantity) IS DISTINCT FROM (i.name, i.price, i.stock))
				FROM import_product i LEFT JOIN product p USING (sku)`).Scan(&sum.Inserted, &sum.Updated)
		} else {
			err = tx.QueryRow(ctx, `WITH up AS (
				INSERT INTO product AS p (sku, name, price, stock_quantity)
				SELECT sku, name, price, stock FROM import_product
				ON CONFLICT (sku) DO UPDATE SET name = EXCLUDED.name, price = EXCLUDED.price,
					stock_quantity = EXCLUDED.stock_quantity, updated_at = now()
				WHERE (p.name, p.price, p.stock_quantity) IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.price, EXCLUDED.stock_quantity)
				RETURNING (xmax = 0) AS inserted)
				SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM up`).Scan(&sum.Inserted, &sum.Updated)
		}
		sum.Unchanged = n - sum.Inserted - sum.Updated
		if err == nil && dryRun {
			return errDryRun
		}
		return err
	})
	if err == errDryRun {
		err = nil
	}
	return sum, err
}

var errDryRun = fmt.Errorf("dry run")

// loadEmpty is the first load of an empty catalogue: rows COPY straight into
// product (every row is new), under a lock that keeps the table empty until
// then. loaded is false when the catalogue has products.
func loadEmpty(ctx context.Context, tx pgx.Tx, rd *shop.CatalogueReader, progress func(int64)) (loaded bool, err error) {
	if _, err := tx.Exec(ctx, `LOCK TABLE product IN SHARE ROW EXCLUSIVE MODE`); err != nil {
		return false, err
	}
	var empty bool
	if err := tx.QueryRow(ctx, `SELECT NOT EXISTS (SELECT 1 FROM product)`).Scan(&empty); err != nil || !empty {
		return false, err
	}
	src := &copySource{rd: rd, vals: make([]any, 4), progress: progress, direct: true}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"product"}, []string{"sku", "name", "price", "stock_quantity"}, src); err != nil {
		return true, fmt.Errorf("read the import: %w", err)
	}
	// A held row repeats a SKU if an earlier line already put that SKU in (the table was empty).
	for i, row := range src.held {
		var first int
		err := tx.QueryRow(ctx, `SELECT 1 FROM product WHERE sku = $1`, row.Product.SKU).Scan(&first)
		if err == nil {
			rd.Errors.Add(shop.RowError{Line: row.Line, Column: "sku",
				Reason: fmt.Sprintf("SKU %q repeats line %d", row.Product.SKU, rd.Candidates[i].First)})
			continue
		}
		if !IsNoRows(err) {
			return true, err
		}
		p := row.Product // a hash collision, not a repeat
		if _, err := tx.Exec(ctx, `INSERT INTO product (sku, name, price, stock_quantity) VALUES ($1, $2, $3, $4)`,
			p.SKU, p.Name, p.Price, p.StockQuantity); err != nil {
			return true, err
		}
	}
	if rd.Errors.Total > 0 {
		return true, &rd.Errors
	}
	return true, nil
}

// confirmDuplicates turns SKU-hash matches into errors naming both lines,
// after checking the two rows really hold the same SKU.
func confirmDuplicates(ctx context.Context, tx pgx.Tx, rd *shop.CatalogueReader) error {
	if len(rd.Candidates) == 0 {
		return nil
	}
	first := make([]int32, len(rd.Candidates))
	second := make([]int32, len(rd.Candidates))
	for i, c := range rd.Candidates {
		first[i], second[i] = int32(c.First), int32(c.Second)
	}
	rows, err := tx.Query(ctx, `SELECT c.a, c.b, x.sku FROM unnest($1::int[], $2::int[]) AS c(a, b)
		JOIN import_product x ON x.line = c.a JOIN import_product y ON y.line = c.b WHERE x.sku = y.sku ORDER BY c.b`, first, second)
	if err != nil {
		return err
	}
	var a, b int
	var sku string
	_, err = pgx.ForEachRow(rows, []any{&a, &b, &sku}, func() error {
		rd.Errors.Add(shop.RowError{Line: b, Column: "sku", Reason: fmt.Sprintf("SKU %q repeats line %d", sku, a)})
		return nil
	})
	return err
}

// ExportProducts writes the catalogue as CSV (sku,name,price,stock), streamed
// by COPY, so that importing it back changes nothing.
func (s *Store) ExportProducts(ctx context.Context, w io.Writer) (int64, error) {
	conn, err := s.Pool.Acquire(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Release()
	tag, err := conn.Conn().PgConn().CopyTo(ctx, w,
		`COPY (SELECT sku, name, price, stock_quantity AS stock FROM product ORDER BY id) TO STDOUT WITH (FORMAT csv, HEADER)`)
	return tag.RowsAffected(), err
}
