package tui

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/skip2/go-qrcode"

	"github.com/rabbitpay/rabbitpay/internal/app"
	"github.com/rabbitpay/rabbitpay/internal/shop"
)

type runKind int

const (
	runPlace runKind = iota
	runCancel
)

// run is a saga (a placement or a cancel) running off the update loop: its
// observer's events and its end arrive as messages through ch.
type run struct {
	kind    runKind
	amount  shop.Won // placement: the cart's total when it started
	method  shop.PaymentMethod
	orderID int64 // cancel: the order
	ch      chan tea.Msg
	tokens  chan string // the approval typed in
	stop    context.CancelFunc
	events  []shop.SagaEvent
	done    bool
	placed  app.PlaceResult
	err     error
}

type runEventMsg struct {
	r  *run
	ev shop.SagaEvent
}

type runDoneMsg struct {
	r      *run
	placed app.PlaceResult
	err    error
}

// listen waits for the run's next message.
func (r *run) listen() tea.Cmd {
	return func() tea.Msg { return <-r.ch }
}

// start runs f on its own goroutine, counted in Running, with an observer
// that forwards every event. Its context is the session's, cancelled by
// stop: a cancelled saga starts no new interruptible step and compensates.
func (m Model) start(r *run, f func(ctx context.Context, obs shop.Observer) (app.PlaceResult, error)) tea.Cmd {
	ctx, stop := context.WithCancel(m.opts.Ctx)
	r.ch, r.tokens, r.stop = make(chan tea.Msg, 256), make(chan string, 1), stop
	obs := shop.ObserverFunc(func(ev shop.SagaEvent) {
		select {
		case r.ch <- runEventMsg{r, ev}:
		default: // nobody is listening any more (the session is gone)
		}
	})
	running := m.opts.Running
	running.Add(1)
	go func() {
		defer running.Done()
		defer stop()
		res, err := f(ctx, obs)
		r.ch <- runDoneMsg{r, res, err}
	}()
	return tea.Batch(r.listen(), m.spin.Tick)
}

// approvalAskMsg says the saga waits for the buyer's approval and takes it
// typed in too (the token, or the URL the provider sent the buyer back to).
type approvalAskMsg struct{ r *run }

// askApproval is the placement's approval prompt: it asks the screen and
// waits for what is typed, or for ctx to end (the buyer approved through
// the callback listener, or the wait is over).
func (r *run) askApproval(ctx context.Context, approvalURL string) (string, error) {
	select {
	case r.ch <- approvalAskMsg{r}:
	default:
	}
	select {
	case t := <-r.tokens:
		return t, nil
	case <-ctx.Done():
		return "", nil
	}
}

// place runs the order saga over the customer's cart.
func (m Model) place() (tea.Model, tea.Cmd) {
	r := &run{kind: runPlace, amount: m.cart.TotalAmount, method: m.method}
	req := app.PlaceRequest{CustomerID: m.customer.ID, Method: m.method, Approval: app.Approval{Prompt: r.askApproval},
		ExpectedTotal: m.cart.TotalAmount} // what the buyer was asked to pay, or nothing is charged
	sh := m.opts.Shop
	cmd := m.start(r, func(ctx context.Context, obs shop.Observer) (app.PlaceResult, error) {
		return sh.PlaceOrder(ctx, req, obs)
	})
	m.run, m.screen = r, scrSaga
	m.approving = false
	m.approval.Reset()
	return m, cmd
}

// runOf is where the model keeps the run ch belongs to: the placement, the
// orders tab's cancel, or nil (a run no longer shown).
func (m *Model) runOf(ch chan tea.Msg) **run {
	switch {
	case m.run != nil && m.run.ch == ch:
		return &m.run
	case m.orders.run != nil && m.orders.run.ch == ch:
		return &m.orders.run
	}
	return nil
}

func (m Model) updateRun(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case runEventMsg:
		at := m.runOf(msg.r.ch)
		if at == nil {
			return m, nil
		}
		r := **at
		r.events = append(append([]shop.SagaEvent(nil), r.events...), msg.ev)
		*at = &r
		if msg.ev.Outcome != shop.OutcomeWaiting && r.kind == runPlace {
			m.approving = false // answered, or over
		}
		return m, r.listen()
	case approvalAskMsg:
		if m.run == nil || msg.r.ch != m.run.ch {
			return m, nil
		}
		m.approving = true
		return m.then(func(m *Model) tea.Cmd { return tea.Batch(m.run.listen(), m.approval.Focus()) })
	case runDoneMsg:
		at := m.runOf(msg.r.ch)
		if at == nil {
			return m, nil
		}
		r := **at
		r.done, r.placed, r.err = true, msg.placed, msg.err
		*at = &r
		if r.kind == runPlace {
			m.approving = false
		}
		if m.quitting {
			return m, tea.Quit
		}
		if r.kind == runCancel {
			if r.err != nil {
				m.status = "✗ " + r.err.Error()
			} else {
				m.status = fmt.Sprintf("order %d cancelled: refunded, stock restored", r.orderID)
			}
			if m.screen != scrOrder || m.orders.want != r.orderID {
				return m, m.loadOrders()
			}
			return m.then(func(m *Model) tea.Cmd { return tea.Batch(m.loadOrder(r.orderID), m.loadOrders()) })
		}
		if errors.Is(r.err, shop.ErrConflict) && m.screen == scrSaga {
			// Refused before it started (the cart changed since it was
			// reviewed): back to the cart, fresh, to review it again.
			m.screen, m.status = scrCart, "✗ "+r.err.Error()
		}
		return m.then(func(m *Model) tea.Cmd { return m.loadCart() })
	}
	return m, nil
}

func (m Model) sagaKey(k tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	if m.runningNow() {
		if !m.approving {
			return m, nil
		}
		if k.String() == "enter" && strings.TrimSpace(m.approval.Value()) != "" {
			select {
			case m.run.tokens <- strings.TrimSpace(m.approval.Value()):
			default:
			}
			m.approving = false
			m.approval.Reset()
			return m, nil
		}
		var cmd tea.Cmd
		m.approval, cmd = m.approval.Update(k)
		return m, cmd
	}
	switch k.String() {
	case "enter":
		m.customer, m.run, m.cart = nil, nil, shop.Cart{}
		m.screen = scrCustomers
		m.customers = newCustomerPicker()
		return m.then(func(m *Model) tea.Cmd { return tea.Batch(m.customers.input.Focus(), m.searchCustomers()) })
	case "esc":
		m.screen = scrCart
		return m.then(func(m *Model) tea.Cmd { return m.loadCart() })
	}
	return m, nil
}

var outcomeMark = map[shop.Outcome]string{shop.OutcomeOK: "✓", shop.OutcomeFailed: "✗", shop.OutcomeRetry: "…", shop.OutcomeSkipped: "-",
	shop.OutcomeWaiting: "…"}

// eventLines renders one step or compensation, its detail wrapped under
// itself; details are shown as they come (an approval URL included).
func eventLines(ev shop.SagaEvent, width int) []string {
	mark := outcomeMark[ev.Outcome]
	style := styles.good
	switch {
	case ev.Kind == shop.EventCompensation && ev.Outcome == shop.OutcomeOK:
		mark, style = "↩", styles.warn
	case ev.Outcome == shop.OutcomeFailed:
		style = styles.bad
	case ev.Outcome != shop.OutcomeOK:
		style = styles.warn
	}
	name := ev.Name
	if ev.Kind == shop.EventCompensation {
		name = "undo " + name
	}
	head := "  " + style.Render(mark) + " " + cell(name, 19, false) + " " + cell(string(ev.Outcome), 7, false) + " "
	indent, lines := 32, []string{head}
	if width-indent < 30 { // narrow: the detail goes under the step
		indent, lines = 6, []string{head, "      "}
	}
	detail := strings.Split(wrap(strings.ReplaceAll(ev.Detail, "\n", " "), width-indent), "\n")
	lines[len(lines)-1] += detail[0]
	for _, d := range detail[1:] {
		lines = append(lines, strings.Repeat(" ", indent)+d)
	}
	return lines
}

// wrap breaks s into lines of at most w columns, at spaces where it can.
func wrap(s string, w int) string { return ansi.Wrap(s, max(w, 10), "") }

var urlPattern = regexp.MustCompile(`https?://\S+`)

// approvalURL is the URL the latest event carries, if any: a live
// provider's page where the buyer approves the payment.
func approvalURL(events []shop.SagaEvent) string {
	if len(events) == 0 {
		return ""
	}
	return urlPattern.FindString(events[len(events)-1].Detail)
}

// runLines shows a run's events as they came, and while it runs a spinner,
// the approval URL and its QR code (beside the rest when there is room) and
// the approval prompt.
func (m Model) runLines(r *run) []string {
	u := ""
	if !r.done {
		u = approvalURL(r.events)
	}
	var qr []string
	width := m.width
	if u != "" {
		if q, err := qrcode.New(u, qrcode.Low); err == nil {
			qr = strings.Split(strings.TrimRight(q.ToSmallString(false), "\n"), "\n")
		}
		if len(qr) > 0 && m.width-ansi.StringWidth(qr[0])-2 >= 36 {
			width = m.width - ansi.StringWidth(qr[0]) - 2
		}
	}
	var lines []string
	for _, ev := range r.events {
		lines = append(lines, eventLines(ev, width)...)
	}
	if r.done {
		return lines
	}
	lines = append(lines, "  "+m.spin.View()+" working…")
	if u != "" {
		lines = append(lines, "")
		lines = append(lines, strings.Split(wrap("The buyer approves the payment at "+u+" (the QR code opens it).", width), "\n")...)
	}
	if m.approving && r == m.run {
		lines = append(lines, "", "Or paste the token or the final URL, then enter:", m.approval.View())
	}
	if width == m.width { // no room beside: below
		return append(lines, qr...)
	}
	out := make([]string, max(len(lines), len(qr)))
	for i := range out {
		l, q := "", ""
		if i < len(lines) {
			l = lines[i]
		}
		if i < len(qr) {
			q = qr[i]
		}
		out[i] = cell(l, width, false) + "  " + q
	}
	return out
}

func (m Model) sagaView() string {
	r := m.run
	if r == nil {
		return ""
	}
	title := fmt.Sprintf("Placing the order: %s with %s", r.amount, r.method)
	switch {
	case r.done && r.err == nil && r.placed.Status == app.Placed && r.placed.Order != nil:
		title = fmt.Sprintf("Order placed: %s with %s", r.placed.Order.TotalAmount, r.method)
	case r.done:
		title = fmt.Sprintf("Order not placed: %s with %s", r.amount, r.method)
	}
	lines := []string{title, ""}
	lines = append(lines, m.runLines(r)...)
	if !r.done {
		return strings.Join(lines, "\n")
	}
	lines = append(lines, "")
	res := r.placed
	switch {
	case r.err != nil:
		lines = append(lines, styles.bad.Render("✗ "+r.err.Error()), "Nothing was charged or changed.")
	case res.Status == app.Placed:
		o := res.Order
		lines = append(lines, styles.good.Render(fmt.Sprintf("✓ order %d — %s paid with %s", o.ID, o.TotalAmount, o.Payment.Method)))
		for _, it := range o.Items {
			lines = append(lines, fmt.Sprintf("    %s %s × %d at %s", it.SKU, it.Name, it.Quantity, it.OrderPrice))
		}
		lines = append(lines, styles.dim.Render("  saga "+res.OrderUUID))
	default:
		lines = append(lines, strings.Split(styles.bad.Render(wrap("✗ "+placementLine(res, nil), m.width)), "\n")...)
		if undone := undoneSteps(r.events); undone != "" {
			lines = append(lines, "Undone: "+undone)
		} else if !res.Incomplete {
			lines = append(lines, "Nothing had to be undone.")
		}
	}
	return strings.Join(lines, "\n")
}

// undoneSteps lists the compensations that succeeded.
func undoneSteps(events []shop.SagaEvent) string {
	var names []string
	for _, ev := range events {
		if ev.Kind == shop.EventCompensation && ev.Outcome == shop.OutcomeOK {
			names = append(names, ev.Name)
		}
	}
	return strings.Join(names, ", ")
}
