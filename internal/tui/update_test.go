package tui

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/rabbitpay/rabbitpay/internal/app"
	"github.com/rabbitpay/rabbitpay/internal/shop"
)

// These tests call Update directly with keys and the messages commands would
// bring; no command runs, so no database is needed.

func send(t *testing.T, m Model, msgs ...tea.Msg) Model {
	t.Helper()
	for _, msg := range msgs {
		next, _ := m.Update(msg)
		m = next.(Model)
	}
	return m
}

func presses(ks ...string) []tea.Msg {
	out := make([]tea.Msg, len(ks))
	for i, k := range ks {
		out[i] = keyMsg(k)
	}
	return out
}

var (
	rabbit   = shop.Customer{ID: 1, Name: "김토끼"}
	products = []shop.Product{
		{ID: 1, SKU: "RBT-DOLL", Name: "토끼 인형", Price: 12000, StockQuantity: 5},
		{ID: 2, SKU: "CARROT-1KG", Name: "제주 당근 1kg", Price: 4500, StockQuantity: 40},
		{ID: 3, SKU: "HANBOK-S", Name: "아동 한복 (S)", Price: 89000, StockQuantity: 3},
		{ID: 4, SKU: "MUG-RABBIT", Name: "Rabbit mug 머그컵", Price: 9900, StockQuantity: 12},
	}
	cart = shop.Cart{CustomerID: 1, TotalAmount: 28500, Items: []shop.CartLine{
		{Line: shop.Line{ProductID: 1, SKU: "RBT-DOLL", Name: "토끼 인형", Quantity: 2, Price: 12000}, LineTotal: 24000, Stock: 5},
		{Line: shop.Line{ProductID: 2, SKU: "CARROT-1KG", Name: "제주 당근 1kg", Quantity: 1, Price: 4500}, LineTotal: 4500, Stock: 40},
	}}
)

// atCatalogue is a model showing the catalogue for 김토끼 with a cart.
func atCatalogue(t *testing.T, more bool) Model {
	m := send(t, New(Options{}), tea.WindowSizeMsg{Width: 80, Height: 24}, pickedMsg{c: rabbit})
	m = send(t, m, productsMsg{seq: m.catalogue.seq, page: shop.Page[shop.Product]{Items: products, More: more}})
	return withCart(t, m, cart)
}

// withCart answers the newest cart request with c.
func withCart(t *testing.T, m Model, c shop.Cart) Model {
	return send(t, m, cartMsg{seq: m.review.cs.seq, cart: c})
}

func TestCustomerScreen(t *testing.T) {
	m := send(t, New(Options{}), customersMsg{seq: 0, items: []shop.Customer{rabbit, {ID: 2, Name: "박당근"}}})
	if len(m.customers.items) != 2 {
		t.Fatalf("items %v", m.customers.items)
	}
	m = send(t, m, presses("down", "down", "down")...)
	if m.customers.sel != 1 {
		t.Fatalf("selection %d past the end", m.customers.sel)
	}
	m = send(t, m, presses("박")...) // a new search; the answer to the old one is ignored
	m = send(t, m, customersMsg{seq: 0, items: nil})
	if len(m.customers.items) != 2 || m.customers.input.Value() != "박" {
		t.Fatalf("a stale answer replaced the list: %v", m.customers.items)
	}
	m = send(t, m, customersMsg{seq: m.customers.seq, items: nil}, keyMsg("enter"))
	if m.screen != scrCustomers || !strings.Contains(m.status, "ctrl+n") {
		t.Fatalf("enter with no match: screen %s status %q", m.Screen(), m.status)
	}
	m = send(t, m, keyMsg("ctrl+n"))
	if m.screen != scrRegister || m.register.name.Value() != "박" {
		t.Fatalf("ctrl+n: screen %s name %q", m.Screen(), m.register.name.Value())
	}
}

func TestRegisterScreenHidesThePassword(t *testing.T) {
	m := send(t, New(Options{}), keyMsg("ctrl+n"))
	m = send(t, m, presses("토", "끼", "enter", "s", "e", "c", "r", "e", "t", "9", "9")...)
	if m.register.name.Value() != "토끼" || m.register.password.Value() != "secret99" {
		t.Fatalf("name %q password %q", m.register.name.Value(), m.register.password.Value())
	}
	if v := text(m); strings.Contains(v, "secret99") || !strings.Contains(v, "Name:     토끼") {
		t.Fatalf("the screen shows the password or not the name:\n%s", v)
	}
	if m = send(t, m, keyMsg("esc")); m.screen != scrCustomers {
		t.Fatalf("esc: %s", m.Screen())
	}
}

func TestCatalogueScreen(t *testing.T) {
	m := atCatalogue(t, true)
	if m.screen != scrCatalogue || m.customer.ID != 1 || len(m.catalogue.page.Items) != 4 {
		t.Fatalf("screen %s", m.Screen())
	}
	m = send(t, m, keyMsg("pgdown"))
	if m.catalogue.after != 4 || len(m.catalogue.before) != 1 {
		t.Fatalf("pgdown: after %d before %v", m.catalogue.after, m.catalogue.before)
	}
	m = send(t, m, productsMsg{seq: m.catalogue.seq - 1}) // stale
	if len(m.catalogue.page.Items) != 4 {
		t.Fatal("a stale page replaced the shown one")
	}
	m = send(t, m, keyMsg("pgup"))
	if m.catalogue.after != 0 || len(m.catalogue.before) != 0 {
		t.Fatalf("pgup: after %d before %v", m.catalogue.after, m.catalogue.before)
	}
	m = send(t, m, keyMsg("x"))
	if m.catalogue.input.Value() != "x" || m.catalogue.after != 0 {
		t.Fatal("typing does not filter")
	}
	m = send(t, m, cartMsg{seq: 99, err: shop.Conflict("only 5 of RBT-DOLL (토끼 인형) in stock")})
	if !strings.Contains(m.status, "only 5 of RBT-DOLL") || len(m.review.cart.Items) != 2 {
		t.Fatalf("a refused quantity: status %q cart %v", m.status, m.review.cart)
	}
	if m = send(t, m, keyMsg("esc")); m.screen != scrCatalogue || m.catalogue.input.Value() != "" {
		t.Fatalf("esc with a filter typed: %s, filter %q (it clears the filter)", m.Screen(), m.catalogue.input.Value())
	}
	if m = send(t, m, keyMsg("esc")); m.screen != scrCustomers || m.customer != nil {
		t.Fatalf("esc: %s", m.Screen())
	}
}

// Keys faster than the database: one write at a time, the changes asked
// for meanwhile shown and written next, one per key (never merged), an
// older answer never shown over a newer one; keys are sent as changes,
// never as quantities; a refused +1 refuses only itself.
func TestCartKeysFasterThanTheDatabase(t *testing.T) {
	m := atCatalogue(t, false) // RBT-DOLL (id 1) is selected, 2 in the cart
	m = send(t, m, presses("enter", "enter", "enter")...)
	if m.inCart(1) != 5 || m.review.cs.writing == nil || m.review.cs.writing.delta != 1 || len(m.review.cs.ops) != 2 || m.review.cs.ops[0].delta != 1 {
		t.Fatalf("in cart %d, writing %+v, waiting %+v", m.inCart(1), m.review.cs.writing, m.review.cs.ops)
	}
	first := m.review.cs.writing
	three := cart
	three.Items = []shop.CartLine{{Line: shop.Line{ProductID: 1, SKU: "RBT-DOLL", Quantity: 3, Price: 12000}}}
	m = send(t, m, cartMsg{seq: m.review.cs.seq, cart: three, wrote: first})
	if m.review.cs.writing == nil || m.review.cs.writing.delta != 1 || len(m.review.cs.ops) != 1 || m.inCart(1) != 5 || len(m.review.cart.Items) != 1 {
		t.Fatalf("after the first answer: writing %+v, cart %+v", m.review.cs.writing, m.review.cart)
	}
	m = send(t, m, cartMsg{seq: 1, cart: cart}) // a read sent before both writes
	if len(m.review.cart.Items) != 1 {
		t.Fatalf("an old answer was shown: %+v", m.review.cart)
	}
	m = send(t, m, cartMsg{seq: m.review.cs.seq, err: shop.Conflict("only 3 of RBT-DOLL (토끼 인형) in stock"), wrote: m.review.cs.writing})
	if m.review.cs.writing == nil || m.inCart(1) != 4 || !strings.Contains(m.status, "only 3") {
		t.Fatalf("a refused write: writing %+v, in cart %d, status %q", m.review.cs.writing, m.inCart(1), m.status)
	}
}

func TestCartScreen(t *testing.T) {
	m := withCart(t, send(t, atCatalogue(t, false), keyMsg("tab")), cart)
	if m.screen != scrCart || m.review.method != shop.Naver {
		t.Fatalf("screen %s method %s", m.Screen(), m.review.method)
	}
	for _, c := range []struct {
		key  string
		want shop.PaymentMethod
	}{{"m", shop.Kakao}, {"n", shop.Naver}, {"k", shop.Kakao}} {
		if m = send(t, m, keyMsg(c.key)); m.review.method != c.want {
			t.Fatalf("%s: method %s, want %s", c.key, m.review.method, c.want)
		}
	}
	m = send(t, m, keyMsg("down"))
	if m.review.row != 1 {
		t.Fatalf("row %d", m.review.row)
	}
	for _, k := range []string{"+", "-", "d"} {
		if _, cmd := m.Update(keyMsg(k)); cmd == nil {
			t.Fatalf("%s changes nothing", k)
		}
	}
	m = send(t, m, keyMsg("enter"))
	if v := text(m); m.screen != scrConfirm || !strings.Contains(v, "Charge ₩28,500 with KAKAO for 김토끼?") {
		t.Fatalf("enter: %s\n%s", m.Screen(), v)
	}
	if m = send(t, m, keyMsg("n")); m.screen != scrCart {
		t.Fatalf("n: %s", m.Screen())
	}
	m = send(t, withCart(t, send(t, m, keyMsg("esc"), keyMsg("tab")), shop.Cart{CustomerID: 1}), keyMsg("enter"))
	if m.screen != scrCart || !strings.Contains(m.status, "the cart is empty") {
		t.Fatalf("paying an empty cart: %s %q", m.Screen(), m.status)
	}
}

func TestSagaScreenQuitWaitsForTheSaga(t *testing.T) {
	m := withCart(t, send(t, atCatalogue(t, false), keyMsg("tab")), cart)
	stopped := false
	m.sale.run = &run{kind: runPlace, ch: make(chan tea.Msg, 1), stop: func() { stopped = true }, amount: 28500, method: shop.Naver}
	m.screen = scrSaga
	ev := shop.NewEvent(shop.EventStep, "reduce_stock", shop.OutcomeOK, "reserved RBT-DOLL×2")
	m = send(t, m, runEventMsg{m.sale.run, ev})
	next, cmd := m.Update(keyMsg("q"))
	m = next.(Model)
	if !m.quitting || !stopped || cmd != nil {
		t.Fatalf("q during a saga: quitting %v stopped %v", m.quitting, stopped)
	}
	if !strings.Contains(text(m), "never cut mid-step") {
		t.Fatalf("the screen does not say why it waits:\n%s", text(m))
	}
	m = send(t, m, keyMsg("enter")) // ignored while quitting
	res := app.PlaceResult{Status: app.Failed, FailedStep: "payment", Interrupted: true, Compensated: true, Error: "interrupted before payment"}
	next, cmd = m.Update(runDoneMsg{m.sale.run, res, nil})
	if cmd == nil || cmd() != tea.Quit() {
		t.Fatal("the end of the saga does not quit")
	}
	if s := next.(Model).Summary(); !strings.Contains(s, "interrupted before payment; everything was compensated") {
		t.Fatalf("summary %q", s)
	}
}

func TestSagaScreenShowsAnApprovalURL(t *testing.T) {
	m := atCatalogue(t, false)
	m.sale.run = &run{kind: runPlace, ch: make(chan tea.Msg, 1), stop: func() {}}
	m.screen = scrSaga
	m = send(t, m, runEventMsg{m.sale.run, shop.NewEvent(shop.EventStep, "payment", shop.OutcomeRetry,
		"waiting for the buyer: https://pay.example/approve?tid=T1")})
	if v := text(m); !strings.Contains(v, "https://pay.example/approve?tid=T1") || !strings.Contains(v, "The buyer approves the payment at") {
		t.Fatalf("no approval URL:\n%s", v)
	}
	m = send(t, m, keyMsg("tab")) // the QR code alone
	if v := text(m); !strings.Contains(v, "█") || !strings.Contains(v, "Scan to approve") {
		t.Fatalf("tab does not show the QR code:\n%s", v)
	}
}

func TestOrdersTab(t *testing.T) {
	m := send(t, atCatalogue(t, false), keyMsg("ctrl+o"))
	if m.screen != scrOrders || m.back != scrCatalogue {
		t.Fatalf("ctrl+o: %s", m.Screen())
	}
	now := time.Now()
	m = send(t, m, ordersMsg{page: shop.Page[shop.Order]{Items: []shop.Order{
		{ID: 2, CustomerID: 1, Status: shop.OrderPaid, TotalAmount: 28500, CreatedAt: now},
		{ID: 1, CustomerID: 1, Status: shop.OrderCancelled, TotalAmount: 4500, CreatedAt: now}}}})
	m = send(t, m, presses("down", "enter")...)
	if m.screen != scrOrder {
		t.Fatalf("enter: %s", m.Screen())
	}
	m = send(t, m, orderMsg{id: 1, order: shop.Order{ID: 1, Status: shop.OrderCancelled, TotalAmount: 4500}}, keyMsg("c"))
	if m.orders.confirming || !strings.Contains(m.status, "already cancelled") {
		t.Fatalf("c on a cancelled order: %q", m.status)
	}
	m = send(t, m, presses("esc", "up", "enter")...)
	// A long order (its trail longer than the screen), scrolled to its
	// head: the question is asked in sight.
	long := shop.Order{ID: 2, Status: shop.OrderPaid, TotalAmount: 28500}
	for i := range 30 {
		long.Items = append(long.Items, shop.OrderItem{SKU: fmt.Sprintf("SKU-%02d", i), Name: "당근", Quantity: 1, OrderPrice: 950})
	}
	m = send(t, m, orderMsg{id: 2, order: long}, keyMsg("g"), keyMsg("c"))
	if v := text(m); !m.orders.confirming || !strings.Contains(v, "Cancel order 2: refund ₩28,500") || !strings.Contains(v, "SKU-00") {
		t.Fatalf("c on a long order: the question or the order's head is out of sight:\n%s", v)
	}
	m = send(t, m, keyMsg("n"), keyMsg("esc"), keyMsg("esc"))
	if m.screen != scrCatalogue {
		t.Fatalf("esc esc: %s", m.Screen())
	}
}

// The catalogue at 80×24 in 256 colours; go test -update rewrites the file.
func TestGoldenCatalogue80x24(t *testing.T) {
	m := atCatalogue(t, true)
	screen := m.render()
	lines := strings.Split(screen, "\n")
	if len(lines) != 24 {
		t.Fatalf("%d lines", len(lines))
	}
	for i, l := range lines {
		if w := ansi.StringWidth(l); w > 80 {
			t.Fatalf("line %d is %d columns wide: %q", i, w, ansi.Strip(l))
		}
	}
	// Hangul names take two columns each: every product row is as wide as the header.
	header := ansi.StringWidth(ansi.Strip(lines[4]))
	for _, l := range lines[5:9] {
		if w := ansi.StringWidth(ansi.Strip(l)); w != header {
			t.Fatalf("a row %d columns wide under a header of %d: %q", w, header, ansi.Strip(l))
		}
	}
	var buf bytes.Buffer
	w := &colorprofile.Writer{Forward: &buf, Profile: colorprofile.ANSI256}
	if _, err := w.Write([]byte(screen)); err != nil {
		t.Fatal(err)
	}
	golden.RequireEqual(t, buf.Bytes())

	var plain bytes.Buffer // what NO_COLOR or a dumb terminal gets
	w = &colorprofile.Writer{Forward: &plain, Profile: colorprofile.NoTTY}
	w.Write([]byte(screen))
	if strings.Contains(plain.String(), "\x1b[") || !strings.Contains(plain.String(), "› ") {
		t.Fatalf("no colour still marks the selection and has no escapes:\n%q", plain.String())
	}
}

// Every screen fits the terminal it is given, whatever its size.
func TestEveryScreenFitsAfterAResize(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {60, 18}, {132, 40}, {200, 50}} {
		w, h := size[0], size[1]
		m := send(t, atCatalogue(t, false), tea.WindowSizeMsg{Width: w, Height: h})
		screens := map[string]Model{"catalogue": m}
		m = withCart(t, send(t, m, keyMsg("tab")), cart)
		screens["cart"] = m
		s := m
		s.sale.run, s.screen = &run{kind: runPlace, ch: make(chan tea.Msg, 1), stop: func() {}, amount: 28500, method: shop.Naver}, scrSaga
		s = send(t, s, runEventMsg{s.sale.run, shop.NewEvent(shop.EventStep, "payment", shop.OutcomeFailed,
			"declined by the Naver Pay sandbox: ₩1,250,000 is over its limit of ₩1,000,000, and this detail goes on and on")})
		screens["saga"] = s
		o := send(t, m, keyMsg("ctrl+o"), ordersMsg{page: shop.Page[shop.Order]{Items: []shop.Order{{ID: 1, Status: shop.OrderPaid, TotalAmount: 28500}}}})
		screens["orders"] = o
		screens["order"] = openOrder(t, order(30), w, h)
		screens["approval"] = atApproval(t, w, h)
		screens["help"] = send(t, m, keyMsg("?"))
		for name, m := range screens {
			lines := strings.Split(m.render(), "\n")
			if len(lines) != h {
				t.Fatalf("%s at %dx%d: %d lines", name, w, h, len(lines))
			}
			for _, l := range lines {
				if ansi.StringWidth(l) > w {
					t.Fatalf("%s at %dx%d: a line %d wide: %q", name, w, h, ansi.StringWidth(l), ansi.Strip(l))
				}
			}
		}
	}
}

// The catalogue and orders tab at a counter (issue 29, item 11).
func TestCatalogueAndOrdersKeys(t *testing.T) {
	// ? closes the help it opened from the filter, and types nothing.
	m := send(t, atCatalogue(t, false), keyMsg("f1"))
	if m = send(t, m, keyMsg("?")); m.fullHelp || m.catalogue.input.Value() != "" {
		t.Fatalf("? with the help open: help %v, filter %q", m.fullHelp, m.catalogue.input.Value())
	}

	// ↑ at the top of a page goes back to the previous page, on its last row.
	m = send(t, atCatalogue(t, true), keyMsg("pgdown"))
	m = send(t, m, productsMsg{seq: m.catalogue.seq, page: shop.Page[shop.Product]{Items: products[2:]}})
	if m = send(t, m, keyMsg("up")); m.catalogue.after != 0 || m.catalogue.pick != pickLast {
		t.Fatalf("↑ at the page's top asked for after=%d pick=%d", m.catalogue.after, m.catalogue.pick)
	}
	m = send(t, m, productsMsg{seq: m.catalogue.seq, page: shop.Page[shop.Product]{Items: products[:2], More: true}})
	if m.catalogue.sel != 1 {
		t.Fatalf("after ↑ the cursor is on row %d, want the previous page's last", m.catalogue.sel)
	}

	// Shrinking the window keeps the cursor on its product: a page grown
	// shorter than the cursor's row starts at that product.
	m = send(t, atCatalogue(t, false), presses("down", "down", "down")...) // MUG-RABBIT
	m = send(t, m, tea.WindowSizeMsg{Width: 80, Height: 11})
	if m.catalogue.after != products[2].ID || m.catalogue.pick != products[3].ID {
		t.Fatalf("after a shrink the page starts after %d, picks %d", m.catalogue.after, m.catalogue.pick)
	}
	m = send(t, m, productsMsg{seq: m.catalogue.seq, page: shop.Page[shop.Product]{Items: products[3:]}})
	if got := m.catalogue.page.Items[m.catalogue.sel]; got.ID != products[3].ID {
		t.Fatalf("after a shrink the cursor is on %s, want MUG-RABBIT", got.SKU)
	}

	// Any height, the cursor anywhere: a resize never fails, and a status
	// that wrapped over the catalogue leaves its cart line in sight.
	for h := 4; h <= 12; h++ {
		for _, down := range []int{0, 1, 3} {
			m := atCatalogue(t, false)
			for range down {
				m = send(t, m, keyMsg("down"))
			}
			m = send(t, m, tea.WindowSizeMsg{Width: 80, Height: h})
			m = send(t, m, productsMsg{seq: m.catalogue.seq, page: shop.Page[shop.Product]{Items: products}})
			_ = text(m)
		}
	}
	m = atCatalogue(t, false)
	m.status = "✗ " + strings.Repeat("a long sentence about what went wrong ", 6)
	if v := text(m); !strings.Contains(v, "Cart: 3 item(s)") || len(strings.Split(v, "\n")) > 24 {
		t.Fatalf("a wrapped status cut the catalogue's cart line:\n%s", v)
	}

	// An order that failed to load is asked again with r.
	m = send(t, atCatalogue(t, false), keyMsg("ctrl+o"))
	var today []shop.Order
	for id := int64(20); id >= 1; id-- {
		today = append(today, shop.Order{ID: id, CustomerID: 1, Status: shop.OrderPaid, TotalAmount: 4500})
	}
	m = send(t, m, ordersMsg{page: shop.Page[shop.Order]{Items: today}})
	// Digits go to the order: 8 is one key away, not 12.
	if m = send(t, m, keyMsg("8")); m.orders.items[m.orders.sel].ID != 8 {
		t.Fatalf("8 went to order %d", m.orders.items[m.orders.sel].ID)
	}
	if m = send(t, m, keyMsg("1"), keyMsg("5")); m.orders.items[m.orders.sel].ID != 15 {
		t.Fatalf("1 5 went to order %d", m.orders.items[m.orders.sel].ID)
	}
	if m = send(t, m, keyMsg("down"), keyMsg("1")); m.orders.items[m.orders.sel].ID != 1 {
		t.Fatalf("1 went to order %d, not order 1", m.orders.items[m.orders.sel].ID)
	}
	if m = send(t, m, keyMsg("G")); m.orders.sel != 19 {
		t.Fatalf("G: row %d", m.orders.sel)
	}
	m = send(t, m, keyMsg("enter"))
	m = send(t, m, orderMsg{id: 1, err: errors.New("connection refused")})
	next, cmd := m.Update(keyMsg("r"))
	if cmd == nil || next.(Model).orders.want != 1 {
		t.Fatal("r after a failed load does not ask for the order again")
	}
}
