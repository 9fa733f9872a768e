package tui

import (
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/rabbitpay/rabbitpay/internal/app"
	"github.com/rabbitpay/rabbitpay/internal/config"
	"github.com/rabbitpay/rabbitpay/internal/payment"
	"github.com/rabbitpay/rabbitpay/internal/payment/standin"
	"github.com/rabbitpay/rabbitpay/internal/shop"
)

// Live Kakao Pay (its local stand-in), no callback listener: the saga shows
// the approval URL and its QR code and takes the URL the buyer was sent back
// to, pasted into the screen.
func TestCheckoutLiveApprovalPasted(t *testing.T) {
	k := standin.NewKakao(t)
	sh := newShop(t, func(c *config.Config) {
		p := &c.Payment
		p.Provider, p.HTTPTimeout, p.ApprovalTimeout = config.ProviderLive, 2*time.Second, time.Minute
		p.Callback.PublicURL = "http://127.0.0.1:9" // nothing listens: the approval comes from the screen
		p.Providers = map[shop.PaymentMethod]payment.Settings{shop.Kakao: k.Config()}
	})
	s := start(t, sh.a, 1)
	s.waitFor("the catalogue", func(m Model) bool { return len(m.catalogue.page.Items) == 4 })
	s.key("enter")
	s.waitFor("A in the cart", func(m Model) bool { return qty(m, "A") == 1 })
	s.key("tab")
	m := s.waitFor("the cart", func(m Model) bool { return m.screen == scrCart && len(m.review.cart.Items) == 1 })
	if v := text(m); m.review.method != shop.Kakao || !strings.Contains(v, "Pay with: [KAKAO]") || strings.Contains(v, "NAVER") {
		t.Fatalf("a Kakao-only live shop offers more than Kakao Pay:\n%s", v)
	}
	s.key("n", "m", "enter", "y") // no Naver Pay to pick; m stays on Kakao Pay
	m = s.waitFor("the approval", func(m Model) bool { return m.sale.approving })
	url := approvalURL(m.sale.run.events)
	// At 80×24 the code does not fit beside the trail whole: it is not
	// drawn there, nor promised; tab gives it the screen, whole.
	if v := text(m); url == "" || !strings.Contains(v, "The buyer approves the payment at (tab shows its QR code alone):") || strings.Contains(v, "▀") {
		t.Fatalf("no approval URL, or a QR code drawn that is not whole:\n%s", v)
	}
	s.key("tab")
	m = s.waitFor("the QR code alone", func(m Model) bool { return m.sale.qrAlone })
	lines := strings.Split(text(m), "\n")
	want := qrFit(url, 23, 80)
	if len(want) == 0 || len(lines) > 24 || len(lines) < len(want)+1 || strings.Join(lines[:len(want)], "\n") != strings.Join(want, "\n") ||
		!strings.Contains(lines[len(want)], "Scan to approve ₩") {
		t.Fatalf("the QR code alone at 80×24 is not whole (%d lines, want %d and a caption):\n%s", len(lines), len(want), text(m))
	}
	if strings.Trim(want[0], "█") != "" || strings.Trim(want[len(want)-1], "█▀") != "" {
		t.Fatalf("the code has no quiet zone:\n%s", strings.Join(want, "\n"))
	}
	s.key("tab")
	s.waitFor("the approval again", func(m Model) bool { return !m.sale.qrAlone && m.sale.approving })
	// Typed before the buyer approved: Kakao still waits for the buyer, so
	// it is said and asked again, nothing charged.
	s.tm.Type("deadbeefdeadbeefdead")
	s.key("enter")
	m = s.waitFor("the refusal", func(m Model) bool { return m.sale.approving && m.sale.refused != "" })
	if v := text(m); !strings.Contains(v, "did not accept that approval token") || !strings.Contains(v, "(code -701)") {
		t.Fatalf("a too-early paste is not said:\n%s", v)
	}
	back, err := standin.Redirect(ctx, url) // the buyer approves on the provider's page
	if err != nil {
		t.Fatal(err)
	}
	// A wrong token after the buyer approved, then a paste holding a
	// control character: said, and the right one is still taken.
	s.tm.Type("deadbeefdeadbeefdea0")
	s.key("enter")
	m = s.waitFor("the second refusal", func(m Model) bool { return m.sale.approving && strings.Contains(m.sale.refused, "(code -2)") })
	if v := strings.Join(strings.Fields(text(m)), " "); !strings.Contains(v, "You pasted: deadbeefdeadbeefdea0") {
		t.Fatalf("the refused paste is not shown whole:\n%s", text(m))
	}
	s.tm.Send(tea.PasteMsg{Content: back.String() + "\x1b[201~x"})
	m = s.waitFor("the control character refused", func(m Model) bool { return strings.Contains(m.sale.refused, "control character") })
	if m.sale.approval.Value() != "" {
		t.Fatalf("a paste with a control character was put in the field: %q", m.sale.approval.Value())
	}
	s.tm.Send(tea.PasteMsg{Content: back.String()})
	s.waitFor("the pasted URL", func(m Model) bool { return m.sale.approval.Value() == back.String() })
	s.key("enter")
	m = s.waitFor("the saga's end", done)
	if r := m.Result(); r.Status != app.Placed {
		t.Fatalf("result %+v\n%s", r, text(m))
	}
	s.key("q")
	s.final()
	orders := sh.orders(1)
	if len(orders) != 1 {
		t.Fatalf("%d orders", len(orders))
	}
	o, err := sh.a.Order(ctx, orders[0].ID)
	if err != nil || o.Payment == nil || o.Payment.Status != shop.PaymentSuccess || o.Status != shop.OrderPaid {
		t.Fatalf("order %+v %v", o, err)
	}
	if n := k.Count("approve"); n != 3 {
		t.Errorf("%d approve calls, want 3: two refused, one charge", n)
	}
	if probs := k.Problems(); len(probs) > 0 {
		t.Fatalf("requests the provider would refuse: %v", probs)
	}
}
