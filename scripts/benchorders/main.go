// Command benchorders measures order placement against the SQL it sends, on
// one PostgreSQL cluster with default durability (fsync and synchronous
// commit on). Three contenders take turns in rounds (-rounds, each of their
// six orders once in six rounds), so that the machine's outside load falls
// on all alike:
//
//   - orders: 8 concurrent buyers placing orders through the full saga
//     (app.PlaceOrder);
//   - store only: the same store calls in the same order (storeOrder),
//     without the app around them: what pgx and the store cost alone;
//   - the "SQL floor" (floor.go: pgbench -M prepared -c 8 replaying the
//     saga's own statements with the same round trips and commits, so only
//     the client differs).
//
// Then the floor once more throttled to the orders' rate (pgbench -R), where
// the server's CPU per transaction can be compared as work done, and
// `pgbench -N -c 8` for scale. It prints the rates, orders/s ÷ floor tps
// (overall and per round) and the CPU µs per order and per transaction of
// the server and of each client, once with orders spread over many products
// and once on one hot product.
//
//	go run ./scripts/benchorders [-seconds 10] [-rounds 6] [-clients 8] [-only spread|hot]
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

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/rabbitpay/rabbitpay/internal/app"
	"github.com/rabbitpay/rabbitpay/internal/config"
	"github.com/rabbitpay/rabbitpay/internal/localpg"
	"github.com/rabbitpay/rabbitpay/internal/payment"
	"github.com/rabbitpay/rabbitpay/internal/postgres"
	"github.com/rabbitpay/rabbitpay/internal/shop"
)

func main() {
	seconds := flag.Int("seconds", 10, "time each contender runs, split over the rounds (each round at least 1 s, in whole seconds)")
	clients := flag.Int("clients", 8, "concurrent buyers and pgbench clients")
	profile := flag.String("cpuprofile", "", "write a CPU profile of rabbitpay's side to this file")
	flag.BoolVar(&asyncDiag, "diagnose-async-commit", false, "diagnosis only: turn synchronous_commit off to see how much commits cost")
	flag.StringVar(&expSQL, "exp-sql", "", "experiment: SQL run on the orders database (after migrating, before any buyer connects; then the configuration is reloaded), e.g. \"ALTER DATABASE orders SET jit = off\"")
	flag.StringVar(&only, "only", "", "run only this scenario: spread or hot")
	flag.IntVar(&rounds, "rounds", 6, "rounds per scenario: orders, store-only and floor take turns (each of the six orders once in six rounds), -seconds ÷ rounds each")
	flag.BoolVar(&statements, "statements", false, "diagnosis: print each statement's mean execution time and WAL records (pg_stat_statements)")
	flag.Parse()
	if rounds < 1 {
		fmt.Fprintf(os.Stderr, "benchorders: -rounds %d is not at least 1\n", rounds)
		os.Exit(2)
	}
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
	rounds     int
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
	// Every connection the buyers use (the app's pool, which the benchmark
	// cannot reach: the app hides its store) is thus opened after the experiment and sees what it changed: the
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
	for i := range clients { // each with a default address, which every order copies
		c, err := a.RegisterCustomer(ctx, shop.Customer{Name: fmt.Sprintf("구매자 %d", i+1)}, "")
		if err != nil {
			return err
		}
		addr := floorShipTo
		if _, err := a.AddAddress(ctx, shop.BookAddress{CustomerID: c.ID, Recipient: addr.Recipient, Phone: addr.Phone,
			ZipCode: addr.ZipCode, Line1: addr.Line1, Line2: addr.Line2, Memo: addr.Memo, Default: true}); err != nil {
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
	// The store-only contender: the same store calls as PlaceOrder, on a
	// store of the benchmark's own (the sandbox's ledger on its pool, as in
	// the app), without the app around them.
	store, err := postgres.Open(cfg.DatabaseURL, int32(2*clients+4))
	if err != nil {
		return err
	}
	defer store.Close()
	store.Lease = config.DefaultLease
	ledger := postgres.NewSandboxLedger(store)
	prov, err := payment.Lookup(shop.Kakao)
	if err != nil {
		return err
	}
	sandbox := &payment.Sandbox{Provider: prov, Ledger: ledger}
	placers := []placer{
		{"orders", func(ctx context.Context, c int, sku string) error {
			res, err := a.PlaceOrder(ctx, app.PlaceRequest{CustomerID: int64(c + 1), Method: shop.Kakao,
				Items: []shop.ItemRequest{{Ref: shop.RefBySKU(sku), Quantity: 1}}}, nil)
			if err == nil && res.Status != app.Placed {
				err = fmt.Errorf("order failed: %s", res.Error)
			}
			return err
		}},
		{"store only", func(ctx context.Context, c int, sku string) error {
			return storeOrder(ctx, store, sandbox, int64(c+1), sku)
		}},
	}
	// Warm up, unmeasured: pgbench's rates leave out connecting, so the
	// buyers' first connections and statement preparations are left out too.
	for _, p := range placers {
		if _, err := placeOrders(ctx, p.place, time.Second, clients, products, false); err != nil {
			return err
		}
	}
	slice := max(time.Second, (d / time.Duration(rounds)).Round(time.Second))
	fmt.Printf("cluster: %s (fsync on, synchronous_commit on), %d clients, %d rounds of %s per contender, interleaved\n",
		cluster.Dir, clients, rounds, slice)
	us := func(cpu float64, n int64) float64 { return 1e6 * cpu / float64(max(n, 1)) }
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
		// Orders, store-only and floor take turns, in each of the six
		// orders once every six rounds, so that a change in the machine's
		// outside load, or what one leaves behind for the next (the floor's
		// WAL and dirty pages), falls on all three alike.
		var app, bare, floor tally
		var perRound []string
		kids := len(children(master))
		for r := range rounds {
			var rs [3]tally
			for _, i := range turns[r%len(turns)] {
				switch i {
				case 0, 1:
					server, self := serverCPU(master), selfCPU()
					start := time.Now()
					n, err := placeOrders(ctx, placers[i].place, slice, clients, products, hot)
					if err != nil {
						return fmt.Errorf("%s: %w", placers[i].name, err)
					}
					rs[i] = tally{n: n, secs: time.Since(start).Seconds(), self: selfCPU() - self}
					rs[i].server = serverCPU(master) - server // after selfCPU: reading /proc is the benchmark's work, not rabbitpay's
				case 2:
					server := serverCPU(master)
					tps, txs, self, err := floorTPS(pgbench, cluster.Dir, conn, slice, clients, hot, products, config.DefaultLease, 0)
					if err != nil {
						return err
					}
					awaitExits(master, kids)
					rs[i] = tally{n: txs, secs: float64(txs) / tps, self: self, server: serverCPU(master) - server}
				}
			}
			app.add(rs[0])
			bare.add(rs[1])
			floor.add(rs[2])
			perRound = append(perRound, fmt.Sprintf("%.2f", rs[0].rate()/rs[2].rate()))
		}
		// The floor once more, throttled to the orders' rate: a server process
		// that finds its next request already waiting sleeps and wakes less,
		// and more commits share a WAL flush, so the server's CPU per
		// transaction falls as the rate rises. At the same rate the two
		// sides' server CPU can be compared as work done.
		server := serverCPU(master)
		_, etxs, eqSelf, err := floorTPS(pgbench, cluster.Dir, conn, d/2, clients, hot, products, config.DefaultLease, app.rate())
		if err != nil {
			return err
		}
		awaitExits(master, kids)
		eq := tally{n: etxs, self: eqSelf, server: serverCPU(master) - server}
		server = serverCPU(master)
		tps, txs, benchSelf, err := pgbenchTPS(pgbench, conn, d, clients)
		if err != nil {
			return err
		}
		awaitExits(master, kids)
		benchServer := serverCPU(master) - server
		fmt.Printf("%-28s orders/s %8.1f   SQL floor tps %8.1f   ratio %.2f (rounds %s)   pgbench -N tps %8.1f (%.2f)\n",
			scenario+":", app.rate(), floor.rate(), app.rate()/floor.rate(), strings.Join(perRound, " "), tps, app.rate()/tps)
		fmt.Printf("%-28s store only: orders/s %8.1f   ratio to the floor %.2f   orders ÷ store only %.2f\n", "",
			bare.rate(), bare.rate()/floor.rate(), app.rate()/bare.rate())
		fmt.Printf("%-28s CPU µs per order: server %.0f, rabbitpay %.0f   store only: server %.0f, client %.0f   per floor tx: server %.0f, pgbench %.0f   per pgbench -N tx: server %.0f, pgbench %.0f\n", "",
			us(app.server, app.n), us(app.self, app.n), us(bare.server, bare.n), us(bare.self, bare.n),
			us(floor.server, floor.n), us(floor.self, floor.n), us(benchServer, txs), us(benchSelf, txs))
		// On a machine whose cores both sides saturate, the rate ratio tends to
		// the ratio of CPU spent per unit of work; the CPU ratio also holds up
		// when other work on the machine takes a varying share of the cores.
		fmt.Printf("%-28s CPU ratio (floor tx ÷ order, server + client) %.2f   store only %.2f\n", "",
			floor.cpuPer()/app.cpuPer(), floor.cpuPer()/bare.cpuPer())
		fmt.Printf("%-28s floor throttled to the orders' rate (pgbench -R %.0f): CPU µs per tx: server %.0f, pgbench %.0f   CPU ratio at equal rate %.2f\n", "",
			app.rate(), us(eq.server, eq.n), us(eq.self, eq.n), eq.cpuPer()/app.cpuPer())
		if statements {
			if err := printStatements(ctx, cluster.URL("postgres"), app.n+bare.n+txs+floor.n+eq.n); err != nil {
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

// turns are the orders in which the contenders (0 orders, 1 store only,
// 2 floor) run in a round.
var turns = [][3]int{{0, 1, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}, {1, 0, 2}, {0, 2, 1}}

// placer places one order of one unit of sku for buyer c.
type placer struct {
	name  string
	place func(ctx context.Context, c int, sku string) error
}

// tally adds up one contender's rounds.
type tally struct {
	n            int64   // orders or transactions
	secs         float64 // time they took
	self, server float64 // CPU seconds of the client and of the server
}

func (t *tally) add(u tally) {
	t.n, t.secs, t.self, t.server = t.n+u.n, t.secs+u.secs, t.self+u.self, t.server+u.server
}

func (t tally) rate() float64 { return float64(t.n) / t.secs }

// cpuPer is the CPU µs, server and client, per order or transaction.
func (t tally) cpuPer() float64 { return 1e6 * (t.self + t.server) / float64(max(t.n, 1)) }

// placeOrders runs clients buyers placing one-unit orders for d and returns
// how many were placed; any failure ends the run.
func placeOrders(ctx context.Context, place func(context.Context, int, string) error, d time.Duration, clients, products int, hot bool) (int64, error) {
	var placed atomic.Int64
	var firstErr error
	var once sync.Once
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			for time.Now().Before(deadline) {
				sku := "P-0000"
				if !hot {
					sku = fmt.Sprintf("P-%04d", rand.IntN(products))
				}
				if err := place(ctx, c, sku); err != nil {
					once.Do(func() { firstErr = err })
					return
				}
				placed.Add(1)
			}
		})
	}
	wg.Wait()
	return placed.Load(), firstErr
}

// storeOrder places an order with the store calls PlaceOrder makes, in its
// order, without the app around them (saga runner, contexts, lease
// renewal, observers): what pgx and the store cost on their own. The
// provider call is recorded as the app records it.
func storeOrder(ctx context.Context, store *postgres.Store, sandbox *payment.Sandbox, customer int64, sku string) error {
	lines, shipTo, err := store.ResolveItems(ctx, customer, []shop.ItemRequest{{Ref: shop.RefBySKU(sku), Quantity: 1}}, &shop.Destination{})
	if err != nil {
		return err
	}
	total, err := shop.Total(lines)
	if err != nil {
		return err
	}
	rec := &shop.SagaRecord{OrderUUID: uuid.NewString(), CustomerID: customer, Method: shop.Kakao, Items: lines,
		TotalAmount: total, State: shop.SagaRunning, ShipTo: shipTo}
	ok := func(name, detail string) shop.SagaEvent {
		return shop.NewEvent(shop.EventStep, name, shop.OutcomeOK, detail)
	}
	log, err := store.StartSaga(ctx, rec, "", "", ok("reduce_stock", "reserved "+sku+"×1"))
	if err != nil {
		return err
	}
	res, err := payment.Recorded(sandbox, log.RecordCall).Approve(ctx, payment.Ref{OrderUUID: rec.OrderUUID,
		CustomerID: customer, Amount: total})
	if err != nil {
		return err
	}
	_, err = log.CreateOrder(ctx, rec, res.TxID, []shop.SagaEvent{
		ok("payment", fmt.Sprintf("charged %s via %s (%s)", total, rec.Method, res.TxID)),
		ok("create_order", "order created, paid"), ok("notify", "order.placed, payment.succeeded queued in the outbox")})
	return err
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
