package tui

import (
	"strings"
	"testing"

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
		Items: []shop.ItemRequest{{SKU: "A", Quantity: 9}}}, nil)
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
