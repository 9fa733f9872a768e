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

func (m Model) cartKey(k tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	items := m.cart.Items
	var it *shop.CartLine
	if len(items) > 0 {
		it = &items[m.cartRow]
	}
	switch k.String() {
	case "esc", "tab":
		m.screen = scrCatalogue
		return m.then(func(m *Model) tea.Cmd { return tea.Batch(m.catalogue.input.Focus(), m.searchProducts()) })
	case "up":
		m.cartRow = max(m.cartRow-1, 0)
	case "down":
		m.cartRow = max(min(m.cartRow+1, len(items)-1), 0)
	case "+", "=", "right":
		if it != nil {
			pid := it.ProductID
			return m.then(func(m *Model) tea.Cmd { return m.adjust(pid, 1) })
		}
	case "-", "left":
		if it != nil {
			pid := it.ProductID
			return m.then(func(m *Model) tea.Cmd { return m.adjust(pid, -1) })
		}
	case "d", "delete", "backspace":
		if it != nil {
			pid := it.ProductID
			return m.then(func(m *Model) tea.Cmd { return m.remove(pid) })
		}
	case "m":
		m.method = m.methods[(slices.Index(m.methods, m.method)+1)%len(m.methods)]
	case "enter", "p":
		switch {
		case m.saving():
			m.status = "the cart is still being saved; press enter again in a moment"
		case len(items) == 0:
			m.status = "✗ the cart is empty: add products in the catalogue (tab)"
		default:
			m.screen = scrConfirm
		}
	default: // a method's initial picks it: n NAVER, k KAKAO
		for _, pm := range m.methods {
			if strings.EqualFold(k.String(), string(pm)[:1]) {
				m.method = pm
				break
			}
		}
	}
	return m, nil
}

func (m Model) confirmKey(k tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	switch k.String() {
	case "y", "enter":
		return m.place()
	case "n", "esc":
		m.screen = scrCart
	}
	return m, nil
}

func (m Model) cartView() string {
	var b strings.Builder
	b.WriteString("Review the cart\n\n")
	name := max(m.width-2-12-12-5-14-5, 10)
	w := []int{12, name, -12, -5, -14}
	b.WriteString(styles.dim.Render("  "+row(w, "sku", "name", "price", "qty", "line total")) + "\n")
	if len(m.cart.Items) == 0 {
		b.WriteString(styles.dim.Render("  the cart is empty") + "\n")
	}
	for i, it := range m.cart.Items {
		b.WriteString(line(row(w, it.SKU, it.Name, it.Price.String(), strconv.FormatInt(it.Quantity, 10), it.LineTotal.String()),
			i == m.cartRow && m.screen == scrCart) + "\n")
	}
	b.WriteString("  " + row(w, "", "", "", "total", m.cart.TotalAmount.String()) + "\n\n")
	methods := []string{}
	for _, pm := range m.methods {
		if pm == m.method {
			methods = append(methods, styles.selected.Render("["+string(pm)+"]"))
		} else {
			methods = append(methods, " "+string(pm)+" ")
		}
	}
	b.WriteString("Pay with: " + strings.Join(methods, " ") + "\n")
	if m.screen == scrConfirm {
		b.WriteString("\n" + styles.warn.Render(fmt.Sprintf("Charge %s with %s for %s? y/enter yes • n/esc no",
			m.cart.TotalAmount, m.method, m.customer.Name)))
	}
	return b.String()
}

// placementLine says in one line how a placement ended.
func placementLine(r app.PlaceResult, err error) string {
	switch {
	case err != nil:
		return "order not placed: " + err.Error()
	case r.Status == app.Placed:
		return fmt.Sprintf("order %d placed: %s paid with %s", r.Order.ID, r.Order.TotalAmount, r.Order.Payment.Method)
	case r.Incomplete:
		return fmt.Sprintf("order failed at %s: %s; NOT fully compensated: run 'rabbitpay saga recover' (saga %s)", r.FailedStep, r.Error, r.OrderUUID)
	case r.Interrupted:
		return fmt.Sprintf("order interrupted before %s; everything was compensated (saga %s)", r.FailedStep, r.OrderUUID)
	}
	return fmt.Sprintf("order failed at %s: %s; everything was compensated (saga %s)", r.FailedStep, r.Error, r.OrderUUID)
}
