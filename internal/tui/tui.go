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

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	"charm.land/bubbles/v2/textinput"
	"charm.land/bubbles/v2/viewport"
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
	Addresses(ctx context.Context, customerID int64) ([]shop.BookAddress, error)
	SetCartQuantity(ctx context.Context, customerID int64, productRef string, qty int64) (shop.Cart, error)
	AdjustCartQuantity(ctx context.Context, customerID int64, productRef string, delta int64) (shop.Cart, error)
	PlaceOrder(ctx context.Context, req app.PlaceRequest, obs shop.Observer) (app.PlaceResult, error)
	TodaysOrders(ctx context.Context, now time.Time, limit int) (shop.Page[shop.Order], map[int64]string, error)
	Order(ctx context.Context, id int64) (shop.Order, error)
	CancelOrder(ctx context.Context, id int64, obs shop.Observer) (app.CancelResult, error)
	PaymentMethods() []shop.PaymentMethod
	// PaymentMode is "sandbox" or "live"; ApprovalTimeout is how long a
	// live payment waits for the buyer (payment.approval_timeout).
	PaymentMode() string
	ApprovalTimeout() time.Duration
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

// review is the cart screen's state: the customer's real cart as last
// read, the writes keys made of it (cs), the cursor, the payment methods
// on offer and the one chosen, and the line last removed (u puts it back).
type review struct {
	cart    shop.Cart
	cs      cartSync
	row     int
	methods []shop.PaymentMethod // what the cart offers to pay with
	method  shop.PaymentMethod
	removed *shop.CartLine // until u puts it back
}

// sale is the placement screen's state: the saga in flight or last
// finished (never a cancel: see ordersTab.run) and, while a live provider
// waits for the buyer, the approval asked for.
type sale struct {
	run       *run
	approving bool // the saga waits for an approval typed in
	qrAlone   bool // the approval's QR code has the whole screen (tab)
	abandon   bool // asked: abandon the payment the buyer has not approved?
	approval  textinput.Model
	refused   string        // why the last paste was not an approval
	deadline  time.Time     // when the buyer's approval times out
	now       time.Time     // the clock, as the last tick saw it
	timeout   time.Duration // payment.approval_timeout
}

// Model is one checkout session.
type Model struct {
	opts          Options
	width, height int
	screen        screen
	back          screen       // the checkout screen to return to from the orders tab
	status        string       // the last error or notice (wrapped under the body)
	quitting      bool         // quit asked for while a saga runs
	quitCh        chan tea.Msg // the channel of the run in flight when quit was asked for
	spin          spinner.Model
	help          help.Model
	fullHelp      bool            // the ? overlay is shown
	vp            viewport.Model  // the order detail and the saga trail scroll in it
	stock         map[int64]int64 // the stock of every product seen, for the review

	customers customerPicker
	register  registerForm
	catalogue catalogue
	customer  *shop.Customer
	review    review           // the cart under review: its lines and the payment method
	ship      shipPicker       // where the order goes
	sale      sale             // the placement in flight or last finished, and the buyer's approval
	mode      string           // sandbox or live
	names     map[int64]string // customer names for the orders tab
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
	m := Model{opts: o, width: 80, height: 24, review: review{methods: payment.Methods()}, spin: spinner.New(spinner.WithSpinner(spinner.Dot)),
		help: help.New(), vp: viewport.New(), stock: map[int64]int64{}, names: map[int64]string{}, mode: "sandbox"}
	if o.Shop != nil {
		m.review.methods = o.Shop.PaymentMethods()
		m.mode, m.sale.timeout = o.Shop.PaymentMode(), o.Shop.ApprovalTimeout()
	}
	m.review.method = m.review.methods[0]
	m.customers = newCustomerPicker()
	m.customers.input.Focus()
	m.register = newRegisterForm()
	m.catalogue = newCatalogue()
	m.sale.approval = textinput.New()
	m.sale.approval.Prompt = "> "
	m.sale.approval.Placeholder = "the token or the URL the buyer landed on"
	m.sizeInputs()
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

// Update handles a message, then lays the scrolling screens out again.
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	next, cmd := m.update(msg)
	nm := next.(Model)
	nm.layout()
	return nm, cmd
}

// sizeInputs gives every text field the width the screen has, so a
// placeholder is shown whole (a field made after the size arrived too).
func (m *Model) sizeInputs() {
	w := max(m.width-14, 10)
	for _, in := range []*textinput.Model{&m.customers.input, &m.catalogue.input, &m.register.name, &m.register.password, &m.sale.approval} {
		in.SetWidth(w)
	}
}

func (m Model) update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.sizeInputs()
		if m.screen == scrCatalogue && m.customer != nil && m.catalogueRows() != m.catalogue.height {
			return m.then(func(m *Model) tea.Cmd { return m.resized() })
		}
		return m, nil
	case spinner.TickMsg:
		if !m.runningNow() {
			return m, nil
		}
		var cmd tea.Cmd
		m.spin, cmd = m.spin.Update(msg)
		return m, cmd
	case runEventMsg, runDoneMsg, approvalAskMsg, approvalRefusedMsg, tickMsg:
		return m.updateRun(msg)
	case tea.KeyPressMsg:
		return m.updateKey(msg)
	case stoppingMsg:
		m.status = "✗ " + msg.reason
		return m.quit()
	}
	return m.updateData(msg)
}

func (m Model) updateKey(k tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	if key.Matches(k, keys.Quit) && m.placing() && m.sale.approving && !m.sale.abandon && !m.quitting {
		// Where ctrl+c copies, a clerk copying the buyer's URL must not end
		// the sale: it asks, as esc does; a second ctrl+c quits.
		m.sale.abandon, m.sale.qrAlone = true, false
		m.status = "ctrl+c: abandon the payment the buyer has not approved? y abandons • n keeps waiting • ctrl+c again quits"
		return m, nil
	}
	if key.Matches(k, keys.Quit) || !m.typing() && key.Matches(k, keys.QuitQ) {
		return m.quit()
	}
	if m.quitting {
		return m, nil // only the saga's end matters now
	}
	if k.String() == "f1" || !m.typing() && key.Matches(k, keys.Help) || m.fullHelp && k.String() == "?" {
		m.fullHelp = !m.fullHelp
		return m, nil
	}
	if key.Matches(k, keys.Orders) && m.screen != scrConfirm && !m.runningNow() {
		return m.toggleOrders()
	}
	m.status = ""
	return m.screen.page().key(m, k)
}

func (m Model) updateData(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case customersMsg, pickedMsg, registeredMsg:
		return m.customerData(msg)
	case productsMsg, cartMsg:
		return m.catalogueData(msg)
	case addressesMsg:
		if err := m.ship.answer(msg); err != nil {
			m.status = "✗ the customer's addresses could not be read: " + sentence(err) + "; the order goes to their default address"
		}
		return m, nil
	case ordersMsg, orderMsg:
		return m.ordersData(msg)
	}
	// The cursor blink, a paste and the like: the shown screen's field.
	if in := m.screen.page().input; in != nil {
		return m.then(func(m *Model) tea.Cmd { return in(m, msg) })
	}
	return m, nil
}

// typing reports whether letters go to a text field.
func (m Model) typing() bool {
	return m.screen == scrCustomers || m.screen == scrRegister || m.screen == scrCatalogue || m.screen == scrSaga && m.sale.approving && !m.sale.abandon
}

func (m Model) runningNow() bool { return m.placing() || m.cancelling() }

// placing reports whether a placement is in flight.
func (m Model) placing() bool { return m.sale.run != nil && !m.sale.run.done }

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
	r := m.sale.run
	if !m.placing() {
		r = m.orders.run
	}
	m.quitCh = r.ch
	r.stop()
	return m, nil
}

// Interrupted is how the saga the user quit during ended, as an error of
// its kind (shop.ErrInterrupted, or shop.ErrIncomplete when it could not
// be undone), or nil when no saga was interrupted: the CLI exits 130 or 3
// as it does for order place.
func (m Model) Interrupted() error {
	s := m.Summary()
	if s == "" {
		return nil
	}
	if m.sale.run != nil && m.sale.run.ch == m.quitCh && m.sale.run.placed.Incomplete {
		return shop.Incomplete("%s", s)
	}
	return shop.Interrupted("%s", s)
}

// Screen names the screen shown, for tests and the status line.
func (m Model) Screen() string {
	return [...]string{"customers", "register", "catalogue", "cart", "confirm", "saga", "orders", "order"}[m.screen]
}

// Result is the last finished placement, or nil.
func (m Model) Result() *app.PlaceResult {
	if m.sale.run == nil || !m.sale.run.done || m.sale.run.kind != runPlace {
		return nil
	}
	return &m.sale.run.placed
}

// Summary is how a saga the user quit during ended: its steps and one line
// on the outcome, printed once the screen is gone ("" when there was none).
func (m Model) Summary() string {
	var r *run
	for _, c := range []*run{m.sale.run, m.orders.run} {
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
	if u := m.shownQR(); u != "" {
		return m.qrAloneView(u)
	}
	helpLines := m.helpLines()
	var body []string
	if m.scrolls() {
		body = m.scrolledBody()
	} else {
		body = strings.Split(m.screen.page().view(m), "\n")
	}
	lines := []string{m.header(), ""}
	lines = append(lines, fit(body, m.bodyHeight())...)
	style := styles.notice
	if strings.HasPrefix(m.statusText(), "✗") {
		style = styles.bad
	}
	lines = append(lines, styledLines(style, strings.Join(m.statusLines(), "\n"))...)
	lines = append(lines, helpLines...)
	for i, l := range lines {
		lines[i] = clip(l, m.width)
	}
	return strings.Join(lines, "\n")
}

// bodyHeight is how many lines the screen's body gets: all but the header,
// a blank line, the status lines and the help.
func (m Model) bodyHeight() int {
	return max(m.height-2-len(m.statusLines())-len(m.helpLines()), 1)
}

func (m Model) statusText() string {
	if m.quitting {
		return "Quitting: the saga is never cut mid-step; it finishes or compensates first…"
	}
	return m.status
}

// statusLines is the status, wrapped (a word wider than the screen broken at
// the edge): a long message is shown whole, never cut. A message longer than
// a third of the screen keeps its first lines, its last one marked.
func (m Model) statusLines() []string {
	lines := strings.Split(ansi.Wrap(m.statusText(), max(m.width, 10), ""), "\n")
	if most := max(m.height/3, 1); len(lines) > most {
		lines = append(lines[:most-1], ansi.Truncate(lines[most-1], max(m.width-1, 1), "")+"…")
	}
	return lines
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

// scrolls reports whether the shown screen's body scrolls in the viewport.
func (m Model) scrolls() bool { return m.screen.page().scroll != nil }

// layout puts the scrolling screen's content in the viewport, sized to what
// is left beside its pinned lines (the approval prompt stays in sight). The
// saga trail follows its newest line while it is scrolled to the bottom.
func (m *Model) layout() {
	if !m.scrolls() {
		return
	}
	content, pinned := m.scrollContent()
	h := m.bodyHeight() - len(pinned)
	if len(content) > h {
		h-- // the position line
	}
	// The trail follows its newest line, unless an approval is asked for
	// (its QR code then starts at the top).
	follow := m.screen == scrSaga && m.vp.AtBottom() && (m.sale.run == nil || m.sale.run.done || approvalURL(m.sale.run.events) == "")
	m.vp.SetWidth(m.width)
	m.vp.SetHeight(max(h, 1))
	m.vp.SetContentLines(content)
	if follow {
		m.vp.GotoBottom()
	}
}

// scrolledBody is the viewport, the position line when there is more than
// fits, and the pinned lines.
func (m Model) scrolledBody() []string {
	content, pinned := m.scrollContent()
	lines := strings.Split(m.vp.View(), "\n")
	if total := len(content); total > m.vp.Height() {
		from := m.vp.YOffset() + 1
		to := min(m.vp.YOffset()+m.vp.Height(), total)
		lines = append(fit(lines, m.vp.Height()), styles.dim.Render(fmt.Sprintf("  lines %d–%d of %d • ↑↓ pgup/pgdn scroll", from, to, total)))
	}
	return append(lines, pinned...)
}

// scrollContent is the scrolling screen's content and the lines pinned under it.
func (m Model) scrollContent() (content, pinned []string) {
	if f := m.screen.page().scroll; f != nil {
		return f(m)
	}
	return nil, nil
}

// scrollKey moves the viewport; it reports whether k was a scroll key.
func (m *Model) scrollKey(k tea.KeyPressMsg) bool {
	switch {
	case key.Matches(k, keys.PgUp):
		m.vp.PageUp()
	case key.Matches(k, keys.PgDown):
		m.vp.PageDown()
	case key.Matches(k, keys.ScrollUp):
		m.vp.ScrollUp(1)
	case key.Matches(k, keys.ScrollDown):
		m.vp.ScrollDown(1)
	case key.Matches(k, keys.Top):
		m.vp.GotoTop()
	case key.Matches(k, keys.Bottom):
		m.vp.GotoBottom()
	default:
		return false
	}
	return true
}

// header is the title, the tabs, the mode and the customer: on a narrow
// screen the tabs' names shorten, then the title goes, so that the
// customer's name is shown whole.
func (m Model) header() string {
	active := 0
	if m.screen == scrOrders || m.screen == scrOrder {
		active = 1
	}
	mode := styles.dim.Render(m.mode)
	if m.mode == "live" {
		mode = styles.bad.Render("LIVE")
	}
	tail := "  " + mode
	if m.opts.Mark != "" {
		tail += "  " + styles.warn.Render(m.opts.Mark)
	}
	if m.customer != nil {
		tail += "  " + fmt.Sprintf("customer %d %s", m.customer.ID, m.customer.Name)
	}
	var h string
	for _, v := range []struct {
		title string
		tabs  []string
	}{
		{"rabbitpay ", []string{"Checkout", "Orders today"}},
		{"rabbitpay ", []string{"Checkout", "Orders"}},
		{"", []string{"Checkout", "Orders"}},
	} {
		tabs := make([]string, len(v.tabs))
		for i, t := range v.tabs {
			style := styles.tabOff
			if i == active {
				style = styles.tabOn
			}
			tabs[i] = style.Render(" " + t + " ")
		}
		h = strings.Join(tabs, " ") + tail
		if v.title != "" {
			h = styles.title.Render("rabbitpay") + " " + h
		}
		if ansi.StringWidth(h) <= m.width {
			break
		}
	}
	return h
}

// helpLines is the help: the screen's short help wrapped over as many
// lines as it needs (nothing is cut), or every key on ?.
func (m Model) helpLines() []string {
	km := m.keyMap()
	if m.fullHelp {
		hm := m.help
		hm.SetWidth(m.width)
		return append(strings.Split(hm.FullHelpView(km.FullHelp()), "\n"), styles.help.Render("? or f1 closes this"))
	}
	var lines []string
	cur := ""
	for _, b := range km.ShortHelp() {
		item := b.Help().Key + " " + b.Help().Desc
		switch {
		case cur == "":
			cur = item
		case ansi.StringWidth(cur+" • "+item) <= m.width:
			cur += " • " + item
		default:
			lines = append(lines, styles.help.Render(cur))
			cur = item
		}
	}
	if m.screen == scrSaga && m.runningNow() && !m.sale.approving {
		cur = "the saga is running • " + cur
	}
	return append(lines, styles.help.Render(cur))
}
