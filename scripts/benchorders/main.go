// Command benchorders measures order placement against the SQL it sends, on
// one PostgreSQL cluster with default durability (fsync and synchronous
// commit on): 8 concurrent buyers placing orders through the full saga
// (app.PlaceOrder), then the "SQL floor" (floor.go: pgbench -M prepared -c 8
// replaying the saga's own statements with the same round trips and
// commits, so only the client differs), then `pgbench -N -c 8` for scale,
// printing the rates, orders/s ÷ floor tps and the CPU µs per order and per
// transaction of the server and of each client, once with orders spread over
// many products and once on one hot product.
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
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

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
	flag.StringVar(&expSQL, "exp-sql", "", "experiment: SQL run on the orders database (after migrating, before any buyer connects; then the configuration is reloaded), e.g. \"ALTER DATABASE orders SET jit = off\"")
	flag.StringVar(&only, "only", "", "run only this scenario: spread or hot")
	flag.BoolVar(&statements, "statements", false, "diagnosis: print each statement's mean execution time and WAL records (pg_stat_statements)")
	flag.Parse()
	if only != "" && only != "spread" && only != "hot" {
		fmt.Fprintf(os.Stderr, "benchorders: -only %q is not spread or hot\n", only)
		os.Exit(2)
	}
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

var (
	asyncDiag  bool
	expSQL     string
	only       string
	statements bool
)

func run(d time.Duration, clients int) error {
	ctx := context.Background()
	cluster, stop, err := localpg.StartTemp(ctx, "rpbench-", false) // durable: the user's defaults
	if err != nil {
		return err
	}
	defer stop()
	if asyncDiag {
		for _, q := range []string{"ALTER SYSTEM SET synchronous_commit = off", "SELECT pg_reload_conf()"} {
			if err := postgres.Exec(ctx, cluster.URL("postgres"), q); err != nil {
				return err
			}
		}
		fmt.Println("DIAGNOSIS: synchronous_commit is off")
	}
	if statements { // the module must be preloaded: restart the cluster with it
		if err := postgres.Exec(ctx, cluster.URL("postgres"), "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'"); err != nil {
			return err
		}
		if err := cluster.Stop(); err != nil {
			return err
		}
		if err := cluster.Ensure(ctx); err != nil {
			return err
		}
		if err := postgres.Exec(ctx, cluster.URL("postgres"), "CREATE EXTENSION pg_stat_statements"); err != nil {
			return err
		}
	}
	for _, db := range []string{"orders", "pgbench"} {
		if err := postgres.CreateDatabase(ctx, cluster.URL("postgres"), db); err != nil {
			return err
		}
	}
	cfg := &config.Config{DatabaseURL: cluster.URL("orders"), MaxConns: int32(2*clients + 4), Output: "table"}
	cfg.Saga.CompensationAttempts = 3
	// A first app migrates the schema and is closed; then the experiment's SQL
	// runs, followed by a configuration reload; then the buyers' app opens.
	// Every connection the buyers use (the app's pool and its payment
	// sandbox's, which the benchmark cannot reach: the app hides its store)
	// is thus opened after the experiment and sees what it changed: the
	// schema, settings made with ALTER DATABASE orders SET … or ALTER SYSTEM
	// SET …. The floor's pgbench connections open later still; pgbench -N
	// runs on another database and sees only ALTER SYSTEM.
	a, err := app.Open(ctx, cfg)
	if err != nil {
		return err
	}
	a.Close()
	if expSQL != "" {
		if err := postgres.Exec(ctx, cfg.DatabaseURL, expSQL); err != nil {
			return fmt.Errorf("-exp-sql: %w", err)
		}
		if err := postgres.Exec(ctx, cfg.DatabaseURL, "SELECT pg_reload_conf()"); err != nil {
			return err
		}
	}
	if a, err = app.Open(ctx, cfg); err != nil {
		return err
	}
	defer a.Close()
	// The benchmark's own queries go through a pool of its own: the app hides its store.
	db, err := postgres.Open(cfg.DatabaseURL, 2)
	if err != nil {
		return err
	}
	defer db.Close()
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
	os.Setenv("PGPASSFILE", cluster.PassFile()) // the cluster wants its password; pgbench reads it from there
	conn := []string{"-h", cluster.SocketDir(), "-p", strconv.Itoa(localpg.Port), "-U", localpg.Superuser}
	if out, err := exec.Command(pgbench, append(conn, "-i", "-q", "-s", "1", "pgbench")...).CombinedOutput(); err != nil {
		return fmt.Errorf("pgbench -i: %v: %s", err, out)
	}
	master, err := postmasterPID(ctx, db)
	if err != nil {
		return err
	}
	// Warm up, unmeasured: pgbench's rates leave out connecting, so the
	// buyers' first connections (the app's pool and the sandbox's, opened
	// on first use) and statement preparations are left out too.
	if _, _, _, err := placeOrders(ctx, a, time.Second, clients, products, false); err != nil {
		return err
	}
	fmt.Printf("cluster: %s (fsync on, synchronous_commit on), %d clients, %s per run\n", cluster.Dir, clients, d)
	for _, scenario := range []string{"spread over 1,000 products", "one hot product"} {
		hot := scenario == "one hot product"
		if only != "" && hot != (only == "hot") {
			continue
		}
		if statements {
			if err := postgres.Exec(ctx, cluster.URL("postgres"), "SELECT pg_stat_statements_reset()"); err != nil {
				return err
			}
		}
		server := serverCPU(master)
		self := selfCPU()
		rate, n, failed, err := placeOrders(ctx, a, d, clients, products, hot)
		if err != nil {
			return err
		}
		orderSelf := selfCPU() - self // first: serverCPU's reading of /proc is the benchmark's, not rabbitpay's
		orderServer := serverCPU(master) - server
		kids := len(children(master))
		server = serverCPU(master)
		floor, ftxs, floorSelf, err := floorTPS(pgbench, cluster.Dir, conn, d, clients, hot, products, config.DefaultLease)
		if err != nil {
			return err
		}
		awaitExits(master, kids)
		floorServer := serverCPU(master) - server
		server = serverCPU(master)
		tps, txs, benchSelf, err := pgbenchTPS(pgbench, conn, d, clients)
		if err != nil {
			return err
		}
		awaitExits(master, kids)
		benchServer := serverCPU(master) - server
		fmt.Printf("%-28s orders/s %8.1f   SQL floor tps %8.1f   ratio %.2f   pgbench -N tps %8.1f (%.2f)   (failed orders: %d)\n",
			scenario+":", rate, floor, rate/floor, tps, rate/tps, failed)
		us := func(cpu float64, n int64) float64 { return 1e6 * cpu / float64(n) }
		fmt.Printf("%-28s CPU µs per order: server %.0f, rabbitpay %.0f   per floor tx: server %.0f, pgbench %.0f   per pgbench -N tx: server %.0f, pgbench %.0f\n", "",
			us(orderServer, n), us(orderSelf, n), us(floorServer, ftxs), us(floorSelf, ftxs), us(benchServer, txs), us(benchSelf, txs))
		// On a machine whose cores both sides saturate, the rate ratio tends to
		// the ratio of CPU spent per unit of work; the CPU ratio also holds up
		// when other work on the machine takes a varying share of the cores.
		fmt.Printf("%-28s CPU ratio (floor tx ÷ order, server + client) %.2f\n", "",
			us(floorServer+floorSelf, ftxs)/us(orderServer+orderSelf, n))
		if statements {
			if err := printStatements(ctx, cluster.URL("postgres"), n+txs+ftxs); err != nil {
				return err
			}
		}
	}
	var oversold bool
	err = db.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM product p WHERE p.stock_quantity + coalesce(
		(SELECT sum(quantity) FROM order_product WHERE product_id = p.id), 0) <> 1000000)`).Scan(&oversold)
	if err != nil {
		return err
	}
	fmt.Printf("stock conserved (no oversell): %v\n", !oversold)
	return nil
}

func placeOrders(ctx context.Context, a *app.App, d time.Duration, clients, products int, hot bool) (float64, int64, int64, error) {
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
					Items: []shop.ItemRequest{{Ref: shop.RefBySKU(sku), Quantity: 1}}}, nil)
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
	return float64(placed.Load()) / time.Since(start).Seconds(), placed.Load(), failed.Load(), firstErr
}

// printStatements prints the statements run at least minCalls/20 times
// since the last reset: calls, mean execution µs, WAL records per call.
func printStatements(ctx context.Context, url string, minCalls int64) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT calls, total_exec_time * 1000 / calls, wal_records::float8 / calls,
			left(regexp_replace(query, '\s+', ' ', 'g'), 70)
		FROM pg_stat_statements WHERE calls >= $1 ORDER BY total_exec_time DESC`, minCalls/20)
	if err != nil {
		return err
	}
	var calls int64
	var execUS, wal float64
	var query string
	fmt.Printf("%10s %8s %8s  %s\n", "calls", "exec µs", "WAL rec", "statement")
	_, err = pgx.ForEachRow(rows, []any{&calls, &execUS, &wal, &query}, func() error {
		fmt.Printf("%10d %8.0f %8.1f  %s\n", calls, execUS, wal, query)
		return nil
	})
	return err
}

var tpsLine = regexp.MustCompile(`tps = ([0-9.]+)`)

var txLine = regexp.MustCompile(`number of transactions actually processed: ([0-9]+)`)

// pgbenchTPS runs pgbench -N and returns its tps, its transaction count and
// the CPU seconds pgbench itself used.
func pgbenchTPS(pgbench string, conn []string, d time.Duration, clients int) (float64, int64, float64, error) {
	args := append(conn, "-N", "-c", strconv.Itoa(clients), "-j", "2", "-T", strconv.Itoa(int(d.Seconds())), "pgbench")
	return runPgbench(exec.Command(pgbench, args...))
}

// runPgbench runs cmd, a pgbench run, and returns its tps, its transaction
// count and the CPU seconds it used.
func runPgbench(cmd *exec.Cmd) (float64, int64, float64, error) {
	out, err := cmd.CombinedOutput()
	if err != nil {
		return 0, 0, 0, fmt.Errorf("pgbench: %v: %s", err, out)
	}
	m, n := tpsLine.FindSubmatch(out), txLine.FindSubmatch(out)
	if m == nil || n == nil {
		return 0, 0, 0, fmt.Errorf("no tps in pgbench output: %s", out)
	}
	tps, _ := strconv.ParseFloat(string(m[1]), 64)
	txs, _ := strconv.ParseInt(string(n[1]), 10, 64)
	return tps, txs, (cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()).Seconds(), nil
}

// selfCPU is the CPU seconds this process has used.
func selfCPU() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// postmasterPID is the parent of the server process serving a connection.
func postmasterPID(ctx context.Context, db *postgres.Store) (int, error) {
	var backend int
	if err := db.Pool.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&backend); err != nil {
		return 0, err
	}
	ppid, err := procField(backend, 1)
	return int(ppid), err
}

// serverCPU is the CPU seconds the cluster has used: the postmaster's own and
// its ended children's, plus every live server process's.
func serverCPU(master int) float64 {
	ticks := procTicks(master, true)
	for _, pid := range children(master) {
		ticks += procTicks(pid, false)
	}
	return float64(ticks) / 100 // USER_HZ
}

// awaitExits waits (up to half a second) until the postmaster has at most n
// children: a server process that is exiting (pgbench's, just after pgbench
// ended) is counted neither as live nor as ended by serverCPU.
func awaitExits(master, n int) {
	for deadline := time.Now().Add(500 * time.Millisecond); len(children(master)) > n && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
}

// children lists the postmaster's live child processes.
func children(master int) []int {
	var pids []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == master {
			continue
		}
		if ppid, _ := procField(pid, 1); ppid == int64(master) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// procField returns field i (0 = state) after the command name of /proc/pid/stat.
func procField(pid, i int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	return strconv.ParseInt(f[i], 10, 64)
}

func procTicks(pid int, children bool) int64 {
	var t int64
	fields := []int{11, 12} // utime, stime
	if children {
		fields = append(fields, 13, 14) // cutime, cstime
	}
	for _, i := range fields {
		v, _ := procField(pid, i)
		t += v
	}
	return t
}
