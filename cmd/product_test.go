package cmd

import (
	"strings"
	"testing"

	"github.com/mattn/go-runewidth"
)

type productJSON struct {
	ID            int64  `json:"id"`
	SKU           string `json:"sku"`
	Name          string `json:"name"`
	Price         int64  `json:"price"`
	StockQuantity int64  `json:"stock_quantity"`
}

func TestProductRegisterShowList(t *testing.T) {
	c := newCLI(t)
	var p productJSON
	c.json(&p, "product", "register", "--sku", "A-1", "--name", "토끼 인형", "--price", "12000", "--stock", "5")
	if p.ID == 0 || p.SKU != "A-1" || p.Name != "토끼 인형" || p.Price != 12000 || p.StockQuantity != 5 {
		t.Fatalf("registered product = %+v", p)
	}
	var bySKU, byID productJSON
	c.json(&bySKU, "product", "show", "A-1")
	c.json(&byID, "product", "show", "1")
	if bySKU != p || byID != p {
		t.Fatalf("show A-1 = %+v, show 1 = %+v, want %+v", bySKU, byID, p)
	}
	c.ok("product", "register", "--sku", "B-22", "--name", "Carrot", "--price", "500", "--stock", "50")
	var list []productJSON
	c.json(&list, "product", "list")
	if len(list) != 2 || list[0].SKU != "A-1" || list[1].SKU != "B-22" {
		t.Fatalf("list = %+v", list)
	}

	// Into a pipe the table is plain columns, and Hangul keeps them aligned:
	// the price column starts at the same display column on every line.
	table := c.ok("product", "list")
	lines := strings.Split(strings.TrimRight(table, "\n"), "\n")
	if len(lines) != 3 || !strings.Contains(table, "토끼 인형") || strings.ContainsAny(table, "│┌─") {
		t.Fatalf("table:\n%s", table)
	}
	for i, price := range []string{"price", "12000", "500"} {
		at := strings.Index(lines[i], price)
		if at < 0 || runewidth.StringWidth(lines[i][:at]) != strings.Index(lines[0], "price") {
			t.Fatalf("misaligned table line %q:\n%s", lines[i], table)
		}
	}

	csv := c.ok("product", "list", "-o", "csv")
	if !strings.HasPrefix(csv, "id,sku,name,price,stock_quantity,retired\n1,A-1,토끼 인형,12000,5,\n") {
		t.Fatalf("csv:\n%s", csv)
	}
}

func TestProductUpdate(t *testing.T) {
	c := newCLI(t)
	c.ok("product", "register", "--sku", "A-1", "--name", "토끼", "--price", "100", "--stock", "1")
	var p productJSON
	c.json(&p, "product", "update", "A-1", "--price", "150", "--stock", "9")
	if p.Price != 150 || p.StockQuantity != 9 || p.Name != "토끼" {
		t.Fatalf("updated = %+v", p)
	}
	c.json(&p, "product", "update", "1", "--name", "큰 토끼")
	if p.Name != "큰 토끼" || p.Price != 150 {
		t.Fatalf("renamed = %+v", p)
	}
}

func TestProductBadInputChangesNothing(t *testing.T) {
	c := newCLI(t)
	c.ok("product", "register", "--sku", "A-1", "--name", "토끼", "--price", "100", "--stock", "1")
	before := c.ok("product", "list", "-o", "csv")
	cases := []struct {
		code int
		want string
		args []string
	}{
		{2, "price -1 is negative", []string{"product", "register", "--sku", "X", "--name", "x", "--price", "-1", "--stock", "1"}},
		{2, "stock -5 is negative", []string{"product", "register", "--sku", "X", "--name", "x", "--price", "1", "--stock", "-5"}},
		{1, `SKU "A-1" already exists`, []string{"product", "register", "--sku", "A-1", "--name", "x", "--price", "1", "--stock", "1"}},
		{2, `--price "abc" is not a whole number`, []string{"product", "register", "--sku", "X", "--name", "x", "--price", "abc", "--stock", "1"}},
		{2, `--price "99999999999999999999" is out of range`, []string{"product", "register", "--sku", "X", "--name", "x", "--price", "99999999999999999999", "--stock", "1"}},
		{2, "--stock is required", []string{"product", "register", "--sku", "X", "--name", "x", "--price", "1"}},
		{2, "product name must not be empty", []string{"product", "register", "--sku", "X", "--name", " ", "--price", "1", "--stock", "1"}},
		{2, "unknown flag: --colour", []string{"product", "list", "--colour"}},
		{2, `output format "yaml"`, []string{"product", "list", "-o", "yaml"}},
		{2, `no product has id or SKU "NOPE"`, []string{"product", "show", "NOPE"}},
		{2, `no product has id or SKU "NOPE"`, []string{"product", "update", "NOPE", "--price", "1"}},
		{2, "stock -3 is negative", []string{"product", "update", "A-1", "--stock", "-3"}},
		{2, "nothing to update", []string{"product", "update", "A-1"}},
		{2, "expected one product ID or SKU", []string{"product", "show"}},
	}
	for _, tc := range cases {
		c.fails(tc.code, tc.want, tc.args...)
	}
	if after := c.ok("product", "list", "-o", "csv"); after != before {
		t.Fatalf("bad input changed the catalogue:\nbefore %s\nafter %s", before, after)
	}
}

// An all-digit SKU never hijacks an id: "#N" is the id, "sku:X" the SKU, and
// a bare number that is both is refused, naming both, with nothing changed.
func TestProductReferencesAreNeverAmbiguous(t *testing.T) {
	c := newCLI(t)
	c.ok("customer", "register", "--name", "김토끼")
	c.ok("product", "register", "--sku", "A-1", "--name", "토끼 인형", "--price", "12000", "--stock", "5")
	c.ok("product", "register", "--sku", "1", "--name", "바코드 상품", "--price", "500", "--stock", "3")
	c.fails(2, `"1" is both product id 1 and the SKU of product 2: write #1 for the id or sku:1 for the SKU`, "product", "show", "1")
	c.fails(2, `"1" is both product id 1`, "product", "update", "1", "--price", "13000")
	c.fails(2, `"1" is both product id 1`, "cart", "add", "--customer", "1", "--product", "1")
	var p struct {
		ID    int64  `json:"id"`
		SKU   string `json:"sku"`
		Price int64  `json:"price"`
	}
	c.json(&p, "product", "show", "#1")
	if p.ID != 1 || p.SKU != "A-1" || p.Price != 12000 {
		t.Fatalf("#1 gave %+v", p)
	}
	c.json(&p, "product", "show", "sku:1")
	if p.ID != 2 || p.SKU != "1" || p.Price != 500 {
		t.Fatalf("sku:1 gave %+v", p)
	}
	c.json(&p, "product", "show", "2") // a number no SKU equals is the id
	if p.ID != 2 {
		t.Fatalf("2 gave %+v", p)
	}
	c.fails(2, `no product has id or SKU "#9"`, "product", "show", "#9")
}

// The drift issue 18 names: a bare number that is one product's id and
// another's SKU means the same in every command, so order refund refuses it
// as order place does (exit 2, the same sentence) and changes nothing.
func TestAmbiguousReferenceRefusedByPlaceAndRefund(t *testing.T) {
	c := newCLI(t)
	c.ok("customer", "register", "--name", "김토끼")
	c.ok("product", "register", "--sku", "A-1", "--name", "토끼 인형", "--price", "12000", "--stock", "5")
	c.ok("product", "register", "--sku", "1", "--name", "바코드 상품", "--price", "500", "--stock", "3")
	c.ok("order", "place", "--customer", "1", "--method", "KAKAO", "--item", "#1:2", "--item", "sku:1:2")
	const ambiguous = `"1" is both product id 1 and the SKU of product 2: write #1 for the id or sku:1 for the SKU`
	state := func() string {
		return c.snapshot() + "|" + c.query(`SELECT concat_ws('|', (SELECT string_agg(refunded_amount::text, ',' ORDER BY id) FROM payment),
			(SELECT count(*) FROM order_refund), (SELECT count(*) FROM sandbox_refund), (SELECT string_agg(status::text, ',') FROM orders))`)
	}
	before := state()
	c.fails(2, ambiguous, "order", "refund", "1", "--item", "1:1")
	c.fails(2, ambiguous, "order", "place", "--customer", "1", "--method", "KAKAO", "--item", "1:1")
	if after := state(); after != before {
		t.Fatalf("a refused reference changed the database:\nbefore %s\nafter  %s", before, after)
	}
	// Written unambiguously, the refund goes through, for the product meant.
	c.ok("order", "refund", "1", "--item", "sku:1:1")
	if stock := c.query(`SELECT string_agg(stock_quantity::text, ',' ORDER BY id) FROM product`); stock != "3,2" {
		t.Fatalf("stock after refunding one of SKU 1: %s, want 3,2", stock)
	}
}

// A retired product is hidden from lists, refused in carts and new orders,
// and kept in the orders that hold it; restore brings it back. Delete works
// only for a product no order holds.
func TestProductRetireRestoreDelete(t *testing.T) {
	c := newCLI(t)
	c.ok("customer", "register", "--name", "김토끼")
	c.ok("product", "register", "--sku", "A", "--name", "토끼 인형", "--price", "1000", "--stock", "10")
	c.ok("product", "register", "--sku", "B", "--name", "당근", "--price", "500", "--stock", "10")
	c.ok("order", "place", "--customer", "1", "--method", "KAKAO", "--item", "A:1")
	c.ok("cart", "add", "--customer", "1", "--product", "A")
	c.ok("product", "retire", "A")
	var list []productJSON
	c.json(&list, "product", "list")
	if len(list) != 1 || list[0].SKU != "B" {
		t.Fatalf("list after retiring A: %+v", list)
	}
	c.json(&list, "product", "list", "--retired")
	if len(list) != 2 {
		t.Fatalf("list --retired: %+v", list)
	}
	c.fails(1, "product A is retired: it cannot be put in a cart", "cart", "add", "--customer", "1", "--product", "A")
	c.fails(1, "product A is retired: it cannot be ordered", "order", "place", "--customer", "1", "--method", "KAKAO", "--item", "A:1")
	c.fails(1, "product A is retired: it cannot be ordered", "order", "place", "--customer", "1", "--method", "KAKAO") // from the cart
	if out := c.ok("order", "show", "1"); !strings.Contains(out, "토끼 인형") {
		t.Fatalf("the order lost its retired product:\n%s", out)
	}
	c.fails(1, "product A has been ordered, so it stays in the order history: retire it instead", "product", "delete", "A")
	c.ok("product", "restore", "A")
	c.ok("cart", "add", "--customer", "1", "--product", "A")
	if out := c.ok("product", "delete", "B"); !strings.HasPrefix(out, "deleted product B (") {
		t.Errorf("product delete said %q", out)
	}
	c.fails(2, `no product has id or SKU "B"`, "product", "show", "B")
	if stock := c.query(`SELECT stock_quantity::text FROM product WHERE sku = 'A'`); stock != "9" {
		t.Fatalf("stock of A %s: refused orders must not take any", stock)
	}
}

// --item takes a product reference like every other command, and a malformed one is bad input.
func TestItemsTakeProductReferences(t *testing.T) {
	c := newCLI(t)
	c.seed()
	var res struct {
		Status string `json:"status"`
		Order  struct {
			Items []struct {
				SKU      string `json:"sku"`
				Quantity int64  `json:"quantity"`
			} `json:"items"`
		} `json:"order"`
	}
	c.json(&res, "order", "place", "--customer", "1", "--method", "NAVER", "--item", "#1:1", "--item", "sku:B:2", "--item", "A:1")
	if res.Status != "placed" || len(res.Order.Items) != 2 || res.Order.Items[0].SKU != "A" || res.Order.Items[0].Quantity != 2 {
		t.Fatalf("%+v", res)
	}
	c.fails(2, `"#abc" is not a product id`, "order", "place", "--customer", "1", "--method", "NAVER", "--item", "#abc:1")
	c.fails(2, `"#abc" is not a product id`, "product", "show", "#abc")
	c.fails(2, `no product has id or SKU "#9"`, "order", "place", "--customer", "1", "--method", "NAVER", "--item", "#9:1")
}
