package tui

import (
	"slices"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/rabbitpay/rabbitpay/internal/shop"
)

// keys are every key the checkout answers to. The update functions match
// key presses against these bindings and the help line and the ? overlay
// are drawn from the same bindings (keyMap), so help cannot drift from the
// keys (soft-serve's pkg/ui/keymap does the same).
var keys = struct {
	Up, Down, PgUp, PgDown, Top, Bottom                              key.Binding
	Quit, QuitQ, Help, Orders                                        key.Binding
	Choose, NewCustomer, NextField, Register, Back                   key.Binding
	ClearFilter, Add, ToCart, Inc, Dec, Remove, Method, Pay, ShipTo  key.Binding
	Confirm, Decline, SendPaste, Abandon, NextCheckout, BackToCart   key.Binding
	Open, Refresh, CancelOrder, OrdersBack, ConfirmCancel, KeepOrder key.Binding
	ScrollUp, ScrollDown, ShowQR, Undo, GoToOrder                    key.Binding
}{
	Up:            key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
	Down:          key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
	PgUp:          key.NewBinding(key.WithKeys("pgup"), key.WithHelp("pgup", "page up")),
	PgDown:        key.NewBinding(key.WithKeys("pgdown"), key.WithHelp("pgdn", "page down")),
	Top:           key.NewBinding(key.WithKeys("home", "g"), key.WithHelp("home/g", "top")),
	Bottom:        key.NewBinding(key.WithKeys("end", "G"), key.WithHelp("end/G", "bottom")),
	ScrollUp:      key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "scroll up")),
	ScrollDown:    key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "scroll down")),
	Quit:          key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("ctrl+c", "quit")),
	QuitQ:         key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q", "quit")),
	Help:          key.NewBinding(key.WithKeys("?", "f1"), key.WithHelp("?", "all keys")),
	Orders:        key.NewBinding(key.WithKeys("ctrl+o"), key.WithHelp("ctrl+o", "orders today")),
	Choose:        key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "choose")),
	NewCustomer:   key.NewBinding(key.WithKeys("ctrl+n"), key.WithHelp("ctrl+n", "new customer")),
	NextField:     key.NewBinding(key.WithKeys("tab", "shift+tab", "up", "down"), key.WithHelp("tab", "next field")),
	Register:      key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "register")),
	Back:          key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back")),
	ClearFilter:   key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "clear filter")),
	Add:           key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "add one")),
	ToCart:        key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "cart")),
	Inc:           key.NewBinding(key.WithKeys("+", "=", "right"), key.WithHelp("+/=/→", "one more")),
	Dec:           key.NewBinding(key.WithKeys("-", "left"), key.WithHelp("-/←", "one fewer")),
	Remove:        key.NewBinding(key.WithKeys("d", "delete", "backspace"), key.WithHelp("d/del/⌫", "remove line")),
	Undo:          key.NewBinding(key.WithKeys("u"), key.WithHelp("u", "put the line back")),
	GoToOrder:     key.NewBinding(key.WithKeys("0", "1", "2", "3", "4", "5", "6", "7", "8", "9"), key.WithHelp("0-9", "go to order №")),
	Method:        key.NewBinding(key.WithKeys("m"), key.WithHelp("m", "next method")),
	Pay:           key.NewBinding(key.WithKeys("enter", "p"), key.WithHelp("enter/p", "pay")),
	ShipTo:        key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "ship to: next")),
	Confirm:       key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "charge")),
	Decline:       key.NewBinding(key.WithKeys("n", "esc"), key.WithHelp("n/esc", "back")),
	SendPaste:     key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "send the paste")),
	Abandon:       key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "abandon (compensates)")),
	ShowQR:        key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "QR code alone")),
	NextCheckout:  key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "next checkout")),
	BackToCart:    key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back to the cart")),
	Open:          key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "open")),
	Refresh:       key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "refresh")),
	CancelOrder:   key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "cancel order")),
	OrdersBack:    key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "checkout")),
	ConfirmCancel: key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "cancel it")),
	KeepOrder:     key.NewBinding(key.WithKeys("n", "esc"), key.WithHelp("n/esc", "keep it")),
}

// methodKey is the binding that picks pm: its initial (n NAVER, k KAKAO…),
// as the payment registry names the methods.
func methodKey(pm shop.PaymentMethod) key.Binding {
	k := strings.ToLower(string(pm)[:1])
	return key.NewBinding(key.WithKeys(k), key.WithHelp(k, string(pm)))
}

// keyMap is what help shows: the short line and the full ? overlay.
type keyMap struct {
	short []key.Binding
	full  [][]key.Binding
}

func (k keyMap) ShortHelp() []key.Binding  { return k.short }
func (k keyMap) FullHelp() [][]key.Binding { return k.full }

// keyMap returns the bindings the shown screen answers to now (its page's
// help); its key function matches against exactly these.
func (m Model) keyMap() keyMap {
	help, quit := keys.Help, keys.QuitQ
	if m.typing() {
		help.SetHelp("f1", "all keys") // ? is typed into the field
		quit = keys.Quit
	}
	short, more := m.screen.page().help(m)
	full := [][]key.Binding{short}
	if len(more) > 0 {
		full = append(full, more)
	}
	full = append(full, []key.Binding{quit, help})
	return keyMap{short: append(append([]key.Binding{}, short...), quit, help), full: full}
}

// nav is up and down as help shows them: letters go to a text field where
// there is one, so only the arrows move there.
func (m Model) nav() (up, down key.Binding) {
	up, down = keys.Up, keys.Down
	if m.typing() {
		up.SetHelp("↑", "up")
		down.SetHelp("↓", "down")
	}
	return up, down
}

func (m Model) customersHelp() (short, more []key.Binding) {
	up, down := m.nav()
	return []key.Binding{keys.Choose, up, down, keys.NewCustomer, keys.Orders}, nil
}

func (m Model) registerHelp() (short, more []key.Binding) {
	return []key.Binding{keys.NextField, keys.Register, keys.Back}, nil
}

func (m Model) catalogueHelp() (short, more []key.Binding) {
	up, down := m.nav()
	back := keys.Back
	if m.catalogue.input.Value() != "" {
		back = keys.ClearFilter
	}
	return []key.Binding{keys.Add, keys.ToCart, up, down, back}, []key.Binding{keys.PgDown, keys.PgUp, keys.Orders}
}

func (m Model) cartHelp() (short, more []key.Binding) {
	short = []key.Binding{keys.Pay, keys.Inc, keys.Dec, keys.Remove, keys.Method, keys.ShipTo}
	if m.review.removed != nil {
		short = append(short, keys.Undo)
	}
	for _, pm := range m.review.methods {
		more = append(more, methodKey(pm))
	}
	up, down := m.cartNav()
	return short, append(more, up, down, keys.Back, keys.Orders)
}

func (m Model) confirmHelp() (short, more []key.Binding) {
	return []key.Binding{keys.Confirm, keys.Decline}, nil
}

func (m Model) sagaHelp() (short, more []key.Binding) {
	switch {
	case m.placing() && m.sale.abandon:
		y, n := keys.Confirm, keys.Decline
		y.SetHelp("y", "abandon")
		n.SetHelp("n", "keep waiting")
		short = []key.Binding{y, n}
	case m.shownQR() != "":
		short = []key.Binding{keys.ShowQR}
	case m.placing() && m.sale.approving:
		short = []key.Binding{keys.SendPaste, keys.ShowQR, keys.Abandon}
	case m.placing() && approvalURL(m.sale.run.events) != "":
		short = []key.Binding{keys.ShowQR}
	case m.runningNow():
	default:
		short = []key.Binding{keys.NextCheckout, keys.BackToCart, keys.Orders}
	}
	su, sd := keys.ScrollUp, keys.ScrollDown
	if m.typing() { // j and k go to the paste field
		su.SetHelp("↑", "scroll up")
		sd.SetHelp("↓", "scroll down")
	}
	return short, []key.Binding{su, sd, keys.PgUp, keys.PgDown}
}

func (m Model) ordersHelp() (short, more []key.Binding) {
	return []key.Binding{keys.Open, keys.Up, keys.Down, keys.GoToOrder, keys.Refresh, keys.OrdersBack},
		[]key.Binding{keys.PgUp, keys.PgDown, keys.Top, keys.Bottom}
}

func (m Model) orderHelp() (short, more []key.Binding) {
	switch {
	case m.orders.confirming:
		short = []key.Binding{keys.ConfirmCancel, keys.KeepOrder}
	case m.runningNow():
	default:
		if m.orders.order != nil && cancellable(*m.orders.order) {
			short = append(short, keys.CancelOrder)
		}
		short = append(short, keys.Refresh, keys.Back)
	}
	return short, []key.Binding{keys.ScrollUp, keys.ScrollDown, keys.PgUp, keys.PgDown, keys.Top, keys.Bottom}
}

// is reports whether k is one of b's keys; on a screen with a text field a
// printable key is the field's (j types a j, it does not move down).
func (m Model) is(k tea.KeyPressMsg, b key.Binding) bool {
	if m.typing() && k.Text != "" {
		return false
	}
	return key.Matches(k, b)
}

// cartNav is up and down in the cart, less any letter a payment method's
// initial takes (k picks KAKAO there, so only ↑ goes up).
func (m Model) cartNav() (up, down key.Binding) {
	nav := func(b key.Binding) key.Binding {
		var ks, shown []string
		for _, k := range b.Keys() {
			taken := false
			for _, pm := range m.review.methods {
				taken = taken || slices.Contains(methodKey(pm).Keys(), k)
			}
			if !taken {
				ks = append(ks, k)
				shown = append(shown, map[string]string{"up": "↑", "down": "↓"}[k]+map[bool]string{true: k}[len(k) == 1])
			}
		}
		return key.NewBinding(key.WithKeys(ks...), key.WithHelp(strings.Join(shown, "/"), b.Help().Desc))
	}
	return nav(keys.Up), nav(keys.Down)
}
