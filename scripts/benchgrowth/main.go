// Command benchgrowth checks that operator commands cost the same whatever
// the shop's size (issue 22, "cost growth"): it fills a fresh
// embedded cluster with generated products and orders (the CLI's row shapes:
// each order with its item, payment, saga log and two notifications), then
// times each command (the median of -runs, after two warm-ups) and prints it
// beside the first page of `product list`, the process floor, both whole and
// less the start of a process that touches no database (rabbitpay version),
// so that what the query costs shows apart from starting. Target: each ≤ 3×
// the first page.
//
//	go run ./scripts/benchgrowth                                   # 100k products, 20k orders: a few minutes
//	go run ./scripts/benchgrowth -products 1000000 -orders 200000
//	go run ./scripts/benchgrowth -bin /tmp/rabbitpay-before        # another build, on its own cluster
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rabbitpay/rabbitpay/scripts/shopgen"
)

func main() {
	products := flag.Int("products", 100_000, "products to generate")
	orders := flag.Int("orders", 20_000, "orders to generate (each with an item, a payment, a saga and two notifications)")
	runs := flag.Int("runs", 15, "timed runs per command")
	bin := flag.String("bin", "", "rabbitpay binary to measure (default: build this checkout)")
	keep := flag.Bool("keep", false, "keep the data dir (and leave its cluster running)")
	flag.Parse()
	if err := run(*products, *orders, *runs, *bin, *keep); err != nil {
		fmt.Fprintln(os.Stderr, "benchgrowth:", err)
		os.Exit(1)
	}
}

func run(products, orders, runs int, bin string, keep bool) error {
	work, err := os.MkdirTemp("", "rpgrowth")
	if err != nil {
		return err
	}
	os.Chmod(work, 0o755) // the cluster may run as another user (as root: postgres)
	if bin == "" {
		bin = filepath.Join(work, "rabbitpay")
		if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
			return fmt.Errorf("go build: %v: %s", err, out)
		}
	}
	env := append(os.Environ(), "RABBITPAY_DATA_DIR="+filepath.Join(work, "data"), "RABBITPAY_DATABASE_URL=")
	rp := func(args ...string) (string, error) {
		cmd := exec.Command(bin, args...)
		cmd.Env = env
		out, err := cmd.Output()
		if ee, ok := err.(*exec.ExitError); ok {
			return "", fmt.Errorf("rabbitpay %s: %v: %s", strings.Join(args, " "), err, ee.Stderr)
		}
		return strings.TrimSpace(string(out)), err
	}
	if !keep {
		defer func() { rp("db", "stop"); os.RemoveAll(work) }()
	}
	url, err := rp("db", "url")
	if err == nil {
		_, err = rp("db", "start")
	}
	if err != nil {
		return err
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	start := time.Now()
	if err := shopgen.Generate(ctx, conn, products, orders); err != nil {
		return err
	}
	var ctype string
	conn.QueryRow(ctx, `SELECT datctype FROM pg_database WHERE datname = current_database()`).Scan(&ctype)
	fmt.Printf("%d products, %d orders generated in %s (LC_CTYPE %s); %d runs each, median wall time\n",
		products, orders, time.Since(start).Round(time.Second), ctype, runs)

	// An old week: a year back in the two years of orders.
	since := time.Now().AddDate(-1, 0, 0).Format("2006-01-02")
	until := time.Now().AddDate(-1, 0, 7).Format("2006-01-02")
	cmds := [][]string{
		{"product", "list", "--limit", "50"},
		{"product", "list", "--search", "묘향산", "--limit", "50"},
		{"product", "list", "--search", "SKU-0004242", "--limit", "50"},
		{"product", "list", "--sort", "price", "--limit", "50"},
		{"product", "show", "SKU-00000042"},
		{"order", "list", "--limit", "50"},
		{"order", "list", "--since", since, "--until", until, "--limit", "50"},
		{"pay", "list", "--since", since, "--until", until, "--limit", "50"},
		{"notify", "list", "--customer", "7", "--limit", "50"},
		{"saga", "list", "--limit", "50"},
		{"saga", "recover"},
		{"notify", "send", "--limit", "100", "--sink", "file", "--file", filepath.Join(work, "sent.jsonl")},
	}
	// Each command's time, and the same less a process that starts, reads its
	// configuration and exits without touching the database (rabbitpay
	// version): what the command's own connection and queries cost.
	median := func(args []string) (time.Duration, error) {
		var ts []time.Duration
		for r := 0; r < runs+2; r++ {
			t0 := time.Now()
			if _, err := rp(append(args, "-o", "json")...); err != nil {
				return 0, err
			}
			if r >= 2 {
				ts = append(ts, time.Since(t0))
			}
		}
		slices.Sort(ts)
		return ts[len(ts)/2], nil
	}
	startup, err := median([]string{"version"})
	if err != nil {
		return err
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	fmt.Printf("process start (rabbitpay version): %.1f ms\n", ms(startup))
	fmt.Printf("%10s %12s %12s %12s  %s\n", "median ms", "× first page", "less start", "× first page", "command")
	var floor time.Duration
	for i, args := range cmds {
		med, err := median(args)
		if err != nil {
			return err
		}
		if i == 0 {
			floor = med
		}
		fmt.Printf("%10.1f %12.2f %12.1f %12.2f  rabbitpay %s\n", ms(med), float64(med)/float64(floor),
			ms(med-startup), float64(med-startup)/float64(floor-startup), strings.Join(args, " "))
	}
	if keep {
		fmt.Println("data dir kept:", filepath.Join(work, "data"))
	}
	return nil
}
