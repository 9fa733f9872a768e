package cmd

import (
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/rabbitpay/rabbitpay/internal/payment/standin"
)

// state is everything a refused command must leave as it was: the order
// snapshot plus the sagas' ownership, refunds, deliveries and their history.
func (c *cli) state() string {
	return c.snapshot() + "|" + c.query(`SELECT concat_ws('|',
		(SELECT string_agg(order_uuid || ':' || owner_token || ':' || coalesce(lease_until::text, '-') || ':' || state, ',' ORDER BY order_uuid) FROM saga),
		(SELECT count(*) FROM order_refund), (SELECT string_agg(sku || '=' || price, ',' ORDER BY id) FROM product),
		(SELECT string_agg(id || status::text || updated_at::text, ',' ORDER BY id) FROM delivery),
		(SELECT count(*) FROM delivery_history), (SELECT count(*) FROM idempotency_key))`)
}

// refused runs a command that must be refused: exit code, one stderr line
// containing want, and the database exactly as it was.
func (c *cli) refused(code int, want string, args ...string) {
	c.t.Helper()
	before := c.state()
	c.fails(code, want, args...)
	if after := c.state(); after != before {
		c.t.Fatalf("rabbitpay %s was refused but changed the database:\nbefore %s\nafter  %s", strings.Join(args, " "), before, after)
	}
}

// Every string from a flag is checked at the boundary, once, before any
// use case (or SQL) sees it: invalid UTF-8 and over-long values are one
// sentence and exit 2, and nothing changes.
func TestBadTextRefusedAtTheBoundary(t *testing.T) {
	c := newCLI(t)
	c.seed()
	c.ok("order", "place", "--customer", "1", "--method", "KAKAO", "--item", "A:3")
	long := strings.Repeat("x", 10_000)
	for _, tc := range []struct {
		want string
		args []string
	}{
		{"--search is not valid UTF-8", []string{"product", "list", "--search", "\xff"}},
		{"--search is not valid UTF-8", []string{"customer", "list", "--search", "토\xff"}},
		{"--reason is not valid UTF-8", []string{"order", "refund", "1", "--item", "A:1", "--reason", "\xff"}},
		{"--reason contains a control character (a newline)", []string{"order", "refund", "1", "--item", "A:1", "--reason", "a\nb"}},
		{"--reason is 10000 characters long; the limit is 200", []string{"order", "refund", "1", "--item", "A:1", "--reason", long}},
		{"--idempotency-key is not valid UTF-8", []string{"order", "refund", "1", "--item", "A:1", "--idempotency-key", "\xfe"}},
		{"--idempotency-key is 10000 characters long; the limit is 255", []string{"order", "refund", "1", "--item", "A:1", "--idempotency-key", long}},
		{"--idempotency-key is not valid UTF-8", []string{"order", "place", "--customer", "1", "--method", "KAKAO", "--item", "A:1", "--idempotency-key", "\xff"}},
		{"--item contains a control character (U+001B)", []string{"order", "place", "--customer", "1", "--method", "KAKAO", "--item", "A\x1b:1"}},
		{"argument 1 is not valid UTF-8", []string{"product", "show", "\xff"}},
		{"--carrier is 5000 characters long; the limit is 4096", []string{"deliver", "start", "--order", "1", "--carrier", strings.Repeat("c", 5000)}},
	} {
		c.refused(ExitUsage, tc.want, tc.args...)
	}
}

// The environment crosses the same boundary.
func TestBadEnvironmentRefused(t *testing.T) {
	cmd := &cobra.Command{Use: "x"}
	if err := checkInput(cmd, nil, []string{"HOME=/root", "LANG=\xff", "RABBITPAY_OUTPUT=json"}); err != nil {
		t.Fatalf("good environment refused: %v", err)
	}
	err := checkInput(cmd, nil, []string{"RABBITPAY_DATABASE_URL=postgres://h/\xff"})
	if err == nil || err.Error() != "environment variable RABBITPAY_DATABASE_URL is not valid UTF-8" || exitCode(err) != ExitUsage {
		t.Fatalf("bad environment: %v", err)
	}
}

// A JSON Lines catalogue's price and stock are JSON numbers: a string is
// refused with one sentence naming the line and the field, never read as a
// number, never a raw decoder error.
func TestImportJSONNumbersOnly(t *testing.T) {
	c := newCLI(t)
	c.seed()
	for _, tc := range []struct{ line, want string }{
		{`{"sku":"A","name":"x","price":"12000","stock":1}`, `line 1, column price: price must be a JSON number such as 12000, not "12000"`},
		{`{"sku":"A","name":"x","price":"abc","stock":1}`, `line 1, column price: price must be a JSON number such as 12000, not "abc"`},
		{`{"sku":"A","name":"x","price":1,"stock":true}`, `line 1, column stock: stock must be a JSON number such as 12000, not true`},
	} {
		before := c.state()
		r := c.runIn(tc.line+"\n", "product", "import", "-", "--format", "jsonl")
		if r.code != ExitUsage || !strings.Contains(r.err, tc.want) || strings.Contains(r.err, "json:") {
			t.Errorf("%s: exit %d, stderr %q, want %q", tc.line, r.code, r.err, tc.want)
		}
		if c.state() != before {
			t.Errorf("%s: refused but changed the database", tc.line)
		}
	}
	if s := c.importJSON(`{"sku":"N","name":"x","price":12000,"stock":1,"retired":null}`+"\n", "-", "--format", "jsonl"); s.Inserted != 1 {
		t.Fatalf("a number: %+v", s)
	}
}

// Flags that cannot mean anything together, or at all, are refused, not
// read as an empty answer.
func TestMeaninglessFlagsRefused(t *testing.T) {
	c := newCLI(t)
	c.seed()
	c.refused(ExitUsage, "--since 2026-12-02 is not before --until 2026-12-01: no order can match",
		"order", "list", "--since", "2026-12-02", "--until", "2026-12-01")
	c.refused(ExitUsage, "--since 2026-12-01 is not before --until 2026-12-01",
		"order", "list", "--since", "2026-12-01", "--until", "2026-12-01")
	c.ok("order", "list", "--since", "2026-12-01", "--until", "2026-12-02")
	c.refused(ExitUsage, "--wait -1s must not be negative", "saga", "recover", "--wait", "-1s")
	c.refused(ExitUsage, `unknown command "tcsh" for "rabbitpay completion"`, "completion", "tcsh")
	if out := c.ok("completion", "bash"); !strings.Contains(out, "bash completion") {
		t.Errorf("completion bash:\n%.200s", out)
	}
	// The sandbox never asks for the buyer's approval: a token is refused, not ignored.
	c.refused(ExitUsage, "an approval token is only for live payments: payment.provider is sandbox, whose payments need no buyer approval (check --approval-token)",
		"order", "place", "--customer", "1", "--method", "NAVER", "--item", "A:1", "--approval-token", "tok")
	c.refused(ExitUsage, "an approval token is only for live payments",
		"order", "place", "--customer", "1", "--method", "NAVER", "--item", "A:1", "--approval-token", "-")
}

// The decisions: the CLI's cart refuses a line above the stock, as the
// checkout does, and an order whose total is ₩0 is refused before anything
// changes (no provider takes a ₩0 payment).
func TestCartAboveStockAndFreeOrdersRefused(t *testing.T) {
	c := newCLI(t)
	c.seed()
	c.exec(`UPDATE product SET stock_quantity = 99 WHERE sku = 'A'`)
	c.refused(ExitFailure, "only 99 of A (토끼 인형) in stock", "cart", "add", "--customer", "1", "--product", "A", "--qty", "100000")
	c.ok("cart", "add", "--customer", "1", "--product", "A", "--qty", "90")
	c.refused(ExitFailure, "only 99 of A (토끼 인형) in stock, and the cart holds 90 already", "cart", "add", "--customer", "1", "--product", "A", "--qty", "10")
	c.ok("cart", "add", "--customer", "1", "--product", "A", "--qty", "9")
	c.ok("cart", "clear", "--customer", "1")

	c.ok("product", "register", "--sku", "FREE", "--name", "스티커", "--price", "0", "--stock", "10")
	want := "the order's total is ₩0: a payment provider takes no ₩0 payment; add a product with a price"
	c.refused(ExitUsage, want, "order", "place", "--customer", "1", "--method", "NAVER", "--item", "FREE:2")
	c.ok("cart", "add", "--customer", "1", "--product", "FREE")
	c.refused(ExitUsage, want, "order", "place", "--customer", "1", "--method", "KAKAO")
	// A free product goes out with a paid one.
	if out := c.ok("order", "place", "--customer", "1", "--method", "NAVER", "--item", "FREE:1", "--item", "B:1"); !strings.Contains(out, "₩2,500 paid with NAVER") {
		t.Fatalf("free with paid:\n%s", out)
	}
}

// A refused refund changes nothing: not the saga's owner token, not its
// lease, no refund row.
func TestRefusedRefundChangesNothing(t *testing.T) {
	c := newCLI(t)
	c.seed()
	c.ok("order", "place", "--customer", "1", "--method", "KAKAO", "--item", "A:3", "--item", "B:1")
	c.refused(ExitUsage, "order 1 has 3 of A left to refund (bought 3, refunded 0), not 5", "order", "refund", "1", "--item", "A:5")
	c.refused(ExitUsage, "order 1 has 3 of A left to refund", "order", "refund", "1", "--item", "A:2", "--item", "A:2", "--idempotency-key", "k-1")
	c.ok("deliver", "start", "--order", "1")
	c.ok("deliver", "update", c.query(`SELECT d.id::text FROM delivery d JOIN order_product op ON op.id = d.order_product_id JOIN product p ON p.id = op.product_id WHERE p.sku = 'B'`), "--status", "SHIPPED")
	c.refused(ExitFailure, "item B of order 1 has shipped (SHIPPED) and cannot be refunded", "order", "refund", "1", "--item", "B:1")
	// A refund allowed still runs, and its key replays.
	c.ok("order", "refund", "1", "--item", "A:1", "--idempotency-key", "k-2")
	if out := c.ok("order", "refund", "1", "--item", "A:1", "--idempotency-key", "k-2"); !strings.Contains(out, "already made with this key") {
		t.Fatalf("replay:\n%s", out)
	}
}

// A delivery's history reads forward in time: a change dated before the
// delivery's last change, or in the future, is refused, from the command
// line and from a file alike.
func TestDeliveryTimesReadForward(t *testing.T) {
	c := newCLI(t)
	c.seed()
	c.ok("order", "place", "--customer", "1", "--method", "KAKAO", "--item", "A:1")
	c.ok("deliver", "start", "--order", "1")
	c.ok("deliver", "update", "1", "--status", "SHIPPED")
	c.refused(ExitUsage, "delivery time 2020-01-01T00:00:00Z is before delivery 1's last change (", "deliver", "update", "1", "--status", "DELIVERED", "--at", "2020-01-01T00:00:00Z")
	before := c.state()
	r := c.runIn("delivery_id,status,at\n1,DELIVERED,2999-01-01T00:00:00Z\n", "deliver", "import", "-", "--format", "csv")
	if r.code != ExitUsage || !strings.Contains(r.err, "line 2: delivery time 2999-01-01T00:00:00Z is in the future") || c.state() != before {
		t.Fatalf("future time in a file: exit %d, stderr %q", r.code, r.err)
	}
	r = c.runIn("delivery_id,status,at\n1,IN_TRANSIT,2020-01-01T00:00:00Z\n", "deliver", "import", "-", "--format", "csv")
	if r.code != ExitUsage || !strings.Contains(r.err, "line 2: delivery time 2020-01-01T00:00:00Z is before delivery 1's last change") || c.state() != before {
		t.Fatalf("past time in a file: exit %d, stderr %q", r.code, r.err)
	}
	c.ok("deliver", "update", "1", "--status", "DELIVERED")
}

// A live approval read from stdin crosses the boundary too: a line that is
// not text is said in one sentence, never reaches SQL or the provider, and
// the next line is read as after a wrong paste; with none, the payment step
// fails (compensated).
func TestApprovalFromStdinChecked(t *testing.T) {
	c := newCLI(t)
	c.seed()
	k := standin.NewKakao(t)
	cfg, _ := liveConfig(t, "", k)
	code, out, errb := placeApprovedOnStdin(t, c, cfg, "tok\xff\n")
	if code != 0 || !strings.Contains(errb, "the approval token is not valid UTF-8") {
		t.Fatalf("a non-text line, then the redirect: exit %d\n%s\n%s", code, out, errb)
	}
	if probs := k.Problems(); len(probs) > 0 {
		t.Fatalf("requests Kakao would refuse: %v", probs)
	}
	if got := c.query(`SELECT string_agg(status::text || ' ' || amount, ',') FROM payment`); got != "SUCCESS 1000" {
		t.Fatalf("payments after the redirect: %s", got)
	}
	r := c.runIn("tok\xff\n", "--config", cfg, "order", "place", "--customer", "1", "--method", "KAKAO", "--item", "A:1", "--approval-token", "-")
	if r.code != ExitFailure || !strings.Contains(r.err, "the approval token is not valid UTF-8") || strings.Contains(r.out+r.err, "SQLSTATE") {
		t.Fatalf("a non-text line, then nothing: exit %d\n%s\n%s", r.code, r.out, r.err)
	}
	if got := c.query(`SELECT concat_ws(',', (SELECT string_agg(stock_quantity::text, ',' ORDER BY id) FROM product), (SELECT count(*) FROM orders))`); got != "9,5,1" {
		t.Fatalf("stock and orders after the refusal: %s", got)
	}
}
