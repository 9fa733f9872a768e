package tui

import (
	"context"
	"fmt"
	"maps"
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
	run        *run   // the cancel in flight or last finished (kept apart from placements)
	jump       string // the order number typed so far (digits go to the order)
}

// jumpTo adds digit d to the order number typed and puts the cursor on the
// order with that number, or the first whose number starts so; a number
// no order has starts again from d.
func (o *ordersTab) jumpTo(d string) {
	for _, want := range []string{o.jump + d, d} {
		at := -1
		for i, it := range o.items {
			id := strconv.FormatInt(it.ID, 10)
			if id == want { // the order with that very number wins
				at = i
				break
			}
			if at < 0 && strings.HasPrefix(id, want) {
				at = i
			}
		}
		if at >= 0 {
			o.sel, o.jump = at, want
			return
		}
	}
	o.jump = ""
}

type ordersMsg struct {
	page  shop.Page[shop.Order]
	names map[int64]string
	err   error
}

type orderMsg struct {
	id    int64
	order shop.Order
	err   error
}

const ordersLimit = 200

func (m Model) loadOrders() tea.Cmd {
	return m.call(func(ctx context.Context, sh Shop) tea.Msg {
		p, names, err := sh.TodaysOrders(ctx, time.Now(), ordersLimit)
		return ordersMsg{p, names, err}
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
		if m.screen == scrSaga && m.sale.run == nil { // no placement to show: never a cancel
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
	page := max(m.bodyHeight()-5, 1)
	last := max(len(o.items)-1, 0)
	if d := k.Text; len(d) == 1 && d[0] >= '0' && d[0] <= '9' {
		o.jumpTo(d)
		return m, nil
	}
	o.jump = ""
	switch {
	case m.is(k, keys.OrdersBack):
		return m.toggleOrders()
	case m.is(k, keys.Up):
		o.sel = max(o.sel-1, 0)
	case m.is(k, keys.Down):
		o.sel = min(o.sel+1, last)
	case m.is(k, keys.PgUp):
		o.sel = max(o.sel-page, 0)
	case m.is(k, keys.PgDown):
		o.sel = min(o.sel+page, last)
	case m.is(k, keys.Top):
		o.sel = 0
	case m.is(k, keys.Bottom):
		o.sel = last
	case m.is(k, keys.Refresh):
		return m, m.loadOrders()
	case m.is(k, keys.Open):
		if len(o.items) > 0 {
			m.screen = scrOrder
			o.order, o.confirming = nil, false
			if !m.cancelling() {
				o.run = nil
			}
			id := o.items[o.sel].ID
			m.vp.GotoTop()
			return m.then(func(m *Model) tea.Cmd { return m.loadOrder(id) })
		}
	}
	return m, nil
}

// cancellable reports whether a cancel of o can succeed, by the shop's own
// rule (shop.CheckCancel) over what the order shows.
func cancellable(o shop.Order) bool {
	snap := shop.OrderSnapshot{ID: o.ID, Status: o.Status}
	for _, it := range o.Items {
		snap.Items = append(snap.Items, shop.ItemRef{SKU: it.SKU, Delivery: shop.DeliveryStatus(it.DeliveryStatus)})
	}
	done, err := shop.CheckCancel(snap)
	return !done && err == nil
}

func (m Model) orderKey(k tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	o := &m.orders
	if m.scrollKey(k) {
		return m, nil
	}
	if m.runningNow() || o.order == nil {
		switch {
		case m.runningNow():
		case m.is(k, keys.Back):
			m.screen = scrOrders
		case m.is(k, keys.Refresh): // after a load that failed: ask again
			id := o.want
			return m.then(func(m *Model) tea.Cmd { return m.loadOrder(id) })
		}
		return m, nil
	}
	if o.confirming {
		switch {
		case m.is(k, keys.ConfirmCancel):
			o.confirming = false
			return m.cancelOrder(o.order.ID)
		case m.is(k, keys.KeepOrder):
			o.confirming = false
		}
		return m, nil
	}
	switch {
	case m.is(k, keys.Back):
		m.screen = scrOrders
		return m, m.loadOrders()
	case m.is(k, keys.Refresh):
		id := o.order.ID
		return m.then(func(m *Model) tea.Cmd { return m.loadOrder(id) })
	case m.is(k, keys.CancelOrder):
		if !cancellable(*o.order) {
			m.status = fmt.Sprintf("order %d cannot be cancelled (%s)", o.order.ID, o.order.Status)
			if _, err := shop.CheckCancel(shop.OrderSnapshot{ID: o.order.ID, Status: o.order.Status}); err != nil {
				m.status = "✗ " + err.Error()
			} else if o.order.Status == shop.OrderCancelled {
				m.status = fmt.Sprintf("order %d is already cancelled", o.order.ID)
			}
			return m, nil
		}
		o.confirming = true // asked under the order, in sight wherever it is scrolled
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
			m.status = "✗ " + sentence(msg.err)
			return m, nil
		}
		m.orders.items, m.orders.more = msg.page.Items, msg.page.More
		m.names = maps.Clone(m.names) // copied on write: an older model may still be read
		maps.Copy(m.names, msg.names)
		m.orders.sel = min(m.orders.sel, max(len(msg.page.Items)-1, 0))
	case orderMsg:
		if msg.id != m.orders.want {
			return m, nil // an answer about an order no longer shown
		}
		if msg.err != nil {
			m.status = "✗ " + sentence(msg.err)
			return m, nil
		}
		if m.orders.order == nil || m.orders.order.ID != msg.order.ID {
			m.vp.GotoTop() // a new order opens at its head and first items
		}
		m.orders.order = &msg.order
	}
	return m, nil
}

// orderColumns: id, time, customer, method, status, total, units.
var orderColumns = []column{{w: -6, shrink: 9}, {w: 8, shrink: 1}, {name: true}, {w: 6, shrink: 2}, {w: 9, shrink: 9}, {w: -11, shrink: 9}}

func (m Model) ordersView() string {
	o := m.orders
	w := widths(m.width-2, orderColumns)
	lines := []string{fmt.Sprintf("Orders placed today: %d", len(o.items)), "",
		styles.dim.Render("  " + row(w, "id", "time", "customer", "method", "status", "total"))}
	if len(o.items) == 0 {
		lines = append(lines, styles.dim.Render("  no order today yet"))
	}
	from, to := window(len(o.items), o.sel, m.bodyHeight()-5)
	for i := from; i < to; i++ {
		it := o.items[i]
		name, method := m.names[it.CustomerID], ""
		if name == "" {
			name = fmt.Sprintf("customer %d", it.CustomerID)
		}
		if it.Payment != nil {
			method = string(it.Payment.Method)
		}
		lines = append(lines, line(row(w, strconv.FormatInt(it.ID, 10), it.CreatedAt.Local().Format("15:04:05"),
			name, method, string(it.Status), it.TotalAmount.String()), i == o.sel))
	}
	if to-from < len(o.items) {
		lines = append(lines, styles.dim.Render(fmt.Sprintf("  orders %d–%d of %d", from+1, to, len(o.items))))
	}
	if o.more {
		lines = append(lines, styles.dim.Render(fmt.Sprintf("  (the newest %d are shown)", len(o.items))))
	}
	return strings.Join(lines, "\n")
}

// orderLines is the order screen's content, whole: the viewport scrolls it.
func (m Model) orderLines() []string {
	o := m.orders.order
	if o == nil {
		return []string{"Loading the order…"}
	}
	who := m.names[o.CustomerID]
	if who == "" {
		who = fmt.Sprintf("customer %d", o.CustomerID)
	}
	head := fmt.Sprintf("Order %d — %s — %s — %s — %s", o.ID, o.Status, o.TotalAmount, who, o.CreatedAt.Local().Format("2006-01-02 15:04:05"))
	lines := append(strings.Split(wrap(head, m.width), "\n"), "")
	var units int64
	for _, it := range o.Items {
		units += it.Quantity
	}
	lines = append(lines, fmt.Sprintf("Items: %d line(s), %d unit(s)", len(o.Items), units))
	for _, it := range o.Items {
		l := fmt.Sprintf("%s %s × %d  %s", it.SKU, it.Name, it.Quantity, it.OrderPrice)
		if it.Refunded > 0 {
			l += fmt.Sprintf("  refunded: %d", it.Refunded)
		}
		if it.DeliveryStatus != "" {
			l += "  delivery: " + it.DeliveryStatus
		}
		lines = append(lines, indented(l, m.width, "  ", "    ")...)
	}
	if p := o.Payment; p != nil {
		l := fmt.Sprintf("Payment %d: %s %s %s %s", p.ID, p.Method, p.Status, p.Amount, p.ProviderTxID)
		lines = append(lines, "", strings.TrimSpace(wrap(l, m.width)))
	}
	lines = append(lines, "", "Saga trail:")
	for _, ev := range o.Saga {
		lines = append(lines, eventLines(ev, m.width)...)
	}
	if r := m.orders.run; r != nil && r.orderID == o.ID && !r.done {
		lines = append(lines, "", "Cancel:")
		lines = append(lines, m.runLines(r)...)
	}
	return lines
}

// orderPinned is what stays in sight under the order however it is
// scrolled: the cancel question while it is asked.
func (m Model) orderPinned() []string {
	o := m.orders.order
	if o == nil || !m.orders.confirming {
		return nil
	}
	q := fmt.Sprintf("Cancel order %d: refund %s and restore its stock? y cancels it • n/esc keeps it", o.ID, o.TotalAmount)
	return append([]string{""}, styledLines(styles.warn, wrap(q, m.width))...)
}
