package cmd

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// seed registers customer 1 (with a default address) and products A (stock 10, ₩1,000) and B (stock 5, ₩2,500).
func (c *cli) seed() {
	c.ok("customer", "register", "--name", "김토끼", "--zip", "04524", "--line1", "서울 중구 세종대로 110") // orders ship there
	c.ok("product", "register", "--sku", "A", "--name", "토끼 인형", "--price", "1000", "--stock", "10")
	c.ok("product", "register", "--sku", "B", "--name", "당근", "--price", "2500", "--stock", "5")
}

func (c *cli) query(sql string) string {
	c.t.Helper()
	conn, err := pgx.Connect(context.Background(), c.url)
	if err != nil {
		c.t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var out string
	if err := conn.QueryRow(context.Background(), sql).Scan(&out); err != nil {
		c.t.Fatalf("%s: %v", sql, err)
	}
	return out
}

func (c *cli) exec(sql string) {
	c.t.Helper()
	conn, err := pgx.Connect(context.Background(), c.url)
	if err != nil {
		c.t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(context.Background(), sql); err != nil {
		c.t.Fatalf("%s: %v", sql, err)
	}
}

// snapshot captures everything an order attempt could change.
func (c *cli) snapshot() string {
	return c.query(`SELECT concat_ws('|',
		(SELECT string_agg(sku || '=' || stock_quantity, ',' ORDER BY id) FROM product),
		(SELECT count(*) FROM orders), (SELECT count(*) FROM payment), (SELECT count(*) FROM saga),
		(SELECT count(*) FROM cart_item), (SELECT count(*) FROM notification), (SELECT count(*) FROM sandbox_payment))`)
}

func TestOrderPlacePrintsStepsAndJSON(t *testing.T) {
	c := newCLI(t)
	c.seed()
	c.ok("cart", "add", "--customer", "1", "--product", "A", "--qty", "2")
	out := c.ok("cart", "add", "--customer", "1", "--product", "B")
	if !strings.Contains(out, "당근") || !strings.Contains(out, "4500") {
		t.Fatalf("cart table lacks the item or total:\n%s", out)
	}
	out = c.ok("order", "place", "--customer", "1", "--method", "kakao")
	for _, want := range []string{"✓ reduce_stock", "✓ payment", "✓ create_order", "✓ notify", "order 1 placed: ₩4,500 paid with KAKAO"} {
		if !strings.Contains(out, want) {
			t.Fatalf("place output lacks %q:\n%s", want, out)
		}
	}
	var cart struct {
		Items []any `json:"items"`
	}
	c.json(&cart, "cart", "show", "--customer", "1")
	if len(cart.Items) != 0 {
		t.Fatalf("cart not emptied: %+v", cart)
	}

	// A decline: steps go to stderr, stdout is one JSON document, exit 1.
	c.ok("product", "update", "B", "--price", "600000")
	r := c.run("order", "place", "--customer", "1", "--method", "NAVER", "--item", "B:2", "-o", "json")
	var res struct {
		Status      string `json:"status"`
		FailedStep  string `json:"failed_step"`
		Compensated bool   `json:"compensated"`
	}
	if r.code != 1 || json.Unmarshal([]byte(r.out), &res) != nil || res.Status != "failed" || res.FailedStep != "payment" || !res.Compensated {
		t.Fatalf("declined order: exit %d, stdout %s, stderr %s", r.code, r.out, r.err)
	}
	if !strings.Contains(r.err, "✗ payment") || !strings.Contains(r.err, "↩ restore_stock") {
		t.Fatalf("stderr lacks the steps: %s", r.err)
	}
	var order struct {
		Items []struct {
			OrderPrice int64 `json:"order_price"`
		} `json:"items"`
		Payment struct{ Status string } `json:"payment"`
		Saga    []struct{ Name string } `json:"saga"`
	}
	c.json(&order, "order", "show", "1")
	if len(order.Items) != 2 || order.Items[1].OrderPrice != 2500 || order.Payment.Status != "SUCCESS" || len(order.Saga) != 4 {
		t.Fatalf("order show: %+v", order)
	}
	var paid, cancelled []struct{ ID int64 }
	c.json(&paid, "order", "list", "--customer", "1", "--status", "paid")
	c.json(&cancelled, "order", "list", "--status", "cancelled")
	if len(paid) != 1 || paid[0].ID != 1 || len(cancelled) != 0 {
		t.Fatalf("order list --status: paid %+v, cancelled %+v", paid, cancelled)
	}
}

func TestIdempotentReplayFromTheCLI(t *testing.T) {
	c := newCLI(t)
	c.seed()
	args := []string{"order", "place", "--customer", "1", "--method", "KAKAO", "--item", "A:2", "--idempotency-key", "web-1"}
	c.ok(args...)
	out := c.ok(args...)
	if !strings.Contains(out, "order 1 was already placed with this idempotency key: nothing was charged again") {
		t.Fatalf("replay output:\n%s", out)
	}
	var res struct {
		Replayed bool               `json:"replayed"`
		Order    struct{ ID int64 } `json:"order"`
	}
	c.json(&res, args...)
	if !res.Replayed || res.Order.ID != 1 || c.query(`SELECT count(*)::text FROM sandbox_payment`) != "1" ||
		c.query(`SELECT stock_quantity::text FROM product WHERE sku = 'A'`) != "8" {
		t.Fatalf("replay charged or reserved again: %+v", res)
	}
	c.fails(2, `idempotency key "web-1" was already used for a different order request`,
		"order", "place", "--customer", "1", "--method", "KAKAO", "--item", "A:3", "--idempotency-key", "web-1")
}

func TestCompensationIncompleteExitsThree(t *testing.T) {
	c := newCLI(t)
	c.seed()
	_, serr, code := rabbitpayProcess([]string{"RABBITPAY_DATABASE_URL=" + c.url, "RABBITPAY_FAILPOINTS=create_order=error;refund=error"},
		"order", "place", "--customer", "1", "--method", "KAKAO", "--item", "A:1")
	if code != 3 {
		t.Fatalf("exit %d, want 3: %s", code, serr)
	}
	out := c.ok("saga", "recover")
	if !strings.Contains(out, "compensated") || c.query(`SELECT status FROM payment`) != "CANCELLED" {
		t.Fatalf("recover did not finish the refund:\n%s", out)
	}
}

func TestOrderBadInputChangesNothing(t *testing.T) {
	c := newCLI(t)
	c.seed()
	before := c.snapshot()
	c.fails(2, "no customer has id 9", "order", "place", "--customer", "9", "--method", "KAKAO", "--item", "A:1")
	c.fails(2, `no product has id or SKU "ZZZ"`, "order", "place", "--customer", "1", "--method", "KAKAO", "--item", "ZZZ:1")
	c.fails(2, `item "A:0": quantity 0 must be at least 1`, "order", "place", "--customer", "1", "--method", "KAKAO", "--item", "A:0")
	c.fails(2, `item "A:-2"`, "order", "place", "--customer", "1", "--method", "KAKAO", "--item", "A:-2")
	c.fails(2, `item "A" is not SKU:QTY`, "order", "place", "--customer", "1", "--method", "KAKAO", "--item", "A")
	c.fails(2, "cart is empty", "order", "place", "--customer", "1", "--method", "KAKAO")
	c.fails(2, `payment method "PAYPAL" is not one of NAVER, KAKAO`, "order", "place", "--customer", "1", "--method", "PAYPAL", "--item", "A:1")
	c.fails(2, "--method is required", "order", "place", "--customer", "1")
	c.fails(2, "quantity 0 must be at least 1", "cart", "add", "--customer", "1", "--product", "A", "--qty", "0")
	c.fails(2, "no customer has id 9", "cart", "add", "--customer", "9", "--product", "A")
	c.fails(2, `no product has id or SKU "Q"`, "cart", "add", "--customer", "1", "--product", "Q")
	c.fails(2, "no order has id 5", "order", "cancel", "5")
	c.fails(2, `order status "lost"`, "order", "list", "--status", "lost")
	c.fails(2, `"nope" is neither an order UUID`, "saga", "show", "nope")
	c.fails(2, `no saga has order UUID "6f1c2e7a-3b9d-4c51-9f0e-2a7d1c8b4e55"`, "saga", "show", "6f1c2e7a-3b9d-4c51-9f0e-2a7d1c8b4e55")
	if after := c.snapshot(); after != before {
		t.Fatalf("bad input changed the database:\n%s\n%s", before, after)
	}
}

// A process killed at any point of the saga leaves a state `saga recover` finishes:
// stock is conserved, every charge has a paid order or was refunded, nothing is unfinished.
func TestCrashAnywhereThenRecover(t *testing.T) {
	points := []struct {
		point   string
		forward bool // recovery creates the order
	}{
		{"before_reduce_stock", false}, {"after_reduce_stock", false},
		{"before_payment", false}, {"after_payment", true},
		{"before_create_order", true}, {"after_create_order", true},
	}
	for _, p := range points {
		t.Run(p.point, func(t *testing.T) {
			c := newCLI(t)
			c.seed()
			_, serr, code := rabbitpayProcess([]string{"RABBITPAY_DATABASE_URL=" + c.url, "RABBITPAY_FAILPOINTS=" + p.point + "=crash",
				"RABBITPAY_SAGA_LEASE=1s"},
				"order", "place", "--customer", "1", "--method", "KAKAO", "--item", "A:3", "--item", "B:1")
			if code != -1 || !strings.Contains(serr, "killing the process") {
				t.Fatalf("child was not killed at %s: exit %d, %s", p.point, code, serr)
			}
			// The dead process's lease runs out within 1s; --wait waits for it.
			if r := c.run("saga", "recover", "--wait", "1m"); r.code != 0 {
				t.Fatalf("saga recover: exit %d\n%s%s", r.code, r.out, r.err)
			}
			if n := c.query(`SELECT count(*)::text FROM saga WHERE state IN ('running', 'compensating', 'cancelling')`); n != "0" {
				t.Fatalf("%s sagas unfinished after recover", n)
			}
			// Stock is conserved: what is missing is exactly what paid orders hold.
			conserved := c.query(`SELECT bool_and(p.stock_quantity + coalesce(o.q, 0) = CASE p.sku WHEN 'A' THEN 10 ELSE 5 END)::text
				FROM product p LEFT JOIN (SELECT op.product_id, sum(op.quantity) q FROM order_product op
				JOIN orders o ON o.id = op.order_id AND o.status = 'paid' GROUP BY 1) o ON o.product_id = p.id`)
			if conserved != "true" {
				t.Fatal("stock not conserved")
			}
			// Every charge the provider holds has a paid order; every other payment is settled.
			charged := c.query(`SELECT count(*)::text FROM sandbox_payment s WHERE s.status = 'SUCCESS'
				AND NOT EXISTS (SELECT 1 FROM orders o JOIN payment p ON p.order_id = o.id AND p.status = 'SUCCESS'
				WHERE o.order_uuid = s.order_uuid AND o.status = 'paid')`)
			if charged != "0" {
				t.Fatalf("%s charges without a paid order", charged)
			}
			if n := c.query(`SELECT count(*)::text FROM payment WHERE status = 'PROGRESS'`); n != "0" {
				t.Fatalf("%s payments still PROGRESS", n)
			}
			orders := c.query(`SELECT count(*)::text FROM orders`)
			if want := map[bool]string{true: "1", false: "0"}[p.forward]; orders != want {
				t.Fatalf("%s orders after recovering from %s, want %s", orders, p.point, want)
			}
		})
	}
}

// recover leaves alone a saga whose owner's lease is live, and takes it over
// (bumping the owner token) once the lease has expired.
func TestRecoverSkipsLiveSaga(t *testing.T) {
	c := newCLI(t)
	c.seed()
	rabbitpayProcess([]string{"RABBITPAY_DATABASE_URL=" + c.url, "RABBITPAY_FAILPOINTS=after_reduce_stock=crash"},
		"order", "place", "--customer", "1", "--method", "KAKAO", "--item", "A:3")
	c.exec(`UPDATE saga SET lease_until = now() + interval '1 hour'`) // as a live owner renewing it would
	r := c.run("saga", "recover")
	out := r.out
	if r.code != ExitIncomplete || !strings.Contains(out, "skipped: its owner's lease has not expired") || c.query(`SELECT state || ' ' || owner_token FROM saga`) != "running 1" {
		t.Fatalf("recover touched a live saga:\n%s", out)
	}
	c.exec(`UPDATE saga SET lease_until = now() - interval '1 second'`)
	c.ok("saga", "recover")
	if st, stock := c.query(`SELECT state || ' ' || owner_token FROM saga`), c.query(`SELECT stock_quantity::text FROM product WHERE sku = 'A'`); st != "compensated 2" || stock != "10" {
		t.Fatalf("after the lease expired: saga %s, stock %s", st, stock)
	}
}

// cancelOn is an output that cancels the command's context (as Ctrl-C does)
// once a line containing word has been written.
type cancelOn struct {
	bytes.Buffer
	word   string
	cancel context.CancelFunc
}

func (w *cancelOn) Write(p []byte) (int, error) {
	n, err := w.Buffer.Write(p)
	if strings.Contains(w.String(), w.word) {
		w.cancel()
	}
	return n, err
}

// Ctrl-C after the stock was reserved and before the charge: the stock is
// given back, exit 130, and stderr says what was undone.
func TestOrderPlaceInterruptedExits130(t *testing.T) {
	c := newCLI(t)
	c.seed()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := &cancelOn{word: "reduce_stock", cancel: cancel}
	var errb bytes.Buffer
	code := Run(ctx, []string{"--database-url", c.url, "order", "place", "--customer", "1", "--method", "KAKAO", "--item", "A:3"},
		IO{In: strings.NewReader(""), Out: out, Err: &errb})
	if code != 130 || !strings.Contains(out.String(), "restore_stock") || !strings.Contains(errb.String(), "interrupted before payment; everything was compensated") {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, out.String(), errb.String())
	}
	if stock := c.query(`SELECT stock_quantity::text FROM product WHERE sku = 'A'`); stock != "10" {
		t.Fatalf("stock %s after the interrupted order", stock)
	}
}
