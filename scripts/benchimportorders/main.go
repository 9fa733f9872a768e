// Command benchimportorders measures `order place` latency while a large
// re-import runs: p50/p99/max of orders placed one after another when the
// shop is idle, then during a re-import of the whole catalogue with a
// fraction of its rows changed. On a durable cluster (fsync and synchronous
// commit on), through the same app functions as the CLI.
//
// The orders buy products the import does not change (ordering a product
// changes its stock, so a product that is ordered and also in the file is
// one the file changes back). A second, light stream of orders (one every
// 100 ms) buys products the file does change: those may wait for the final
// apply, and their worst latency is printed beside.
//
//	go run ./scripts/benchimportorders [-rows 1000000] [-changed 0.01] [-seconds 10]
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
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
	rows := flag.Int("rows", 1_000_000, "catalogue rows in the file")
	changed := flag.Float64("changed", 0.01, "fraction of the rows the re-import changes")
	seconds := flag.Int("seconds", 10, "length of the idle measurement")
	flag.Parse()
	// Checked before anything loads: 1/changed picks every how-many-th row,
	// and a fraction outside (0, 1] has no such row (it panicked after the load).
	if *changed <= 0 || *changed > 1 || *rows < 1 || *seconds < 1 {
		fmt.Fprintln(os.Stderr, "benchimportorders: -changed must be a fraction above 0 and at most 1, -rows and -seconds at least 1")
		os.Exit(2)
	}
	if err := run(*rows, *changed, time.Duration(*seconds)*time.Second); err != nil {
		fmt.Fprintln(os.Stderr, "benchimportorders:", err)
		os.Exit(1)
	}
}

// catalogue writes the CSV: every row i has stock 100+i%500, or 7 when the
// re-import changes it.
func catalogue(rows int, every int) io.Reader {
	pr, pw := io.Pipe()
	go func() {
		w := make([]byte, 0, 1<<16)
		w = append(w, "sku,name,price,stock\n"...)
		for i := 1; i <= rows; i++ {
			stock := 100 + i%500
			if every > 0 && i%every == 0 {
				stock = 7
			}
			w = fmt.Appendf(w, "SKU-%07d,\"상품 %d, 토끼\",%d,%d\n", i, i, 1000+i%90000, stock)
			if len(w) > 60000 {
				if _, err := pw.Write(w); err != nil {
					return
				}
				w = w[:0]
			}
		}
		pw.Write(w)
		pw.Close()
	}()
	return pr
}

type latencies []time.Duration

func (l latencies) String() string {
	if len(l) == 0 {
		return "no orders"
	}
	s := slices.Clone(l)
	slices.Sort(s)
	q := func(p float64) float64 {
		return float64(s[min(len(s)-1, int(p*float64(len(s))))].Microseconds()) / 1000
	}
	return fmt.Sprintf("%5d orders   p50 %7.1f ms   p99 %7.1f ms   max %7.1f ms", len(s), q(0.50), q(0.99), float64(s[len(s)-1].Microseconds())/1000)
}

func place(ctx context.Context, a *app.App, sku string) (time.Duration, error) {
	t0 := time.Now()
	res, err := a.PlaceOrder(ctx, app.PlaceRequest{CustomerID: 1, Method: shop.Kakao,
		Items: []shop.ItemRequest{{Ref: shop.RefBySKU(sku), Quantity: 1}}}, nil)
	if err == nil && res.Status != "placed" {
		err = fmt.Errorf("order for %s: %s", sku, res.Error)
	}
	return time.Since(t0), err
}

func run(rows int, changed float64, idle time.Duration) error {
	ctx := context.Background()
	cluster, stopCluster, err := localpg.StartTemp(ctx, "rpbenchimp-", false) // durable: the user's defaults
	if err != nil {
		return err
	}
	defer stopCluster()
	if err := postgres.CreateDatabase(ctx, cluster.URL("postgres"), "shop"); err != nil {
		return err
	}
	cfg := &config.Config{DatabaseURL: cluster.URL("shop"), MaxConns: 8, Output: "table"}
	cfg.Saga.CompensationAttempts = 3
	a, err := app.Open(ctx, cfg)
	if err != nil {
		return err
	}
	defer a.Close()
	if _, err := a.RegisterCustomer(ctx, shop.Customer{Name: "구매자"}, ""); err != nil {
		return err
	}
	every := int(1 / changed)
	t0 := time.Now()
	sum, err := a.ImportProducts(ctx, catalogue(rows, 0), shop.CatalogueCSV, shop.ImportOptions{})
	if err != nil {
		return err
	}
	fmt.Printf("first load: %d rows in %.1f s\n", sum.Inserted, time.Since(t0).Seconds())
	const untouched = 100
	for i := range untouched {
		p := shop.Product{SKU: fmt.Sprintf("ORD-%03d", i), Name: "주문용", Price: 1000, StockQuantity: 1_000_000_000}
		if _, err := a.RegisterProduct(ctx, p); err != nil {
			return err
		}
	}
	if err := postgres.Exec(ctx, cfg.DatabaseURL, "VACUUM ANALYZE product"); err != nil { // the app hides its store
		return err
	}
	orderLoop := func(stop <-chan struct{}) (latencies, error) {
		var l latencies
		for {
			select {
			case <-stop:
				return l, nil
			default:
			}
			d, err := place(ctx, a, fmt.Sprintf("ORD-%03d", rand.IntN(untouched)))
			if err != nil {
				return l, err
			}
			l = append(l, d)
		}
	}

	stop := make(chan struct{})
	time.AfterFunc(idle, func() { close(stop) })
	idleLat, err := orderLoop(stop)
	if err != nil {
		return err
	}
	fmt.Printf("idle:                         %s\n", idleLat)

	// The re-import, and orders on untouched and on changed products meanwhile.
	stop = make(chan struct{})
	var wg sync.WaitGroup
	var during, onChanged latencies
	var errs [2]error
	wg.Go(func() { during, errs[0] = orderLoop(stop) })
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
			d, err := place(ctx, a, fmt.Sprintf("SKU-%07d", every*(1+rand.IntN(rows/every))))
			if err != nil {
				errs[1] = err
				return
			}
			onChanged = append(onChanged, d)
		}
	})
	t0 = time.Now()
	sum, err = a.ImportProducts(ctx, catalogue(rows, every), shop.CatalogueCSV, shop.ImportOptions{})
	took := time.Since(t0)
	close(stop)
	wg.Wait()
	if err != nil {
		return err
	}
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	fmt.Printf("re-import: %d rows in %.1f s (%.0f rows/s): %d inserted, %d updated, %d unchanged\n",
		sum.Rows, took.Seconds(), float64(sum.Rows)/took.Seconds(), sum.Inserted, sum.Updated, sum.Unchanged)
	fmt.Printf("during, untouched products:   %s\n", during)
	fmt.Printf("during, changed products:     %s\n", onChanged)
	fmt.Printf("p99 during / idle: %.2f (target ≤ 2)\n", p99(during)/p99(idleLat))
	return nil
}

func p99(l latencies) float64 {
	s := slices.Clone(l)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	return float64(s[min(len(s)-1, int(0.99*float64(len(s))))])
}
