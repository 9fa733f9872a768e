package tui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/rabbitpay/rabbitpay/internal/app"
	"github.com/rabbitpay/rabbitpay/internal/shop"
)

func qty(m Model, sku string) int64 {
	for _, it := range m.review.cart.Items {
		if it.SKU == sku {
			return it.Quantity
		}
	}
	return 0
}

// text is the screen without its styles.
func text(m Model) string { return ansi.Strip(m.render()) }

func done(m Model) bool { return m.sale.run != nil && m.sale.run.done }

// pay goes from the catalogue to a finished saga.
func (s *session) pay(method string) Model {
	s.t.Helper()
	s.key("tab")
	s.waitFor("the cart", func(m Model) bool { return m.screen == scrCart && len(m.review.cart.Items) > 0 && !m.saving() })
	s.key(method, "enter")
	s.waitFor("the confirmation", func(m Model) bool { return m.screen == scrConfirm })
	s.key("y")
	return s.waitFor("the saga's end", done)
}

// A checkout from picking the customer to the order, with a refused
// quantity on the way; the database has the order, the stock and an empty cart.
func TestCheckoutHappyPath(t *testing.T) {
	sh := newShop(t)
	s := start(t, sh.a, 0)
	s.waitFor("customers", func(m Model) bool { return len(m.customers.items) == 2 })
	s.tm.Type("김")
	s.waitFor("the filter", func(m Model) bool { return len(m.customers.items) == 1 && m.customers.input.Value() == "김" })
	s.key("enter")
	s.waitFor("the catalogue", func(m Model) bool { return m.screen == scrCatalogue && len(m.catalogue.page.Items) == 4 })
	s.key("enter")
	s.waitFor("A in the cart", func(m Model) bool { return qty(m, "A") == 1 })
	s.key("enter")
	s.waitFor("2 A", func(m Model) bool { return qty(m, "A") == 2 })
	s.key("down", "enter")
	s.waitFor("B in the cart", func(m Model) bool { return qty(m, "B") == 1 })
	s.key("down", "down", "enter")
	s.waitFor("LAST in the cart", func(m Model) bool { return qty(m, "LAST") == 1 })
	s.key("enter")
	m := s.waitFor("a refused quantity", func(m Model) bool { return strings.Contains(m.status, "only 1 of LAST") })
	if qty(m, "LAST") != 1 || len(sh.cart(1).Items) != 3 {
		t.Fatalf("a quantity above the stock changed the cart: %+v", sh.cart(1))
	}
	s.key("tab")
	s.waitFor("the cart", func(m Model) bool { return m.screen == scrCart })
	s.key("down", "down", "d")
	s.waitFor("LAST out of the cart", func(m Model) bool { return len(m.review.cart.Items) == 2 })
	s.key("tab") // back to the catalogue, then pay from there
	s.waitFor("the catalogue", func(m Model) bool { return m.screen == scrCatalogue })
	m = s.pay("k")
	if !strings.Contains(text(m), "Order placed") || !strings.Contains(text(m), "₩4,500 paid with KAKAO") {
		t.Fatalf("the final screen:\n%s", text(m))
	}
	s.key("q")
	final := s.final()
	res := final.Result()
	if res == nil || res.Status != app.Placed || res.Order == nil {
		t.Fatalf("result %+v", res)
	}
	o, err := sh.a.Order(ctx, res.Order.ID)
	if err != nil {
		t.Fatal(err)
	}
	if o.CustomerID != 1 || o.Status != shop.OrderPaid || o.TotalAmount != 4500 || len(o.Items) != 2 ||
		o.Payment == nil || o.Payment.Method != shop.Kakao || o.Payment.Status != shop.PaymentSuccess {
		t.Fatalf("order %+v payment %+v", o, o.Payment)
	}
	if a, b, last := sh.stock("A"), sh.stock("B"), sh.stock("LAST"); a != 8 || b != 9 || last != 1 {
		t.Fatalf("stock A %d B %d LAST %d, want 8 9 1", a, b, last)
	}
	if c := sh.cart(1); len(c.Items) != 0 {
		t.Fatalf("the cart was not emptied: %+v", c)
	}
}

// Someone else buys the last item while it sits in the cart: the order is
// refused before its saga starts, back on the cart with the reason; nothing
// is charged, the cart keeps the item.
func TestCheckoutOutOfStockWhileInCart(t *testing.T) {
	sh := newShop(t)
	s := start(t, sh.a, 1)
	s.waitFor("the catalogue", func(m Model) bool { return m.screen == scrCatalogue && len(m.catalogue.page.Items) == 4 })
	s.tm.Type("LAST")
	s.waitFor("the filter", func(m Model) bool { return len(m.catalogue.page.Items) == 1 })
	s.key("enter")
	s.waitFor("LAST in the cart", func(m Model) bool { return qty(m, "LAST") == 1 })
	s.key("tab")
	s.waitFor("the cart", func(m Model) bool { return m.screen == scrCart && len(m.review.cart.Items) > 0 && !m.saving() })
	s.key("n", "enter")
	s.waitFor("the confirmation", func(m Model) bool { return m.screen == scrConfirm })
	// Sold elsewhere while the buyer is asked.
	other, err := sh.a.PlaceOrder(ctx, app.PlaceRequest{CustomerID: 2, Method: shop.Naver,
		Items: []shop.ItemRequest{{Ref: shop.RefBySKU("LAST"), Quantity: 1}}}, nil)
	if err != nil || other.Status != app.Placed {
		t.Fatalf("the other buyer: %+v %v", other, err)
	}
	s.key("y")
	m := s.waitFor("the saga's end", done)
	if !errors.Is(m.sale.run.err, shop.ErrConflict) || m.screen != scrCart {
		t.Fatalf("result %+v %v, screen %v", m.Result(), m.sale.run.err, m.screen)
	}
	if v := text(m); !strings.Contains(v, "LAST") || !strings.Contains(v, "is out of stock") {
		t.Fatalf("the cart screen:\n%s", v)
	}
	s.key("q")
	s.final()
	if n := len(sh.orders(1)); n != 0 {
		t.Fatalf("%d orders for customer 1", n)
	}
	if n := len(sh.orders(2)); n != 1 {
		t.Fatalf("%d orders for customer 2", n)
	}
	if st := sh.stock("LAST"); st != 0 {
		t.Fatalf("LAST stock %d", st)
	}
	if c := sh.cart(1); len(c.Items) != 1 || c.Items[0].SKU != "LAST" {
		t.Fatalf("cart %+v", c)
	}
}

// The sandbox declines ₩1,800,000: the screen shows the stock restored.
func TestCheckoutPaymentDeclinedShowsCompensation(t *testing.T) {
	sh := newShop(t)
	s := start(t, sh.a, 1)
	s.waitFor("the catalogue", func(m Model) bool { return len(m.catalogue.page.Items) == 4 })
	s.tm.Type("GOLD")
	s.waitFor("the filter", func(m Model) bool { return len(m.catalogue.page.Items) == 1 })
	s.key("enter")
	s.waitFor("1 GOLD", func(m Model) bool { return qty(m, "GOLD") == 1 })
	s.key("enter")
	s.waitFor("2 GOLD", func(m Model) bool { return qty(m, "GOLD") == 2 })
	m := s.pay("n")
	if r := m.Result(); r.Status != app.Failed || r.FailedStep != "payment" || !r.Compensated || r.Incomplete {
		t.Fatalf("result %+v", r)
	}
	v := text(m)
	for _, want := range []string{"✗ payment", "declined", "↩ undo restore_stock", "Undone: restore_stock", "everything was compensated"} {
		if !strings.Contains(v, want) {
			t.Fatalf("the final screen lacks %q:\n%s", want, v)
		}
	}
	s.key("q")
	s.final()
	if c := sh.cart(1); c.TotalAmount != 1_800_000 {
		t.Fatalf("the cart changed: %+v", c)
	}
	t.Log(text(m))
	if st := sh.stock("GOLD"); st != 5 {
		t.Fatalf("GOLD stock %d, want 5", st)
	}
	if n := len(sh.orders(1)); n != 0 {
		t.Fatalf("%d orders", n)
	}
	sagas, err := sh.a.Sagas(ctx, shop.SagaFilter{}, shop.ListOptions{})
	if err != nil || len(sagas.Items) != 1 || sagas.Items[0].State != shop.SagaCompensated {
		t.Fatalf("sagas %+v %v", sagas.Items, err)
	}
}

// gatedShop holds a placement after its first step until released.
type gatedShop struct {
	*app.App
	release chan struct{}
}

func (g gatedShop) PlaceOrder(ctx context.Context, req app.PlaceRequest, obs shop.Observer) (app.PlaceResult, error) {
	return g.App.PlaceOrder(ctx, req, shop.ObserverFunc(func(ev shop.SagaEvent) {
		obs.Event(ev)
		if ev.Name == "reduce_stock" {
			<-g.release
		}
	}))
}

// q during a saga does not cut it: the screen says so, the saga stops at its
// next safe point and compensates, then the program ends.
func TestCheckoutQuitDuringSaga(t *testing.T) {
	sh := newShop(t)
	g := gatedShop{sh.a, make(chan struct{})}
	s := start(t, g, 1)
	s.waitFor("the catalogue", func(m Model) bool { return len(m.catalogue.page.Items) == 4 })
	s.key("enter")
	s.waitFor("A in the cart", func(m Model) bool { return qty(m, "A") == 1 })
	s.key("tab")
	// The cart saved (enter waits for a write in flight), then the question, then y.
	s.waitFor("the cart", func(m Model) bool { return m.screen == scrCart && len(m.review.cart.Items) == 1 && !m.saving() })
	s.key("enter")
	s.waitFor("the confirmation", func(m Model) bool { return m.screen == scrConfirm })
	s.key("y")
	s.waitFor("the first step", func(m Model) bool { return m.sale.run != nil && len(m.sale.run.events) == 1 })
	s.key("q")
	m := s.waitFor("quitting", func(m Model) bool { return m.quitting })
	if !strings.Contains(text(m), "never cut mid-step") || done(m) {
		t.Fatalf("the screen while quitting:\n%s", text(m))
	}
	close(g.release)
	final := s.final() // the program ends by itself once the saga has
	r := final.Result()
	if r == nil || !r.Interrupted || !r.Compensated || r.FailedStep != "payment" {
		t.Fatalf("result %+v", r)
	}
	if !strings.Contains(final.Summary(), "everything was compensated") {
		t.Fatalf("summary %q", final.Summary())
	}
	if st := sh.stock("A"); st != 10 {
		t.Fatalf("A stock %d, want 10", st)
	}
	if n := len(sh.orders(1)); n != 0 {
		t.Fatalf("%d orders", n)
	}
	if c := sh.cart(1); len(c.Items) != 1 {
		t.Fatalf("cart %+v", c)
	}
}

// A customer registered in place, the password typed hidden, is stored and served.
func TestCheckoutRegistersACustomer(t *testing.T) {
	sh := newShop(t)
	s := start(t, sh.a, 0)
	s.waitFor("customers", func(m Model) bool { return len(m.customers.items) == 2 })
	s.tm.Type("최새싹")
	s.waitFor("no match", func(m Model) bool { return m.customers.input.Value() == "최새싹" && len(m.customers.items) == 0 })
	s.key("ctrl+n")
	s.waitFor("the form", func(m Model) bool { return m.screen == scrRegister && m.register.name.Value() == "최새싹" })
	s.key("enter")
	s.tm.Type("새싹의 비밀번호")
	m := s.waitFor("the password", func(m Model) bool { return m.register.password.Value() == "새싹의 비밀번호" })
	if strings.Contains(text(m), "비밀번호") {
		t.Fatalf("the password shows:\n%s", text(m))
	}
	s.key("enter")
	m = s.waitFor("the catalogue", func(m Model) bool { return m.screen == scrCatalogue && m.customer != nil })
	c, err := sh.a.Customer(ctx, m.customer.ID)
	if err != nil || c.Name != "최새싹" || !c.HasPassword {
		t.Fatalf("customer %+v %v", c, err)
	}
	s.key("ctrl+c")
	s.final()
}

// The orders tab opens today's order with its saga trail and cancels it:
// refunded, stock restored, in the database.
func TestOrdersTabCancelsAnOrder(t *testing.T) {
	sh := newShop(t)
	res, err := sh.a.PlaceOrder(ctx, app.PlaceRequest{CustomerID: 1, Method: shop.Kakao,
		Items: []shop.ItemRequest{{Ref: shop.RefBySKU("A"), Quantity: 3}}}, nil)
	if err != nil || res.Status != app.Placed {
		t.Fatalf("%+v %v", res, err)
	}
	s := start(t, sh.a, 0)
	s.waitFor("customers", func(m Model) bool { return len(m.customers.items) == 2 })
	s.key("ctrl+o")
	s.waitFor("today's orders", func(m Model) bool { return m.screen == scrOrders && len(m.orders.items) == 1 })
	s.key("enter")
	m := s.waitFor("the order", func(m Model) bool { return m.orders.order != nil })
	for _, want := range []string{"A 토끼 인형 × 3", "KAKAO SUCCESS ₩3,000", "✓ reduce_stock", "✓ notify"} {
		if !strings.Contains(text(m), want) {
			t.Fatalf("the order lacks %q:\n%s", want, text(m))
		}
	}
	s.key("c")
	s.waitFor("the question", func(m Model) bool { return m.orders.confirming })
	s.key("y")
	m = s.waitFor("the cancel", func(m Model) bool {
		return m.orders.run != nil && m.orders.run.done && m.orders.order != nil && m.orders.order.Status == shop.OrderCancelled
	})
	if !strings.Contains(text(m), "↩ undo refund") || !strings.Contains(m.status, "cancelled") {
		t.Fatalf("the screen after the cancel:\n%s", text(m))
	}
	s.key("q")
	s.final()
	o, err := sh.a.Order(ctx, res.Order.ID)
	if err != nil || o.Status != shop.OrderCancelled || o.Payment.Status != shop.PaymentCancelled {
		t.Fatalf("order %+v %v", o, err)
	}
	if st := sh.stock("A"); st != 10 {
		t.Fatalf("A stock %d", st)
	}
}

// The catalogue pages by keyset, a screenful at a time.
func TestCataloguePages(t *testing.T) {
	sh := newShop(t)
	for i := range 30 {
		if _, err := sh.a.RegisterProduct(ctx, shop.Product{SKU: fmt.Sprintf("P%02d", i), Name: "상품", Price: 100, StockQuantity: 1}); err != nil {
			t.Fatal(err)
		}
	}
	s := start(t, sh.a, 1)
	first := s.waitFor("the first page", func(m Model) bool { return len(m.catalogue.page.Items) > 0 })
	rows := first.catalogue.rows()
	if len(first.catalogue.page.Items) != rows || !first.catalogue.page.More {
		t.Fatalf("%d products on a page of %d", len(first.catalogue.page.Items), rows)
	}
	s.key("pgdown")
	m := s.waitFor("the second page", func(m Model) bool {
		return len(m.catalogue.page.Items) > 0 && m.catalogue.page.Items[0].ID == int64(rows+1)
	})
	if !strings.Contains(text(m), "page 2") {
		t.Fatalf("page 2:\n%s", text(m))
	}
	s.key("pgup")
	s.waitFor("the first page again", func(m Model) bool { return m.catalogue.page.Items[0].ID == 1 })
	s.key("ctrl+c")
	s.final()
}
