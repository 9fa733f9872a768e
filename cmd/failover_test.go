package cmd

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rabbitpay/rabbitpay/internal/postgres"
	"github.com/rabbitpay/rabbitpay/internal/testdb"
)

// Failover, as README's "High availability" describes it: four lanes of
// `order place` (separate processes) on the multi-host URL of a primary and
// its synchronous standby; the primary crashes (immediate shutdown) with
// placements in flight; until the standby is promoted every command fails
// with one sentence naming both servers, while reads answer from the read
// URL; after the promotion placements go on, and one `saga recover` finishes
// what the crash cut. Then: every order acknowledged (exit 0) is paid on the
// new primary, stock is conserved, every charge has a paid order or a
// refund, nothing is left PROGRESS or unfinished, no notification is queued twice.
func TestFailover(t *testing.T) {
	t.Parallel()
	const lanes, products, stock = 4, 4, 1000
	ctx := context.Background()
	pair := testdb.StartPair(t)
	if err := postgres.CreateDatabase(ctx, pair.Primary.URL("postgres"), "shop"); err != nil {
		t.Fatal(err)
	}
	url, readURL := pair.URL("shop"), pair.Standby.URL("shop")
	c := &cli{t: t, url: url}
	c.ok("db", "migrate")
	c.ok("customer", "register", "--name", "김토끼")
	for i := range products {
		c.ok("product", "register", "--sku", fmt.Sprintf("P-%d", i), "--name", fmt.Sprintf("상품 %d", i), "--price", "1000", "--stock", strconv.Itoa(stock))
	}

	// Both URLs in db status, and the replica's replay lag (once the standby
	// has applied the migration: it is only sure to have flushed it).
	pair.WaitReplayed(t)
	var st map[string]any
	c.json(&st, "--database-read-url", readURL, "db", "status")
	if st["read_in_recovery"] != true || st["replay_lag_seconds"] == nil || st["read_error"] != nil || !strings.Contains(fmt.Sprint(st["read_url"]), strconv.Itoa(pair.Standby.Port)) {
		t.Errorf("db status with a read URL: %v", st)
	}

	var (
		mu       sync.Mutex
		acked    []string // order_uuid of every placement that exited 0
		codes    = map[int]int{}
		promoted atomic.Bool
		afterAck atomic.Int64 // acknowledged after the promotion
		stop     = make(chan struct{})
		wg       sync.WaitGroup
	)
	env := append(os.Environ(), "RABBITPAY_TEST_RUN_MAIN=1", "RABBITPAY_DATABASE_URL="+url, "RABBITPAY_SAGA_LEASE=2s",
		"RABBITPAY_PAYMENT_TIMEOUT=5s", "RABBITPAY_CONNECT_TIMEOUT=2s")
	for lane := range lanes {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				cmd := exec.Command(os.Args[0], "order", "place", "--customer", "1", "--method", []string{"KAKAO", "NAVER"}[i%2],
					"--item", fmt.Sprintf("P-%d:%d", (lane+i)%products, 1+i%3), "-o", "json")
				cmd.Env = env
				var out, errb bytes.Buffer
				cmd.Stdout, cmd.Stderr = &out, &errb
				cmd.Run()
				code := cmd.ProcessState.ExitCode()
				mu.Lock()
				codes[code]++
				mu.Unlock()
				switch code {
				case ExitOK:
					var o struct {
						OrderUUID string `json:"order_uuid"`
					}
					if err := json.Unmarshal(out.Bytes(), &o); err != nil || o.OrderUUID == "" {
						t.Errorf("order place exited 0 without an order: %v %q", err, out.String())
						continue
					}
					mu.Lock()
					acked = append(acked, o.OrderUUID)
					mu.Unlock()
					if promoted.Load() {
						afterAck.Add(1)
					}
				case ExitFailure, ExitIncomplete: // the primary is down, or the crash cut the saga: recover finishes it
				default:
					t.Errorf("order place: exit %d: %s", code, errb.String())
				}
			}
		})
	}
	waitUntil := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(60 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				close(stop)
				wg.Wait()
				t.Fatalf("%s: not within 60 s (exit codes %v)", what, codes)
			}
		}
	}
	waitUntil("placements before the crash", func() bool { mu.Lock(); defer mu.Unlock(); return len(acked) >= 12 })
	pair.Primary.Crash(t)

	// Between the crash and the promotion: one sentence naming both servers;
	// reads answer from the read URL (no warning), writes still fail so.
	sentence := fmt.Sprintf("cannot connect to a writable server: 127.0.0.1:%d refused the connection; 127.0.0.1:%d is a read-only standby",
		pair.Primary.Port, pair.Standby.Port)
	c.fails(ExitFailure, sentence, "product", "list")
	if r := c.run("--database-read-url", readURL, "product", "list", "-o", "csv"); r.code != 0 || r.err != "" || strings.Count(r.out, "P-") != products {
		t.Errorf("product list from the read URL with the primary down: exit %d, stdout %q, stderr %q", r.code, r.out, r.err)
	}
	c.fails(ExitFailure, sentence, "--database-read-url", readURL, "order", "place", "--customer", "1", "--method", "KAKAO", "--item", "P-0:1")
	if r := c.run("--database-read-url", readURL, "db", "status", "-o", "json"); r.code != 0 || !strings.Contains(r.out, `"running": false`) ||
		!strings.Contains(r.err, "the primary cannot be used: "+sentence) {
		t.Errorf("db status with the primary down: exit %d, stdout %q, stderr %q", r.code, r.out, r.err)
	}

	pair.Standby.Promote(t)
	promoted.Store(true)
	waitUntil("placements after the promotion", func() bool { return afterAck.Load() >= 8 })
	close(stop)
	wg.Wait()
	t.Logf("exit codes %v; %d acknowledged, %d after the promotion", codes, len(acked), afterAck.Load())

	if r := c.run("saga", "recover", "--wait", "1m"); r.code != 0 {
		t.Fatalf("saga recover: exit %d\n%s%s", r.code, r.out, r.err)
	}
	if got := c.query(fmt.Sprintf(`SELECT count(*)::text FROM unnest('{%s}'::uuid[]) a(u) WHERE NOT EXISTS (SELECT FROM orders o
		JOIN payment p ON p.order_id = o.id AND p.status = 'SUCCESS' WHERE o.order_uuid = a.u AND o.status = 'paid')`, strings.Join(acked, ","))); got != "0" {
		t.Errorf("%s acknowledged orders are not paid on the new primary", got)
	}
	if got := c.query(fmt.Sprintf(`SELECT count(*)::text FROM product p WHERE p.stock_quantity + coalesce((SELECT sum(op.quantity)
		FROM order_product op JOIN orders o ON o.id = op.order_id AND o.status = 'paid' WHERE op.product_id = p.id), 0) <> %d`, stock)); got != "0" {
		t.Errorf("stock not conserved for %s products", got)
	}
	if got := c.query(`SELECT count(*)::text FROM sandbox_payment l WHERE l.status = 'SUCCESS' AND NOT EXISTS (SELECT FROM orders o
		JOIN payment p ON p.order_id = o.id AND p.status = 'SUCCESS' WHERE o.order_uuid = l.order_uuid AND o.status = 'paid')`); got != "0" {
		t.Errorf("%s charges have neither a paid order nor a refund", got)
	}
	if got := c.query(`SELECT count(*)::text FROM payment WHERE status = 'PROGRESS'`); got != "0" {
		t.Errorf("%s payments still PROGRESS", got)
	}
	if got := c.query(`SELECT count(*)::text FROM saga WHERE state IN ('running', 'compensating', 'cancelling')`); got != "0" {
		t.Errorf("%s sagas unfinished", got)
	}
	if got := c.query(`SELECT count(*)::text FROM (SELECT FROM notification
		GROUP BY kind, coalesce(order_id::text, payload->>'order_uuid', payload::text) HAVING count(*) > 1) d`); got != "0" {
		t.Errorf("%s notifications queued twice", got)
	}
}
