// Command benchbackup measures what the embedded cluster's backup costs
// (issue 26):
//
//  1. orders: orders/s and `order place` latency (app.PlaceOrder, as the CLI
//     and checkout call it) with no backup, asynchronous and synchronous
//     backup, on one durable embedded cluster, the three taking turns in
//     rounds so outside load falls on all of them alike;
//
//  2. size: a base backup (`db backup`: pg_basebackup, pg_verifybackup) and a
//     restore (`db restore`: copy, WAL replay, promotion) of a generated shop
//     of -products products and -orders orders.
//
//     go run ./scripts/benchbackup                                   # both, 1M products / 200k orders
//     go run ./scripts/benchbackup -products 0                       # orders only
//     go run ./scripts/benchbackup -rounds 0 -products 100000 -orders 20000
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rabbitpay/rabbitpay/internal/app"
	"github.com/rabbitpay/rabbitpay/internal/config"
	"github.com/rabbitpay/rabbitpay/internal/shop"
	"github.com/rabbitpay/rabbitpay/scripts/shopgen"
)

func main() {
	clients := flag.Int("clients", 8, "concurrent buyers")
	seconds := flag.Int("seconds", 4, "seconds per contender per round")
	rounds := flag.Int("rounds", 3, "rounds (0: skip the orders part)")
	products := flag.Int("products", 1_000_000, "products for the size part (0: skip it)")
	orders := flag.Int("orders", 200_000, "orders for the size part")
	flag.Parse()
	if err := run(*clients, *seconds, *rounds, *products, *orders); err != nil {
		fmt.Fprintln(os.Stderr, "benchbackup:", err)
		os.Exit(1)
	}
}

func newConfig(work string, mode string, clients int) *config.Config {
	cfg := &config.Config{DataDir: filepath.Join(work, "data"), MaxConns: int32(2*clients + 4), Output: "table",
		ConnectTimeout: 5 * time.Second, CommandTimeout: time.Minute}
	cfg.Saga.CompensationAttempts = 3
	cfg.Backup = config.BackupConfig{Mode: "synchronous", Keep: 2, Wait: 10 * time.Second}
	if mode != "off" {
		cfg.Backup.Dir, cfg.Backup.Mode = filepath.Join(work, "backup"), mode
	}
	return cfg
}

func run(clients, seconds, rounds, products, orders int) error {
	ctx := context.Background()
	work, err := os.MkdirTemp("", "rpbenchbackup")
	if err != nil {
		return err
	}
	os.Chmod(work, 0o755) // as root the cluster runs as postgres
	defer os.RemoveAll(work)
	say := func(msg string) { fmt.Println("  ", msg) }
	a, err := app.OpenSaying(ctx, newConfig(work, "synchronous", clients), say)
	if err != nil {
		return err
	}
	cluster, _ := app.Cluster(newConfig(work, "synchronous", clients))
	defer func() { cluster.Stop(); cluster.Backup.StopStream() }()
	a.Close()
	conn, err := pgx.Connect(ctx, cluster.URL(app.EmbeddedDatabase))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)

	if rounds > 0 {
		if _, err := conn.Exec(ctx, `INSERT INTO customer (name) SELECT 'c' || i FROM generate_series(1, 100) i;
			INSERT INTO product (sku, name, price, stock_quantity) SELECT 'B-' || i, 'b' || i, 1000, 100000000 FROM generate_series(1, 1000) i`); err != nil {
			return err
		}
		fmt.Printf("orders: %d buyers, %d s per contender per round, %d rounds (app.PlaceOrder, sandbox payments, durable cluster)\n", clients, seconds, rounds)
		modes := []string{"off", "asynchronous", "synchronous"}
		type tally struct {
			n   int
			lat []time.Duration
		}
		total := map[string]*tally{}
		for r := range rounds {
			for i := range modes {
				mode := modes[(i+r)%len(modes)] // each mode first in turn
				a, err := app.Open(ctx, newConfig(work, mode, clients))
				if err != nil {
					return err
				}
				n, lat, err := place(ctx, a, clients, time.Duration(seconds)*time.Second)
				a.Close()
				if err != nil {
					return fmt.Errorf("%s: %w", mode, err)
				}
				if total[mode] == nil {
					total[mode] = &tally{}
				}
				total[mode].n += n
				total[mode].lat = append(total[mode].lat, lat...)
				fmt.Printf("  round %d %-13s %7.1f orders/s\n", r+1, mode, float64(n)/float64(seconds))
			}
		}
		base := float64(total["off"].n)
		for _, m := range modes {
			t := total[m]
			slices.Sort(t.lat)
			q := func(p float64) float64 { return float64(t.lat[int(p*float64(len(t.lat)-1))].Microseconds()) / 1000 }
			fmt.Printf("%-13s %7.1f orders/s (%.2f× off)  latency p50 %.1f ms  p90 %.1f ms  p99 %.1f ms\n", m,
				float64(t.n)/float64(seconds*rounds), float64(t.n)/base, q(0.5), q(0.9), q(0.99))
		}
	}

	if products > 0 {
		start := time.Now()
		// The generator makes its own customers, products and orders.
		if _, err := conn.Exec(ctx, `TRUNCATE customer, product, orders, payment, saga, notification RESTART IDENTITY CASCADE`); err != nil {
			return err
		}
		if err := shopgen.Generate(ctx, conn, products, orders); err != nil {
			return err
		}
		var dbBytes int64
		conn.QueryRow(ctx, `SELECT sum(pg_database_size(datname)) FROM pg_database`).Scan(&dbBytes)
		fmt.Printf("size: %d products, %d orders generated in %s; databases %d MiB\n", products, orders, time.Since(start).Round(time.Second), dbBytes>>20)
		a, err := app.Open(ctx, newConfig(work, "synchronous", clients))
		if err != nil {
			return err
		}
		info, err := a.BaseBackup(ctx, nil)
		a.Close()
		if err != nil {
			return err
		}
		fmt.Printf("  db backup   %6.1f s  (%d MiB, pg_basebackup then pg_verifybackup)\n", info.Took.Seconds(), info.Bytes>>20)
		// Orders after the base backup, so the restore replays WAL too.
		if _, err := conn.Exec(ctx, `UPDATE product SET stock_quantity = stock_quantity + 1 WHERE id % 10 = 0`); err != nil {
			return err
		}
		conn.Close(ctx)
		cluster.Stop()
		cluster.Backup.StopStream()
		if err := os.Rename(cluster.Dir, cluster.Dir+".lost"); err != nil {
			return err
		}
		r, err := app.Restore(ctx, newConfig(work, "synchronous", clients), filepath.Join(work, "backup"), nil, say)
		if err != nil {
			return err
		}
		fmt.Printf("  db restore  %6.1f s  (%d orders back, recovery ended at %s)\n", r.Seconds, r.Orders, r.LSN)
	}
	return nil
}

// place runs clients buyers placing one-item orders for d; it returns the
// orders placed and each one's latency.
func place(ctx context.Context, a *app.App, clients int, d time.Duration) (int, []time.Duration, error) {
	var (
		n    atomic.Int64
		mu   sync.Mutex
		lat  []time.Duration
		wg   sync.WaitGroup
		ferr atomic.Value
	)
	stop := time.Now().Add(d)
	for c := range clients {
		wg.Go(func() {
			var mine []time.Duration
			for i := 0; time.Now().Before(stop); i++ {
				sku := fmt.Sprintf("B-%d", 1+(c*997+i*31)%1000)
				t0 := time.Now()
				res, err := a.PlaceOrder(ctx, app.PlaceRequest{CustomerID: int64(c%100 + 1), Method: shop.Kakao,
					Items: []shop.ItemRequest{{Ref: shop.RefBySKU(sku), Quantity: 1}}}, nil)
				if err == nil {
					err = res.Err()
				}
				if err != nil {
					ferr.Store(err)
					return
				}
				mine = append(mine, time.Since(t0))
				n.Add(1)
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	if e, ok := ferr.Load().(error); ok {
		return 0, nil, e
	}
	return int(n.Load()), lat, nil
}
