package cmd

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The delivery commands end to end, and their refusals: one line, the
// right exit code, nothing changed.
func TestDeliverCommands(t *testing.T) {
	c := newCLI(t)
	c.seed()
	c.ok("order", "place", "--customer", "1", "--method", "KAKAO", "--item", "A:2", "--item", "B:1")
	out := c.ok("deliver", "start", "--order", "1", "--item", "A", "--carrier", "CJ대한통운", "--tracking", "601234567890")
	if !strings.Contains(out, "READY") || !strings.Contains(out, "CJ대한통운") {
		t.Fatalf("deliver start:\n%s", out)
	}
	var started []struct {
		ID  int64  `json:"id"`
		SKU string `json:"sku"`
	}
	c.json(&started, "deliver", "start", "--order", "1")
	if len(started) != 1 || started[0].SKU != "B" || started[0].ID != 2 {
		t.Fatalf("deliver start of the rest: %+v", started)
	}
	c.ok("deliver", "update", "1", "--status", "shipped")
	// The sagas' owner tokens and leases too: a refused cancel takes no saga over.
	state := func() string {
		return c.snapshot() + c.query(`SELECT string_agg(id || status::text, ',' ORDER BY id) FROM delivery`) +
			c.query(`SELECT string_agg(owner_token || ':' || coalesce(lease_until::text, '-') || ':' || updated_at::text, ',' ORDER BY order_uuid) FROM saga`)
	}
	before := state()
	for _, tc := range []struct {
		code int
		want string
		args []string
	}{
		{1, "delivery 1 is already SHIPPED", []string{"deliver", "update", "1", "--status", "SHIPPED"}},
		{1, "cannot go back to READY", []string{"deliver", "update", "1", "--status", "READY"}},
		{2, `delivery status "LOST" is not one of`, []string{"deliver", "update", "1", "--status", "LOST"}},
		{2, "--status is required", []string{"deliver", "update", "1"}},
		{2, "delivery id 0 must be positive", []string{"deliver", "update", "0", "--status", "SHIPPED"}},
		{2, "is not an RFC 3339 time", []string{"deliver", "update", "2", "--status", "SHIPPED", "--at", "yesterday"}},
		{2, "delivery time 2099-01-01T00:00:00Z is in the future (check --at)", []string{"deliver", "update", "2", "--status", "SHIPPED", "--at", "2099-01-01T00:00:00Z"}},
		{2, "carrier is 101 characters long; the limit is 100 (check --carrier)", []string{"deliver", "update", "2", "--status", "SHIPPED", "--carrier", strings.Repeat("c", 101)}},
		{2, "tracking number is 101 characters long; the limit is 100 (check --tracking)", []string{"deliver", "start", "--order", "1", "--tracking", strings.Repeat("7", 101)}},
		{2, "no delivery has id 9", []string{"deliver", "update", "9", "--status", "SHIPPED"}},
		{1, "item A of order 1 already has delivery 1", []string{"deliver", "start", "--order", "1", "--item", "A"}},
		{1, "every item of order 1 already has a delivery", []string{"deliver", "start", "--order", "1"}},
		{2, "no order has id 7", []string{"deliver", "start", "--order", "7"}},
		{2, "--order is required", []string{"deliver", "start"}},
		{1, "item A has shipped (SHIPPED)", []string{"order", "cancel", "1"}},
		{2, "no delivery has id 5", []string{"deliver", "show", "5"}},
	} {
		c.fails(tc.code, tc.want, tc.args...)
	}
	if after := state(); after != before {
		t.Fatalf("refusals changed the database:\n%s\n%s", before, after)
	}
	var d struct {
		Status  string `json:"status"`
		History []struct {
			Status string `json:"status"`
		} `json:"history"`
	}
	c.json(&d, "deliver", "show", "1")
	if d.Status != "SHIPPED" || len(d.History) != 2 || d.History[1].Status != "SHIPPED" {
		t.Fatalf("deliver show: %+v", d)
	}
	if out := c.ok("order", "list"); !strings.Contains(out, "A:SHIPPED B:READY") {
		t.Fatalf("order list lacks the items' delivery states:\n%s", out)
	}
	if out := c.ok("deliver", "list", "--status", "READY", "-o", "csv"); strings.Count(out, "\n") != 2 || !strings.Contains(out, ",B,") {
		t.Fatalf("deliver list --status READY:\n%s", out)
	}

	// An import with a bad row changes nothing and names the line.
	file := filepath.Join(t.TempDir(), "today.csv")
	os.WriteFile(file, []byte("order_id,sku,status\n1,B,IN_TRANSIT\n1,A,READY\n"), 0o600)
	r := c.run("deliver", "import", file)
	if r.code != 2 || !strings.Contains(r.err, "import refused: 1 bad row") || !strings.Contains(r.err, "line 3: delivery 1 is SHIPPED and cannot go back to READY") {
		t.Fatalf("bad import: exit %d %q", r.code, r.err)
	}
	if after := c.snapshot(); !strings.HasPrefix(before, after) {
		t.Fatalf("a refused import changed the database")
	}
	c.fails(2, "the file is empty", "deliver", "import", "-", "--format", "csv")
	c.fails(2, "cannot open", "deliver", "import", filepath.Join(t.TempDir(), "none.csv"))
	if r := c.runIn("order_id,sku,status\n1,B,IN_TRANSIT\n", "deliver", "import", "-"); r.code != 0 {
		t.Fatalf("import from stdin: exit %d %s", r.code, r.err)
	}
	if got := c.query(`SELECT status::text FROM orders WHERE id = 1`); got != "shipped" {
		t.Fatalf("order 1 is %s after its last item shipped", got)
	}

	// The outbox: every change above wrote one notification; send delivers
	// each once, oldest first, as JSON lines with a stable id.
	var pending []struct {
		ID      int64  `json:"id"`
		Kind    string `json:"kind"`
		Message string `json:"message"`
	}
	c.json(&pending, "notify", "list", "--pending")
	kinds := []string{}
	for _, n := range pending {
		kinds = append(kinds, n.Kind)
	}
	if strings.Join(kinds, " ") != "order.placed payment.succeeded delivery.ready delivery.ready delivery.shipped delivery.in_transit order.shipped" {
		t.Fatalf("outbox: %v", kinds)
	}
	c.fails(2, "--pending and --dead cannot be used together", "notify", "list", "--pending", "--dead")
	c.fails(2, `notification kind "nope" is not one of`, "notify", "list", "--kind", "nope")
	c.fails(2, "needs notify.webhook.url", "notify", "send", "--sink", "webhook")
	c.fails(2, "--file PATH goes with --sink file", "notify", "send", "--sink", "file")
	c.fails(2, `sink "pigeon" is not one of`, "notify", "send", "--sink", "pigeon")
	cfg := filepath.Join(t.TempDir(), "rabbitpay.yaml")
	os.WriteFile(cfg, []byte("notify:\n  webhook:\n    url: http://127.0.0.1:9/\n    secret: hunter2-not-base64\n"), 0o600)
	r = c.run("--config", cfg, "notify", "send", "--sink", "webhook")
	if r.code != 2 || !strings.Contains(r.err, "notify.webhook.secret must start with whsec_") || strings.Contains(r.err, "hunter2") {
		t.Fatalf("a bad secret: exit %d %q", r.code, r.err)
	}
	r = c.run("notify", "send", "--limit", "3")
	if r.code != 0 || strings.Count(r.out, "\n") != 3 || r.err != "sent 3 notifications\n" {
		t.Fatalf("notify send --limit 3: exit %d\n%s%s", r.code, r.out, r.err)
	}
	var first struct {
		ID      string `json:"id"`
		Type    string `json:"type"`
		Message string `json:"message"`
	}
	if err := json.Unmarshal([]byte(strings.SplitN(r.out, "\n", 2)[0]), &first); err != nil || first.ID != "ntf_1" || first.Type != "order.placed" ||
		!strings.Contains(first.Message, "주문 #1") || !strings.Contains(first.Message, "Order #1 was placed") {
		t.Fatalf("first line: %v %+v", err, first)
	}
	out = filepath.Join(t.TempDir(), "outbox.jsonl")
	c.ok("notify", "send", "--sink", "file", "--file", out)
	if b, _ := os.ReadFile(out); strings.Count(string(b), "\n") != 4 || !strings.Contains(string(b), `"id":"ntf_7"`) {
		t.Fatalf("file sink:\n%s", b)
	}
	c.json(&pending, "notify", "list", "--pending")
	if len(pending) != 0 {
		t.Fatalf("still pending: %+v", pending)
	}
	c.fails(1, "notification 1 was sent already", "notify", "retry", "1")
	c.fails(2, "expected one notification ID, or --dead", "notify", "retry")
}
