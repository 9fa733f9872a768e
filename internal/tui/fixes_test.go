package tui

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	tea "charm.land/bubbletea/v2"
	gossh "golang.org/x/crypto/ssh"

	"github.com/rabbitpay/rabbitpay/internal/app"
	"github.com/rabbitpay/rabbitpay/internal/shop"
)

// Regression tests for the review of the checkout (issue 14).

// settled is a cart shown with nothing left to write.
func settled(m Model) bool { return !m.saving() }

// The TUI sends changes, not quantities computed from the cart it shows: a
// change the CLI makes meanwhile is kept, and enter before the cart has
// loaded adds to what is there.
func TestCartKeepsChangesMadeElsewhere(t *testing.T) {
	sh := newShop(t)
	if _, err := sh.a.AddToCart(ctx, 1, "B", 5); err != nil {
		t.Fatal(err)
	}
	s := start(t, sh.a, 1)
	s.waitFor("the catalogue", func(m Model) bool { return len(m.catalogue.page.Items) == 4 })
	s.key("down", "enter") // B, whether the cart has loaded yet or not
	s.waitFor("B written", func(m Model) bool { return settled(m) && qty(m, "B") == 6 })
	s.key("up", "enter") // A: 1
	s.waitFor("A written", func(m Model) bool { return settled(m) && qty(m, "A") == 1 })
	if _, err := sh.a.AddToCart(ctx, 1, "A", 5); err != nil { // the CLI, meanwhile
		t.Fatal(err)
	}
	s.key("enter") // the screen still shows 1
	s.waitFor("A written again", func(m Model) bool { return settled(m) && qty(m, "A") == 7 })
	s.key("ctrl+c")
	s.final()
	c := sh.cart(1)
	got := map[string]int64{}
	for _, it := range c.Items {
		got[it.SKU] = it.Quantity
	}
	if len(got) != 2 || got["A"] != 7 || got["B"] != 6 {
		t.Fatalf("the cart in the database: %v, want A 7 and B 6", got)
	}
}

// A line above the stock (someone else bought it) can still be lowered;
// only raising it is refused.
func TestCartLineAboveStockCanBeLowered(t *testing.T) {
	sh := newShop(t)
	if _, err := sh.a.AddToCart(ctx, 1, "A", 3); err != nil {
		t.Fatal(err)
	}
	other, err := sh.a.PlaceOrder(ctx, app.PlaceRequest{CustomerID: 2, Method: shop.Naver,
		Items: []shop.ItemRequest{{Ref: shop.RefBySKU("A"), Quantity: 9}}}, nil)
	if err != nil || other.Status != app.Placed {
		t.Fatalf("the other buyer: %+v %v", other, err)
	}
	s := start(t, sh.a, 1)
	s.waitFor("the catalogue", func(m Model) bool { return len(m.catalogue.page.Items) == 4 })
	s.key("tab")
	s.waitFor("the cart", func(m Model) bool { return m.screen == scrCart && qty(m, "A") == 3 })
	s.key("-")
	m := s.waitFor("A lowered", func(m Model) bool { return settled(m) && qty(m, "A") == 2 })
	if m.status != "" {
		t.Fatalf("lowering: status %q", m.status)
	}
	s.key("+")
	m = s.waitFor("the refusal", func(m Model) bool { return settled(m) && m.status != "" })
	if !strings.Contains(m.status, "only 1 of A") || qty(m, "A") != 2 {
		t.Fatalf("raising: status %q, A %d", m.status, qty(m, "A"))
	}
	s.key("ctrl+c")
	s.final()
	if c := sh.cart(1); len(c.Items) != 1 || c.Items[0].Quantity != 2 {
		t.Fatalf("the cart in the database: %+v", c)
	}
	// The app itself: a decrease through SetCartQuantity too.
	if c, err := sh.a.SetCartQuantity(ctx, 1, "A", 1); err != nil || c.Items[0].Quantity != 1 {
		t.Fatalf("SetCartQuantity lowering: %+v %v", c, err)
	}
	if _, err := sh.a.SetCartQuantity(ctx, 1, "A", 2); err == nil {
		t.Fatal("SetCartQuantity raised a line above the stock")
	}
	if c, err := sh.a.AdjustCartQuantity(ctx, 1, "A", -5); err != nil || len(c.Items) != 0 {
		t.Fatalf("AdjustCartQuantity below 0: %+v %v", c, err)
	}
}

// A cancel from the orders tab is kept apart from the placement: back on
// the saga screen the placement is shown as it ended, and going back and
// forth after the cancel does not crash.
func TestCancelFromOrdersTabKeepsThePlacement(t *testing.T) {
	sh := newShop(t)
	s := start(t, sh.a, 1)
	s.waitFor("the catalogue", func(m Model) bool { return len(m.catalogue.page.Items) == 4 })
	s.key("enter", "enter")
	s.waitFor("A in the cart", func(m Model) bool { return settled(m) && qty(m, "A") == 2 })
	m := s.pay("k")
	placed := m.Result()
	if placed == nil || placed.Status != app.Placed {
		t.Fatalf("result %+v", placed)
	}
	s.key("ctrl+o")
	s.waitFor("today's orders", func(m Model) bool { return m.screen == scrOrders && len(m.orders.items) == 1 })
	s.key("enter")
	s.waitFor("the order", func(m Model) bool { return m.orders.order != nil })
	s.key("c")
	s.waitFor("the question", func(m Model) bool { return m.orders.confirming })
	s.key("y")
	s.waitFor("the cancel", func(m Model) bool {
		return m.orders.run != nil && m.orders.run.done && m.orders.order != nil && m.orders.order.Status == shop.OrderCancelled
	})
	s.key("ctrl+o")
	m = s.waitFor("the saga screen", func(m Model) bool { return m.screen == scrSaga })
	if v := text(m); !strings.Contains(v, fmt.Sprintf("Order %d placed, then cancelled: ₩2,000 refunded", placed.Order.ID)) || m.Result() == nil || m.Result().Order.ID != placed.Order.ID {
		t.Fatalf("back on the saga screen:\n%s", v)
	}
	s.key("ctrl+o")
	s.waitFor("the orders", func(m Model) bool { return m.screen == scrOrders })
	s.key("enter")
	s.waitFor("the order again", func(m Model) bool { return m.screen == scrOrder && m.orders.order != nil })
	s.key("ctrl+o")
	m = s.waitFor("the saga screen again", func(m Model) bool { return m.screen == scrSaga })
	if v := text(m); !strings.Contains(v, "placed, then cancelled") {
		t.Fatalf("back on the saga screen again:\n%s", v)
	}
	s.key("q")
	s.final()
	o, err := sh.a.Order(ctx, placed.Order.ID)
	if err != nil || o.Status != shop.OrderCancelled {
		t.Fatalf("order %+v %v", o, err)
	}
	if st := sh.stock("A"); st != 10 {
		t.Fatalf("A stock %d", st)
	}
}

// An answer about an order no longer asked for is dropped.
func TestStaleOrderAnswerDropped(t *testing.T) {
	m := send(t, New(Options{}), tea.WindowSizeMsg{Width: 80, Height: 24}, keyMsg("ctrl+o"),
		ordersMsg{page: shop.Page[shop.Order]{Items: []shop.Order{{ID: 7}, {ID: 8}}}}, keyMsg("enter"))
	m = send(t, m, keyMsg("esc"), keyMsg("down"), keyMsg("enter"))
	if m.orders.want != 8 {
		t.Fatalf("asked for %d", m.orders.want)
	}
	m = send(t, m, orderMsg{id: 7, order: shop.Order{ID: 7}})
	if m.orders.order != nil {
		t.Fatalf("a stale answer was shown: order %d", m.orders.order.ID)
	}
	m = send(t, m, orderMsg{id: 8, order: shop.Order{ID: 8}})
	if m.orders.order == nil || m.orders.order.ID != 8 {
		t.Fatal("the answer asked for was not shown")
	}
}

// The amount confirmed is the amount charged: a cart changed elsewhere
// after the review is refused before the saga starts, and shown fresh.
func TestConfirmedTotalIsWhatIsCharged(t *testing.T) {
	sh := newShop(t)
	s := start(t, sh.a, 1)
	s.waitFor("the catalogue", func(m Model) bool { return len(m.catalogue.page.Items) == 4 })
	s.key("enter", "enter")
	s.waitFor("A in the cart", func(m Model) bool { return settled(m) && qty(m, "A") == 2 })
	s.key("tab")
	s.waitFor("the cart", func(m Model) bool { return m.screen == scrCart && settled(m) && m.review.cs.seen == m.review.cs.seq })
	s.key("enter")
	m := s.waitFor("the confirmation", func(m Model) bool { return m.screen == scrConfirm })
	if !strings.Contains(text(m), "Charge ₩2,000") {
		t.Fatalf("the question:\n%s", text(m))
	}
	if _, err := sh.a.AddToCart(ctx, 1, "B", 1); err != nil { // the CLI, meanwhile
		t.Fatal(err)
	}
	s.key("y")
	m = s.waitFor("the refusal", func(m Model) bool { return m.screen == scrCart && qty(m, "B") == 1 })
	if !strings.Contains(m.status, "the cart changed since it was reviewed: it is now ₩4,500, not ₩2,000") ||
		m.review.cart.TotalAmount != 4500 {
		t.Fatalf("status %q, cart %+v", m.status, m.review.cart)
	}
	if n := len(sh.orders(1)); n != 0 || sh.stock("A") != 10 || sh.stock("B") != 10 {
		t.Fatalf("%d orders, stock A %d B %d", n, sh.stock("A"), sh.stock("B"))
	}
	s.key("enter")
	s.waitFor("the confirmation again", func(m Model) bool { return m.screen == scrConfirm })
	s.key("y")
	m = s.waitFor("the saga's end", func(m Model) bool { return m.screen == scrSaga && done(m) })
	if r := m.Result(); r == nil || r.Status != app.Placed || r.Order.TotalAmount != 4500 ||
		!strings.Contains(text(m), "Order placed: ₩4,500 with NAVER") {
		t.Fatalf("result %+v:\n%s", r, text(m))
	}
	s.key("q")
	s.final()
	if o := sh.orders(1); len(o) != 1 || o[0].TotalAmount != 4500 {
		t.Fatalf("orders %+v", o)
	}
}

// authorized_keys lines with options, and a file with no key, are refused
// at startup.
func TestSSHAuthorizedKeysRefusedAtStartup(t *testing.T) {
	dir := t.TempDir()
	key := strings.TrimSpace(string(gossh.MarshalAuthorizedKey(newSigner(t).PublicKey())))
	for name, c := range map[string]struct{ file, want string }{
		"options":  {"# counters\n" + key + "\nfrom=\"10.0.0.1\" " + key + "\n", "line 3 has options (from="},
		"restrict": {"restrict " + key + "\n", "line 1 has options (restrict)"},
		"empty":    {"# nobody yet\n\n", "lists no public key"},
	} {
		keys := filepath.Join(dir, name)
		if err := os.WriteFile(keys, []byte(c.file), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := NewServer(ServerOptions{HostKey: filepath.Join(dir, "host"), AuthorizedKeys: keys})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", name, err, c.want)
		}
	}
}

// The host key: created once even by servers starting together; a
// symlink, a key others can read and a broken key are refused.
func TestSSHHostKey(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "host")
	var wg sync.WaitGroup
	keys := make([][]byte, 4)
	errs := make([]error, 4)
	for i := range keys {
		wg.Add(1)
		go func() { defer wg.Done(); keys[i], errs[i] = ensureHostKey(path) }()
	}
	wg.Wait()
	for i := range keys {
		if errs[i] != nil || string(keys[i]) != string(keys[0]) || len(keys[i]) == 0 {
			t.Fatalf("server %d: %v (same key: %v)", i, errs[i], string(keys[i]) == string(keys[0]))
		}
	}
	if fi, err := os.Lstat(path); err != nil || fi.Mode() != 0o600 {
		t.Fatalf("host key %v %v", fi.Mode(), err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".host.tmp-*")); len(left) != 0 {
		t.Fatalf("temporary files left: %v", left)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(path, link); err != nil {
		t.Fatal(err)
	}
	if _, err := ensureHostKey(link); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("a symlink: %v", err)
	}
	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	if _, err := ensureHostKey(path); err == nil || !strings.Contains(err.Error(), "must be 0600") {
		t.Fatalf("mode 0640: %v", err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ensureHostKey(empty); err == nil || !strings.Contains(err.Error(), "not a private key") {
		t.Fatalf("an empty key: %v", err)
	}
}

// The header says when the checkout is on the demo's shop.
func TestHeaderShowsTheMark(t *testing.T) {
	m := send(t, New(Options{Mark: "demo shop"}), tea.WindowSizeMsg{Width: 80, Height: 24}, pickedMsg{c: rabbit})
	if h := strings.Split(text(m), "\n")[0]; !strings.Contains(h, "Orders today   sandbox  demo shop  customer 1 김토끼") {
		t.Fatalf("header %q", h)
	}
	if h := strings.Split(text(send(t, New(Options{}), tea.WindowSizeMsg{Width: 80, Height: 24})), "\n")[0]; strings.Contains(h, "demo") {
		t.Fatalf("header %q", h)
	}
}

// backspace takes a cart line out at once (no question at a busy counter),
// says so, and u puts it back; both keys are in the help (issue 29).
func TestRemovedCartLineCanBePutBack(t *testing.T) {
	sh := newShop(t)
	if _, err := sh.a.AddToCart(ctx, 1, "A", 2); err != nil {
		t.Fatal(err)
	}
	s := start(t, sh.a, 1)
	s.waitFor("the catalogue", func(m Model) bool { return len(m.catalogue.page.Items) == 4 })
	s.key("tab")
	m := s.waitFor("the cart", func(m Model) bool { return m.screen == scrCart && qty(m, "A") == 2 && settled(m) })
	if h := helpText(m); !strings.Contains(h, "d/del/⌫ remove line") || !strings.Contains(h, "+/=/→ one more") || !strings.Contains(h, "enter/p pay") {
		t.Fatalf("the cart's help does not list every working key:\n%s", h)
	}
	s.key("backspace")
	m = s.waitFor("the line out", func(m Model) bool { return settled(m) && qty(m, "A") == 0 })
	if !strings.Contains(m.status, "removed A") || !strings.Contains(helpText(m), "u put the line back") {
		t.Fatalf("the removal is not said, or its undo not offered: %q\n%s", m.status, helpText(m))
	}
	if c := sh.cart(1); len(c.Items) != 0 {
		t.Fatalf("the cart still holds %+v", c.Items)
	}
	s.key("u")
	s.waitFor("the line back", func(m Model) bool { return settled(m) && qty(m, "A") == 2 })
	s.key("ctrl+c")
	s.final()
	if c := sh.cart(1); len(c.Items) != 1 || c.Items[0].Quantity != 2 {
		t.Fatalf("after u the cart holds %+v, want A × 2", c.Items)
	}
}
