// Package tui is rabbitpay's interactive checkout: a bubbletea program over
// the same internal/app use cases as the CLI. Every database call and every
// saga runs as a tea.Cmd off the update loop; saga events arrive as messages.
package tui

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"charm.land/bubbles/v2/spinner"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/rabbitpay/rabbitpay/internal/app"
	"github.com/rabbitpay/rabbitpay/internal/payment"
	"github.com/rabbitpay/rabbitpay/internal/shop"
)

// Shop is what the checkout needs of internal/app; *app.App is one.
type Shop interface {
	FindCustomers(ctx context.Context, query string, limit int) ([]shop.Customer, error)
	Customer(ctx context.Context, id int64) (shop.Customer, error)
	RegisterCustomer(ctx context.Context, c shop.Customer, password string) (shop.Customer, error)
	Products(ctx context.Context, o shop.ListOptions) (shop.Page[shop.Product], error)
	Cart(ctx context.Context, customerID int64) (shop.Cart, error)
	SetCartQuantity(ctx context.Context, customerID int64, productRef string, qty int64) (shop.Cart, error)
	AdjustCartQuantity(ctx context.Context, customerID int64, productRef string, delta int64) (shop.Cart, error)
	PlaceOrder(ctx context.Context, req app.PlaceRequest, obs shop.Observer) (app.PlaceResult, error)
	TodaysOrders(ctx context.Context, now time.Time, limit int) (shop.Page[shop.Order], error)
	Order(ctx context.Context, id int64) (shop.Order, error)
	CancelOrder(ctx context.Context, id int64, obs shop.Observer) (app.CancelResult, error)
	PaymentMethods() []shop.PaymentMethod
}

var _ Shop = (*app.App)(nil)

// Options configure one checkout session.
type Options struct {
	Shop Shop
	// Ctx ends the session's work: cancelling it stops a saga at its next
	// interruptible step (it compensates), never mid-step.
	Ctx context.Context
	// CustomerID preselects a customer (0: pick one).
	CustomerID int64
	// Mark is shown in the header, e.g. "demo shop" when the checkout is not
	// on the shop's usual database.
	Mark string
	// Running counts sagas and cancels in flight; the caller waits on it
	// before the process ends, so none is cut short.
	Running *sync.WaitGroup
}

type screen int

const (
	scrCustomers screen = iota
	scrRegister
	scrCatalogue
	scrCart
	scrConfirm
	scrSaga
	scrOrders
	scrOrder
)

// Model is one checkout session.
type Model struct {
	opts          Options
	width, height int
	screen        screen
	back          screen       // the checkout screen to return to from the orders tab
	status        string       // the last error or notice, one line
	quitting      bool         // quit asked for while a saga runs
	quitCh        chan tea.Msg // the channel of the run in flight when quit was asked for
	spin          spinner.Model

	customers customerPicker
	register  registerForm
	catalogue catalogue
	customer  *shop.Customer
	cart      shop.Cart
	cs        cartSync
	cartRow   int
	methods   []shop.PaymentMethod // what the cart offers to pay with
	method    shop.PaymentMethod
	run       *run // the placement in flight or last finished (never a cancel: see orders.run)
	approving bool // the saga waits for an approval typed in
	approval  textinput.Model
	orders    ordersTab
}

// New returns the checkout model.
func New(o Options) Model {
	if o.Ctx == nil {
		o.Ctx = context.Background()
	}
	if o.Running == nil {
		o.Running = new(sync.WaitGroup)
	}
	m := Model{opts: o, width: 80, height: 24, methods: payment.Methods(), spin: spinner.New(spinner.WithSpinner(spinner.Dot))}
	if o.Shop != nil {
		m.methods = o.Shop.PaymentMethods()
	}
	m.method = m.methods[0]
	m.customers = newCustomerPicker()
	m.customers.input.Focus()
	m.register = newRegisterForm()
	m.catalogue = newCatalogue()
	m.approval = textinput.New()
	m.approval.Prompt = "> "
	return m
}

// Init loads the first screen.
func (m Model) Init() tea.Cmd {
	if m.opts.CustomerID > 0 {
		id := m.opts.CustomerID
		return m.call(func(ctx context.Context, sh Shop) tea.Msg {
			c, err := sh.Customer(ctx, id)
			return pickedMsg{c, err}
		})
	}
	return m.customerSearch(m.customers.seq)
}

// then returns the model after f has changed it, and f's command: the
// model is read only once f is done.
func (m Model) then(f func(m *Model) tea.Cmd) (tea.Model, tea.Cmd) {
	cmd := f(&m)
	return m, cmd
}

// call runs f as a command with the session's context and shop (and no
// reference to the model, which the update loop goes on changing).
func (m Model) call(f func(ctx context.Context, sh Shop) tea.Msg) tea.Cmd {
	ctx, sh := m.opts.Ctx, m.opts.Shop
	return func() tea.Msg { return f(ctx, sh) }
}

// Update handles a message.
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.customers.input.SetWidth(max(m.width-20, 10))
		m.catalogue.input.SetWidth(max(m.width-20, 10))
		if m.screen == scrCatalogue && m.customer != nil && m.height-catalogueChrome != m.catalogue.height {
			return m.then(func(m *Model) tea.Cmd { return m.searchProducts() })
		}
		return m, nil
	case spinner.TickMsg:
		if !m.runningNow() {
			return m, nil
		}
		var cmd tea.Cmd
		m.spin, cmd = m.spin.Update(msg)
		return m, cmd
	case runEventMsg, runDoneMsg, approvalAskMsg:
		return m.updateRun(msg)
	case tea.KeyPressMsg:
		return m.updateKey(msg)
	}
	return m.updateData(msg)
}

func (m Model) updateKey(k tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	key := k.String()
	if key == "ctrl+c" || key == "q" && !m.typing() {
		return m.quit()
	}
	if m.quitting {
		return m, nil // only the saga's end matters now
	}
	if key == "ctrl+o" && m.screen != scrConfirm && !m.runningNow() {
		return m.toggleOrders()
	}
	m.status = ""
	switch m.screen {
	case scrCustomers:
		return m.customerKey(k)
	case scrRegister:
		return m.registerKey(k)
	case scrCatalogue:
		return m.catalogueKey(k)
	case scrCart:
		return m.cartKey(k)
	case scrConfirm:
		return m.confirmKey(k)
	case scrSaga:
		return m.sagaKey(k)
	case scrOrders:
		return m.ordersKey(k)
	case scrOrder:
		return m.orderKey(k)
	}
	return m, nil
}

func (m Model) updateData(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case customersMsg, pickedMsg, registeredMsg:
		return m.customerData(msg)
	case productsMsg, cartMsg:
		return m.catalogueData(msg)
	case ordersMsg, orderMsg:
		return m.ordersData(msg)
	}
	var cmd tea.Cmd
	switch m.screen { // the cursor blink and the like
	case scrCustomers:
		m.customers.input, cmd = m.customers.input.Update(msg)
	case scrCatalogue:
		m.catalogue.input, cmd = m.catalogue.input.Update(msg)
	case scrRegister:
		m.register, cmd = m.register.update(msg)
	case scrSaga:
		m.approval, cmd = m.approval.Update(msg)
	}
	return m, cmd
}

// typing reports whether letters go to a text field.
func (m Model) typing() bool {
	return m.screen == scrCustomers || m.screen == scrRegister || m.screen == scrCatalogue || m.screen == scrSaga && m.approving
}

func (m Model) runningNow() bool { return m.placing() || m.cancelling() }

// placing reports whether a placement is in flight.
func (m Model) placing() bool { return m.run != nil && !m.run.done }

// cancelling reports whether a cancel from the orders tab is in flight.
func (m Model) cancelling() bool { return m.orders.run != nil && !m.orders.run.done }

// quit ends the program, unless a saga or a cancel is in flight: then it asks
// the saga to stop at its next safe point and quits when it has finished or
// compensated.
func (m Model) quit() (tea.Model, tea.Cmd) {
	if !m.runningNow() {
		return m, tea.Quit
	}
	m.quitting = true
	r := m.run
	if !m.placing() {
		r = m.orders.run
	}
	m.quitCh = r.ch
	r.stop()
	return m, nil
}

// Quitting reports whether the user asked to quit while a saga ran.
func (m Model) Quitting() bool { return m.quitting }

// Screen names the screen shown, for tests and the status line.
func (m Model) Screen() string {
	return [...]string{"customers", "register", "catalogue", "cart", "confirm", "saga", "orders", "order"}[m.screen]
}

// Customer is the customer being served, or nil.
func (m Model) Customer() *shop.Customer { return m.customer }

// CartView is the cart as last loaded.
func (m Model) CartView() shop.Cart { return m.cart }

// Status is the status line.
func (m Model) Status() string { return m.status }

// Result is the last finished placement, or nil.
func (m Model) Result() *app.PlaceResult {
	if m.run == nil || !m.run.done || m.run.kind != runPlace {
		return nil
	}
	return &m.run.placed
}

// Summary is how a saga the user quit during ended: its steps and one line
// on the outcome, printed once the screen is gone ("" when there was none).
func (m Model) Summary() string {
	var r *run
	for _, c := range []*run{m.run, m.orders.run} {
		if c != nil && c.ch == m.quitCh {
			r = c
		}
	}
	if r == nil || !r.done || !m.quitting {
		return ""
	}
	var b strings.Builder
	for _, ev := range r.events {
		b.WriteString(ansi.Strip(strings.Join(eventLines(ev, 1000), "\n")) + "\n")
	}
	if r.kind == runCancel {
		if r.err != nil {
			return b.String() + fmt.Sprintf("order %d not cancelled: %v", r.orderID, r.err)
		}
		return b.String() + fmt.Sprintf("order %d cancelled: refunded, stock restored", r.orderID)
	}
	return b.String() + placementLine(r.placed, r.err)
}

// View draws the screen.
func (m Model) View() tea.View {
	v := tea.NewView(m.render())
	v.AltScreen = true
	v.WindowTitle = "rabbitpay checkout"
	return v
}

func (m Model) render() string {
	var body string
	switch m.screen {
	case scrCustomers:
		body = m.customersView()
	case scrRegister:
		body = m.registerView()
	case scrCatalogue:
		body = m.catalogueView()
	case scrCart, scrConfirm:
		body = m.cartView()
	case scrSaga:
		body = m.sagaView()
	case scrOrders:
		body = m.ordersView()
	case scrOrder:
		body = m.orderView()
	}
	status := m.status
	if m.quitting {
		status = "Quitting: the saga is never cut mid-step; it finishes or compensates first…"
	}
	lines := []string{m.header(), ""}
	lines = append(lines, fit(strings.Split(body, "\n"), m.height-len(lines)-2)...)
	if strings.HasPrefix(status, "✗") {
		status = styles.bad.Render(clip(status, m.width))
	} else {
		status = styles.notice.Render(clip(status, m.width))
	}
	lines = append(lines, status, styles.help.Render(clip(m.help(), m.width)))
	for i, l := range lines {
		lines[i] = clip(l, m.width)
	}
	return strings.Join(lines, "\n")
}

// fit pads or cuts lines to exactly n.
func fit(lines []string, n int) []string {
	n = max(n, 0)
	if len(lines) > n {
		return lines[:n]
	}
	for len(lines) < n {
		lines = append(lines, "")
	}
	return lines
}

func (m Model) header() string {
	tabs := []string{"Checkout", "Orders today"}
	active := 0
	if m.screen == scrOrders || m.screen == scrOrder {
		active = 1
	}
	for i, t := range tabs {
		if i == active {
			tabs[i] = styles.tabOn.Render(" " + t + " ")
		} else {
			tabs[i] = styles.tabOff.Render(" " + t + " ")
		}
	}
	h := styles.title.Render("rabbitpay") + " " + strings.Join(tabs, " ")
	if m.opts.Mark != "" {
		h += "  " + styles.warn.Render(m.opts.Mark)
	}
	if m.customer != nil {
		h += "  " + fmt.Sprintf("customer %d %s", m.customer.ID, m.customer.Name)
	}
	return h
}

func (m Model) help() string {
	var keys string
	switch m.screen {
	case scrCustomers:
		keys = "type to filter • ↑↓ • enter choose • ctrl+n new • ctrl+o orders • ctrl+c quit"
	case scrRegister:
		keys = "tab next field • enter register • esc back • ctrl+c quit"
	case scrCatalogue:
		keys = "type to filter • ↑↓ • pgup/pgdn • enter add • tab cart • esc back • ctrl+c quit"
	case scrCart:
		keys = "↑↓ • +/- quantity • d remove • m method • enter pay • esc back • q quit"
	case scrConfirm:
		keys = "y/enter confirm • n/esc back"
	case scrSaga:
		switch {
		case m.approving:
			keys = "the saga waits for the buyer • enter sends what you pasted • ctrl+c quit"
		case m.runningNow():
			keys = "the saga is running • q quit: it stops at its next safe point and is compensated"
		default:
			keys = "enter next checkout • esc back to the cart • ctrl+o orders • q quit"
		}
	case scrOrders:
		keys = "↑↓ • enter open • r refresh • esc checkout • q quit"
	case scrOrder:
		keys = "c cancel order • r refresh • esc back • q quit"
	}
	return keys
}
