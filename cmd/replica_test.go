package cmd

import (
	"strings"
	"testing"

	"github.com/rabbitpay/rabbitpay/internal/testdb"
)

// Reads go to the read URL and writes to the primary. Here the "replica" is
// another database that lacks the primary's rows, so where each read went
// shows: lists answer from the replica; a show that the replica cannot
// answer (it may only lag) asks the primary; placement reads its own writes.
func TestReadURLTakesReads(t *testing.T) {
	c := newCLI(t)
	replica := testdb.New(t)
	c.ok("customer", "register", "--name", "김토끼")
	c.ok("product", "register", "--sku", "R-1", "--name", "토끼", "--price", "1000", "--stock", "5")
	read := func(args ...string) result {
		t.Helper()
		r := c.run(append([]string{"--database-read-url", replica}, args...)...)
		if r.code != 0 || r.err != "" {
			t.Fatalf("rabbitpay %s with a read URL: exit %d, stderr %q", strings.Join(args, " "), r.code, r.err)
		}
		return r
	}
	if out := read("product", "show", "R-1", "-o", "json").out; !strings.Contains(out, `"sku":"R-1"`) && !strings.Contains(out, `"sku": "R-1"`) {
		t.Errorf("product show missing on the replica did not ask the primary: %q", out)
	}
	if r := c.run("--database-read-url", replica, "order", "place", "--customer", "1", "--method", "KAKAO", "--item", "R-1:2"); r.code != 0 {
		t.Fatalf("order place with a read URL: exit %d, stderr %q", r.code, r.err)
	}
	if got := c.query("SELECT stock_quantity::text FROM product WHERE sku = 'R-1'"); got != "3" {
		t.Errorf("stock on the primary after the order: %s, want 3", got)
	}
	for _, list := range [][]string{{"product", "list"}, {"customer", "list"}, {"order", "list"}, {"pay", "list"}, {"notify", "list"}, {"product", "export"}} {
		args := append(list, "-o", "csv")
		primary, replica := c.ok(args...), read(args...).out
		if strings.Count(primary, "\n") < 2 || strings.Count(replica, "\n") != 1 {
			t.Errorf("%s: the primary has %q, the read URL answered %q: want only the header", strings.Join(list, " "), primary, replica)
		}
	}
	if out := read("order", "show", "1", "-o", "json").out; !strings.Contains(out, "R-1") {
		t.Errorf("order show of an order the replica lacks: %q", out)
	}
}

// A read URL that cannot be used (refused, or a database without
// rabbitpay's schema) sends reads to the primary with one warning.
func TestReadURLFallsBackWithOneWarning(t *testing.T) {
	c := newCLI(t)
	c.ok("product", "register", "--sku", "F-1", "--name", "토끼", "--price", "1000", "--stock", "5")
	for url, why := range map[string]string{
		"postgres://shop@127.0.0.1:1/shop": "cannot connect to 127.0.0.1:1: connection refused",
		testdb.Empty(t):                    "its schema is not this rabbitpay's",
	} {
		r := c.run("--database-read-url", url, "product", "list", "-o", "csv")
		if r.code != 0 || !strings.Contains(r.out, "F-1") {
			t.Errorf("product list with an unusable read URL: exit %d, stdout %q, stderr %q", r.code, r.out, r.err)
		}
		want := "rabbitpay: warning: the read replica (database_read_url) cannot be used: " + why
		if strings.Count(r.err, "\n") != 1 || !strings.HasPrefix(r.err, want) || !strings.HasSuffix(r.err, "; reading from the primary\n") {
			t.Errorf("stderr %q, want one line starting %q", r.err, want)
		}
	}
}

// With the primary down, a show the replica cannot answer says so: only the
// primary could say that nothing has that id.
func TestReadURLNotFoundAsksThePrimary(t *testing.T) {
	c := newCLI(t)
	c.ok("product", "register", "--sku", "F-1", "--name", "토끼", "--price", "1000", "--stock", "5")
	r := c.run("--database-url", "postgres://shop@127.0.0.1:1/shop?connect_timeout=2", "--database-read-url", c.url, "order", "show", "99999999")
	if r.code != 1 || strings.HasPrefix(r.err, "rabbitpay: no order has id") || !strings.Contains(r.err, "the primary, which may have it, could not be asked") {
		t.Errorf("order show with the primary down: exit %d, stderr %q", r.code, r.err)
	}
}
