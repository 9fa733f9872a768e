package cmd

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rabbitpay/rabbitpay/internal/localpg"
	"github.com/rabbitpay/rabbitpay/internal/postgres"
	"github.com/rabbitpay/rabbitpay/internal/testdb"
)

// Chaos: a few hundred placements by separate processes while clients are
// killed with SIGKILL, their server sessions terminated and the server itself
// crashed (immediate shutdown) and restarted; then one `saga recover`. Stock
// is conserved, every charge has a paid order or a refund, no payment is
// left PROGRESS and no saga unfinished. The cluster is the test's own, so
// crashing it touches no other test.
func TestChaosThenRecover(t *testing.T) {
	t.Parallel()
	const placements, workers, products, stock = 240, 6, 8, 1000
	ctx := context.Background()
	cluster, stop, err := localpg.StartTemp(ctx, "rpchaos-", true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	if err := postgres.CreateDatabase(ctx, cluster.URL("postgres"), "chaos"); err != nil {
		t.Fatal(err)
	}
	// A throwaway cluster commits asynchronously for speed, and a server crash
	// may then lose commits already acknowledged; this test crashes the server,
	// so its database commits durably, as the user's cluster does.
	if err := postgres.Exec(ctx, cluster.URL("postgres"), "ALTER DATABASE chaos SET synchronous_commit = on"); err != nil {
		t.Fatal(err)
	}
	(&cli{t: t, url: cluster.URL("chaos")}).ok("db", "migrate") // migrations go to the server itself, never through a pooler
	pooler, err := os.MkdirTemp("", "rpchaos-pooler-")          // beside the data dir: rabbitpay keeps its data dir to itself
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(pooler) })
	url := testdb.PoolerFor(t, pooler, cluster.URL("postgres"))("chaos")
	c := &cli{t: t, url: url}
	c.ok("customer", "register", "--name", "김토끼")
	for i := range products {
		c.ok("product", "register", "--sku", fmt.Sprintf("P-%d", i), "--name", fmt.Sprintf("상품 %d", i), "--price", "1000", "--stock", strconv.Itoa(stock))
	}
	env := []string{"RABBITPAY_DATABASE_URL=" + url, "RABBITPAY_SAGA_LEASE=2s", "RABBITPAY_PAYMENT_TIMEOUT=5s",
		"RABBITPAY_PAYMENT_SANDBOX_DECLINE_OVER=4000"} // some orders are declined

	var mu sync.Mutex
	running := map[*exec.Cmd]bool{}
	codes := map[int]int{}
	var wg sync.WaitGroup
	next := make(chan int)
	for range workers {
		wg.Go(func() {
			for i := range next {
				args := []string{"order", "place", "--customer", "1", "--method", []string{"KAKAO", "NAVER"}[rand.IntN(2)]}
				for range 1 + rand.IntN(2) {
					args = append(args, "--item", fmt.Sprintf("P-%d:%d", rand.IntN(products), 1+rand.IntN(3)))
				}
				cmd := exec.Command(os.Args[0], args...)
				cmd.Env = append(append(os.Environ(), "RABBITPAY_TEST_RUN_MAIN=1"), env...)
				if i%10 == 5 { // whatever the monkey manages, some placements die at the worst moments
					cmd.Env = append(cmd.Env, "RABBITPAY_FAILPOINTS="+crashPoints[i/10%len(crashPoints)])
				}
				var errb bytes.Buffer
				cmd.Stderr = &errb
				mu.Lock()
				err := cmd.Start()
				if err == nil {
					running[cmd] = true
				}
				mu.Unlock()
				if err != nil {
					t.Error(err)
					continue
				}
				cmd.Wait()
				mu.Lock()
				delete(running, cmd)
				codes[cmd.ProcessState.ExitCode()]++
				mu.Unlock()
			}
		})
	}
	stopChaos := make(chan struct{})
	var kills, terminations, crashes int
	chaosDone := make(chan struct{})
	go func() { // the chaos monkey
		defer close(chaosDone)
		conn := func() *pgx.Conn {
			cn, err := pgx.Connect(ctx, url)
			if err != nil {
				return nil
			}
			return cn
		}
		for i := 0; ; i++ {
			select {
			case <-stopChaos:
				return
			case <-time.After(time.Duration(60+rand.IntN(80)) * time.Millisecond):
			}
			switch {
			case i%3 == 0:
				mu.Lock()
				for cmd := range running {
					cmd.Process.Signal(syscall.SIGKILL)
					kills++
					break
				}
				mu.Unlock()
			case i%3 == 1:
				if cn := conn(); cn != nil {
					var n int
					cn.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM (SELECT pid FROM pg_stat_activity
						WHERE application_name LIKE 'rabbitpay%' AND pid <> pg_backend_pid() ORDER BY random() LIMIT 1) p`).Scan(&n)
					terminations += n
					cn.Close(ctx)
				}
			}
		}
	}()
	for i := range placements {
		// The server crashes a third and two thirds in, while the workers'
		// placements are in flight: the feeder crashes it itself, so the
		// crashes happen however fast or slow the machine is.
		if i > 0 && i%(placements/3) == 0 {
			crashServer(t, cluster)
			crashes++
		}
		next <- i
	}
	close(next)
	wg.Wait()
	close(stopChaos)
	<-chaosDone
	// How much chaos timing allowed (kills, terminations) is reported, not
	// required: what is checked is what it left behind, below.
	t.Logf("%d placements: exit codes %v; %d clients killed, %d sessions terminated, %d server crashes", placements, codes, kills, terminations, crashes)
	if err := cluster.Ensure(ctx); err != nil { // in case the last crash's restart is still due
		t.Fatal(err)
	}
	// A pooler refuses logins for a moment after the server failed them (server_login_retry).
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		cn, err := pgx.Connect(ctx, url)
		if err == nil {
			err = cn.Ping(ctx)
			cn.Close(ctx)
		}
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the database is not back after the chaos: %v", err)
		}
	}
	if r := c.run("saga", "recover", "--wait", "1m"); r.code != 0 {
		t.Fatalf("saga recover: exit %d\n%s%s", r.code, r.out, r.err)
	}
	if got := c.query(fmt.Sprintf(`SELECT count(*)::text FROM product p WHERE p.stock_quantity + coalesce((SELECT sum(op.quantity)
		FROM order_product op JOIN orders o ON o.id = op.order_id AND o.status = 'paid' WHERE op.product_id = p.id), 0) <> %d`, stock)); got != "0" {
		t.Errorf("stock not conserved for %s products", got)
	}
	if got := c.query(`SELECT count(*)::text FROM sandbox_payment l WHERE l.status = 'SUCCESS' AND NOT EXISTS (SELECT FROM orders o
		JOIN payment p ON p.order_id = o.id AND p.status = 'SUCCESS' WHERE o.order_uuid = l.order_uuid AND o.status = 'paid')`); got != "0" {
		t.Errorf("%s charges have neither a paid order nor a refund: %s", got, c.query(`SELECT string_agg(concat_ws(' | ', l.order_uuid, l.status, l.created_at,
			p.status, p.failure_reason, s.state, s.owner_token, s.history), E'\n')
			FROM sandbox_payment l LEFT JOIN payment p USING (order_uuid) LEFT JOIN saga s USING (order_uuid) WHERE l.status = 'SUCCESS'
			AND NOT EXISTS (SELECT FROM orders o WHERE o.order_uuid = l.order_uuid AND o.status = 'paid')`))
	}
	if got := c.query(`SELECT count(*)::text FROM payment WHERE status = 'PROGRESS'`); got != "0" {
		t.Errorf("%s payments still PROGRESS", got)
	}
	if got := c.query(`SELECT count(*)::text FROM saga WHERE state IN ('running', 'compensating', 'cancelling')`); got != "0" {
		t.Errorf("%s sagas unfinished", got)
	}
	if got := c.query(`SELECT count(*)::text FROM orders WHERE status = 'paid'`); got == "0" {
		t.Errorf("no order was placed at all")
	}
}

// crashPoints are where every tenth placement kills itself (SIGKILL), in turn.
var crashPoints = []string{"after_payment=crash", "before_payment=crash", "after_create_order=crash", "after_reduce_stock=crash"}

// crashServer stops the cluster as a crash would (immediate shutdown: no
// checkpoint, crash recovery on start) and starts it again.
func crashServer(t *testing.T, c *localpg.Cluster) {
	pidFile, err := os.ReadFile(filepath.Join(c.Dir, "pgdata", "postmaster.pid"))
	if err != nil {
		t.Errorf("crash: %v", err)
		return
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(pidFile), "\n", 2)[0]))
	syscall.Kill(pid, syscall.SIGQUIT)
	for deadline := time.Now().Add(30 * time.Second); syscall.Kill(pid, 0) == nil && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	if err := c.Ensure(context.Background()); err != nil {
		t.Errorf("restart after the crash: %v", err)
	}
}
