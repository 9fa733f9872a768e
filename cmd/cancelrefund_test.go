package cmd

import (
	"context"
	"strings"
	"testing"

	"github.com/rabbitpay/rabbitpay/internal/testdb"
)

// A cancel after partial refunds says and records what it really refunded
// and returned: the rest, not the order's total (issue 27).
func TestCancelAfterPartialRefundsStatesTheRest(t *testing.T) {
	c := newCLI(t)
	c.ok("product", "register", "--sku", "A-1", "--name", "Apple", "--price", "8000", "--stock", "10")
	c.ok("product", "register", "--sku", "B-2", "--name", "Pear", "--price", "6000", "--stock", "10")
	c.ok("customer", "register", "--name", "Kim")
	c.ok("order", "place", "--customer", "1", "--item", "A-1:3", "--item", "B-2:2", "--method", "KAKAO") // ₩36,000
	c.ok("order", "refund", "1", "--item", "A-1:1")                                                      // ₩8,000
	c.ok("order", "refund", "1", "--item", "B-2:1")                                                      // ₩6,000
	out := c.ok("order", "cancel", "1")
	if !strings.Contains(out, "order 1 cancelled: ₩22,000 refunded") {
		t.Errorf("order cancel said:\n%s", out)
	}
	var res struct {
		Refunded int64 `json:"refunded"`
	}
	c.json(&res, "order", "cancel", "1")
	if res.Refunded != 0 { // already cancelled: nothing refunded now
		t.Errorf("a second cancel says %d refunded", res.Refunded)
	}
	trail := c.ok("saga", "show", "1")
	for _, want := range []string{"refunded ₩22,000, the rest after ₩14,000 refunded before", "returned A-1×2, B-2×1"} {
		if !strings.Contains(trail, want) {
			t.Errorf("saga show lacks %q:\n%s", want, trail)
		}
	}
	if strings.Contains(trail, "refunded ₩36,000") || strings.Contains(trail, "returned A-1×3") {
		t.Errorf("saga show still states the whole order:\n%s", trail)
	}
	var pays []struct {
		Amount   int64 `json:"amount"`
		Refunded int64 `json:"refunded_amount"`
	}
	c.json(&pays, "pay", "list")
	if len(pays) != 1 || pays[0].Refunded != 36000 {
		t.Errorf("payments after the cancel: %+v", pays)
	}
	var ps []stockRow
	c.json(&ps, "product", "list")
	for _, p := range ps {
		if p.Stock != 10 {
			t.Errorf("%s stock %d after refunds and cancel, want 10", p.SKU, p.Stock)
		}
	}
}

// A SKU spelt like a product id (#2) is refused at every entry, so
// `product update "#2"` can only ever mean product id 2 (issue 27).
func TestHashSKURefusedEverywhere(t *testing.T) {
	c := newCLI(t)
	c.ok("product", "register", "--sku", "P-1", "--name", "One", "--price", "1000", "--stock", "5")
	c.fails(ExitUsage, "starts with #", "product", "register", "--sku", "#2", "--name", "Two", "--price", "1000", "--stock", "5")
	for _, in := range []string{"sku,name,price,stock\n#9,Nine,100,1\nP-3,Three,100,1\n", `{"sku":"#9","name":"Nine","price":100,"stock":1}` + "\n"} {
		format := "csv"
		if strings.HasPrefix(in, "{") {
			format = "jsonl"
		}
		if r := c.runIn(in, "product", "import", "-", "--format", format); r.code != ExitUsage || !strings.Contains(r.err, "starts with #") {
			t.Errorf("import %s of a #SKU: exit %d, stderr %q", format, r.code, r.err)
		}
	}
	var ps []stockRow
	c.json(&ps, "product", "list")
	if len(ps) != 1 || ps[0].SKU != "P-1" || ps[0].Stock != 5 {
		t.Fatalf("after the refusals: %+v", ps)
	}
}

// cart add over the amount maximum is refused before the line is written:
// the cart still shows and orders (issue 27).
func TestCartAddOverAmountMaximumWritesNothing(t *testing.T) {
	c := newCLI(t)
	c.ok("product", "register", "--sku", "BIG", "--name", "Big", "--price", "200000000", "--stock", "10000")
	c.ok("customer", "register", "--name", "Yoon")
	c.ok("cart", "add", "--customer", "1", "--product", "BIG", "--qty", "2")
	c.fails(ExitUsage, "more than the maximum amount", "cart", "add", "--customer", "1", "--product", "BIG", "--qty", "5000")
	var cart struct {
		Items []struct {
			Quantity int64 `json:"quantity"`
		} `json:"items"`
	}
	c.json(&cart, "cart", "show", "--customer", "1")
	if len(cart.Items) != 1 || cart.Items[0].Quantity != 2 {
		t.Fatalf("cart after the refused add: %+v", cart)
	}
}

// An empty or blank --idempotency-key (a script's unset variable) is
// refused, not taken as no key (issue 27).
func TestBlankIdempotencyKeyRefused(t *testing.T) {
	c := newCLI(t)
	c.ok("product", "register", "--sku", "I-1", "--name", "Idem", "--price", "1000", "--stock", "5")
	c.ok("customer", "register", "--name", "Bae")
	for _, key := range []string{"", "  "} {
		c.fails(ExitUsage, "idempotency key is empty or blank", "order", "place", "--customer", "1", "--item", "I-1:1", "--method", "KAKAO", "--idempotency-key", key)
	}
	c.ok("order", "place", "--customer", "1", "--item", "I-1:2", "--method", "KAKAO", "--idempotency-key", "k-1")
	c.fails(ExitUsage, "idempotency key is empty or blank", "order", "refund", "1", "--item", "I-1:1", "--idempotency-key", " ")
	var ps []stockRow
	c.json(&ps, "product", "list")
	if len(ps) != 1 || ps[0].Stock != 3 {
		t.Fatalf("stock after refused placements and refund: %+v", ps)
	}
}

// What the shop's rules refuse (out of stock, a retired product) is refused
// before a saga exists: one sentence, exit 1, no saga row, nothing said to
// be "compensated" where nothing happened (issue 27).
func TestRefusedPlacementLeavesNoSaga(t *testing.T) {
	c := newCLI(t)
	c.ok("product", "register", "--sku", "O-1", "--name", "Out", "--price", "1000", "--stock", "0")
	c.ok("product", "register", "--sku", "O-2", "--name", "Few", "--price", "1000", "--stock", "2")
	c.ok("product", "register", "--sku", "O-3", "--name", "Old", "--price", "1000", "--stock", "9")
	c.ok("product", "retire", "O-3")
	c.ok("customer", "register", "--name", "Ko")
	c.fails(ExitFailure, "O-1 (Out) is out of stock", "order", "place", "--customer", "1", "--item", "O-1:1", "--method", "KAKAO")
	c.fails(ExitFailure, "only 2 of O-2 (Few) in stock, 3 wanted", "order", "place", "--customer", "1", "--item", "O-2:3", "--method", "KAKAO")
	c.fails(ExitFailure, "product O-3 is retired", "order", "place", "--customer", "1", "--item", "O-3:1", "--method", "KAKAO")
	r := c.run("order", "place", "--customer", "1", "--item", "O-1:1", "--method", "KAKAO")
	if strings.Contains(r.err+r.out, "compensated") || strings.Contains(r.err+r.out, "saga") {
		t.Errorf("a refused placement speaks of a saga: %q %q", r.out, r.err)
	}
	var sagas []any
	c.json(&sagas, "saga", "list")
	if len(sagas) != 0 {
		t.Fatalf("refused placements left sagas: %v", sagas)
	}
}

// product export with -o json writes JSON Lines (not CSV); a directory as
// FILE is bad input in one sentence (issue 27).
func TestProductExportFormatAndDirectory(t *testing.T) {
	c := newCLI(t)
	c.ok("product", "register", "--sku", "E-1", "--name", "Export", "--price", "1000", "--stock", "5")
	out := c.ok("product", "export", "-o", "json")
	if !strings.HasPrefix(out, `{"sku" : "E-1"`) {
		t.Errorf("product export -o json wrote:\n%s", out)
	}
	if out := c.ok("product", "export"); !strings.HasPrefix(out, "sku,name,price,stock") {
		t.Errorf("product export wrote:\n%s", out)
	}
	c.fails(ExitUsage, "is a directory", "product", "export", t.TempDir())
	c.fails(ExitUsage, `catalogue format "xml"`, "product", "export", "--format", "xml")
}

// Exit codes of the odd corners (issue 27): no shell for completion, help
// on no command and a mysql:// URL are bad input (2); db status against a
// server nothing answers for is a failure (1) with the reason; db migrate on
// a fresh database says it migrated.
func TestOddCornersExitCodes(t *testing.T) {
	t.Parallel()
	run := func(args ...string) result {
		var out, errb strings.Builder
		code := Run(context.Background(), args, IO{In: strings.NewReader(""), Out: &out, Err: &errb})
		return result{out.String(), errb.String(), code}
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"completion"}, ExitUsage, "completion needs a shell"},
		{[]string{"help", "frobnicate"}, ExitUsage, `no help for "frobnicate"`},
		{[]string{"--database-url", "mysql://u@h/db", "db", "url"}, ExitUsage, "mysql:// URL"},
		{[]string{"--database-url", "postgres://u@127.0.0.1:1/x?connect_timeout=2", "db", "status"}, ExitFailure, "connection refused"},
		{[]string{"checkout", "--serve", "localhost"}, ExitUsage, "is not host:port"},
		{[]string{"checkout", "--serve", ":99999"}, ExitUsage, "from 0 to 65535"},
		{[]string{"checkout", "--serve", "--help"}, ExitUsage, `not "--help"`},
	} {
		r := run(tc.args...)
		if r.code != tc.code || !strings.Contains(r.err, tc.want) || strings.Count(strings.TrimSpace(r.err), "\n") != 0 {
			t.Errorf("rabbitpay %s: exit %d, stderr %q", strings.Join(tc.args, " "), r.code, r.err)
		}
	}
	if r := run("help", "order", "place"); r.code != 0 || !strings.Contains(r.out, "order saga") {
		t.Errorf("help order place: exit %d %q", r.code, r.out)
	}
	url := testdb.Direct(t, testdb.Empty(t)) // migrations go straight to the server, never through a pooler
	if r := run("--database-url", url, "db", "migrate"); r.code != 0 || !strings.Contains(r.out, "schema migrated from version 0 to") {
		t.Errorf("db migrate on a fresh database: exit %d %q %q", r.code, r.out, r.err)
	}
	if r := run("--database-url", url, "db", "migrate"); r.code != 0 || !strings.Contains(r.out, "schema already at version") {
		t.Errorf("db migrate again: exit %d %q %q", r.code, r.out, r.err)
	}
}

// Retiring a retired product or restoring a live one changes nothing, not
// even updated_at (issue 27).
func TestRetireTwiceWritesNothing(t *testing.T) {
	c := newCLI(t)
	c.ok("product", "register", "--sku", "T-1", "--name", "Twice", "--price", "1000", "--stock", "5")
	stamp := func() string {
		return c.query(`SELECT updated_at::text || coalesce(retired_at::text, '-') FROM product`)
	}
	live := stamp()
	c.ok("product", "restore", "T-1")
	if s := stamp(); s != live {
		t.Errorf("restoring a live product changed it: %s → %s", live, s)
	}
	c.ok("product", "retire", "T-1")
	retired := stamp()
	c.ok("product", "retire", "T-1")
	if s := stamp(); s != retired {
		t.Errorf("retiring a retired product changed it: %s → %s", retired, s)
	}
}

// JSON Lines imports refuse what they used to change silently: bytes that
// are not UTF-8 and a key given twice; a wrong type is said in the file's
// words (issue 27).
func TestJSONLinesImportRefusesWhatItWouldChange(t *testing.T) {
	c := newCLI(t)
	for in, want := range map[string]string{
		`{"sku":"Z-1","name":"bad ` + "\xff" + `","price":1,"stock":1}`: "not valid UTF-8",
		`{"sku":"Z-1","sku":"Z-2","name":"twice","price":1,"stock":1}`:  `key "sku" appears twice`,
		`{"sku":12,"name":"num","price":1,"stock":1}`:                   "sku must be a JSON string, not a number",
		`{"sku":"Z-1","name":"half \ud800 pair","price":1,"stock":1}`:   "half of a surrogate pair",
	} {
		r := c.runIn(in+"\n", "product", "import", "-", "--format", "jsonl")
		if r.code != ExitUsage || !strings.Contains(r.err, want) || strings.Contains(r.err, "jsonRow") {
			t.Errorf("import %q: exit %d, stderr %q", in, r.code, r.err)
		}
	}
	var ps []stockRow
	c.json(&ps, "product", "list")
	if len(ps) != 0 {
		t.Fatalf("refused imports stored %+v", ps)
	}
	c.ok("product", "register", "--sku", "D-1", "--name", "Ship", "--price", "1000", "--stock", "5")
	c.ok("customer", "register", "--name", "Gu")
	c.ok("order", "place", "--customer", "1", "--item", "D-1:1", "--method", "KAKAO", "--pickup")
	c.ok("deliver", "start", "--order", "1")
	r := c.runIn(`{"delivery":1,"carrier":"CJ`+"\xff"+`","tracking":"1"}`+"\n", "deliver", "import", "-", "--format", "jsonl")
	if r.code != ExitUsage || !strings.Contains(r.err, "not valid UTF-8") {
		t.Errorf("deliver import with bad UTF-8: exit %d, stderr %q", r.code, r.err)
	}
}

// cart remove for a customer who does not exist says so, not that the
// product is missing from the cart (issue 27).
func TestCartRemoveNamesTheMissingCustomer(t *testing.T) {
	c := newCLI(t)
	c.ok("product", "register", "--sku", "M-1", "--name", "Mis", "--price", "1000", "--stock", "5")
	c.fails(ExitUsage, "no customer has id 999", "cart", "remove", "--customer", "999", "--product", "M-1")
}

// order show takes the order's UUID, as saga show and pay show do; table
// output is titled sections, and the list names the customer (issue 27).
func TestOrderShowByUUIDAndSections(t *testing.T) {
	c := newCLI(t)
	c.seed()
	var placed struct {
		Order struct {
			CustomerName string `json:"customer_name"`
		} `json:"order"`
	}
	c.json(&placed, "order", "place", "--customer", "1", "--method", "KAKAO", "--item", "A:2")
	if placed.Order.CustomerName != "김토끼" {
		t.Errorf("order place -o json: customer_name %q", placed.Order.CustomerName)
	}
	// CSV keeps the customer's columns where they were and adds the address lines last.
	c.ok("customer", "register", "--name", "이토끼", "--zip", "04524", "--line1", "서울 중구 세종대로 110", "--line2", "3층")
	if out := c.ok("customer", "show", "2", "-o", "csv"); !strings.HasPrefix(out, "id,name,zip_code,address,has_password,created_at,line1,line2,phone,email\n") ||
		!strings.Contains(out, ",서울 중구 세종대로 110 3층,false,") || !strings.HasSuffix(out, ",서울 중구 세종대로 110,3층,,\n") {
		t.Errorf("customer show -o csv:\n%s", out)
	}
	var byID, byUUID struct {
		ID           int64  `json:"id"`
		OrderUUID    string `json:"order_uuid"`
		CustomerName string `json:"customer_name"`
	}
	c.json(&byID, "order", "show", "1")
	c.json(&byUUID, "order", "show", byID.OrderUUID)
	if byUUID.ID != 1 || byUUID.OrderUUID != byID.OrderUUID || byID.CustomerName != "김토끼" {
		t.Fatalf("order show by UUID: %+v, by id %+v", byUUID, byID)
	}
	c.fails(ExitUsage, "no order has UUID 6f1c2e7a-3b9d-4c51-9f0e-2a7d1c8b4e55", "order", "show", "6f1c2e7a-3b9d-4c51-9f0e-2a7d1c8b4e55")
	out := c.ok("order", "show", "1")
	for _, want := range []string{"Order 1: paid, ₩2,000\n", "  customer  1 김토끼\n", "== Items ==", "== Payment ==", "== Saga trail =="} {
		if !strings.Contains(out, want) {
			t.Errorf("order show lacks %q:\n%s", want, out)
		}
	}
	if out := c.ok("order", "list"); !strings.Contains(out, "김토끼") {
		t.Errorf("order list does not name the customer:\n%s", out)
	}
	if r := c.run("order", "list", "--status", "cancelled"); r.code != 0 || r.out != "" || r.err != "no orders found\n" {
		t.Errorf("an empty list: exit %d, stdout %q, stderr %q", r.code, r.out, r.err)
	}
}

// A refund's idempotency key used again for another refund is bad input
// (exit 2), and nothing more is refunded (issue 27).
func TestRefundKeyReusedIsBadInput(t *testing.T) {
	c := newCLI(t)
	c.ok("product", "register", "--sku", "K-1", "--name", "Key", "--price", "1000", "--stock", "5")
	c.ok("customer", "register", "--name", "Oh")
	c.ok("order", "place", "--customer", "1", "--item", "K-1:3", "--method", "KAKAO")
	c.ok("order", "refund", "1", "--item", "K-1:1", "--idempotency-key", "r-1")
	before := c.fullSnapshot()
	c.fails(ExitUsage, `idempotency key "r-1" was already used for a different refund`, "order", "refund", "1", "--item", "K-1:2", "--idempotency-key", "r-1")
	if after := c.fullSnapshot(); after != before {
		t.Fatalf("the refused refund changed the database:\n%s\n%s", before, after)
	}
}
