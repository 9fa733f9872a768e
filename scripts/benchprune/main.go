// Command benchprune measures `order place` latency while `db prune` removes
// a million operational records: p50/p99/max of orders placed by several
// lanes when the shop is idle, during the prune, and idle again after it,
// side by side in one run, on a durable cluster (fsync and synchronous
// commit on), through the same app functions as the CLI.
//
// The prunable rows are made in SQL, 100 days old: sent and dead
// notifications, idempotency keys, provider calls and finished sagas with a
// step history, in the proportions -rows splits them into (40/20/20/20%).
//
//	go run ./scripts/benchprune [-rows 1000000] [-lanes 4] [-seconds 10]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/rabbitpay/rabbitpay/internal/app"
	"github.com/rabbitpay/rabbitpay/internal/config"
	"github.com/rabbitpay/rabbitpay/internal/localpg"
	"github.com/rabbitpay/rabbitpay/internal/postgres"
	"github.com/rabbitpay/rabbitpay/internal/shop"
)

func main() {
	rows := flag.Int("rows", 1_000_000, "prunable rows to make")
	lanes := flag.Int("lanes", 4, "concurrent buyers placing orders")
	seconds := flag.Int("seconds", 10, "length of each idle measurement")
	flag.Parse()
	if err := run(*rows, *lanes, time.Duration(*seconds)*time.Second); err != nil {
		fmt.Fprintln(os.Stderr, "benchprune:", err)
		os.Exit(1)
	}
}

type latencies []time.Duration

func (l latencies) q(p float64) float64 {
	s := slices.Clone(l)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	return float64(s[min(len(s)-1, int(p*float64(len(s))))].Microseconds()) / 1000
}

func (l latencies) String() string {
	if len(l) == 0 {
		return "no orders"
	}
	return fmt.Sprintf("%6d orders   p50 %7.1f ms   p99 %7.1f ms   max %7.1f ms", len(l), l.q(0.50), l.q(0.99), l.q(1))
}

// seed makes n prunable rows, 100 days old, in one statement per table.
func seed(ctx context.Context, url string, n int) error {
	old := `now() - interval '100 days' + make_interval(secs => i)`
	if err := postgres.Exec(ctx, url, fmt.Sprintf(`
		INSERT INTO notification (kind, customer_id, payload, created_at, sent_at, dead_at, attempts)
			SELECT 'order.placed', 1, '{"order_id": 1, "version": 1}', %[1]s,
				CASE WHEN i %% 20 <> 0 THEN %[1]s END, CASE WHEN i %% 20 = 0 THEN %[1]s END, 1
			FROM generate_series(1, %[2]d) i;
		INSERT INTO idempotency_key (key, request_hash, order_uuid, created_at)
			SELECT 'bench-' || i, md5(i::text), gen_random_uuid(), %[1]s FROM generate_series(1, %[3]d) i;
		INSERT INTO payment_call (order_uuid, call, outcome, detail, duration_ms, at)
			SELECT gen_random_uuid(), 'pay', 'ok', 'tid T' || i, 12, %[1]s FROM generate_series(1, %[3]d) i;
		INSERT INTO saga (order_uuid, customer_id, method, items, total_amount, state, step, history, created_at, updated_at)
			SELECT gen_random_uuid(), 1, 'KAKAO', '[{"product_id": 1, "sku": "X", "quantity": 1, "price": 1000}]', 1000,
				'completed', 'done', '[{"at": "2026-08-01T00:00:00Z", "kind": "step", "name": "reduce_stock", "outcome": "ok"},
				{"at": "2026-08-01T00:00:00Z", "kind": "step", "name": "payment", "outcome": "ok", "detail": "tid T"},
				{"at": "2026-08-01T00:00:00Z", "kind": "step", "name": "create_order", "outcome": "ok"}]', %[1]s, %[1]s
			FROM generate_series(1, %[3]d) i`, old, n*4/10, n/5)); err != nil {
		return err
	}
	return postgres.Exec(ctx, url, `VACUUM ANALYZE notification, idempotency_key, payment_call, saga`)
}

func run(rows, lanes int, idle time.Duration) error {
	ctx := context.Background()
	cluster, stopCluster, err := localpg.StartTemp(ctx, "rpbenchprune-", false) // durable: the user's defaults
	if err != nil {
		return err
	}
	defer stopCluster()
	if err := postgres.CreateDatabase(ctx, cluster.URL("postgres"), "shop"); err != nil {
		return err
	}
	cfg := &config.Config{DatabaseURL: cluster.URL("shop"), MaxConns: int32(2*lanes + 2), Output: "table"}
	cfg.Saga.CompensationAttempts = 3
	a, err := app.Open(ctx, cfg)
	if err != nil {
		return err
	}
	defer a.Close()
	if _, err := a.RegisterCustomer(ctx, shop.Customer{Name: "구매자"}, ""); err != nil {
		return err
	}
	const products = 100
	for i := range products {
		p := shop.Product{SKU: fmt.Sprintf("ORD-%03d", i), Name: "주문용", Price: 1000, StockQuantity: 1_000_000_000}
		if _, err := a.RegisterProduct(ctx, p); err != nil {
			return err
		}
	}
	t0 := time.Now()
	if err := seed(ctx, cfg.DatabaseURL, rows); err != nil {
		return err
	}
	fmt.Printf("made %d prunable rows in %.1f s\n", rows, time.Since(t0).Seconds())

	// orders runs the lanes until stop closes; each lane orders its own products.
	orders := func(stop <-chan struct{}) (latencies, error) {
		var mu sync.Mutex
		var all latencies
		var firstErr error
		var wg sync.WaitGroup
		for lane := range lanes {
			wg.Go(func() {
				var l latencies
				for n := 0; ; n++ {
					select {
					case <-stop:
						mu.Lock()
						all = append(all, l...)
						mu.Unlock()
						return
					default:
					}
					sku := fmt.Sprintf("ORD-%03d", (lane+n*lanes)%products)
					t := time.Now()
					res, err := a.PlaceOrder(ctx, app.PlaceRequest{CustomerID: 1, Method: shop.Kakao,
						Items: []shop.ItemRequest{{Ref: shop.RefBySKU(sku), Quantity: 1}}}, nil)
					if err == nil && res.Status != app.Placed {
						err = fmt.Errorf("order for %s: %s", sku, res.Error)
					}
					if err != nil {
						mu.Lock()
						firstErr = err
						mu.Unlock()
						<-stop
						return
					}
					l = append(l, time.Since(t))
				}
			})
		}
		wg.Wait()
		return all, firstErr
	}
	measureIdle := func() (latencies, error) {
		stop := make(chan struct{})
		time.AfterFunc(idle, func() { close(stop) })
		return orders(stop)
	}

	before, err := measureIdle()
	if err != nil {
		return err
	}
	stop := make(chan struct{})
	var during latencies
	var orderErr error
	done := make(chan struct{})
	go func() { during, orderErr = orders(stop); close(done) }()
	t0 = time.Now()
	res, err := a.Prune(ctx, app.PruneOptions{Age: 90 * 24 * time.Hour})
	took := time.Since(t0)
	close(stop)
	<-done
	if err != nil {
		return err
	}
	if orderErr != nil {
		return orderErr
	}
	after, err := measureIdle()
	if err != nil {
		return err
	}
	var removed int64
	for _, c := range res.Counts {
		removed += c.Rows
		fmt.Printf("  %-17s %8d removed\n", c.Kind, c.Rows)
	}
	fmt.Printf("prune: %d rows in %.1f s (%.0f rows/s, batches of %d)\n", removed, took.Seconds(), float64(removed)/took.Seconds(), app.PruneBatch)
	fmt.Printf("%d lanes placing orders\n", lanes)
	fmt.Printf("idle before:  %s\n", before)
	fmt.Printf("during prune: %s\n", during)
	fmt.Printf("idle after:   %s\n", after)
	fmt.Printf("p99 during / idle before: %.2f   p50: %.2f\n", during.q(0.99)/before.q(0.99), during.q(0.50)/before.q(0.50))
	return nil
}
