package tui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/rabbitpay/rabbitpay/internal/shop"
)

// page is one screen of the checkout as the session drives it: the keys it
// answers to (help is drawn from them, and its key function matches
// against exactly these), how it answers them, and what it shows. It is
// soft-serve's common.Component (a model with its help.KeyMap) over the
// session's Model, which keeps what every screen shares: the shop, the
// customer, their cart as last read, the status and the window's size.
// Each screen's own state is its own type (customerPicker, registerForm,
// catalogue, review, sale, ordersTab); adding a screen is one more case
// in pageOf, not one in every switch.
type page struct {
	help func(Model) (short, more []key.Binding)
	key  func(Model, tea.KeyPressMsg) (tea.Model, tea.Cmd)
	// view is the body; a screen that scrolls in the viewport gives its
	// lines instead, and the lines pinned under them, always in sight.
	view   func(Model) string
	scroll func(Model) (content, pinned []string)
	// input hands any other message (a cursor blink, a paste) to the
	// screen's text field; nil without one.
	input func(*Model, tea.Msg) tea.Cmd
}

// page is the screen's page. A switch, not a table: the pages' functions
// reach the layout, which reaches the pages.
func (s screen) page() page {
	switch s {
	case scrCustomers:
		return page{help: Model.customersHelp, key: Model.customerKey, view: Model.customersView,
			input: func(m *Model, msg tea.Msg) (cmd tea.Cmd) {
				m.customers.input, cmd = m.customers.input.Update(msg)
				return cmd
			}}
	case scrRegister:
		return page{help: Model.registerHelp, key: Model.registerKey, view: Model.registerView,
			input: func(m *Model, msg tea.Msg) (cmd tea.Cmd) { m.register, cmd = m.register.update(msg); return cmd }}
	case scrCatalogue:
		return page{help: Model.catalogueHelp, key: Model.catalogueKey, view: Model.catalogueView,
			input: func(m *Model, msg tea.Msg) (cmd tea.Cmd) {
				m.catalogue.input, cmd = m.catalogue.input.Update(msg)
				return cmd
			}}
	case scrCart:
		return page{help: Model.cartHelp, key: Model.cartKey, view: Model.cartView}
	case scrConfirm:
		return page{help: Model.confirmHelp, key: Model.confirmKey, view: Model.cartView}
	case scrSaga:
		return page{help: Model.sagaHelp, key: Model.sagaKey, scroll: Model.sagaLines, input: (*Model).pasteInput}
	case scrOrders:
		return page{help: Model.ordersHelp, key: Model.ordersKey, view: Model.ordersView}
	case scrOrder:
		return page{help: Model.orderHelp, key: Model.orderKey, scroll: func(m Model) ([]string, []string) { return m.orderLines(), m.orderPinned() }}
	}
	panic(fmt.Sprintf("tui: no page for screen %d", s)) // a screen added without its page
}

// pasteInput hands a message to the approval's paste field. The field would
// strip a control character from a paste and keep the rest: a paste
// holding one is not what the clerk copied, so it is refused whole,
// visibly.
func (m *Model) pasteInput(msg tea.Msg) tea.Cmd {
	if p, ok := msg.(tea.PasteMsg); ok && m.sale.approving {
		m.sale.qrAlone = false // the paste is shown where it goes
		if err := shop.CheckText("the paste", strings.TrimSpace(p.Content), 4096); err != nil {
			m.sale.refused = "✗ " + sentence(err) + ": nothing was pasted; copy the token or the URL again"
			return nil
		}
	}
	var cmd tea.Cmd
	m.sale.approval, cmd = m.sale.approval.Update(msg)
	return cmd
}
