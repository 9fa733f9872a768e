package postgres

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rabbitpay/rabbitpay/internal/shop"
)

// Rows of the first load into an empty catalogue go to PostgreSQL in chunks
// of at most this many rows or bytes: a chunk is kept in memory until it is
// in, so that a SKU repeated in the file can still be reported with both lines.
const (
	chunkRows  = 16384
	chunkBytes = 4 << 20
)

// copySource feeds valid rows to COPY and reports progress. Staging rows
// carry their line; direct rows (into product) carry their id, derived from
// the line. held rows are sent first.
type copySource struct {
	rd       *shop.CatalogueReader
	opt      *shop.ImportOptions
	row      shop.ImportRow
	vals     []any
	next     time.Time
	held     []shop.ImportRow // sent before the reader's rows
	direct   bool
	idShift  int64     // direct: id = line + idShift
	now      time.Time // direct: when a retired row is retired
	chunk    []shop.ImportRow
	bytes    int
	eof      bool
	progress int64
}

func (c *copySource) Next() bool {
	if len(c.held) > 0 {
		c.row, c.held = c.held[0], c.held[1:]
		return true
	}
	if c.direct && (len(c.chunk) >= chunkRows || c.bytes >= chunkBytes) {
		return false // the end of this chunk
	}
	row, ok := c.rd.Next()
	if !ok {
		c.eof = true
		return false
	}
	c.row = row
	if c.direct {
		c.chunk = append(c.chunk, row)
		c.bytes += len(row.Product.SKU) + len(row.Product.Name) + 64
	}
	if p := c.opt.Progress; p != nil && c.rd.Rows-c.progress >= 4096 {
		c.progress = c.rd.Rows
		if now := time.Now(); now.After(c.next) {
			p(c.rd.Rows)
			c.next = now.Add(200 * time.Millisecond)
		}
	}
	return true
}

func (c *copySource) Values() ([]any, error) {
	p := c.row.Product
	if c.direct {
		var retiredAt any // a first load retires now what the file says is retired
		if c.row.Retired != nil && *c.row.Retired {
			retiredAt = c.now
		}
		c.vals[0], c.vals[1], c.vals[2], c.vals[3], c.vals[4], c.vals[5] = int64(c.row.Line)+c.idShift, p.SKU, p.Name, int64(p.Price), p.StockQuantity, retiredAt
	} else {
		var retired any
		if c.row.Retired != nil {
			retired = *c.row.Retired
		}
		c.vals[0], c.vals[1], c.vals[2], c.vals[3], c.vals[4], c.vals[5] = int64(c.row.Line), p.SKU, p.Name, int64(p.Price), p.StockQuantity, retired
	}
	return c.vals, nil
}

func (c *copySource) Err() error { return c.rd.Err() }

// ImportProducts upserts a catalogue by SKU in one transaction, all or
// nothing: any bad row, or a SKU repeated in the file, rolls everything back.
//
// Into an empty catalogue the rows COPY straight into product (under a lock
// that keeps it empty until then: nothing can be ordered from it yet), its
// search index dropped first and built after the rows, in the transaction.
// Otherwise nothing locks product while the file is read: the rows COPY
// into a temporary table, are checked there (repeated SKUs), compared with
// the catalogue without locking it, and only the rows that change are
// applied, in one final statement that locks just those products.
func (s *Store) ImportProducts(ctx context.Context, rd *shop.CatalogueReader, opt shop.ImportOptions) (shop.ImportSummary, error) {
	sum := shop.ImportSummary{DryRun: opt.DryRun}
	conn, err := s.Pool.Acquire(ctx)
	if err != nil {
		return sum, err
	}
	defer conn.Release()
	// Fresh sessions only: temp_buffers can be set before the first temp table.
	// A session that has used one refuses the change; the import then runs
	// with the server's temp_buffers, slower and no less correct.
	_, _ = conn.Exec(ctx, `SET temp_buffers = '256MB'`)
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SET LOCAL work_mem = '128MB'`); err != nil {
			return err
		}
		im := &importer{tx: tx, rd: rd, opt: &opt, sum: &sum}
		if !opt.DryRun {
			empty, err := im.lockIfEmpty(ctx)
			if err != nil {
				return err
			}
			if empty {
				return im.loadEmpty(ctx)
			}
		}
		return im.stageAndApply(ctx, nil, 0)
	})
	if err == errDryRun {
		err = nil
	}
	if rerr := (*shop.RowErrors)(nil); errors.As(err, &rerr) {
		rerr.Sort()
	}
	return sum, err
}

var errDryRun = fmt.Errorf("dry run")

type importer struct {
	tx  pgx.Tx
	rd  *shop.CatalogueReader
	opt *shop.ImportOptions
	sum *shop.ImportSummary
}

// lockIfEmpty takes the table lock of a first load, only when the catalogue
// is empty: a catalogue with products is never locked as a whole.
func (im *importer) lockIfEmpty(ctx context.Context) (bool, error) {
	var empty bool
	if err := im.tx.QueryRow(ctx, `SELECT NOT EXISTS (SELECT 1 FROM product)`).Scan(&empty); err != nil || !empty {
		return false, err
	}
	if _, err := im.tx.Exec(ctx, `SAVEPOINT empty_check`); err != nil {
		return false, err
	}
	// ACCESS EXCLUSIVE: the first load drops the search index (built again
	// after the rows), so even readers wait; an empty catalogue has nothing to
	// show. The lock is asked for at most firstLoadLockWait: queued behind a
	// long reader (an export, an idle transaction), it would make every
	// reader of the catalogue queue behind it; so the load goes the staged
	// way instead, with the indexes kept.
	_, err := im.tx.Exec(ctx, `SET LOCAL lock_timeout = '`+firstLoadLockWait+`'; LOCK TABLE product IN ACCESS EXCLUSIVE MODE; SET LOCAL lock_timeout = 0`)
	if code(err) == codeLockNotAvailable {
		_, err := im.tx.Exec(ctx, `ROLLBACK TO SAVEPOINT empty_check`)
		return false, err
	}
	if err != nil {
		return false, err
	}
	if err := im.tx.QueryRow(ctx, `SELECT NOT EXISTS (SELECT 1 FROM product)`).Scan(&empty); err != nil {
		return false, err
	}
	if !empty { // a product came in meanwhile: give the lock back
		_, err := im.tx.Exec(ctx, `ROLLBACK TO SAVEPOINT empty_check`)
		return false, err
	}
	_, err = im.tx.Exec(ctx, `RELEASE SAVEPOINT empty_check`)
	return true, err
}

// firstLoadLockWait bounds the wait for a first load's table lock.
const firstLoadLockWait = "2s"

// loadEmpty is the first load of an empty catalogue: rows COPY straight
// into product, chunk by chunk. Each row's id is the next identity value
// shifted by its line, so a product's line can be found again. A chunk that
// repeats a SKU fails on the unique index: it is rolled back and the import
// goes on in the staging table, where the repeat is reported with both lines.
func (im *importer) loadEmpty(ctx context.Context) error {
	tx := im.tx
	var base int64
	if err := tx.QueryRow(ctx, `SELECT nextval(pg_get_serial_sequence('product', 'id'))`).Scan(&base); err != nil {
		return err
	}
	indexes, err := im.dropIndexes(ctx)
	if err != nil {
		return err
	}
	src := &copySource{rd: im.rd, opt: im.opt, vals: make([]any, 6), direct: true, now: time.Now()}
	first := true
	var copied int64
	for !src.eof {
		src.chunk, src.bytes = src.chunk[:0], 0
		if _, err := tx.Exec(ctx, `SAVEPOINT chunk`); err != nil {
			return err
		}
		if first {
			row, ok := im.rd.Next()
			if !ok {
				src.eof = true
				break
			}
			src.idShift = base - int64(row.Line)
			src.held = []shop.ImportRow{row}
			src.chunk = append(src.chunk, row)
			first = false
		}
		n, err := tx.CopyFrom(ctx, pgx.Identifier{"product"}, []string{"id", "sku", "name", "price", "stock_quantity", "retired_at"}, src)
		if code(err) == "23505" {
			if _, err := tx.Exec(ctx, `ROLLBACK TO SAVEPOINT chunk`); err != nil {
				return err
			}
			return im.stageAndApply(ctx, src.chunk, src.idShift)
		}
		if err != nil {
			return fmt.Errorf("read the import: %w", err)
		}
		copied += n
		if _, err := tx.Exec(ctx, `RELEASE SAVEPOINT chunk`); err != nil {
			return err
		}
	}
	im.sum.Rows, im.sum.Inserted = im.rd.Rows, copied
	if im.rd.Errors.Total > 0 {
		return &im.rd.Errors
	}
	if copied > 0 {
		if _, err := tx.Exec(ctx, `SELECT setval(pg_get_serial_sequence('product', 'id'), (SELECT max(id) FROM product))`); err != nil {
			return err
		}
	}
	return im.createIndexes(ctx, indexes)
}

// dropIndexes drops product's indexes that back no constraint (the
// trigram search index and the like) and returns their definitions: built
// once after a first load's rows, an index costs a fraction of keeping it
// up to date row by row. The drop is part of the import's transaction, so
// an import that fails leaves them as they were.
func (im *importer) dropIndexes(ctx context.Context) ([]string, error) {
	rows, err := im.tx.Query(ctx, `SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index i
		WHERE indrelid = 'product'::regclass AND NOT EXISTS (SELECT FROM pg_constraint c WHERE c.conindid = i.indexrelid)
		ORDER BY indexrelid`)
	if err != nil {
		return nil, err
	}
	var names, defs []string
	var name, def string
	if _, err := pgx.ForEachRow(rows, []any{&name, &def}, func() error {
		names, defs = append(names, name), append(defs, def)
		return nil
	}); err != nil {
		return nil, err
	}
	for _, n := range names {
		if _, err := im.tx.Exec(ctx, `DROP INDEX `+n); err != nil {
			return nil, err
		}
	}
	return defs, nil
}

// createIndexes builds again the indexes dropIndexes dropped.
func (im *importer) createIndexes(ctx context.Context, defs []string) error {
	if len(defs) == 0 {
		return nil
	}
	if _, err := im.tx.Exec(ctx, `SET LOCAL maintenance_work_mem = '256MB'`); err != nil {
		return err
	}
	for _, def := range defs {
		if _, err := im.tx.Exec(ctx, def); err != nil {
			return err
		}
	}
	return nil
}

// stageAndApply COPYs the rows (held ones first) into a temporary table,
// reports SKUs the file repeats, and applies the rows that change. loaded
// is set after a first load that met a repeated SKU: product then holds the
// rows before it, their lines found from their ids (line = id - idShift).
func (im *importer) stageAndApply(ctx context.Context, held []shop.ImportRow, idShift int64) error {
	tx, rd := im.tx, im.rd
	loaded := held != nil
	if _, err := tx.Exec(ctx, `CREATE TEMP TABLE import_product (line bigint, sku text, name text, price bigint, stock bigint, retired boolean) ON COMMIT DROP`); err != nil {
		return err
	}
	src := &copySource{rd: rd, opt: im.opt, vals: make([]any, 6), held: held}
	n, err := tx.CopyFrom(ctx, pgx.Identifier{"import_product"}, []string{"line", "sku", "name", "price", "stock", "retired"}, src)
	if err != nil {
		return fmt.Errorf("read the import: %w", err)
	}
	im.sum.Rows = rd.Rows
	if err := im.repeatedSKUs(ctx, loaded, idShift); err != nil {
		return err
	}
	if rd.Errors.Total > 0 {
		return &rd.Errors
	}
	if loaded { // a repeat stopped the first load, so there is always an error
		return fmt.Errorf("import: a repeated SKU stopped the first load but was not found again")
	}
	// The rows that change, compared without locking anything.
	tag, err := tx.Exec(ctx, `CREATE TEMP TABLE import_change ON COMMIT DROP AS
		SELECT i.line, i.sku, i.name, i.price, i.stock, i.retired, p.id
		FROM import_product i LEFT JOIN product p ON p.sku = i.sku
		WHERE p.id IS NULL OR (p.name, p.price, p.stock_quantity, p.retired_at IS NOT NULL)
			IS DISTINCT FROM (i.name, i.price, i.stock, coalesce(i.retired, p.retired_at IS NOT NULL))`)
	if err != nil {
		return err
	}
	if im.opt.DryRun {
		err := tx.QueryRow(ctx, `SELECT count(*) FILTER (WHERE id IS NULL), count(*) FILTER (WHERE id IS NOT NULL) FROM import_change`).
			Scan(&im.sum.Inserted, &im.sum.Updated)
		im.sum.Unchanged = n - im.sum.Inserted - im.sum.Updated
		if err != nil {
			return err
		}
		return errDryRun
	}
	if hook := im.opt.BeforeApply; hook != nil {
		if err := hook(ctx); err != nil {
			return err
		}
	}
	if tag.RowsAffected() > 0 {
		// One statement: update the changed products still different, in
		// id order (the order orders lock them in, so the two cannot
		// deadlock: a nested loop driven by the sorted changes updates, and
		// so locks, each row in that order), and insert the new SKUs. A SKU
		// registered since the comparison is updated instead of inserted.
		if _, err := tx.Exec(ctx, `SELECT set_config('enable_hashjoin', 'off', true), set_config('enable_mergejoin', 'off', true)`); err != nil {
			return err
		}
		err = tx.QueryRow(ctx, `WITH upd AS (
				UPDATE product p SET name = c.name, price = c.price, stock_quantity = c.stock, updated_at = now(),
					retired_at = CASE WHEN c.retired IS NULL THEN p.retired_at WHEN c.retired THEN coalesce(p.retired_at, now()) END
				FROM (SELECT id, name, price, stock, retired FROM import_change WHERE id IS NOT NULL ORDER BY id) c
				WHERE p.id = c.id AND (p.name, p.price, p.stock_quantity, p.retired_at IS NOT NULL)
					IS DISTINCT FROM (c.name, c.price, c.stock, coalesce(c.retired, p.retired_at IS NOT NULL))
				RETURNING 1),
			ins AS (
				INSERT INTO product AS p (sku, name, price, stock_quantity, retired_at)
				SELECT sku, name, price, stock, CASE WHEN retired THEN now() END FROM import_change WHERE id IS NULL ORDER BY line
				ON CONFLICT (sku) DO UPDATE SET name = EXCLUDED.name, price = EXCLUDED.price,
					stock_quantity = EXCLUDED.stock_quantity, updated_at = now()
				WHERE (p.name, p.price, p.stock_quantity) IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.price, EXCLUDED.stock_quantity)
				RETURNING (xmax = 0) AS inserted)
			SELECT (SELECT count(*) FROM ins WHERE inserted),
				(SELECT count(*) FROM upd) + (SELECT count(*) FROM ins WHERE NOT inserted)`).Scan(&im.sum.Inserted, &im.sum.Updated)
		if err != nil {
			return err
		}
	}
	im.sum.Unchanged = n - im.sum.Inserted - im.sum.Updated
	return nil
}

// repeatedSKUs reports every staged row whose SKU an earlier line already
// has, naming that line. The check runs in PostgreSQL over the staged rows
// (and, after a first load, the rows already in product).
func (im *importer) repeatedSKUs(ctx context.Context, loaded bool, idShift int64) error {
	rows := `SELECT line, sku FROM import_product`
	if loaded {
		rows += ` UNION ALL SELECT id - $1, sku FROM product`
	}
	var args []any
	if loaded {
		args = append(args, idShift)
	}
	var found bool
	if err := im.tx.QueryRow(ctx, `SELECT EXISTS (SELECT FROM (`+rows+`) s GROUP BY sku HAVING count(*) > 1)`, args...).Scan(&found); err != nil || !found {
		return err
	}
	q := `WITH s AS (` + rows + `),
		d AS (SELECT line, sku, min(line) OVER (PARTITION BY sku) AS first
			FROM s WHERE sku IN (SELECT sku FROM s GROUP BY sku HAVING count(*) > 1))
		SELECT line, sku, first, count(*) OVER () FROM d WHERE line <> first ORDER BY line LIMIT $` + fmt.Sprint(len(args)+1)
	r, err := im.tx.Query(ctx, q, append(args, shop.MaxReportedRows)...)
	if err != nil {
		return err
	}
	var line, first, total int64
	var sku string
	reported := 0
	_, err = pgx.ForEachRow(r, []any{&line, &sku, &first, &total}, func() error {
		reported++
		im.rd.Errors.Add(shop.RowError{Line: int(line), Column: "sku", Reason: fmt.Sprintf("SKU %s repeats line %d", shop.Echo(sku), first)})
		return nil
	})
	if err != nil {
		return err
	}
	im.rd.Errors.Total += int(total) - reported
	return nil
}

// ExportProducts writes the catalogue as CSV (sku,name,price,stock), streamed
// by COPY, so that importing it back changes nothing.
func (s *Store) ExportProducts(ctx context.Context, w io.Writer, f shop.CatalogueFormat) (int64, error) {
	conn, err := s.Pool.Acquire(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Release()
	sql := `COPY (SELECT sku, name, price, stock_quantity AS stock, CASE WHEN retired_at IS NULL THEN 'false' ELSE 'true' END AS retired
		FROM product ORDER BY id)
		TO STDOUT WITH (FORMAT csv, HEADER)`
	if f == shop.CatalogueJSONL {
		// One JSON object a line. JSON text holds no raw control characters, so
		// CSV with control characters as delimiter and quote writes it as it is.
		sql = `COPY (SELECT json_build_object('sku', sku, 'name', name, 'price', price, 'stock', stock_quantity, 'retired', retired_at IS NOT NULL) FROM product ORDER BY id)
			TO STDOUT WITH (FORMAT csv, DELIMITER E'\x01', QUOTE E'\x02')`
	}
	// COPY hands over one row a message: buffered, one write(2) carries many rows.
	bw := bufio.NewWriterSize(w, exportBuffer)
	tag, err := conn.Conn().PgConn().CopyTo(ctx, bw, sql)
	if ferr := bw.Flush(); err == nil { // on error too: what was read is written
		err = ferr
	}
	return tag.RowsAffected(), err
}

// exportBuffer is the size of export's write buffer.
const exportBuffer = 256 << 10
