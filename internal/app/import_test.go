package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rabbitpay/rabbitpay/internal/shop"
	"github.com/rabbitpay/rabbitpay/internal/testdb"
)

// placeWithin places one order and fails the test if it errs, fails, or
// is still waiting after a generous bound (which would mean the import
// blocks it: the bound only keeps a broken build from hanging).
func (s *testShop) placeWithin(sku string) {
	s.t.Helper()
	c, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	res, err := s.a.PlaceOrder(c, PlaceRequest{CustomerID: 1, Method: shop.Kakao, Items: items(sku + ":1")}, nil)
	if err != nil || res.Status != "placed" {
		s.t.Fatalf("order for %s while the import runs: %+v, %v", sku, res, err)
	}
}

// The import's locks on product, seen from another session: only
// ACCESS SHARE (reading) is allowed while it stages and compares.
func (s *testShop) importLocks() []string {
	return s.strings(`SELECT mode FROM pg_locks WHERE relation = 'product'::regclass AND mode <> 'AccessShareLock'
		AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) AND pid <> pg_backend_pid()`)
}

// Between comparing and applying, an import holds its transaction open
// but no lock on product: an order for a product it leaves unchanged, and
// even one it is about to change, completes. A SKU registered meanwhile is
// updated, not refused.
func TestImportDoesNotBlockOrders(t *testing.T) {
	s := newShop(t)
	file := "sku,name,price,stock\nA,토끼 인형,1000,10\nB,당근,3000,10\nNEW-1,무,300,5\nNEW-2,배추,400,6\n"
	var hooked bool
	sum, err := s.a.ImportProducts(ctx, strings.NewReader(file), shop.CatalogueCSV, shop.ImportOptions{
		BeforeApply: func(context.Context) error {
			hooked = true
			if l := s.importLocks(); len(l) != 0 {
				t.Errorf("the import holds %v on product before applying", l)
			}
			s.placeWithin("A") // unchanged by the file
			s.placeWithin("B") // changed by the file, not yet locked
			if _, err := s.a.RegisterProduct(ctx, shop.Product{SKU: "NEW-2", Name: "먼저 온 배추", Price: 1, StockQuantity: 1}); err != nil {
				t.Error(err)
			}
			return nil
		},
	})
	if err != nil || !hooked {
		t.Fatalf("import: %+v, %v (hook ran: %v)", sum, err, hooked)
	}
	if sum.Rows != 4 || sum.Inserted != 1 || sum.Updated != 2 || sum.Unchanged != 1 {
		t.Fatalf("summary %+v, want 1 inserted, 2 updated (B and the NEW-2 registered meanwhile), 1 unchanged", sum)
	}
	// A was unchanged when compared: the import leaves the order's stock alone.
	// B changed: the file's values win. NEW-2 has the file's values.
	if a, b := s.stock("A"), s.stock("B"); a != 9 || b != 10 {
		t.Fatalf("stock A %d (want 9), B %d (want 10, from the file)", a, b)
	}
	if p, _ := s.a.Product(ctx, "NEW-2"); p.Name != "배추" || p.Price != 400 || p.StockQuantity != 6 {
		t.Fatalf("NEW-2 %+v", p)
	}
}

// While an import is still reading its input (its transaction open, rows
// streaming into the staging table), orders go through, on any product.
func TestImportStagingDoesNotBlockOrders(t *testing.T) {
	s := newShop(t)
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	var sum shop.ImportSummary
	go func() {
		var err error
		sum, err = s.a.ImportProducts(ctx, pr, shop.CatalogueCSV, shop.ImportOptions{})
		pr.CloseWithError(err)
		done <- err
	}()
	write := func(s string) {
		if _, err := io.WriteString(pw, s); err != nil {
			t.Fatal(err)
		}
	}
	write("sku,name,price,stock\nA,토끼 인형,1500,10\n")
	// The import has read the header and a row; more rows so the COPY is under way.
	for i := range 2000 {
		write(fmt.Sprintf("S-%d,상품 %d,100,1\n", i, i))
	}
	if l := s.importLocks(); len(l) != 0 {
		t.Errorf("the import holds %v on product while reading", l)
	}
	s.placeWithin("A")
	s.placeWithin("B")
	write("B,당근,2500,10\n")
	pw.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if sum.Inserted != 2000 || sum.Updated != 2 || sum.Unchanged != 0 {
		t.Fatalf("summary %+v", sum)
	}
	// A's new price and the file's stock; B was ordered before the comparison,
	// so the file's stock (10) differs and is applied.
	if p, _ := s.a.Product(ctx, "A"); p.Price != 1500 || p.StockQuantity != 10 || s.stock("B") != 10 {
		t.Fatalf("A %+v, B stock %d", p, s.stock("B"))
	}
}

// productIndexes lists product's indexes with their definitions and validity.
func (s *testShop) productIndexes() []string {
	return s.strings(`SELECT pg_get_indexdef(indexrelid) || CASE WHEN indisvalid AND indisready THEN '' ELSE ' (INVALID)' END
		FROM pg_index WHERE indrelid = 'product'::regclass ORDER BY 1`)
}

// catalogue is a CSV file of n products, then the extra lines.
func catalogue(n int, extra string) string {
	var b strings.Builder
	b.WriteString("sku,name,price,stock\n")
	for i := range n {
		fmt.Fprintf(&b, "S-%d,상품 %d 토끼,%d,%d\n", i, i, 100+i, i%7)
	}
	return b.String() + extra
}

// A first load into an empty catalogue builds its search index after the
// rows: afterwards product has the same indexes as before, valid, and a
// search is planned on the trigram index.
func TestFirstLoadLeavesSearchIndexUsable(t *testing.T) {
	s := newShop(t)
	s.exec(`TRUNCATE product CASCADE`)
	before := s.productIndexes()
	sum, err := s.a.ImportProducts(ctx, strings.NewReader(catalogue(20000, "")), shop.CatalogueCSV, shop.ImportOptions{})
	if err != nil || sum.Inserted != 20000 {
		t.Fatalf("first load: %+v, %v", sum, err)
	}
	if after := s.productIndexes(); strings.Join(after, "\n") != strings.Join(before, "\n") {
		t.Fatalf("indexes before the first load:\n%s\nafter:\n%s", strings.Join(before, "\n"), strings.Join(after, "\n"))
	}
	s.exec(`ANALYZE product`)
	plan := strings.Join(s.strings(`EXPLAIN SELECT id FROM product WHERE (sku || ' ' || name) ILIKE '%S-12345 %'`), "\n")
	if !strings.Contains(plan, "product_search") {
		t.Fatalf("a search after the first load does not use the trigram index:\n%s", plan)
	}
	page, err := s.a.Products(ctx, shop.ListOptions{Search: "S-12345 "})
	if err != nil || len(page.Items) != 1 || page.Items[0].SKU != "S-12345" {
		t.Fatalf("search after the first load: %+v, %v", page, err)
	}
}

// A first load that cannot get its table lock at once — a reader holds the
// empty catalogue (an export, a transaction left open) — does not queue
// behind it, which would make every later reader queue too: after a short
// wait it loads the staged way, indexes kept, while the reader goes on.
func TestFirstLoadDoesNotQueueBehindAReader(t *testing.T) {
	s := newShop(t)
	s.exec(`TRUNCATE product CASCADE`)
	before := s.productIndexes()
	reader, err := pgx.Connect(ctx, testdb.Direct(t, s.url))
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close(ctx)
	tx, err := reader.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SELECT count(*) FROM product`); err != nil { // holds ACCESS SHARE until it ends
		t.Fatal(err)
	}
	loadCtx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	sum, err := s.a.ImportProducts(loadCtx, strings.NewReader(catalogue(500, "")), shop.CatalogueCSV, shop.ImportOptions{})
	if err != nil || sum.Inserted != 500 {
		t.Fatalf("first load beside an open reader: %+v, %v", sum, err)
	}
	if after := s.productIndexes(); strings.Join(after, "\n") != strings.Join(before, "\n") {
		t.Fatalf("indexes before:\n%s\nafter:\n%s", strings.Join(before, "\n"), strings.Join(after, "\n"))
	}
	var n int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM product WHERE sku = 'S-1'`).Scan(&n); err != nil {
		t.Fatalf("the reader after the load: %v", err)
	}
}

// A first load that fails — a bad row after several chunks are in, or a
// SKU the file repeats — leaves the catalogue empty and its indexes as
// they were.
func TestFailedFirstLoadKeepsIndexes(t *testing.T) {
	s := newShop(t)
	s.exec(`TRUNCATE product CASCADE`)
	before := s.productIndexes()
	for _, extra := range []string{"T,x,-1,1\n", "S-3,again,1,1\n"} {
		_, err := s.a.ImportProducts(ctx, strings.NewReader(catalogue(40000, extra)), shop.CatalogueCSV, shop.ImportOptions{})
		if rerr := (*shop.RowErrors)(nil); !errors.As(err, &rerr) || rerr.Total != 1 {
			t.Fatalf("first load ending in %q: %v, want one bad row", extra, err)
		}
		if n := s.count(`SELECT count(*) FROM product`); n != 0 {
			t.Fatalf("a refused first load left %d products", n)
		}
		if after := s.productIndexes(); strings.Join(after, "\n") != strings.Join(before, "\n") {
			t.Fatalf("indexes before the refused first load:\n%s\nafter:\n%s", strings.Join(before, "\n"), strings.Join(after, "\n"))
		}
	}
}

// writeCounter counts the writes it is given.
type writeCounter struct{ writes, bytes int }

func (w *writeCounter) Write(p []byte) (int, error) {
	w.writes++
	w.bytes += len(p)
	return len(p), nil
}

// Export buffers: its writer gets a few large writes, not one per row.
func TestExportWritesInLargeBlocks(t *testing.T) {
	s := newShop(t)
	if _, err := s.a.ImportProducts(ctx, strings.NewReader(catalogue(20000, "")), shop.CatalogueCSV, shop.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, f := range []shop.CatalogueFormat{shop.CatalogueCSV, shop.CatalogueJSONL} {
		var w writeCounter
		n, err := s.a.ExportProducts(ctx, &w, f)
		if err != nil || n != 20003 {
			t.Fatalf("%s export: %d rows, %v", f, n, err)
		}
		if w.writes > w.bytes/(64<<10)+1 {
			t.Fatalf("%s export: %d writes for %d bytes (%d rows)", f, w.writes, w.bytes, n)
		}
	}
}

// product's pages keep room (fillfactor 50): a re-import that changes every
// row's stock updates each row beside itself (HOT), adding nothing to the
// indexes, so their size stays the same.
func TestStockReimportLeavesIndexesAlone(t *testing.T) {
	s := newShop(t)
	s.exec(`TRUNCATE product CASCADE`)
	file := catalogue(20000, "")
	if _, err := s.a.ImportProducts(ctx, strings.NewReader(file), shop.CatalogueCSV, shop.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	sizes := `SELECT string_agg(indexrelid::regclass || ' ' || pg_relation_size(indexrelid), ', ' ORDER BY indexrelid)
		FROM pg_index WHERE indrelid = 'product'::regclass AND indisunique`
	before := s.strings(sizes)
	var changed strings.Builder // every row's stock + 10
	changed.WriteString("sku,name,price,stock\n")
	for i := range 20000 {
		fmt.Fprintf(&changed, "S-%d,상품 %d 토끼,%d,%d\n", i, i, 100+i, i%7+10)
	}
	sum, err := s.a.ImportProducts(ctx, strings.NewReader(changed.String()), shop.CatalogueCSV, shop.ImportOptions{})
	if err != nil || sum.Updated != 20000 {
		t.Fatalf("re-import: %+v, %v", sum, err)
	}
	if after := s.strings(sizes); after[0] != before[0] {
		t.Fatalf("index sizes before the re-import: %s; after: %s", before[0], after[0])
	}
}
