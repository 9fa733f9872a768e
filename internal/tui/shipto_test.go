package tui

import (
	"strings"
	"testing"

	"github.com/rabbitpay/rabbitpay/internal/shop"
)

// The checkout offers the customer's default address, s picks another or
// pickup, the review says where the order goes, and the order keeps the
// address chosen (issue 28).
func TestCheckoutShipTo(t *testing.T) {
	sh := newShop(t)
	home, err := sh.a.AddAddress(ctx, shop.BookAddress{CustomerID: 1, Recipient: "김토끼", Phone: "010-1234-5678", ZipCode: "04524",
		Line1: "서울 중구 세종대로 110"})
	if err != nil {
		t.Fatal(err)
	}
	office, err := sh.a.AddAddress(ctx, shop.BookAddress{CustomerID: 1, Recipient: "김토순", Phone: "02-123-4567", ZipCode: "06236",
		Line1: "서울 강남구 테헤란로 152"})
	if err != nil {
		t.Fatal(err)
	}
	s := start(t, sh.a, 1)
	s.waitFor("the catalogue and the address book", func(m Model) bool {
		return m.screen == scrCatalogue && len(m.catalogue.page.Items) > 0 && m.ship.loaded
	})
	s.key("enter")
	s.waitFor("A in the cart", func(m Model) bool { return qty(m, "A") == 1 })
	s.key("tab")
	m := s.waitFor("the cart", func(m Model) bool { return m.screen == scrCart && len(m.review.cart.Items) > 0 })
	if v := text(m); !strings.Contains(v, "Ship to:  김토끼 010-****-5678 (04524) 서울 중구 세종대로 110 — default") {
		t.Fatalf("the cart does not offer the default address:\n%s", v)
	}
	s.key("s")
	m = s.waitFor("the next address", func(m Model) bool { return m.ship.dest().AddressID == office.ID })
	if v := text(m); !strings.Contains(v, "Ship to:  김토순 02-***-4567 (06236)") {
		t.Fatalf("s did not show the second address:\n%s", v)
	}
	s.key("s")
	m = s.waitFor("pickup", func(m Model) bool { return m.ship.dest().Pickup })
	if v := text(m); !strings.Contains(v, "Ship to:  pickup at the counter") {
		t.Fatalf("s did not offer pickup:\n%s", v)
	}
	s.key("s", "s") // round to the default, then the office
	s.waitFor("the office again", func(m Model) bool { return m.ship.dest().AddressID == office.ID })
	s.key("enter")
	m = s.waitFor("the confirmation", func(m Model) bool { return m.screen == scrConfirm })
	if v := text(m); !strings.Contains(v, "Ship to:  김토순 02-***-4567 (06236)") || !strings.Contains(v, "Charge ₩1,000 with") {
		t.Fatalf("the review does not say where the order goes:\n%s", text(m))
	}
	s.key("y")
	m = s.waitFor("the saga's end", done)
	if m.sale.run.placed.Order == nil {
		t.Fatalf("not placed: %+v", m.sale.run.placed)
	}
	o, err := sh.a.Order(ctx, m.sale.run.placed.Order.ID)
	if err != nil {
		t.Fatal(err)
	}
	if o.ShipTo == nil || o.ShipTo.AddressID != office.ID || o.ShipTo.Recipient != "김토순" || o.Pickup {
		t.Fatalf("the order's ship-to: %+v (home is %d)", o.ShipTo, home.ID)
	}
}
