package tui

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/rabbitpay/rabbitpay/internal/app"
	"github.com/rabbitpay/rabbitpay/internal/shop"
)

// Issue 19: the checkout at a real counter. Update-driven tests first (no
// database), then the flows against PostgreSQL.

// helpText is the help lines of the screen shown, without styles.
func helpText(m Model) string { return ansi.Strip(strings.Join(m.helpLines(), "\n")) }

// Every key a screen answers to is in its help (short or ?), the
// payment methods' keys as the registry names them included, and ? shows
// them all; at 60 columns the help wraps instead of losing its tail.
func TestHelpIsTheKeymap(t *testing.T) {
	m := send(t, atCatalogue(t, false), tea.WindowSizeMsg{Width: 60, Height: 18})
	if h := helpText(m); !strings.Contains(h, "esc back") || !strings.Contains(h, "ctrl+c quit") || !strings.Contains(h, "f1 all keys") {
		t.Fatalf("catalogue help at 60 columns:\n%s", h)
	}
	m = send(t, m, keyMsg("x"))
	if h := helpText(m); !strings.Contains(h, "esc clear filter") {
		t.Fatalf("with a filter typed, esc clears it:\n%s", h)
	}
	m = withCart(t, send(t, m, keyMsg("esc"), keyMsg("tab")), cart)
	m = send(t, m, keyMsg("?"))
	h := helpText(m)
	for _, pm := range m.review.methods {
		if !regexp.MustCompile(`(^|\s)` + methodKey(pm).Help().Key + `\s+` + string(pm)).MatchString(h) {
			t.Fatalf("the ? help does not show the key for %s:\n%s", pm, h)
		}
	}
	for _, b := range m.keyMap().FullHelp() {
		for _, k := range b {
			if !strings.Contains(h, k.Help().Key+" ") {
				t.Fatalf("the ? help lacks %q:\n%s", k.Help().Key, h)
			}
		}
	}
	if m = send(t, m, keyMsg("?")); strings.Contains(helpText(m), "closes this") {
		t.Fatal("? does not close the full help")
	}
	// j/k move where no field takes letters; k picks KAKAO in the cart, so
	// there only ↑ goes up, and the help says so.
	m = send(t, m, keyMsg("j"))
	if m.review.row != 1 {
		t.Fatalf("j: row %d", m.review.row)
	}
	up, _ := m.cartNav()
	if key.Matches(keyMsg("k"), up) || !regexp.MustCompile(`↑\s+up`).MatchString(helpText(send(t, m, keyMsg("?")))) {
		t.Fatal("k both moves up and picks KAKAO")
	}
	o := send(t, m, keyMsg("ctrl+o"), ordersMsg{page: shop.Page[shop.Order]{Items: []shop.Order{{ID: 1, Status: shop.OrderPaid}, {ID: 2}}}})
	if o = send(t, o, keyMsg("j")); o.orders.sel != 1 {
		t.Fatal("j does not move down the orders")
	}
}

// A burst of d removes one line each, as the screen shows them.
func TestEachDRemovesItsLine(t *testing.T) {
	three := cart
	three.Items = append(append([]shop.CartLine{}, cart.Items...), shop.CartLine{Line: shop.Line{ProductID: 3, SKU: "HANBOK-S", Quantity: 1, Price: 89000}})
	m := withCart(t, send(t, atCatalogue(t, false), keyMsg("tab")), three)
	m = send(t, m, presses("d", "d", "d", "d")...)
	removed := map[int64]bool{}
	for _, w := range append([]cartWrite{*m.review.cs.writing}, m.review.cs.ops...) {
		if w.remove {
			removed[w.productID] = true
		}
	}
	if len(removed) != 3 || len(m.cartLines()) != 0 {
		t.Fatalf("four d on three lines removed %v; the cart shows %v", removed, m.cartLines())
	}
}

// enter pays, enter again does not charge: only y does.
func TestConfirmNeedsY(t *testing.T) {
	m := withCart(t, send(t, atCatalogue(t, false), keyMsg("tab")), cart)
	m = send(t, m, keyMsg("enter"), keyMsg("enter"))
	if m.screen != scrConfirm || m.sale.run != nil {
		t.Fatalf("a double enter: screen %s, run %v", m.Screen(), m.sale.run)
	}
	if v := text(m); !strings.Contains(v, "y charges") || !strings.Contains(helpText(m), "y charge") {
		t.Fatalf("the question does not say y:\n%s", v)
	}
}

// The review flags a line above the stock; the catalogue dims an empty
// product; the cart line counts units.
func TestReviewFlagsAboveStockAndCountsUnits(t *testing.T) {
	m := atCatalogue(t, false)
	if v := text(m); !strings.Contains(v, "Cart: 3 item(s)") {
		t.Fatalf("2 dolls and 1 carrot are 3 items:\n%s", v)
	}
	over := cart
	over.Items = []shop.CartLine{{Line: shop.Line{ProductID: 3, SKU: "HANBOK-S", Name: "아동 한복 (S)", Quantity: 4, Price: 89000}, Stock: 3}}
	m = withCart(t, send(t, m, keyMsg("tab")), over)
	if v := text(m); !strings.Contains(v, "HANBOK-S: 4 in the cart, only 3 in stock") || !strings.Contains(v, "!4") {
		t.Fatalf("no flag on a line above stock:\n%s", v)
	}
	empty := append([]shop.Product{}, products...)
	empty[1].StockQuantity = 0
	c := send(t, m, keyMsg("esc"))
	c = send(t, c, productsMsg{seq: c.catalogue.seq, page: shop.Page[shop.Product]{Items: empty}})
	rows := strings.Split(c.catalogueView(), "\n")
	if !strings.Contains(rows[4], "CARROT-1KG") || !strings.HasPrefix(rows[4], "\x1b[2m") {
		t.Fatalf("the empty product is not dimmed: %q", rows[4])
	}
}

// order is an order of n items with a payment and a saga trail.
func order(n int) shop.Order {
	o := shop.Order{ID: 7, CustomerID: 1, Status: shop.OrderPaid, TotalAmount: 1000 * shop.Won(n), CreatedAt: time.Now(),
		Payment: &shop.Payment{ID: 3, Method: shop.Kakao, Status: shop.PaymentSuccess, Amount: 1000 * shop.Won(n), ProviderTxID: "T700"}}
	for i := range n {
		o.Items = append(o.Items, shop.OrderItem{ID: int64(i + 1), SKU: fmt.Sprintf("SKU-%02d", i+1), Name: "상품", Quantity: 1, OrderPrice: 1000})
	}
	o.Saga = []shop.SagaEvent{shop.NewEvent(shop.EventStep, "reduce_stock", shop.OutcomeOK, "reserved"),
		shop.NewEvent(shop.EventStep, "payment", shop.OutcomeOK, "charged")}
	return o
}

// openOrder shows o on the order screen at w×h.
func openOrder(t *testing.T, o shop.Order, w, h int) Model {
	m := send(t, atCatalogue(t, false), tea.WindowSizeMsg{Width: w, Height: h}, keyMsg("ctrl+o"),
		ordersMsg{page: shop.Page[shop.Order]{Items: []shop.Order{o}}, names: map[int64]string{1: "김토끼"}}, keyMsg("enter"))
	return send(t, m, orderMsg{id: o.ID, order: o})
}

// A long order opens at its first item and reads whole by scrolling, with
// a position line; nothing is cut without a word.
func TestOrderDetailScrolls(t *testing.T) {
	for _, c := range []struct{ n, w, h int }{{12, 80, 24}, {30, 80, 24}, {30, 60, 18}, {2, 60, 18}} {
		m := openOrder(t, order(c.n), c.w, c.h)
		v := text(m)
		if !strings.Contains(v, "SKU-01") {
			t.Fatalf("%d items at %dx%d: the first item is not shown:\n%s", c.n, c.w, c.h, v)
		}
		seen := v
		for range c.n {
			m = send(t, m, keyMsg("pgdown"))
			seen += text(m)
		}
		for i := 1; i <= c.n; i++ {
			if !strings.Contains(seen, fmt.Sprintf("SKU-%02d", i)) {
				t.Fatalf("%d items at %dx%d: item %d never shown", c.n, c.w, c.h, i)
			}
		}
		if !strings.Contains(seen, "Payment 3: KAKAO SUCCESS") || !strings.Contains(seen, "charged") {
			t.Fatalf("%d items at %dx%d: the payment or the trail never shown", c.n, c.w, c.h)
		}
		if c.n > 10 && !strings.Contains(v, "lines 1–") {
			t.Fatalf("no position line:\n%s", v)
		}
		if lines := strings.Split(m.render(), "\n"); len(lines) != c.h {
			t.Fatalf("%d lines at %dx%d", len(lines), c.w, c.h)
		}
	}
}

// The orders tab names the customer and the method and offers c only on an
// order a cancel can succeed on.
func TestOrdersTabNamesAndCancellable(t *testing.T) {
	o := order(2)
	o.Payment = &shop.Payment{Method: shop.Kakao}
	m := openOrder(t, o, 80, 24)
	if v := text(send(t, m, keyMsg("esc"))); !strings.Contains(v, "김토끼") || !strings.Contains(v, "KAKAO") {
		t.Fatalf("the orders tab:\n%s", v)
	}
	if !strings.Contains(helpText(m), "c cancel order") {
		t.Fatalf("a paid order offers no cancel:\n%s", helpText(m))
	}
	shipped := order(2)
	shipped.Status = shop.OrderShipped
	shipped.Items[0].DeliveryStatus = "SHIPPED"
	m = openOrder(t, shipped, 80, 24)
	if strings.Contains(helpText(m), "cancel order") {
		t.Fatalf("a shipped order offers a cancel:\n%s", helpText(m))
	}
	if m = send(t, m, keyMsg("c")); m.orders.confirming || !strings.Contains(m.status, "shipped") {
		t.Fatalf("c on a shipped order: %q", m.status)
	}
}

const longURL = "https://online-pay.kakao.com/mockup/v1/7c3f0a7d2b9e4b1c8f6a5e4d3c2b1a09/info"

// atApproval is a placement waiting for the buyer at w×h.
func atApproval(t *testing.T, w, h int) Model {
	m := send(t, withCart(t, send(t, atCatalogue(t, false), keyMsg("tab")), cart), tea.WindowSizeMsg{Width: w, Height: h})
	m.sale.timeout = 5 * time.Minute
	m.sale.run = &run{kind: runPlace, ch: make(chan tea.Msg, 4), tokens: make(chan string, 1), stop: func() {}, amount: 28500, method: shop.Kakao}
	m.screen = scrSaga
	m = send(t, m, runEventMsg{m.sale.run, shop.NewEvent(shop.EventStep, "reduce_stock", shop.OutcomeOK, "reserved RBT-DOLL×2, CARROT-1KG×1")},
		runEventMsg{m.sale.run, shop.NewEvent(shop.EventStep, "approval", shop.OutcomeWaiting, "approve at "+longURL)},
		approvalAskMsg{m.sale.run})
	return m
}

// The approval URL is on a line of its own, whole, as a hyperlink; the
// countdown and the paste field are in sight at 60×18, where no QR code
// is promised when none is drawn.
func TestApprovalURLWholeAndPasteInSight(t *testing.T) {
	for _, size := range [][2]int{{60, 18}, {80, 24}, {200, 50}} {
		m := atApproval(t, size[0], size[1])
		v := text(m)
		lines := strings.Split(v, "\n")
		whole := false
		for _, l := range lines {
			whole = whole || strings.TrimSpace(l) == longURL
		}
		if size[0] >= 80 && !whole {
			t.Fatalf("at %dx%d the URL is not whole on a line:\n%s", size[0], size[1], v)
		}
		if !strings.Contains(m.render(), ansi.SetHyperlink(longURL)) {
			t.Fatalf("at %dx%d the URL is no hyperlink", size[0], size[1])
		}
		if !strings.Contains(v, "left to approve (payment.approval_timeout 5m0s)") || !strings.Contains(v, "> ") {
			t.Fatalf("at %dx%d no countdown or paste field:\n%s", size[0], size[1], v)
		}
		promised := strings.Contains(v, "(the QR code opens it)")
		if promised != (strings.Contains(v, "▀") || strings.Contains(v, "█")) || !promised && !strings.Contains(strings.Join(strings.Fields(v), " "), "tab shows its QR code alone") {
			t.Fatalf("at %dx%d a QR code promised and not drawn (or the reverse):\n%s", size[0], size[1], v)
		}
		if qr := qrLines(longURL); promised {
			for _, row := range qr { // whole: every row of the code on screen
				if !strings.Contains(v, row) {
					t.Fatalf("at %dx%d the QR code is promised but not whole:\n%s", size[0], size[1], v)
				}
			}
		}
		if !strings.Contains(helpText(m), "esc abandon") {
			t.Fatalf("no esc in the help:\n%s", helpText(m))
		}
		// tab gives the code the screen: whole, or a sentence saying what
		// it needs and the URL whole; never a code cut.
		alone := strings.Split(text(send(t, m, keyMsg("tab"))), "\n")
		code := qrFit(longURL, size[1]-1, size[0])
		switch {
		case len(alone) > size[1]:
			t.Fatalf("at %dx%d the QR code alone takes %d lines", size[0], size[1], len(alone))
		case code != nil && strings.Join(alone[:len(code)], "\n") != strings.Join(code, "\n"):
			t.Fatalf("at %dx%d the QR code alone is not whole:\n%s", size[0], size[1], strings.Join(alone, "\n"))
		case code == nil && (!strings.Contains(alone[0], "too small for the QR code") || strings.ContainsAny(strings.Join(alone, ""), "▀█")):
			t.Fatalf("at %dx%d a QR code that cannot fit is not said:\n%s", size[0], size[1], strings.Join(alone, "\n"))
		}
		if size == [2]int{80, 24} && code == nil {
			t.Fatalf("at 80x24 the QR code does not fit alone")
		}
	}
	// A detail with a long token wraps at spaces and never cuts the token.
	tok := strings.Repeat("T7", 20)
	for _, l := range eventLines(shop.NewEvent(shop.EventStep, "reduce_stock", shop.OutcomeOK, "reserved CARROT-1KG×1, RBT-DOLL×2 for "+tok), 60) {
		if strings.Contains(l, "T7T7") && !strings.Contains(l, tok) || strings.HasSuffix(l, "CARROT-") {
			t.Fatalf("a token is cut: %q", l)
		}
	}
}

// A wrong paste is said and asked again; esc then y abandons the payment:
// the saga is stopped (it compensates) and the countdown ticks meanwhile.
func TestApprovalRefusedThenAbandoned(t *testing.T) {
	m := atApproval(t, 80, 24)
	start := m.sale.deadline
	m = send(t, m, tickMsg(time.Now().Add(3*time.Second)))
	if !strings.Contains(text(m), "4:5") {
		t.Fatalf("the countdown does not move:\n%s", text(m))
	}
	m = send(t, m, approvalRefusedMsg{m.sale.run, shop.Invalid("http://x/pay/1/return is the redirect of another order, not of 2")}, approvalAskMsg{m.sale.run})
	if v := text(m); !m.sale.approving || !strings.Contains(v, "the redirect of another order") || done(m) {
		t.Fatalf("a wrong paste:\n%s", v)
	}
	stopped := false
	m.sale.run.stop = func() { stopped = true }
	m = send(t, m, keyMsg("esc"))
	if !m.sale.abandon || stopped || !strings.Contains(text(m), "n keeps waiting") {
		t.Fatalf("esc asks first:\n%s", text(m))
	}
	m = send(t, m, keyMsg("y"))
	if !stopped || !m.sale.run.abandoned || m.sale.deadline != start {
		t.Fatal("y does not abandon")
	}
	res := app.PlaceResult{Status: app.Failed, FailedStep: "payment", Interrupted: true, Compensated: true}
	m = send(t, m, runDoneMsg{m.sale.run, res, nil})
	if m.screen != scrCart || !strings.Contains(m.status, "payment abandoned") {
		t.Fatalf("after abandoning: %s %q", m.Screen(), m.status)
	}
}

// A compensation that did not finish after a charge says so in its title.
func TestIncompleteTitledAsCharged(t *testing.T) {
	m := atApproval(t, 80, 24)
	m = send(t, m, runEventMsg{m.sale.run, shop.NewEvent(shop.EventStep, "payment", shop.OutcomeOK, "charged ₩28,500 via KAKAO (T1)")},
		runEventMsg{m.sale.run, shop.NewEvent(shop.EventCompensation, "refund", shop.OutcomeFailed, "ask the provider: timeout")})
	m = send(t, m, runDoneMsg{m.sale.run, app.PlaceResult{Status: app.Failed, FailedStep: "create_order", Incomplete: true, Error: "lost"}, nil})
	if v := text(m); !strings.Contains(v, "CHARGED with KAKAO and NOT refunded") || !strings.Contains(v, "saga recover") || strings.Contains(v, "Order not placed:") {
		t.Fatalf("the title:\n%s", v)
	}
}

// A lost database is one sentence, not the driver's text.
func TestDatabaseErrorIsASentence(t *testing.T) {
	lost := fmt.Errorf("failed to write: %w", &net.OpError{Op: "write", Net: "unix", Err: os.NewSyscallError("write", syscall.EPIPE)})
	m := send(t, atCatalogue(t, false), cartMsg{seq: 99, err: lost})
	if !strings.HasPrefix(m.status, "✗ the database is unreachable (broken pipe)") {
		t.Fatalf("status %q", m.status)
	}
}

// Fields made after the window size still show their placeholder whole;
// the header says sandbox or live.
func TestPlaceholdersWholeAndMode(t *testing.T) {
	m := send(t, New(Options{}), tea.WindowSizeMsg{Width: 60, Height: 18}, keyMsg("ctrl+n"), keyMsg("enter"))
	if v := text(m); !strings.Contains(v, "optional, at least 8 characters") {
		t.Fatalf("the password placeholder:\n%s", v)
	}
	c := send(t, New(Options{}), tea.WindowSizeMsg{Width: 60, Height: 18}, pickedMsg{c: rabbit})
	if v := text(c); !strings.Contains(v, "name or SKU") || !strings.Contains(strings.Split(v, "\n")[0], "sandbox") {
		t.Fatalf("the catalogue:\n%s", v)
	}
	live := New(Options{})
	live.mode = "live"
	if h := strings.Split(text(live), "\n")[0]; !strings.Contains(h, "LIVE") {
		t.Fatalf("header %q", h)
	}
}

// Small and wide terminals: the catalogue's numbers keep their columns at
// 60, and the name column stops growing on a wide screen.
func TestTablesByWidth(t *testing.T) {
	small := text(send(t, atCatalogue(t, false), tea.WindowSizeMsg{Width: 60, Height: 18}))
	if !strings.Contains(small, "cart") || !strings.Contains(small, "₩89,000") {
		t.Fatalf("at 60 columns:\n%s", small)
	}
	w := widths(198, productColumns)
	if w[2] != nameCap {
		t.Fatalf("name column %d wide at 200 columns", w[2])
	}
	// At 60 the name comes before the id and SKU; at 132 two long names
	// that start alike are told apart; the header keeps the customer whole.
	for _, cols := range [][]column{productColumns, cartColumns, orderColumns} {
		w := widths(58, cols)
		for i, c := range cols {
			if c.name && w[i] < nameMin {
				t.Fatalf("at 60 columns the name is %d cells: %v", w[i], w)
			}
			if n := abs(w[i]); n > 0 && n < 4 {
				t.Fatalf("at 60 columns a column is a %d-cell sliver: %v", n, w)
			}
		}
	}
	if w := widths(58, productColumns); abs(w[1]) > w[2] {
		t.Fatalf("at 60 columns the SKU (%d) is wider than the name (%d)", abs(w[1]), w[2])
	}
	if w := widths(130, productColumns); w[2] < 60 {
		t.Fatalf("at 132 columns the name column stops at %d cells", w[2])
	}
	if h := strings.Split(small, "\n")[0]; !strings.Contains(h, "customer 1 김토끼") {
		t.Fatalf("at 60 columns the header cuts the customer: %q", h)
	}
	var buf bytes.Buffer
	for _, l := range strings.Split(text(send(t, atCatalogue(t, false), tea.WindowSizeMsg{Width: 200, Height: 50})), "\n") {
		if ansi.StringWidth(l) > 200 {
			buf.WriteString(l)
		}
	}
	if buf.Len() > 0 {
		t.Fatalf("lines wider than the screen: %s", buf.String())
	}
}

// A ctrl+c that stopped a saga is an interruption (exit 130 in the CLI).
// While the buyer approves, the first ctrl+c asks (a terminal where it
// copies must not end the sale) and n keeps waiting; a second one quits
// (issue 29).
func TestQuitDuringASagaIsAnInterruption(t *testing.T) {
	m := atApproval(t, 80, 24)
	m = send(t, m, keyMsg("ctrl+c"))
	if m.quitting || !m.sale.abandon || !strings.Contains(text(m), "abandon the payment the buyer has not approved?") {
		t.Fatalf("the first ctrl+c did not ask: quitting %v, abandon %v\n%s", m.quitting, m.sale.abandon, text(m))
	}
	if m = send(t, m, keyMsg("n")); m.sale.abandon || m.quitting || !m.sale.approving {
		t.Fatalf("n did not keep waiting: abandon %v, quitting %v", m.sale.abandon, m.quitting)
	}
	m = send(t, m, keyMsg("ctrl+c"), keyMsg("ctrl+c"))
	if !m.quitting {
		t.Fatal("a second ctrl+c did not quit")
	}
	m = send(t, m, runDoneMsg{m.sale.run, app.PlaceResult{Status: app.Failed, FailedStep: "payment", Interrupted: true, Compensated: true}, nil})
	if err := m.Interrupted(); !errorsIs(err, shop.ErrInterrupted) {
		t.Fatalf("interrupted: %v", err)
	}
}

func errorsIs(err, target error) bool { return errors.Is(err, target) }

// ↓ on the last row of a page goes on to the next page.
func TestDownPastThePageEnd(t *testing.T) {
	m := send(t, atCatalogue(t, true), presses("down", "down", "down")...)
	if m.catalogue.sel != 3 || m.catalogue.after != 0 {
		t.Fatalf("sel %d after %d", m.catalogue.sel, m.catalogue.after)
	}
	if m = send(t, m, keyMsg("down")); m.catalogue.after != 4 || m.catalogue.sel != 0 {
		t.Fatalf("↓ at the page end: after %d sel %d", m.catalogue.after, m.catalogue.sel)
	}
}

// enter typed before the search answered picks the first match once it does.
func TestEnterBeforeTheSearchAnswered(t *testing.T) {
	m := send(t, New(Options{}), keyMsg("김"), keyMsg("enter"))
	if m.screen != scrCustomers || strings.Contains(m.status, "no customer matches") {
		t.Fatalf("enter before the answer: %s %q", m.Screen(), m.status)
	}
	m = send(t, m, customersMsg{seq: m.customers.seq, items: []shop.Customer{rabbit}})
	if m.screen != scrCatalogue || m.customer == nil || m.customer.ID != 1 {
		t.Fatalf("the answer did not pick: %s", m.Screen())
	}
}

// After a sale, enter alone starts no sale for whoever is first in the
// list: the next customer is chosen by name or by moving to them (issue 29).
func TestNextCheckoutNeedsADeliberateChoice(t *testing.T) {
	m := atApproval(t, 80, 24)
	m = send(t, m, runDoneMsg{m.sale.run, app.PlaceResult{Status: app.Placed, Order: &shop.Order{ID: 9, TotalAmount: 28500,
		Payment: &shop.Payment{Method: shop.Kakao}}}, nil})
	m = send(t, m, keyMsg("enter"))
	if m.screen != scrCustomers {
		t.Fatalf("enter after the sale: screen %s", m.Screen())
	}
	m = send(t, m, customersMsg{seq: m.customers.seq, items: []shop.Customer{rabbit, {ID: 2, Name: "박당근"}}})
	if m = send(t, m, keyMsg("enter")); m.screen != scrCustomers || m.customer != nil || !strings.Contains(text(m), "choose the next customer") {
		t.Fatalf("a second enter started a sale: screen %s, customer %v", m.Screen(), m.customer)
	}
	if m = send(t, m, keyMsg("down"), keyMsg("enter")); m.customer == nil || m.customer.ID != 2 {
		t.Fatalf("a customer moved to and chosen: %v", m.customer)
	}
}

// enter on an empty field says what is missing instead of moving on
// silently: the register form's name, the buyer's paste (issue 29).
func TestEnterOnAnEmptyFieldSaysSo(t *testing.T) {
	m := send(t, New(Options{}), tea.WindowSizeMsg{Width: 80, Height: 24}, keyMsg("ctrl+n"))
	if m = send(t, m, keyMsg("enter")); m.screen != scrRegister || m.register.onPassword || !strings.Contains(text(m), "type the customer's name first") {
		t.Fatalf("enter on an empty name: screen %s, on password %v\n%s", m.Screen(), m.register.onPassword, text(m))
	}
	m = atApproval(t, 80, 24)
	if m = send(t, m, keyMsg("enter")); !m.sale.approving || !strings.Contains(text(m), "paste the token, or the URL the buyer landed on, first") {
		t.Fatalf("enter on an empty paste: approving %v\n%s", m.sale.approving, text(m))
	}
	select {
	case tok := <-m.sale.run.tokens:
		t.Fatalf("an empty paste was sent: %q", tok)
	default:
	}
}

// The result screen wraps a long item line as the order detail does: the
// quantity and price of every item are on screen (scrolled to), never cut.
// A long status is wrapped whole over the blank rows above it.
func TestLongLinesWrapNotCut(t *testing.T) {
	for _, size := range [][2]int{{60, 18}, {80, 24}} {
		m := atApproval(t, size[0], size[1])
		o := &shop.Order{ID: 9, TotalAmount: 28500, Payment: &shop.Payment{Method: shop.Kakao}}
		for i := range 12 {
			o.Items = append(o.Items, shop.OrderItem{SKU: fmt.Sprintf("RBT-PLUSH-LARGE-%02d", i),
				Name: "토끼 인형 특대형 한정판 선물 포장 포함", Quantity: int64(i + 1), OrderPrice: 28500})
		}
		m = send(t, m, runDoneMsg{m.sale.run, app.PlaceResult{Status: app.Placed, Order: o}, nil})
		content, _ := m.sagaLines()
		all := ansi.Strip(strings.Join(content, "\n"))
		for _, it := range o.Items {
			if !strings.Contains(all, fmt.Sprintf("× %d at ₩28,500", it.Quantity)) {
				t.Fatalf("at %dx%d item %s lost its quantity and price:\n%s", size[0], size[1], it.SKU, all)
			}
		}
		inItems := false
		for _, l := range content {
			plain := ansi.Strip(l)
			switch {
			case strings.HasPrefix(plain, "✓ order 9"):
				inItems = true
			case strings.HasPrefix(plain, "  saga"):
				inItems = false
			case inItems && !strings.HasPrefix(plain, "    "):
				t.Fatalf("at %dx%d an item's continuation is not indented under it: %q", size[0], size[1], plain)
			}
			if w := ansi.StringWidth(l); w > size[0] {
				t.Fatalf("at %dx%d a line is %d cells wide (cut on screen): %q", size[0], size[1], w, ansi.Strip(l))
			}
		}
		msg := "✗ the cart could not be saved: the database is unreachable (connection refused); nothing more was done — try again once it is back"
		m.status = msg
		v := strings.Join(strings.Fields(text(m)), " ")
		if !strings.Contains(v, msg) || len(strings.Split(text(m), "\n")) > size[1] {
			t.Fatalf("at %dx%d the status is not whole on screen:\n%s", size[0], size[1], text(m))
		}
	}
}

// An order cancelled in the orders tab is not still called paid in the
// checkout tab that placed it (issue 29, item 13).
func TestCheckoutTabSeesTheCancel(t *testing.T) {
	m := atApproval(t, 80, 24)
	m = send(t, m, runDoneMsg{m.sale.run, app.PlaceResult{Status: app.Placed, Order: &shop.Order{ID: 9, TotalAmount: 28500,
		Status: shop.OrderPaid, Payment: &shop.Payment{Method: shop.Kakao}}}, nil})
	m = send(t, m, keyMsg("ctrl+o"))
	m.orders.run = &run{kind: runCancel, orderID: 9, ch: make(chan tea.Msg, 1), stop: func() {}}
	m = send(t, m, runDoneMsg{m.orders.run, app.PlaceResult{}, nil}, keyMsg("ctrl+o"))
	if v := text(m); m.screen != scrSaga || !strings.Contains(v, "Order 9 placed, then cancelled: ₩28,500 refunded") ||
		!strings.Contains(v, "since cancelled in the orders tab") {
		t.Fatalf("the checkout tab after the cancel (%s):\n%s", m.Screen(), v)
	}
}

// The end of a live placement is in view: the approval left the trail at
// its top (for the QR code), the outcome is at its bottom.
func TestOutcomeInViewAfterApproval(t *testing.T) {
	m := atApproval(t, 60, 18)
	for range 6 { // a trail longer than the screen
		m = send(t, m, runEventMsg{m.sale.run, shop.NewEvent(shop.EventStep, "approval", shop.OutcomeWaiting, "asked again: approve at "+longURL)})
	}
	m = send(t, m, runDoneMsg{m.sale.run, app.PlaceResult{Status: app.Placed, OrderUUID: "3b1c2d4e", Order: &shop.Order{ID: 9, TotalAmount: 28500,
		Payment: &shop.Payment{Method: shop.Kakao}}}, nil})
	if v := text(m); !strings.Contains(v, "✓ order 9 — ₩28,500 paid with KAKAO") || !strings.Contains(v, "saga 3b1c2d4e") {
		t.Fatalf("the outcome is out of view:\n%s", v)
	}
}
