// Command benchorders measures order placement against pgbench on one
// PostgreSQL cluster with default durability (fsync and synchronous commit on):
// 8 concurrent buyers placing orders through the full saga, then
// `pgbench -N -c 8` on the same cluster, printing both rates and their ratio,
// once with orders spread over many products and once on one hot product.
//
//	go run ./scripts/benchorders [-seconds 10] [-clients 8]
package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/pprof"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rabbitpay/rabbitpay/internal/app"
	"github.com/rabbitpay/rabbitpay/internal/config"
	"github.com/rabbitpay/rabbitpay/internal/localpg"
	"github.com/rabbitpay/rabbitpay/internal/postgres"
	"github.com/rabbitpay/rabbitpay/internal/shop"
)

func main() {
	seconds := flag.Int("seconds", 10, "length of each measurement")
	clients := flag.Int("clients", 8, "concurrent buyers and pgbench clients")
	profile := flag.String("cpuprofile", "", "write a CPU profile of rabbitpay's side to this file")
	flag.BoolVar(&asyncDiag, "diagnose-async-commit", false, "diagnosis only: turn synchronous_commit off to see how much commits cost")
	flag.Parse()
	if *profile != "" {
		f, err := os.Create(*profile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "benchorders:", err)
			os.Exit(1)
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	if err := run(time.Duration(*seconds)*time.Second, *clients); err != nil {
		fmt.Fprintln(os.Stderr, "benchorders:", err)
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

var asyncDiag bool

func run(d time.Duration, clients int) error {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "rpbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	cluster, err := localpg.New(dir, false) // durable: the user's defaults
	if err != nil {
		return err
	}
	if err := cluster.Ensure(ctx); err != nil {
		return err
	}
	defer cluster.Stop()
	if asyncDiag {
		for _, q := range []string{"ALTER SYSTEM SET synchronous_commit = off", "SELECT pg_reload_conf()"} {
			if err := postgres.Exec(ctx, cluster.URL("postgres"), q); err != nil {
				return err
			}
		}
		fmt.Println("DIAGNOSIS: synchronous_commit is off")
	}
	for _, db := range []string{"orders", "pgbench"} {
		if err := postgres.CreateDatabase(ctx, cluster.URL("postgres"), db); err != nil {
			return err
		}
	}
	cfg := &config.Config{DatabaseURL: cluster.URL("orders"), MaxConns: int32(2*clients + 4), Output: "table"}
	cfg.Saga.CompensationAttempts = 3
	a, err := app.Open(ctx, cfg)
	if err != nil {
		return err
	}
	defer a.Close()
	const products = 1000
	for i := range clients {
		if _, err := a.RegisterCustomer(ctx, shop.Customer{Name: fmt.Sprintf("구매자 %d", i+1)}, ""); err != nil {
			return err
		}
	}
	for i := range products {
		p := shop.Product{SKU: fmt.Sprintf("P-%04d", i), Name: fmt.Sprintf("상품 %d", i), Price: 1000, StockQuantity: 1_000_000}
		if _, err := a.RegisterProduct(ctx, p); err != nil {
			return err
		}
	}

	bin, err := localpg.FindBinDir()
	if err != nil {
		return err
	}
	pgbench := filepath.Join(bin, "pgbench")
	conn := []string{"-h", cluster.SocketDir(), "-p", strconv.Itoa(localpg.Port), "-U", localpg.Superuser}
	if out, err := exec.Command(pgbench, append(conn, "-i", "-q", "-s", "1", "pgbench")...).CombinedOutput(); err != nil {
		return fmt.Errorf("pgbench -i: %v: %s", err, out)
	}
	fmt.Printf("cluster: %s (fsync on, synchronous_commit on), %d clients, %s per run\n", dir, clients, d)
	for _, scenario := range []string{"spread over 1,000 products", "one hot product"} {
		hot := scenario == "one hot product"
		rate, failed, err := placeOrders(ctx, a, d, clients, products, hot)
		if err != nil {
			return err
		}
		tps, err := pgbenchTPS(pgbench, conn, d, clients)
		if err != nil {
			return err
		}
		fmt.Printf("%-28s orders/s %8.1f   pgbench -N tps %8.1f   ratio %.2f   (failed orders: %d)\n",
			scenario+":", rate, tps, rate/tps, failed)
	}
	var oversold bool
	err = a.Store.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM product p WHERE p.stock_quantity + coalesce(
		(SELECT sum(quantity) FROM order_product WHERE product_id = p.id), 0) <> 1000000)`).Scan(&oversold)
	if err != nil {
		return err
	}
	fmt.Printf("stock conserved (no oversell): %v\n", !oversold)
	return nil
}

func placeOrders(ctx context.Context, a *app.App, d time.Duration, clients, products int, hot bool) (float64, int64, error) {
	var placed, failed atomic.Int64
	var firstErr error
	var once sync.Once
	deadline := time.Now().Add(d)
	start := time.Now()
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			for time.Now().Before(deadline) {
				sku := "P-0000"
				if !hot {
					sku = fmt.Sprintf("P-%04d", rand.IntN(products))
				}
				res, err := a.PlaceOrder(ctx, app.PlaceRequest{CustomerID: int64(c + 1), Method: shop.Kakao,
					Items: []shop.ItemRequest{{SKU: sku, Quantity: 1}}}, nil)
				if err != nil {
					once.Do(func() { firstErr = err })
					return
				}
				if res.Status == "placed" {
					placed.Add(1)
				} else {
					failed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	return float64(placed.Load()) / time.Since(start).Seconds(), failed.Load(), firstErr
}

var tpsLine = regexp.MustCompile(`tps = ([0-9.]+)`)

func pgbenchTPS(pgbench string, conn []string, d time.Duration, clients int) (float64, error) {
	args := append(conn, "-N", "-c", strconv.Itoa(clients), "-j", "2", "-T", strconv.Itoa(int(d.Seconds())), "pgbench")
	out, err := exec.Command(pgbench, args...).CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("pgbench: %v: %s", err, out)
	}
	m := tpsLine.FindSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("no tps in pgbench output: %s", out)
	}
	return strconv.ParseFloat(string(m[1]), 64)
}
