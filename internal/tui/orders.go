package tui

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/rabbitpay/rabbitpay/internal/app"
	"github.com/rabbitpay/rabbitpay/internal/shop"
)

// ordersTab lists today's orders; one opens with its items, payment,
// deliveries and saga trail, and can be cancelled.
type ordersTab struct {
	items      []shop.Order
	more       bool
	sel        int
	order      *shop.Order
	want       int64 // the order asked for: an answer about another is dropped
	confirming bool
	run        *run // the cancel in flight or last finished (kept apart from placements)
}

type ordersMsg struct {
	page shop.Page[shop.Order]
	err  error
}

type orderMsg struct {
	id    int64
	order shop.Order
	err   error
}

const ordersLimit = 200

func (m Model) loadOrders() tea.Cmd {
	return m.call(func(ctx context.Context, sh Shop) tea.Msg {
		p, err := sh.TodaysOrders(ctx, time.Now(), ordersLimit)
		return ordersMsg{p, err}
	})
}

// loadOrder reads order id, the one the order screen shows from now on.
func (m *Model) loadOrder(id int64) tea.Cmd {
	m.orders.want = id
	return m.call(func(ctx context.Context, sh Shop) tea.Msg {
		o, err := sh.Order(ctx, id)
		return orderMsg{id, o, err}
	})
}

// toggleOrders switches between the checkout and the orders tab.
func (m Model) toggleOrders() (tea.Model, tea.Cmd) {
	if m.screen == scrOrders || m.screen == scrOrder {
		m.screen = m.back
		if m.screen == scrSaga && m.run == nil { // no placement to show: never a cancel
			m.screen = scrCustomers
			if m.customer != nil {
				m.screen = scrCart
			}
		}
		switch m.screen {
		case scrCustomers:
			return m.then(func(m *Model) tea.Cmd { return m.customers.input.Focus() })
		case scrCatalogue:
			return m.then(func(m *Model) tea.Cmd { return m.catalogue.input.Focus() })
		}
		return m, nil
	}
	m.back, m.screen = m.screen, scrOrders
	m.orders.order, m.orders.confirming = nil, false
	return m, m.loadOrders()
}

func (m Model) ordersKey(k tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	o := &m.orders
	switch k.String() {
	case "esc":
		return m.toggleOrders()
	case "up":
		o.sel = max(o.sel-1, 0)
	case "down":
		o.sel = max(min(o.sel+1, len(o.items)-1), 0)
	case "r":
		return m, m.loadOrders()
	case "enter":
		if len(o.items) > 0 {
			m.screen = scrOrder
			o.order, o.confirming = nil, false
			if !m.cancelling() {
				o.run = nil
			}
			id := o.items[o.sel].ID
			return m.then(func(m *Model) tea.Cmd { return m.loadOrder(id) })
		}
	}
	return m, nil
}

func (m Model) orderKey(k tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	o := &m.orders
	if m.runningNow() || o.order == nil {
		if k.String() == "esc" && !m.runningNow() {
			m.screen = scrOrders
		}
		return m, nil
	}
	if o.confirming {
		switch k.String() {
		case "y", "enter":
			o.confirming = false
			return m.cancelOrder(o.order.ID)
		case "n", "esc":
			o.confirming = false
		}
		return m, nil
	}
	switch k.String() {
	case "esc":
		m.screen = scrOrders
		return m, m.loadOrders()
	case "r":
		id := o.order.ID
		return m.then(func(m *Model) tea.Cmd { return m.loadOrder(id) })
	case "c":
		if o.order.Status == shop.OrderCancelled {
			m.status = fmt.Sprintf("order %d is already cancelled", o.order.ID)
			return m, nil
		}
		o.confirming = true
	}
	return m, nil
}

func (m Model) cancelOrder(id int64) (tea.Model, tea.Cmd) {
	r, sh := &run{kind: runCancel, orderID: id}, m.opts.Shop
	cmd := m.start(r, func(ctx context.Context, obs shop.Observer) (app.PlaceResult, error) {
		_, err := sh.CancelOrder(ctx, id, obs)
		return app.PlaceResult{}, err
	})
	m.orders.run = r
	return m, cmd
}

func (m Model) ordersData(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case ordersMsg:
		if msg.err != nil {
			m.status = "✗ " + msg.err.Error()
			return m, nil
		}
		m.orders.items, m.orders.more = msg.page.Items, msg.page.More
		m.orders.sel = min(m.orders.sel, max(len(msg.page.Items)-1, 0))
	case orderMsg:
		if msg.id != m.orders.want {
			return m, nil // an answer about an order no longer shown
		}
		if msg.err != nil {
			m.status = "✗ " + msg.err.Error()
			return m, nil
		}
		m.orders.order = &msg.order
	}
	return m, nil
}

func (m Model) ordersView() string {
	o := m.orders
	w := []int{-6, 8, -9, 10, -14}
	lines := []string{fmt.Sprintf("Orders placed today: %d", len(o.items)), "",
		styles.dim.Render("  " + row(w, "id", "time", "customer", "status", "total"))}
	if len(o.items) == 0 {
		lines = append(lines, styles.dim.Render("  no order today yet"))
	}
	from, to := window(len(o.items), o.sel, m.height-9)
	for i := from; i < to; i++ {
		it := o.items[i]
		lines = append(lines, line(row(w, strconv.FormatInt(it.ID, 10), it.CreatedAt.Local().Format("15:04:05"),
			strconv.FormatInt(it.CustomerID, 10), string(it.Status), it.TotalAmount.String()), i == o.sel))
	}
	if o.more {
		lines = append(lines, styles.dim.Render(fmt.Sprintf("  (the newest %d are shown)", len(o.items))))
	}
	return strings.Join(lines, "\n")
}

func (m Model) orderView() string {
	o := m.orders.order
	if o == nil {
		return "Loading the order…"
	}
	lines := []string{fmt.Sprintf("Order %d — %s — %s — customer %d — %s", o.ID, o.Status, o.TotalAmount, o.CustomerID,
		o.CreatedAt.Local().Format("2006-01-02 15:04:05")), ""}
	for _, it := range o.Items {
		l := fmt.Sprintf("  %s %s × %d  %s", it.SKU, it.Name, it.Quantity, it.OrderPrice)
		if it.Refunded > 0 {
			l += fmt.Sprintf("  refunded: %d", it.Refunded)
		}
		if it.DeliveryStatus != "" {
			l += "  delivery: " + it.DeliveryStatus
		}
		lines = append(lines, l)
	}
	if p := o.Payment; p != nil {
		lines = append(lines, fmt.Sprintf("  payment %d: %s %s %s %s", p.ID, p.Method, p.Status, p.Amount, p.ProviderTxID))
	}
	lines = append(lines, "", "Saga trail:")
	for _, ev := range o.Saga {
		lines = append(lines, eventLines(ev, m.width)...)
	}
	if r := m.orders.run; r != nil && r.orderID == o.ID && !r.done {
		lines = append(lines, "", "Cancel:")
		lines = append(lines, m.runLines(r)...)
	}
	if m.orders.confirming {
		lines = append(lines, "", styles.warn.Render(fmt.Sprintf("Cancel order %d: refund %s and restore its stock? y/enter yes • n/esc no",
			o.ID, o.TotalAmount)))
	}
	// Keep the end (the newest events, the question) on screen.
	if h := m.height - 6; len(lines) > h && h > 0 {
		lines = append(lines[:1], lines[len(lines)-h+1:]...)
	}
	return strings.Join(lines, "\n")
}
