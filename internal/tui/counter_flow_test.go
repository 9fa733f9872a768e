package tui

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"charm.land/log/v2"

	"github.com/rabbitpay/rabbitpay/internal/app"
	"github.com/rabbitpay/rabbitpay/internal/config"
	"github.com/rabbitpay/rabbitpay/internal/payment"
	"github.com/rabbitpay/rabbitpay/internal/payment/standin"
	"github.com/rabbitpay/rabbitpay/internal/shop"
)

// Six instant enters on GOLD (5 in stock): five land, the sixth alone is
// refused, and the database holds 5.
func TestBurstOfEntersStopsAtTheStock(t *testing.T) {
	sh := newShop(t)
	s := start(t, sh.a, 1)
	s.waitFor("the catalogue", func(m Model) bool { return len(m.catalogue.page.Items) == 4 })
	s.key("down", "down")
	s.waitFor("GOLD selected", func(m Model) bool { return m.catalogue.sel == 2 })
	s.key("enter", "enter", "enter", "enter", "enter", "enter")
	m := s.waitFor("the writes", func(m Model) bool { return !m.saving() && qty(m, "GOLD") == 5 })
	if !strings.Contains(m.status, "only 5 of GOLD") {
		t.Fatalf("status %q", m.status)
	}
	if c := sh.cart(1); len(c.Items) != 1 || c.Items[0].Quantity != 5 {
		t.Fatalf("cart %+v", c.Items)
	}
	if v := text(m); !strings.Contains(v, "Cart: 5 item(s)") {
		t.Fatalf("the screen:\n%s", v)
	}
}

// liveKakao is a shop on the Kakao Pay stand-in, approvals from the screen.
func liveKakao(t *testing.T) (*testShop, *standin.Kakao) {
	k := standin.NewKakao(t)
	sh := newShop(t, func(c *config.Config) {
		p := &c.Payment
		p.Provider, p.HTTPTimeout, p.ApprovalTimeout = config.ProviderLive, 2*time.Second, time.Minute
		p.Callback.PublicURL = "http://127.0.0.1:9" // nothing listens: the approval comes from the screen
		p.Providers = map[shop.PaymentMethod]payment.Settings{shop.Kakao: k.Config()}
	})
	return sh, k
}

// waitingForTheBuyer puts one A in the cart and starts paying with Kakao.
func waitingForTheBuyer(t *testing.T, s *session) Model {
	s.waitFor("the catalogue", func(m Model) bool { return len(m.catalogue.page.Items) == 4 })
	s.key("enter")
	s.waitFor("A in the cart", func(m Model) bool { return qty(m, "A") == 1 })
	s.key("tab")
	s.waitFor("the cart", func(m Model) bool { return m.screen == scrCart && len(m.review.cart.Items) == 1 && !m.saving() })
	s.key("enter")
	s.waitFor("the confirmation", func(m Model) bool { return m.screen == scrConfirm })
	s.key("y")
	return s.waitFor("the approval", func(m Model) bool { return m.sale.approving })
}

// Another order's redirect pasted is said and asked again, the order still
// waits; the buyer's own redirect then places it.
func TestLiveWrongPasteThenRightOne(t *testing.T) {
	sh, k := liveKakao(t)
	s := start(t, sh.a, 1)
	m := waitingForTheBuyer(t, s)
	if v := text(m); !strings.Contains(v, "LIVE") || !strings.Contains(v, "left to approve") {
		t.Fatalf("no mode or countdown:\n%s", v)
	}
	back, err := standin.Redirect(ctx, approvalURL(m.sale.run.events))
	if err != nil {
		t.Fatal(err)
	}
	foreign := "http://127.0.0.1:9/pay/00000000-0000-0000-0000-000000000000/success?pg_token=X"
	s.tm.Type(foreign)
	s.waitFor("the foreign paste", func(m Model) bool { return m.sale.approval.Value() == foreign })
	s.key("enter")
	m = s.waitFor("the refusal", func(m Model) bool { return m.sale.approving && strings.Contains(m.sale.refused, "another order") })
	if done(m) || strings.Contains(text(m), "approval ok") {
		t.Fatalf("a foreign paste ended or approved the order:\n%s", text(m))
	}
	s.tm.Type(back.String())
	s.waitFor("the right paste", func(m Model) bool { return m.sale.approval.Value() == back.String() })
	s.key("enter")
	m = s.waitFor("the saga's end", done)
	if r := m.Result(); r == nil || r.Status != app.Placed {
		t.Fatalf("result %+v\n%s", r, text(m))
	}
	s.key("q")
	s.final()
	if probs := k.Problems(); len(probs) > 0 {
		t.Fatalf("requests the provider would refuse: %v", probs)
	}
}

// A token Kakao Pay refuses as a token (garbage typed by hand) is said and
// asked again through the same path as a wrong paste; the countdown goes
// on, the payment still waits, and the buyer's own redirect then places the
// order with one charge.
func TestLiveRefusedTokenThenRightOne(t *testing.T) {
	sh, k := liveKakao(t)
	s := start(t, sh.a, 1)
	m := waitingForTheBuyer(t, s)
	deadline := m.sale.deadline
	back, err := standin.Redirect(ctx, approvalURL(m.sale.run.events))
	if err != nil {
		t.Fatal(err)
	}
	s.tm.Type("deadbeefdeadbeefdead")
	s.waitFor("the garbage", func(m Model) bool { return m.sale.approval.Value() == "deadbeefdeadbeefdead" })
	s.key("enter")
	m = s.waitFor("the refusal", func(m Model) bool {
		return m.sale.approving && strings.Contains(m.sale.refused, "did not accept that approval token")
	})
	if v := text(m); done(m) || !strings.Contains(m.sale.refused, "Kakao Pay answered invalid pg_token (code -2)") ||
		!strings.Contains(v, "left to approve") || !strings.Contains(v, "Paste the token") || !m.sale.deadline.Equal(deadline) {
		t.Fatalf("a refused token ended the order or restarted its countdown:\n%s", v)
	}
	s.tm.Type(back.String())
	s.waitFor("the right paste", func(m Model) bool { return m.sale.approval.Value() == back.String() })
	s.key("enter")
	m = s.waitFor("the saga's end", done)
	if r := m.Result(); r == nil || r.Status != app.Placed {
		t.Fatalf("result %+v\n%s", r, text(m))
	}
	s.key("q")
	s.final()
	orders := sh.orders(1)
	if len(orders) != 1 {
		t.Fatalf("%d orders", len(orders))
	}
	o, err := sh.a.Order(ctx, orders[0].ID)
	if err != nil || o.Payment == nil || o.Payment.Status != shop.PaymentSuccess {
		t.Fatalf("order %+v %v", o, err)
	}
	if p, ok := k.Payment(o.Payment.ProviderTxID); !ok || p.Charged != o.TotalAmount || p.Refunded != 0 {
		t.Fatalf("the stand-in holds %+v for %s, want one charge of %s", p, o.Payment.ProviderTxID, o.TotalAmount)
	}
	if probs := k.Problems(); len(probs) > 0 {
		t.Fatalf("requests the provider would refuse: %v", probs)
	}
}

// esc, then y, while the buyer has not approved: the saga compensates (the
// stock goes back, nothing is charged), the checkout goes on at the cart,
// which keeps its line.
func TestLiveAbandonedApproval(t *testing.T) {
	sh, _ := liveKakao(t)
	s := start(t, sh.a, 1)
	waitingForTheBuyer(t, s)
	if st := sh.stock("A"); st != 9 {
		t.Fatalf("A stock while waiting %d, want 9", st)
	}
	s.key("esc")
	s.waitFor("the question", func(m Model) bool { return m.sale.abandon })
	s.key("y")
	m := s.waitFor("back at the cart", func(m Model) bool { return done(m) && m.screen == scrCart && len(m.review.cart.Items) == 1 })
	if !strings.Contains(m.status, "payment abandoned") || m.sale.run.placed.Status == app.Placed || !m.sale.run.placed.Compensated {
		t.Fatalf("status %q result %+v", m.status, m.sale.run.placed)
	}
	if st := sh.stock("A"); st != 10 {
		t.Fatalf("A stock %d, want 10", st)
	}
	if n := len(sh.orders(1)); n != 0 {
		t.Fatalf("%d orders", n)
	}
	p, err := sh.a.Payments(ctx, shop.PaymentFilter{}, shop.ListOptions{})
	if err != nil || len(p.Items) != 1 || p.Items[0].Status == shop.PaymentSuccess {
		t.Fatalf("payments %+v %v", p.Items, err)
	}
	s.key("q")
	s.final()
}

// The SSH server logs a login and a refused key, and on Stop tells each
// session why it ends.
func TestSSHLogsAndSaysGoodbye(t *testing.T) {
	sh := newShop(t)
	good, bad := newSigner(t), newSigner(t)
	var buf bytes.Buffer
	var mu sync.Mutex
	logger := log.New(&lockedWriter{&mu, &buf})
	srv := serveWith(t, sh.a, good.PublicKey(), func(o *ServerOptions) { o.Log, o.Mark = logger, "demo shop" })
	if _, err := srv.dial(bad); err == nil {
		t.Fatal("an unknown key got in")
	}
	c := srv.open(t, good)
	m := c.waitFor("the customers", func(m Model) bool { return len(m.customers.items) == 2 })
	if !strings.Contains(text(m), "demo shop") {
		t.Fatalf("the mark is lost over SSH:\n%s", text(m))
	}
	sctx, cancel := context.WithCancel(ctx)
	defer cancel() // Stop waits for the clients to hang up; this one does at cleanup
	go srv.srv.Stop(sctx, "the checkout server is stopping")
	c.waitFor("the goodbye", func(m Model) bool { return strings.Contains(m.status, "the checkout server is stopping") })
	mu.Lock()
	logged := buf.String()
	mu.Unlock()
	if !strings.Contains(logged, "login refused") || !regexp.MustCompile(`INFO\s+login user=counter key=SHA256:`).MatchString(logged) || !strings.Contains(logged, "SHA256:") {
		t.Fatalf("the log:\n%s", logged)
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
