package tui

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/rabbitpay/rabbitpay/internal/shop"
)

// customerPicker filters customers by name or id as the user types.
type customerPicker struct {
	input    textinput.Model
	seq      int // the newest search asked for
	answered int // the search the shown results answer
	items    []shop.Customer
	sel      int
	// enter was pressed before the newest search answered: it picks the
	// first match once the answer comes (a quick "김⏎" is not lost).
	enterWaits bool
	// afterSale is a picker a finished sale opened: enter alone picks no
	// one (a double enter after "order placed" must not start a sale for
	// whoever is first) until a name is typed or the cursor moved.
	afterSale bool
}

func newCustomerPicker() customerPicker {
	in := textinput.New()
	in.Prompt = "Customer: "
	in.Placeholder = "name or id"
	return customerPicker{input: in, answered: -1}
}

type customersMsg struct {
	seq   int
	items []shop.Customer
	err   error
}

// pickedMsg is a customer chosen by id (--customer) or just registered.
type pickedMsg struct {
	c   shop.Customer
	err error
}

type registeredMsg pickedMsg

const customerRows = 12

func (m *Model) searchCustomers() tea.Cmd {
	m.customers.seq++
	return m.customerSearch(m.customers.seq)
}

func (m Model) customerSearch(seq int) tea.Cmd {
	q := m.customers.input.Value()
	return m.call(func(ctx context.Context, sh Shop) tea.Msg {
		items, err := sh.FindCustomers(ctx, q, customerRows)
		return customersMsg{seq, items, err}
	})
}

func (m Model) customerKey(k tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	p := &m.customers
	switch {
	case m.is(k, keys.Up):
		p.sel, p.afterSale = max(p.sel-1, 0), false
		return m, nil
	case m.is(k, keys.Down):
		p.sel, p.afterSale = max(min(p.sel+1, len(p.items)-1), 0), false
		return m, nil
	case m.is(k, keys.Choose) && p.afterSale:
		m.status = "choose the next customer: type part of a name, or move to one with ↑/↓, then enter"
		return m, nil
	case m.is(k, keys.Choose):
		if p.answered != p.seq {
			p.enterWaits = true
			return m, nil
		}
		if len(p.items) == 0 {
			m.status = "✗ no customer matches; ctrl+n registers a new one"
			return m, nil
		}
		return m.pick(p.items[p.sel])
	case m.is(k, keys.NewCustomer):
		m.screen = scrRegister
		m.register = newRegisterForm()
		m.sizeInputs()
		m.register.name.SetValue(strings.TrimSpace(p.input.Value()))
		return m.then(func(m *Model) tea.Cmd { return m.register.name.Focus() })
	}
	before := p.input.Value()
	var cmd tea.Cmd
	p.input, cmd = p.input.Update(k)
	if p.input.Value() != before {
		p.afterSale = false
		return m.then(func(m *Model) tea.Cmd { return tea.Batch(cmd, m.searchCustomers()) })
	}
	return m, cmd
}

// pick starts a checkout for c: load its cart and the catalogue.
func (m Model) pick(c shop.Customer) (tea.Model, tea.Cmd) {
	m.customer = &c
	m.screen = scrCatalogue
	m.review.cart = shop.Cart{CustomerID: c.ID}
	m.review.cs.ops, m.review.cs.writing = nil, nil // the sequence goes on: an old answer stays old
	m.review.row = 0
	m.catalogue = newCatalogue()
	m.sizeInputs()
	return m.then(func(m *Model) tea.Cmd {
		return tea.Batch(m.catalogue.input.Focus(), m.loadCart(), m.searchProducts(), m.ship.load(*m, c.ID))
	})
}

func (m Model) customerData(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case customersMsg:
		if msg.seq != m.customers.seq {
			return m, nil // an older search, overtaken
		}
		if msg.err != nil {
			m.status = "✗ " + msg.err.Error()
			return m, nil
		}
		m.customers.items, m.customers.answered = msg.items, msg.seq
		m.customers.sel = min(m.customers.sel, max(len(msg.items)-1, 0))
		if m.customers.enterWaits {
			m.customers.enterWaits = false
			return m.customerKey(tea.KeyPressMsg{Code: tea.KeyEnter})
		}
	case pickedMsg:
		if msg.err != nil {
			m.status = "✗ " + msg.err.Error()
			return m.then(func(m *Model) tea.Cmd { return tea.Batch(m.customers.input.Focus(), m.searchCustomers()) })
		}
		return m.pick(msg.c)
	case registeredMsg:
		if msg.err != nil {
			m.status = "✗ " + msg.err.Error()
			return m, nil
		}
		m.status = fmt.Sprintf("customer %d %s registered", msg.c.ID, msg.c.Name)
		return m.pick(msg.c)
	}
	return m, nil
}

func (m Model) customersView() string {
	p := m.customers
	var b strings.Builder
	b.WriteString("Who is buying?\n\n" + p.input.View() + "\n\n")
	if len(p.items) == 0 {
		b.WriteString(styles.dim.Render("  no customer matches — ctrl+n registers one"))
	}
	w := []int{-6, 30}
	for i, c := range p.items {
		b.WriteString(line(row(w, strconv.FormatInt(c.ID, 10), c.Name), i == p.sel) + "\n")
	}
	return b.String()
}

// registerForm registers a customer in place; the password is hidden.
type registerForm struct {
	name, password textinput.Model
	onPassword     bool
}

func newRegisterForm() registerForm {
	name := textinput.New()
	name.Prompt = "Name:     "
	pw := textinput.New()
	pw.Prompt = "Password: "
	pw.Placeholder = "optional, at least 8 characters"
	pw.EchoMode = textinput.EchoPassword
	return registerForm{name: name, password: pw}
}

func (f registerForm) update(msg tea.Msg) (registerForm, tea.Cmd) {
	var c1, c2 tea.Cmd
	f.name, c1 = f.name.Update(msg)
	f.password, c2 = f.password.Update(msg)
	return f, tea.Batch(c1, c2)
}

func (m Model) registerKey(k tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	f := &m.register
	switch {
	case m.is(k, keys.Back):
		m.screen = scrCustomers
		return m.then(func(m *Model) tea.Cmd { return m.customers.input.Focus() })
	case m.is(k, keys.NextField):
		f.onPassword = !f.onPassword
		if f.onPassword {
			f.name.Blur()
			return m.then(func(m *Model) tea.Cmd { return m.register.password.Focus() })
		}
		f.password.Blur()
		return m.then(func(m *Model) tea.Cmd { return m.register.name.Focus() })
	case m.is(k, keys.Register) && !f.onPassword && strings.TrimSpace(f.name.Value()) == "":
		m.status = "✗ type the customer's name first"
		return m, nil
	case m.is(k, keys.Register):
		if !f.onPassword {
			f.onPassword = true
			f.name.Blur()
			return m.then(func(m *Model) tea.Cmd { return m.register.password.Focus() })
		}
		c, pw := shop.Customer{Name: f.name.Value()}, f.password.Value()
		return m, m.call(func(ctx context.Context, sh Shop) tea.Msg {
			c, err := sh.RegisterCustomer(ctx, c, pw)
			return registeredMsg{c, err}
		})
	}
	var cmd tea.Cmd
	*f, cmd = f.update(k)
	return m, cmd
}

func (m Model) registerView() string {
	f := m.register
	return "Register a customer\n\n" + f.name.View() + "\n" + f.password.View() + "\n\n" +
		styles.dim.Render("The password is optional; it is stored only as an argon2id hash.")
}
