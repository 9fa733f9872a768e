package tui

import (
	"cmp"
	"context"

	tea "charm.land/bubbletea/v2"

	"github.com/rabbitpay/rabbitpay/internal/shop"
)

// shipPicker is where the order being checked out goes: the customer's
// address book (the default first, as the app lists it) and pickup at the
// counter, one of them chosen. It offers the default address; s moves to
// the next choice. The order keeps a copy of the chosen address.
type shipPicker struct {
	customerID int64
	addresses  []shop.BookAddress
	loaded     bool
	choice     int
}

// addressesMsg is a customer's address book, read for the checkout.
type addressesMsg struct {
	customerID int64
	list       []shop.BookAddress
	err        error
}

// load reads customer id's address book; the choice goes back to its default.
func (p *shipPicker) load(m Model, id int64) tea.Cmd {
	*p = shipPicker{customerID: id}
	return m.call(func(ctx context.Context, sh Shop) tea.Msg {
		list, err := sh.Addresses(ctx, id)
		return addressesMsg{customerID: id, list: list, err: err}
	})
}

// answer takes a read address book in, unless it is another customer's.
func (p *shipPicker) answer(msg addressesMsg) error {
	if msg.customerID != p.customerID {
		return nil
	}
	pickup := p.pickup() && p.choice > 0 // chosen while the book was read: keep it
	p.addresses, p.loaded, p.choice = msg.list, msg.err == nil, 0
	if pickup {
		p.choice = p.choices() - 1
	}
	return msg.err
}

// choices is how many destinations there are: each address, then pickup
// (with no address, "nowhere yet" stands first).
func (p shipPicker) choices() int { return max(len(p.addresses), 1) + 1 }

func (p *shipPicker) next() { p.choice = (p.choice + 1) % p.choices() }

// pickup reports whether the counter is chosen.
func (p shipPicker) pickup() bool { return p.choice == p.choices()-1 }

// dest is the chosen destination, as the order is placed with it.
func (p shipPicker) dest() shop.Destination {
	switch {
	case p.pickup():
		return shop.Destination{Pickup: true}
	case len(p.addresses) == 0:
		return shop.Destination{} // the default: there is none, the order goes nowhere yet
	}
	return shop.Destination{AddressID: p.addresses[p.choice].ID}
}

// label says where the order goes, in one line (the phone masked).
func (p shipPicker) label() string {
	switch {
	case !p.loaded:
		return "the customer's default address"
	case p.pickup():
		return "pickup at the counter"
	case len(p.addresses) == 0:
		return "nowhere yet: the customer has no address (pickup, or set one later with 'rabbitpay order ship-to')"
	}
	a := p.addresses[p.choice]
	s := shop.ShipTo{Recipient: cmp.Or(a.Recipient, "the customer"), Phone: a.Phone, ZipCode: a.ZipCode, Line1: a.Line1, Line2: a.Line2}.Masked()
	if a.Default {
		s += " — default"
	}
	return s
}
