package tui

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	tea "charm.land/bubbletea/v2"

	"github.com/rabbitpay/rabbitpay/internal/app"
	"github.com/rabbitpay/rabbitpay/internal/shop"
)

// cartLines is the cart as it is about to be: the cart shown with the
// write in flight and the changes waiting applied (a line taken out is
// gone), so every key acts on what the screen shows.
func (m Model) cartLines() []shop.CartLine {
	var out []shop.CartLine
	for _, it := range m.review.cart.Items {
		if q := m.inCart(it.ProductID); q > 0 {
			it.Quantity = q
			out = append(out, it)
		}
	}
	return out
}

// units is how many items the cart holds (not how many lines).
func (m Model) units() int64 {
	var n int64
	for _, it := range m.cartLines() {
		n += it.Quantity
	}
	return n
}

func (m Model) cartKey(k tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	items := m.cartLines()
	m.review.row = max(min(m.review.row, len(items)-1), 0)
	var it *shop.CartLine
	if len(items) > 0 {
		it = &items[m.review.row]
	}
	up, down := m.cartNav()
	switch {
	case m.is(k, keys.Back), m.is(k, keys.ToCart):
		m.screen, m.review.removed = scrCatalogue, nil
		return m.then(func(m *Model) tea.Cmd { return tea.Batch(m.catalogue.input.Focus(), m.searchProducts()) })
	case m.is(k, up):
		m.review.row = max(m.review.row-1, 0)
	case m.is(k, down):
		m.review.row = max(min(m.review.row+1, len(items)-1), 0)
	case m.is(k, keys.Inc) && it != nil:
		pid := it.ProductID
		return m.then(func(m *Model) tea.Cmd { return m.adjust(pid, 1) })
	case m.is(k, keys.Dec) && it != nil:
		pid := it.ProductID
		return m.then(func(m *Model) tea.Cmd { return m.adjust(pid, -1) })
	case m.is(k, keys.Remove) && it != nil:
		pid, gone := it.ProductID, *it
		m.review.row = max(min(m.review.row, len(items)-2), 0) // the line below moves up under the cursor
		// No question at a busy counter, but undone with one key.
		m.review.removed = &gone
		m.status = fmt.Sprintf("removed %s %s × %d — u puts it back", gone.SKU, gone.Name, gone.Quantity)
		return m.then(func(m *Model) tea.Cmd { return m.remove(pid) })
	case m.is(k, keys.Undo) && m.review.removed != nil:
		back := *m.review.removed
		m.review.removed = nil
		m.status = fmt.Sprintf("%s × %d is back in the cart", back.SKU, back.Quantity)
		return m.then(func(m *Model) tea.Cmd { return m.adjust(back.ProductID, back.Quantity) })
	case m.is(k, keys.Method):
		m.review.method = m.review.methods[(slices.Index(m.review.methods, m.review.method)+1)%len(m.review.methods)]
	case m.is(k, keys.ShipTo):
		m.ship.next()
	case m.is(k, keys.Pay):
		switch {
		case m.saving():
			m.status = "the cart is still being saved; press enter again in a moment"
		case len(items) == 0:
			m.status = "✗ the cart is empty: add products in the catalogue (tab)"
		case slices.ContainsFunc(items, func(it shop.CartLine) bool { return m.aboveStock(it) >= 0 }):
			// The sale would be refused: say so before the buyer is asked.
			m.status = "✗ a line (marked !) holds more than the stock: lower it (-) or remove it (d) first"
		default:
			m.screen = scrConfirm
		}
	default:
		for _, pm := range m.review.methods {
			if m.is(k, methodKey(pm)) {
				m.review.method = pm
			}
		}
	}
	return m, nil
}

// confirmKey: only y charges, so a second enter (a double tap on pay)
// never does.
func (m Model) confirmKey(k tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	switch {
	case m.is(k, keys.Confirm):
		return m.place()
	case m.is(k, keys.Decline):
		m.screen = scrCart
	}
	return m, nil
}

// cartColumns: sku, name, price, qty, line total.
var cartColumns = []column{{w: 12, min: 6}, {name: true}, {w: -11, shrink: 9}, {w: -5, shrink: 9}, {w: -12, shrink: 9}}

// aboveStock is the stock of a line the cart holds more of than there is,
// or -1: the newest stock read, by the catalogue or with the cart (read
// again after every sale, won or lost).
func (m Model) aboveStock(it shop.CartLine) int64 {
	s, ok := m.stock[it.ProductID]
	if !ok {
		s = it.Stock
	}
	if it.Quantity > s {
		return s
	}
	return -1
}

func (m Model) cartView() string {
	var b strings.Builder
	b.WriteString("Review the cart\n\n")
	w := widths(m.width-2, cartColumns)
	b.WriteString(styles.dim.Render("  "+row(w, "sku", "name", "price", "qty", "line total")) + "\n")
	items := m.cartLines()
	if len(items) == 0 {
		b.WriteString(styles.dim.Render("  the cart is empty") + "\n")
	}
	ship := strings.Join(styledLines(styles.dim, wrap("Ship to:  "+m.ship.label(), m.width)), "\n")
	// A long cart scrolls with its cursor; the rest of the screen stays.
	h := max(m.bodyHeight()-10-strings.Count(ship, "\n"), 1)
	from, to := window(len(items), m.review.row, h)
	var flagged []string
	for i, it := range items {
		if s := m.aboveStock(it); s >= 0 {
			msg := fmt.Sprintf("%s: %d in the cart, only %d in stock", it.SKU, it.Quantity, s)
			if s == 0 {
				msg = fmt.Sprintf("%s: out of stock, %d in the cart", it.SKU, it.Quantity)
			}
			flagged = append(flagged, msg)
		}
		if i < from || i >= to {
			continue
		}
		qty := strconv.FormatInt(it.Quantity, 10)
		if m.aboveStock(it) >= 0 {
			qty = "!" + qty
		}
		total, _ := it.Price.MulQty(it.Quantity)
		b.WriteString(line(row(w, it.SKU, it.Name, it.Price.String(), qty, total.String()),
			i == m.review.row && m.screen == scrCart) + "\n")
	}
	if to-from < len(items) {
		b.WriteString(styles.dim.Render(fmt.Sprintf("  lines %d–%d of %d", from+1, to, len(items))) + "\n")
	}
	b.WriteString("  " + row(w, "", "", "", "total", m.review.cart.TotalAmount.String()) + "\n")
	if len(flagged) > 0 {
		b.WriteString(styles.bad.Render(clip("✗ above stock — "+strings.Join(flagged, "; "), m.width)) + "\n")
	} else {
		b.WriteString("\n")
	}
	methods := []string{}
	for _, pm := range m.review.methods {
		if pm == m.review.method {
			methods = append(methods, styles.selected.Render("["+string(pm)+"]"))
		} else {
			methods = append(methods, " "+string(pm)+" ")
		}
	}
	b.WriteString("Pay with: " + strings.Join(methods, " ") + "\n")
	b.WriteString(ship + "\n")
	if m.screen == scrConfirm {
		q := fmt.Sprintf("Charge %s with %s for %s? y charges • n/esc back", m.review.cart.TotalAmount, m.review.method, m.customer.Name)
		b.WriteString("\n" + strings.Join(styledLines(styles.warn, wrap(q, m.width)), "\n"))
	}
	return b.String()
}

// styledLines styles each line of a wrapped text on its own.
func styledLines(st interface{ Render(...string) string }, s string) []string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = st.Render(l)
	}
	return lines
}

// placementLine says in one line how a placement ended.
func placementLine(r app.PlaceResult, err error) string {
	switch {
	case err != nil:
		return "order not placed: " + sentence(err)
	case r.Status == app.Placed:
		return fmt.Sprintf("order %d placed: %s paid with %s", r.Order.ID, r.Order.TotalAmount, r.Order.Payment.Method)
	case r.Incomplete:
		return fmt.Sprintf("order failed at %s: %s; NOT fully compensated: run 'rabbitpay saga recover' (saga %s)", r.FailedStep, r.Error, r.OrderUUID)
	case r.Interrupted:
		return fmt.Sprintf("order interrupted before %s; everything was compensated (saga %s)", r.FailedStep, r.OrderUUID)
	}
	return fmt.Sprintf("order failed at %s: %s; everything was compensated (saga %s)", r.FailedStep, r.Error, r.OrderUUID)
}
