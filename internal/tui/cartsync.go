package tui

import (
	"context"
	"maps"
	"slices"
	"strconv"

	tea "charm.land/bubbletea/v2"

	"github.com/rabbitpay/rabbitpay/internal/shop"
)

// cartSync keeps the shown cart in step with the real one when keys come
// faster than the database answers: one write at a time, the quantities
// asked for meanwhile kept in want, and an answer older than one already
// shown dropped.
type cartSync struct {
	seq, seen int             // requests issued; the newest answer shown
	want      map[int64]int64 // product id → quantity asked for, not yet written (copied on write)
	writing   *cartWrite      // the write in flight
}

type cartWrite struct{ productID, qty int64 }

type cartMsg struct {
	seq   int
	cart  shop.Cart
	err   error
	wrote *cartWrite // nil for a read
}

// loadCart reads the cart, unless a write in flight brings it anyway.
func (m *Model) loadCart() tea.Cmd {
	if m.customer == nil || m.cs.writing != nil {
		return nil
	}
	m.cs.seq++
	seq, id := m.cs.seq, m.customer.ID
	return m.call(func(ctx context.Context, sh Shop) tea.Msg {
		c, err := sh.Cart(ctx, id)
		return cartMsg{seq: seq, cart: c, err: err}
	})
}

// setQuantity asks for qty of a product in the real cart (0 takes it out);
// the app refuses more than the stock.
func (m *Model) setQuantity(productID, qty int64) tea.Cmd {
	want := maps.Clone(m.cs.want)
	if want == nil {
		want = map[int64]int64{}
	}
	want[productID] = qty
	m.cs.want = want
	return m.nextWrite()
}

func (m *Model) nextWrite() tea.Cmd {
	if m.cs.writing != nil || len(m.cs.want) == 0 || m.customer == nil {
		return nil
	}
	pid := slices.Min(slices.Collect(maps.Keys(m.cs.want)))
	w := &cartWrite{pid, m.cs.want[pid]}
	m.cs.writing = w
	m.cs.seq++
	seq, id, ref := m.cs.seq, m.customer.ID, "#"+strconv.FormatInt(pid, 10)
	return m.call(func(ctx context.Context, sh Shop) tea.Msg {
		c, err := sh.SetCartQuantity(ctx, id, ref, w.qty)
		return cartMsg{seq: seq, cart: c, err: err, wrote: w}
	})
}

// cartAnswer shows an answer that is newer than the cart shown and starts
// the next write.
func (m *Model) cartAnswer(msg cartMsg) tea.Cmd {
	if msg.wrote != nil && msg.wrote == m.cs.writing {
		m.cs.writing = nil
		if q, ok := m.cs.want[msg.wrote.productID]; ok && (q == msg.wrote.qty || msg.err != nil) {
			m.cs.want = maps.Clone(m.cs.want)
			delete(m.cs.want, msg.wrote.productID)
		}
	}
	switch {
	case msg.err != nil:
		m.status = "✗ " + msg.err.Error()
	case m.customer != nil && msg.cart.CustomerID == m.customer.ID && msg.seq > m.cs.seen:
		m.cart, m.cs.seen = msg.cart, msg.seq
		m.cartRow = min(m.cartRow, max(len(m.cart.Items)-1, 0))
	}
	return m.nextWrite()
}

// inCart is how many of a product the cart holds, or is about to.
func (m Model) inCart(productID int64) int64 {
	if q, ok := m.cs.want[productID]; ok {
		return q
	}
	for _, it := range m.cart.Items {
		if it.ProductID == productID {
			return it.Quantity
		}
	}
	return 0
}
