package postgres_test

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/rabbitpay/rabbitpay/internal/postgres"
	"github.com/rabbitpay/rabbitpay/internal/shop"
	"github.com/rabbitpay/rabbitpay/internal/testdb"
)

// lastQuery is a pgx tracer that keeps the last statement sent and its arguments.
type lastQuery struct {
	mu   sync.Mutex
	sql  string
	args []any
}

func (q *lastQuery) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !strings.HasPrefix(d.SQL, "EXPLAIN") {
		q.sql, q.args = d.SQL, d.Args
	}
	return ctx
}

func (q *lastQuery) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// Every operator list reads its page through an index (migration 008), so
// its cost stays flat as the tables grow. Each list runs through the store,
// and the statement it sent is explained with the same arguments: a later
// change to a statement that loses its index fails here. The tables are
// small, so sequential scans are priced out (enable_seqscan = off) and the
// planner chooses among indexes as it does on a large table.
func TestListsUseTheirIndexes(t *testing.T) {
	t.Parallel()
	url := testdb.New(t)
	ctx := context.Background()
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	trace := &lastQuery{}
	cfg.ConnConfig.Tracer = trace
	cfg.ConnConfig.RuntimeParams["enable_seqscan"] = "off"
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	s := &postgres.Store{Pool: pool}

	// 20,000 products; 2,000 orders, one an hour back from now, with their
	// payments, sagas (few unfinished) and notifications.
	_, err = pool.Exec(ctx, `
		INSERT INTO customer (name) SELECT '손님 ' || i FROM generate_series(1, 200) i;
		INSERT INTO product (sku, name, price, stock_quantity)
			SELECT 'P' || i, CASE WHEN i = 77 THEN '묘향산 토끼' ELSE '상품 ' || i END, (i * 7919) % 100000, 10 FROM generate_series(1, 20000) i;
		INSERT INTO orders (order_uuid, customer_id, status, total_amount, created_at)
			SELECT gen_random_uuid(), 1 + i % 200, 'paid', 1000, now() - i * interval '1 hour' FROM generate_series(1, 2000) i;
		INSERT INTO payment (order_uuid, order_id, method, status, amount, created_at)
			SELECT order_uuid, id, 'KAKAO', 'SUCCESS', 1000, created_at FROM orders;
		INSERT INTO saga (order_uuid, customer_id, method, items, total_amount, state, step, created_at)
			SELECT order_uuid, customer_id, 'KAKAO', '[]', 1000, CASE WHEN id % 500 = 0 THEN 'running' ELSE 'completed' END::saga_state, 'done', created_at FROM orders;
		INSERT INTO notification (kind, customer_id, order_id, payload)
			SELECT 'order.placed', customer_id, id, '{}' FROM orders;
		INSERT INTO order_refund (order_id, order_uuid, key, items, amount, state, created_at)
			SELECT id, order_uuid, 'k' || id, '[]', 100, CASE WHEN id % 500 = 0 THEN 'refunding' ELSE 'refunded' END, created_at FROM orders;
		ANALYZE`)
	if err != nil {
		t.Fatal(err)
	}
	week := shop.ListOptions{Limit: 50, Since: time.Now().AddDate(0, 0, -60), Until: time.Now().AddDate(0, 0, -53)}
	for _, c := range []struct {
		name, index string
		list        func() error
		ordered     bool // the index gives the page's order: no sort
	}{
		{"product list --sort price", "product_price", func() error {
			_, err := s.ListProducts(ctx, shop.ListOptions{Limit: 50, Sort: "price"})
			return err
		}, true},
		{"product list --sort -price", "product_price", func() error {
			_, err := s.ListProducts(ctx, shop.ListOptions{Limit: 50, Sort: "-price"})
			return err
		}, true},
		{"product list --search 묘향산", "product_search", func() error {
			ps, err := s.ListProducts(ctx, shop.ListOptions{Limit: 50, Search: "묘향산"})
			if err == nil && len(ps.Items) != 1 {
				t.Errorf("search 묘향산 found %d products", len(ps.Items))
			}
			return err
		}, false},
		{"saga list", "saga_created", func() error {
			_, err := s.ListSagas(ctx, nil, shop.ListOptions{Limit: 50})
			return err
		}, true},
		{"saga recover's list", "saga_unfinished", func() error {
			rs, err := s.ListSagas(ctx, shop.UnfinishedSagaStates, shop.ListOptions{})
			if err == nil && len(rs.Items) != 4 {
				t.Errorf("recover lists %d sagas, want the 4 running", len(rs.Items))
			}
			return err
		}, false},
		{"saga recover's refunds", "order_refund_unfinished", func() error {
			fs, err := s.UnfinishedRefunds(ctx)
			if err == nil && len(fs) != 4 {
				t.Errorf("recover finds %d refunds, want the 4 refunding", len(fs))
			}
			return err
		}, false},
		{"order list --since --until", "orders_created_id", func() error {
			os, err := s.ListOrders(ctx, shop.OrderFilter{}, week)
			if err == nil && (len(os.Items) != 50 || !os.Items[0].CreatedAt.Before(week.Until) || os.Items[49].CreatedAt.Before(week.Since)) {
				t.Errorf("order list of an old week: %d orders, or out of the window", len(os.Items))
			}
			return err
		}, true},
		{"pay list --since --until", "payment_created_id", func() error {
			_, err := s.ListPayments(ctx, shop.PaymentFilter{}, week)
			return err
		}, true},
		{"notify list --customer", "notification_customer", func() error {
			_, err := s.ListNotifications(ctx, shop.NotificationFilter{CustomerID: 7}, shop.ListOptions{Limit: 50})
			return err
		}, false},
	} {
		if err := c.list(); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		var plan string
		if err := pool.QueryRow(ctx, "EXPLAIN (FORMAT JSON) "+trace.sql, trace.args...).Scan(&plan); err != nil {
			t.Fatalf("%s: explain: %v", c.name, err)
		}
		if !strings.Contains(plan, `"Index Name": "`+c.index+`"`) {
			t.Errorf("%s does not use %s:\n%s\n%s", c.name, c.index, trace.sql, plan)
		}
		if c.ordered && strings.Contains(plan, `"Node Type": "Sort"`) {
			t.Errorf("%s sorts instead of reading its index in order:\n%s", c.name, plan)
		}
	}
}

// The second page of a date window continues where the first ended, in
// (created_at, id) order, with no row twice or skipped.
func TestWindowPages(t *testing.T) {
	t.Parallel()
	s, err := postgres.Open(testdb.New(t), 2)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	// Ids run against time here (as a long transaction's can), and times repeat.
	if _, err := s.Pool.Exec(ctx, `INSERT INTO customer (name) VALUES ('손님');
		INSERT INTO orders (order_uuid, customer_id, status, total_amount, created_at)
			SELECT gen_random_uuid(), 1, 'paid', 1000, timestamptz '2026-01-11' - (i / 2) * interval '1 day' FROM generate_series(1, 20) i`); err != nil {
		t.Fatal(err)
	}
	o := shop.ListOptions{Limit: 3, Since: time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC), Until: time.Date(2026, 1, 8, 0, 0, 0, 0, time.UTC)}
	var got []string
	for {
		p, err := s.ListOrders(ctx, shop.OrderFilter{}, o)
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range p.Items {
			got = append(got, x.CreatedAt.UTC().Format("01-02")+"#"+strconv.FormatInt(x.ID, 10))
		}
		if !p.More {
			break
		}
		o.After = p.Items[len(p.Items)-1].ID
	}
	want := "01-07#9 01-07#8 01-06#11 01-06#10 01-05#13 01-05#12 01-04#15 01-04#14 01-03#17 01-03#16 01-02#19 01-02#18"
	if strings.Join(got, " ") != want {
		t.Errorf("pages of a window:\n%s\nwant\n%s", strings.Join(got, " "), want)
	}
}

// Migration 008's settings for a growing shop: the outbox and the saga log
// are vacuumed after 1% of their rows change (not PostgreSQL's 20%, which
// lets `notify send`'s claim walk dead rows), and JIT is off for a migrated
// database (it cost hundreds of ms on short statements with high estimates).
func TestMigratedDatabaseSettings(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := testdb.Direct(t, testdb.Empty(t))
	store, err := postgres.Open(url, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if _, _, err := store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"notification", "saga"} {
		var opts []string
		if err := store.Pool.QueryRow(ctx, `SELECT coalesce(reloptions, '{}') FROM pg_class WHERE oid = $1::regclass`, table).Scan(&opts); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(strings.Join(opts, ","), "autovacuum_vacuum_scale_factor=0.01") {
			t.Errorf("%s: reloptions %v, want autovacuum_vacuum_scale_factor=0.01", table, opts)
		}
	}
	conn, err := pgx.Connect(ctx, url) // a new session: database settings apply at connect
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var jit string
	if err := conn.QueryRow(ctx, `SHOW jit`).Scan(&jit); err != nil || jit != "off" {
		t.Errorf("jit %q (%v), want off", jit, err)
	}
}
