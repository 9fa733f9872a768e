package tui

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	"charm.land/bubbles/v2/key"
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
	// abandoned: the clerk gave up waiting for the buyer (esc, then y).
	abandoned bool
	pasted    string // the last approval sent from the paste field
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

// approvalRefusedMsg says why a paste was not this order's approval; the
// saga asks for it again (app.Approval.Retry: the check is the app's).
type approvalRefusedMsg struct {
	r   *run
	err error
}

// tickMsg moves the approval countdown on.
type tickMsg time.Time

func tick() tea.Cmd { return tea.Tick(time.Second, func(t time.Time) tea.Msg { return tickMsg(t) }) }

// refused is the placement's app.Approval.Retry.
func (r *run) refused(err error) {
	select {
	case r.ch <- approvalRefusedMsg{r, err}:
	default:
	}
}

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
	r := &run{kind: runPlace, amount: m.review.cart.TotalAmount, method: m.review.method}
	req := app.PlaceRequest{CustomerID: m.customer.ID, Method: m.review.method, Approval: app.Approval{Prompt: r.askApproval, Retry: r.refused},
		ExpectedTotal: m.review.cart.TotalAmount, // what the buyer was asked to pay, or nothing is charged
		Destination:   m.ship.dest()}
	sh := m.opts.Shop
	cmd := m.start(r, func(ctx context.Context, obs shop.Observer) (app.PlaceResult, error) {
		return sh.PlaceOrder(ctx, req, obs)
	})
	m.sale.run, m.screen, m.review.removed = r, scrSaga, nil
	m.sale.approving, m.sale.abandon, m.sale.refused, m.sale.deadline = false, false, "", time.Time{}
	m.sale.approval.Reset()
	m.vp.GotoTop()
	return m, cmd
}

// runOf is where the model keeps the run ch belongs to: the placement, the
// orders tab's cancel, or nil (a run no longer shown).
func (m *Model) runOf(ch chan tea.Msg) **run {
	switch {
	case m.sale.run != nil && m.sale.run.ch == ch:
		return &m.sale.run
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
		var cmd tea.Cmd
		switch {
		case r.kind != runPlace:
		case msg.ev.Outcome == shop.OutcomeWaiting && msg.ev.Name == "approval" && m.sale.deadline.IsZero():
			m.sale.deadline, m.sale.now = time.Now().Add(m.sale.timeout), time.Now()
			cmd = tick()
		case msg.ev.Outcome != shop.OutcomeWaiting:
			m.sale.approving, m.sale.abandon = false, false // answered, or over
		}
		return m, tea.Batch(r.listen(), cmd)
	case approvalRefusedMsg:
		if m.sale.run == nil || msg.r.ch != m.sale.run.ch {
			return m, nil
		}
		m.sale.refused = "✗ " + sentence(msg.err) + " — paste this order's approval"
		if p := m.sale.run.pasted; p != "" && !strings.Contains(m.sale.refused, p) {
			// Shown so the clerk sees what went (the field is cleared for the
			// next paste); a paste of more than 300 characters keeps its start
			// and says how much more there was, so the field stays in sight.
			if r := []rune(p); len(r) > 300 {
				p = fmt.Sprintf("%s… (%d characters more)", string(r[:300]), len(r)-300)
			}
			m.sale.refused += "\nYou pasted: " + p
		}
		return m, m.sale.run.listen()
	case tickMsg:
		m.sale.now = time.Time(msg)
		if m.placing() && !m.sale.deadline.IsZero() {
			return m, tick()
		}
		return m, nil
	case approvalAskMsg:
		if m.sale.run == nil || msg.r.ch != m.sale.run.ch {
			return m, nil
		}
		m.sale.approving = true
		return m.then(func(m *Model) tea.Cmd { return tea.Batch(m.sale.run.listen(), m.sale.approval.Focus()) })
	case runDoneMsg:
		at := m.runOf(msg.r.ch)
		if at == nil {
			return m, nil
		}
		r := **at
		r.done, r.placed, r.err = true, msg.placed, msg.err
		*at = &r
		if r.kind == runPlace {
			m.sale.approving = false
		}
		if m.quitting {
			return m, tea.Quit
		}
		if r.kind == runCancel {
			if r.err != nil {
				m.status = "✗ " + sentence(r.err)
			} else {
				m.status = fmt.Sprintf("order %d cancelled: refunded, stock restored", r.orderID)
				m.cancelledHere(r.orderID)
			}
			if m.screen != scrOrder || m.orders.want != r.orderID {
				return m, m.loadOrders()
			}
			return m.then(func(m *Model) tea.Cmd { return tea.Batch(m.loadOrder(r.orderID), m.loadOrders()) })
		}
		m.sale.deadline = time.Time{}
		if m.screen == scrSaga { // the outcome in view, wherever the approval left the trail
			m.layout()
			m.vp.GotoBottom()
		}
		switch {
		case errors.Is(r.err, shop.ErrConflict) && m.screen == scrSaga:
			// Refused before it started (the cart changed since it was
			// reviewed): back to the cart, fresh, to review it again.
			m.screen, m.status = scrCart, "✗ "+r.err.Error()
		case r.abandoned && r.placed.Compensated && !r.placed.Incomplete && m.screen == scrSaga:
			m.screen = scrCart
			m.status = "payment abandoned: nothing charged, stock restored; the cart is kept"
		}
		return m.then(func(m *Model) tea.Cmd { return m.loadCart() })
	}
	return m, nil
}

func (m Model) sagaKey(k tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	if !(m.sale.approving && k.Text != "") && m.scrollKey(k) {
		return m, nil
	}
	if m.runningNow() {
		if m.shownQR() != "" {
			if key.Matches(k, keys.ShowQR) || key.Matches(k, keys.Back) {
				m.sale.qrAlone = false
			}
			return m, nil
		}
		if key.Matches(k, keys.ShowQR) && !m.sale.abandon && m.placing() && approvalURL(m.sale.run.events) != "" {
			m.sale.qrAlone = true
			return m, nil
		}
		if m.sale.abandon {
			switch {
			case m.is(k, keys.Confirm):
				r := *m.sale.run
				r.abandoned = true
				m.sale.abandon, m.sale.run = false, &r
				r.stop() // the saga is interrupted while it waits: it compensates
			case m.is(k, keys.Decline):
				m.sale.abandon = false
			}
			return m, nil
		}
		if !m.sale.approving {
			return m, nil
		}
		switch {
		case m.is(k, keys.Abandon):
			m.sale.abandon = true
			return m, nil
		case m.is(k, keys.SendPaste) && strings.TrimSpace(m.sale.approval.Value()) == "":
			m.status = "✗ paste the token, or the URL the buyer landed on, first"
			return m, nil
		case m.is(k, keys.SendPaste):
			r := *m.sale.run
			r.pasted = strings.TrimSpace(m.sale.approval.Value())
			select {
			case r.tokens <- r.pasted:
			default:
			}
			m.sale.run, m.sale.approving, m.sale.refused = &r, false, ""
			m.sale.approval.Reset()
			return m, nil
		}
		var cmd tea.Cmd
		m.sale.approval, cmd = m.sale.approval.Update(k)
		return m, cmd
	}
	switch {
	case m.is(k, keys.NextCheckout):
		m.customer, m.sale.run, m.review.cart = nil, nil, shop.Cart{}
		m.screen = scrCustomers
		m.customers = newCustomerPicker()
		m.customers.afterSale = true
		m.sizeInputs()
		return m.then(func(m *Model) tea.Cmd { return tea.Batch(m.customers.input.Focus(), m.searchCustomers()) })
	case m.is(k, keys.BackToCart):
		m.screen = scrCart
		return m.then(func(m *Model) tea.Cmd { return m.loadCart() })
	}
	return m, nil
}

var outcomeMark = map[shop.Outcome]string{shop.OutcomeOK: "✓", shop.OutcomeFailed: "✗", shop.OutcomeRetry: "…", shop.OutcomeSkipped: "-",
	shop.OutcomeWaiting: "…"}

// eventLines renders one step or compensation, its detail wrapped under
// itself at spaces only; a URL in it goes on a line of its own, whole.
func eventLines(ev shop.SagaEvent, width int) []string { return eventLinesBut(ev, width, "") }

// eventLinesBut is eventLines, leaving out the URL pinned (shown whole
// under the trail).
func eventLinesBut(ev shop.SagaEvent, width int, pinned string) []string {
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
	name, outcome, detail := ev.Name, string(ev.Outcome), strings.ReplaceAll(ev.Detail, "\n", " ")
	if ev.Kind == shop.EventCompensation {
		name = "undo " + name
	}
	if ev.Kind == shop.EventStep && ev.Name == "approval" && ev.Outcome == shop.OutcomeOK {
		// The token is not an approval until the provider charges with it:
		// the payment step says whether it did.
		mark, outcome, detail, style = "→", "sent", "the approval is handed to the provider", styles.warn
	}
	u := urlPattern.FindString(detail)
	if u != "" {
		detail = strings.TrimSpace(strings.Replace(detail, u, "(the URL below)", 1))
	}
	head := "  " + style.Render(mark) + " " + cell(name, 19, false) + " " + cell(outcome, 7, false) + " "
	indent, lines := 32, []string{head}
	if width-indent < 30 { // narrow: the detail goes under the step
		indent, lines = 6, []string{head, "      "}
	}
	parts := strings.Split(wrap(detail, width-indent), "\n")
	lines[len(lines)-1] += parts[0]
	for _, d := range parts[1:] {
		lines = append(lines, strings.Repeat(" ", indent)+d)
	}
	if u != "" && u != pinned {
		lines = append(lines, urlLines(u, "    ", width)...)
	}
	return lines
}

// wrap breaks s into lines of at most w columns at spaces only: a word
// longer than a line (an id, a token) is kept whole on a line of its own,
// never cut in two.
func wrap(s string, w int) string {
	w = max(w, 10)
	var lines []string
	for _, para := range strings.Split(s, "\n") {
		cur, curW := "", 0
		for i, word := range strings.Split(para, " ") {
			ww := ansi.StringWidth(word)
			switch {
			case i == 0:
				cur, curW = word, ww
			case curW+1+ww <= w:
				cur, curW = cur+" "+word, curW+1+ww
			default:
				lines = append(lines, cur)
				cur, curW = word, ww
			}
		}
		lines = append(lines, cur)
	}
	return strings.Join(lines, "\n")
}

// urlLines shows u whole on a line of its own, as an OSC 8 hyperlink (a
// terminal that knows them opens it on a click; others show the text). A
// URL wider than the screen is the one thing split, at the edge, each part
// linking to the whole URL.
func urlLines(u, indent string, width int) []string {
	room := max(width-len(indent), 10)
	var out []string
	for rest := u; rest != ""; {
		part := rest
		if len(part) > room {
			part = rest[:room]
		}
		rest = rest[len(part):]
		out = append(out, indent+ansi.SetHyperlink(u)+part+ansi.ResetHyperlink())
	}
	return out
}

var urlPattern = regexp.MustCompile(`https?://\S+`)

// approvalURL is the URL the latest event carries, if any: a live
// provider's page where the buyer approves the payment.
func approvalURL(events []shop.SagaEvent) string {
	if len(events) == 0 {
		return ""
	}
	return urlPattern.FindString(events[len(events)-1].Detail)
}

// runLines shows a run's events as they came and, while it runs, a spinner.
func (m Model) runLines(r *run) []string { return m.trail(r, m.width, "") }

// trail is runLines in width columns, leaving out the URL pinned.
func (m Model) trail(r *run, width int, pinned string) []string {
	var lines []string
	for _, ev := range r.events {
		lines = append(lines, eventLinesBut(ev, width, pinned)...)
	}
	if !r.done {
		lines = append(lines, "  "+m.spin.View()+" working…")
	}
	return lines
}

// sagaLines is the placement screen: the title, the trail and the outcome
// scroll; while the buyer is asked, the approval URL, the countdown and the
// paste field are pinned under them (always in sight). The QR code is
// drawn beside or under the trail when there is room, and promised only
// then.
func (m Model) sagaLines() (content, pinned []string) {
	r := m.sale.run
	if r == nil {
		return nil, nil
	}
	u := ""
	if !r.done {
		u = approvalURL(r.events)
	}
	// The QR code is drawn beside the trail, or under it, only where it is
	// in sight whole from the top of the screen (the trail starts at the
	// top while the buyer is asked); the promise is made only then. The
	// pinned lines are counted with the longer hint, so the promise, no
	// longer, still leaves the code whole.
	pinned = m.approvalPinned(u, qrHint)
	room := m.bodyHeight() - len(pinned)
	var qr []string
	if u != "" {
		qr = qrLines(u)
	}
	trailWidth := m.width
	besideTrail := len(qr) > 0 && m.width-ansi.StringWidth(qr[0])-2 >= 36 && len(qr) <= room-1
	if besideTrail {
		trailWidth = m.width - ansi.StringWidth(qr[0]) - 2
	}
	content = append(strings.Split(wrap(m.sagaTitle(), trailWidth), "\n"), "")
	content = append(content, m.trail(r, trailWidth, u)...)
	switch {
	case besideTrail:
		content = beside(content, qr, trailWidth)
	case len(qr) > 0 && len(qr) <= room-len(content)-1:
		content = append(content, qr...)
	default:
		qr = nil
	}
	if len(qr) > 0 {
		pinned = m.approvalPinned(u, qrPromise)
	}
	if r.done {
		content = append(content, "")
		content = append(content, m.sagaOutcome()...)
	}
	return content, pinned
}

// approvalPinned is what stays in sight under the trail while the buyer is
// asked (nothing without an approval URL u): the URL under hint, the
// countdown, and the paste field or the abandon question.
func (m Model) approvalPinned(u, hint string) []string {
	if u == "" {
		return nil
	}
	pinned := append([]string{""}, strings.Split(wrap(hint, m.width), "\n")...)
	pinned = append(pinned, urlLines(u, "  ", m.width)...)
	if left := m.sale.deadline.Sub(m.sale.now); !m.sale.deadline.IsZero() {
		pinned = append(pinned, styles.warn.Render(fmt.Sprintf("  %s left to approve (payment.approval_timeout %s)",
			clock(max(left, 0)), m.sale.timeout)))
	}
	switch {
	case m.sale.abandon:
		pinned = append(pinned, styledLines(styles.warn, wrap("Abandon this payment? Nothing is charged, the stock goes back, the cart stays. y abandons • n keeps waiting", m.width))...)
	case m.sale.approving:
		if m.sale.refused != "" {
			// Wrapped, a URL in it broken at the edge: never cut.
			pinned = append(pinned, styledLines(styles.bad, ansi.Wrap(m.sale.refused, m.width, ""))...)
		}
		pinned = append(pinned, "Paste the token or the URL the buyer landed on, then enter:", m.sale.approval.View())
	}
	return pinned
}

// What the approval screen says of the QR code: where it is drawn whole,
// and where it is not.
const (
	qrPromise = "The buyer approves the payment at (the QR code opens it):"
	qrHint    = "The buyer approves the payment at (tab shows its QR code alone):"
)

// shownQR is the approval URL whose QR code has the whole screen, or "".
func (m Model) shownQR() string {
	if !m.sale.qrAlone || m.screen != scrSaga || !m.placing() {
		return ""
	}
	return approvalURL(m.sale.run.events)
}

// qrAloneView is the whole screen given to the approval's QR code (tab), so
// that a buyer can scan it on a small screen: the code whole, sized to fit,
// or, when the window cannot hold it, a sentence saying what it needs.
func (m Model) qrAloneView(u string) string {
	caption := fmt.Sprintf("Scan to approve %s with %s • tab returns", m.sale.run.amount, m.sale.run.method)
	if qr := qrFit(u, m.height-1, m.width); len(qr) > 0 {
		return strings.Join(append(qr, ansi.Truncate(caption, m.width, "…")), "\n")
	}
	cols, rows := qrSize(u)
	msg := fmt.Sprintf("This window (%d×%d) is too small for the QR code: it needs %d columns and %d rows. Enlarge it, or let the buyer open the URL. tab returns.",
		m.width, m.height, cols, rows+1)
	return strings.Join(append(strings.Split(wrap(msg, m.width), "\n"), urlLines(u, "", m.width)...), "\n")
}

// beside puts right next to left, left cut to width.
func beside(left, right []string, width int) []string {
	out := make([]string, max(len(left), len(right)))
	for i := range out {
		l, q := "", ""
		if i < len(left) {
			l = left[i]
		}
		if i < len(right) {
			q = right[i]
		}
		out[i] = cell(l, width, false) + "  " + q
	}
	return out
}

// qrLines is u's QR code drawn in half blocks (two modules a line) with the
// standard quiet zone of 4 modules, or nil when it cannot be made.
func qrLines(u string) []string { return qrFit(u, 1<<20, 1<<20) }

// qrFit is u's QR code in at most rows lines of cols cells: the standard
// quiet zone of 4 modules, narrowed to no less than 2 when that is what
// makes the code fit (phone cameras read a 2-module zone; the code itself
// is always whole). nil when it does not fit even so.
func qrFit(u string, rows, cols int) []string {
	modules := qrModules(u)
	if modules == nil {
		return nil
	}
	for zone := 4; zone >= 2; zone-- {
		if n := len(modules) + 2*zone; (n+1)/2 <= rows && n <= cols {
			return halfBlocks(modules, zone)
		}
	}
	return nil
}

// qrSize is the least room u's QR code takes (a 2-module quiet zone): its
// width in cells and its height in lines.
func qrSize(u string) (cols, rows int) {
	n := len(qrModules(u)) + 4
	return n, (n + 1) / 2
}

// qrModules is u's QR code without its quiet zone (true: a dark module),
// made once per URL (the screen is drawn on every spinner tick).
func qrModules(u string) [][]bool {
	qrCache.Lock()
	defer qrCache.Unlock()
	if qrCache.url == u {
		return qrCache.modules
	}
	q, err := qrcode.New(u, qrcode.Low)
	if err != nil {
		return nil
	}
	q.DisableBorder = true
	qrCache.url, qrCache.modules = u, q.Bitmap()
	return qrCache.modules
}

var qrCache struct {
	sync.Mutex
	url     string
	modules [][]bool
}

// halfBlocks draws modules with a quiet zone of zone light modules around
// them, two module rows a line: a light module is drawn (█, ▀, ▄), a dark one
// left as the background, as go-qrcode's ToSmallString draws for a dark
// terminal.
func halfBlocks(modules [][]bool, zone int) []string {
	n := len(modules) + 2*zone
	dark := func(y, x int) bool {
		y, x = y-zone, x-zone
		return y >= 0 && x >= 0 && y < len(modules) && x < len(modules) && modules[y][x]
	}
	var lines []string
	for y := 0; y < n; y += 2 {
		var b strings.Builder
		for x := 0; x < n; x++ {
			top, bottom := !dark(y, x), y+1 < n && !dark(y+1, x)
			switch {
			case top && bottom:
				b.WriteString("█")
			case top:
				b.WriteString("▀")
			case bottom:
				b.WriteString("▄")
			default:
				b.WriteString(" ")
			}
		}
		lines = append(lines, b.String())
	}
	return lines
}

// clock shows d as m:ss.
func clock(d time.Duration) string {
	s := int(d.Round(time.Second) / time.Second)
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

// charged reports whether the trail shows a charge that no refund followed.
func charged(events []shop.SagaEvent) bool {
	paid := false
	for _, ev := range events {
		switch {
		case ev.Kind == shop.EventStep && ev.Name == app.StepPayment && ev.Outcome == shop.OutcomeOK:
			paid = true
		case ev.Kind == shop.EventCompensation && ev.Name == app.UndoRefund && ev.Outcome == shop.OutcomeOK:
			paid = false
		}
	}
	return paid
}

func (m Model) sagaTitle() string {
	r := m.sale.run
	switch {
	case !r.done:
		return fmt.Sprintf("Placing the order: %s with %s", r.amount, r.method)
	case r.err == nil && r.placed.Status == app.Placed && r.placed.Order != nil && r.placed.Order.Status == shop.OrderCancelled:
		return styles.warn.Render(fmt.Sprintf("Order %d placed, then cancelled: %s refunded", r.placed.Order.ID, r.placed.Order.TotalAmount))
	case r.err == nil && r.placed.Status == app.Placed && r.placed.Order != nil:
		return styles.good.Render(fmt.Sprintf("Order placed: %s with %s", r.placed.Order.TotalAmount, r.method))
	case r.placed.Incomplete && charged(r.events):
		return styles.bad.Render(fmt.Sprintf("Order NOT placed — %s CHARGED with %s and NOT refunded: run 'rabbitpay saga recover'", r.amount, r.method))
	case r.placed.Incomplete:
		return styles.bad.Render("Order NOT placed — left unfinished: run 'rabbitpay saga recover'")
	case r.abandoned:
		return fmt.Sprintf("Payment abandoned: %s with %s", r.amount, r.method)
	}
	return fmt.Sprintf("Order not placed: %s with %s", r.amount, r.method)
}

func (m Model) sagaOutcome() []string {
	r := m.sale.run
	res := r.placed
	var lines []string
	switch {
	case r.err != nil:
		lines = append(lines, styledLines(styles.bad, wrap("✗ "+sentence(r.err), m.width))...)
		lines = append(lines, "Nothing was charged or changed.")
	case res.Status == app.Placed:
		o := res.Order
		lines = append(lines, styles.good.Render(fmt.Sprintf("✓ order %d — %s paid with %s", o.ID, o.TotalAmount, o.Payment.Method)))
		if o.Status == shop.OrderCancelled {
			lines = append(lines, styles.warn.Render(fmt.Sprintf("  since cancelled in the orders tab: %s refunded, stock restored", o.TotalAmount)))
		}
		for _, it := range o.Items { // wrapped as the order detail is: quantity and price never cut
			l := fmt.Sprintf("%s %s × %d at %s", it.SKU, it.Name, it.Quantity, it.OrderPrice)
			lines = append(lines, indented(l, m.width, "    ", "      ")...)
		}
		lines = append(lines, styles.dim.Render("  saga "+res.OrderUUID))
	default:
		lines = append(lines, styledLines(styles.bad, wrap("✗ "+placementLine(res, nil), m.width))...)
		if undone := undoneSteps(r.events); undone != "" {
			lines = append(lines, "Undone: "+undone)
		} else if !res.Incomplete {
			lines = append(lines, "Nothing had to be undone.")
		}
	}
	return lines
}

// cancelledHere marks the placement the checkout tab shows as cancelled
// when it is the order the orders tab just cancelled, so that the tab
// does not still call it paid.
func (m *Model) cancelledHere(orderID int64) {
	if m.sale.run == nil || m.sale.run.placed.Order == nil || m.sale.run.placed.Order.ID != orderID {
		return
	}
	r, o := *m.sale.run, *m.sale.run.placed.Order
	o.Status = shop.OrderCancelled
	r.placed.Order = &o
	m.sale.run = &r
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
