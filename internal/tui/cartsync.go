package tui

import (
	"context"
	"maps"
	"slices"

	tea "charm.land/bubbletea/v2"

	"github.com/rabbitpay/rabbitpay/internal/shop"
)

// cartSync keeps the shown cart in step with the real one when keys come
// faster than the database answers. Keys become changes relative to what
// the cart holds when they are written (add one, take one away, take the
// line out), never quantities computed from the cart as last shown, so a
// change made meanwhile elsewhere (the CLI, another counter) is kept. One
// write at a time; the changes asked for meanwhile wait in ops, one per key
// (never merged: a refused +1 refuses only itself); an answer older than
// one already shown is dropped.
type cartSync struct {
	seq, seen int         // requests issued; the newest answer shown
	ops       []cartWrite // changes asked for, not yet written (copied on write)
	writing   *cartWrite  // the write in flight
}

// cartWrite is one change: delta added, or the line taken out.
type cartWrite struct {
	productID int64
	delta     int64
	remove    bool
}

type cartMsg struct {
	seq   int
	cart  shop.Cart
	err   error
	wrote *cartWrite // nil for a read
}

// loadCart reads the cart, unless a write in flight brings it anyway.
func (m *Model) loadCart() tea.Cmd {
	if m.customer == nil || m.review.cs.writing != nil {
		return nil
	}
	m.review.cs.seq++
	seq, id := m.review.cs.seq, m.customer.ID
	return m.call(func(ctx context.Context, sh Shop) tea.Msg {
		c, err := sh.Cart(ctx, id)
		return cartMsg{seq: seq, cart: c, err: err}
	})
}

// adjust asks for delta more (or fewer) of a product in the real cart; the
// app refuses more than the stock. Every key is its own write, checked on
// its own: six +1s on a stock of 5 end at 5, the sixth refused alone.
func (m *Model) adjust(productID, delta int64) tea.Cmd {
	m.review.cs.ops = append(slices.Clone(m.review.cs.ops), cartWrite{productID: productID, delta: delta})
	return m.nextWrite()
}

// remove asks for the product's line to be taken out of the real cart.
func (m *Model) remove(productID int64) tea.Cmd {
	m.review.cs.ops = append(slices.Clone(m.review.cs.ops), cartWrite{productID: productID, remove: true})
	return m.nextWrite()
}

func (m *Model) nextWrite() tea.Cmd {
	if m.review.cs.writing != nil || len(m.review.cs.ops) == 0 || m.customer == nil {
		return nil
	}
	w := m.review.cs.ops[0]
	m.review.cs.ops = slices.Clone(m.review.cs.ops[1:])
	m.review.cs.writing = &w
	m.review.cs.seq++
	seq, id, ref := m.review.cs.seq, m.customer.ID, shop.RefByID(w.productID).String()
	return m.call(func(ctx context.Context, sh Shop) tea.Msg {
		var c shop.Cart
		var err error
		if w.remove {
			c, err = sh.SetCartQuantity(ctx, id, ref, 0)
		} else {
			c, err = sh.AdjustCartQuantity(ctx, id, ref, w.delta)
		}
		return cartMsg{seq: seq, cart: c, err: err, wrote: &w}
	})
}

// saving reports whether changes are still to be written.
func (m Model) saving() bool { return m.review.cs.writing != nil || len(m.review.cs.ops) > 0 }

// cartAnswer shows an answer that is newer than the cart shown and starts
// the next write.
func (m *Model) cartAnswer(msg cartMsg) tea.Cmd {
	if msg.wrote != nil && msg.wrote == m.review.cs.writing {
		m.review.cs.writing = nil
	}
	switch {
	case msg.err != nil:
		m.status = "✗ " + sentence(msg.err)
	case m.customer != nil && msg.cart.CustomerID == m.customer.ID && msg.seq > m.review.cs.seen:
		m.review.cart, m.review.cs.seen = msg.cart, msg.seq
		m.review.row = min(m.review.row, max(len(m.review.cart.Items)-1, 0))
		m.stock = maps.Clone(m.stock) // the cart's stock is the newest read
		if m.stock == nil {
			m.stock = map[int64]int64{}
		}
		for _, it := range msg.cart.Items {
			m.stock[it.ProductID] = it.Stock
		}
	}
	return m.nextWrite()
}

// inCart is how many of a product the cart holds, or is about to: the cart
// shown with the write in flight and the changes waiting applied.
func (m Model) inCart(productID int64) int64 {
	var q int64
	for _, it := range m.review.cart.Items {
		if it.ProductID == productID {
			q = it.Quantity
		}
	}
	apply := func(w cartWrite) {
		switch {
		case w.productID != productID:
		case w.remove:
			q = 0
		default:
			q = max(q+w.delta, 0)
		}
	}
	if m.review.cs.writing != nil {
		apply(*m.review.cs.writing)
	}
	for _, w := range m.review.cs.ops {
		apply(w)
	}
	return q
}
