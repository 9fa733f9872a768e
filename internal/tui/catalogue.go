package tui

import (
	"context"
	"fmt"
	"maps"
	"strconv"
	"strings"

	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/rabbitpay/rabbitpay/internal/shop"
)

// catalogue pages through products by keyset, a screenful at a time, so a
// catalogue of any size answers at once; the filter matches name and SKU.
type catalogue struct {
	input  textinput.Model
	seq    int
	page   shop.Page[shop.Product]
	after  int64   // the cursor the shown page starts after
	before []int64 // cursors of the pages before it
	sel    int
	height int
	// pick is the product the cursor goes to once the page asked for
	// arrives (pickLast: its last row); 0 keeps the row.
	pick int64
}

const pickLast = -1

func newCatalogue() catalogue {
	in := textinput.New()
	in.Prompt = "Filter: "
	in.Placeholder = "name or SKU"
	return catalogue{input: in}
}

// catalogueRows is how many product rows fit: the body less the filter,
// the column heads, the page line and the cart line, with their blank lines.
func (m Model) catalogueRows() int { return m.bodyHeight() - 6 }

// resized asks for the page again at the screen's new height, the cursor
// kept on the product it was on: a page grown shorter than the cursor's
// row starts at that product instead.
func (m *Model) resized() tea.Cmd {
	c := &m.catalogue
	if c.sel < len(c.page.Items) {
		p := c.page.Items[c.sel]
		c.pick = p.ID
		if c.sel > 0 && c.sel >= max(m.catalogueRows(), 3) { // 3: rows()'s least page
			c.before = append(c.before, c.after)
			c.after = c.page.Items[c.sel-1].ID
		}
	}
	return m.searchProducts()
}

// rows is how many products fit on the screen.
func (c catalogue) rows() int { return max(c.height, 3) }

type productsMsg struct {
	seq  int
	page shop.Page[shop.Product]
	err  error
}

func (m *Model) searchProducts() tea.Cmd {
	c := &m.catalogue
	c.height = m.catalogueRows()
	c.seq++
	seq := c.seq
	o := shop.ListOptions{Search: strings.TrimSpace(c.input.Value()), After: c.after, Limit: c.rows()}
	return m.call(func(ctx context.Context, sh Shop) tea.Msg {
		p, err := sh.Products(ctx, o)
		return productsMsg{seq, p, err}
	})
}

func (m Model) catalogueKey(k tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	c := &m.catalogue
	items := c.page.Items
	switch {
	case m.is(k, keys.ClearFilter) && c.input.Value() != "":
		c.input.SetValue("")
		c.after, c.before, c.sel = 0, nil, 0
		return m.then(func(m *Model) tea.Cmd { return m.searchProducts() })
	case m.is(k, keys.Back):
		m.screen, m.customer = scrCustomers, nil
		return m.then(func(m *Model) tea.Cmd { return tea.Batch(m.customers.input.Focus(), m.searchCustomers()) })
	case m.is(k, keys.ToCart):
		m.screen = scrCart
		m.review.row = 0
		return m.then(func(m *Model) tea.Cmd { return m.loadCart() })
	case m.is(k, keys.Up):
		if c.sel == 0 && len(c.before) > 0 { // back past the page's head
			n := len(c.before)
			c.after, c.before, c.pick = c.before[n-1], c.before[:n-1], pickLast
			return m.then(func(m *Model) tea.Cmd { return m.searchProducts() })
		}
		c.sel = max(c.sel-1, 0)
		return m, nil
	case m.is(k, keys.Down):
		if c.sel == len(items)-1 && c.page.More { // on past the page's end
			return m.catalogueKey(tea.KeyPressMsg{Code: tea.KeyPgDown})
		}
		c.sel = max(min(c.sel+1, len(items)-1), 0)
		return m, nil
	case m.is(k, keys.PgDown):
		if c.page.More && len(items) > 0 {
			c.before = append(c.before, c.after)
			c.after, c.sel = items[len(items)-1].ID, 0
			return m.then(func(m *Model) tea.Cmd { return m.searchProducts() })
		}
		return m, nil
	case m.is(k, keys.PgUp):
		if n := len(c.before); n > 0 {
			c.after, c.before, c.sel = c.before[n-1], c.before[:n-1], 0
			return m.then(func(m *Model) tea.Cmd { return m.searchProducts() })
		}
		return m, nil
	case m.is(k, keys.Add):
		if len(items) == 0 {
			return m, nil
		}
		p := items[c.sel]
		return m.then(func(m *Model) tea.Cmd { return m.adjust(p.ID, 1) })
	}
	before := c.input.Value()
	var cmd tea.Cmd
	c.input, cmd = c.input.Update(k)
	if c.input.Value() != before {
		c.after, c.before, c.sel = 0, nil, 0
		return m.then(func(m *Model) tea.Cmd { return tea.Batch(cmd, m.searchProducts()) })
	}
	return m, cmd
}

func (m Model) catalogueData(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case productsMsg:
		if msg.seq != m.catalogue.seq {
			return m, nil
		}
		if msg.err != nil {
			m.status = "✗ " + msg.err.Error()
			return m, nil
		}
		m.catalogue.page = msg.page
		m.stock = maps.Clone(m.stock) // copied on write: an older model may still be read
		for _, p := range msg.page.Items {
			m.stock[p.ID] = p.StockQuantity
		}
		c := &m.catalogue
		switch {
		case c.pick == pickLast:
			c.sel = len(msg.page.Items) - 1
		case c.pick != 0:
			for i, p := range msg.page.Items {
				if p.ID == c.pick {
					c.sel = i
				}
			}
		}
		c.pick = 0
		c.sel = max(min(c.sel, len(msg.page.Items)-1), 0)
	case cartMsg:
		return m.then(func(m *Model) tea.Cmd { return m.cartAnswer(msg) })
	}
	return m, nil
}

// productColumns: id, SKU, name, price, stock, in cart.
var productColumns = []column{{w: -5, shrink: 0}, {w: 12, min: 6, shrink: 1}, {name: true}, {w: -11, shrink: 9}, {w: -6, shrink: 9}, {w: -5, shrink: 9}}

func (m Model) catalogueView() string {
	c := m.catalogue
	var b strings.Builder
	b.WriteString(c.input.View() + "\n\n")
	w := widths(m.width-2, productColumns)
	b.WriteString(styles.dim.Render("  "+row(w, "id", "sku", "name", "price", "stock", "cart")) + "\n")
	if len(c.page.Items) == 0 {
		b.WriteString(styles.dim.Render("  no product matches") + "\n")
	}
	// The page was asked for at the height the body had then; a status
	// that wrapped since takes rows: what fits is shown around the cursor.
	visible := min(c.rows(), max(m.catalogueRows(), 1))
	from, to := window(len(c.page.Items), c.sel, visible)
	for i := from; i < to; i++ {
		p := c.page.Items[i]
		qty := ""
		if n := m.inCart(p.ID); n > 0 {
			qty = strconv.FormatInt(n, 10)
		}
		l := line(row(w, strconv.FormatInt(p.ID, 10), p.SKU, p.Name, p.Price.String(),
			strconv.FormatInt(p.StockQuantity, 10), qty), i == c.sel)
		if p.StockQuantity == 0 && i != c.sel {
			l = styles.dim.Render(l) // out of stock: there, but nothing to add
		}
		b.WriteString(l + "\n")
	}
	for i := to - from; i < visible; i++ {
		b.WriteString("\n")
	}
	pageNo := fmt.Sprintf("page %d", len(c.before)+1)
	if to-from < len(c.page.Items) {
		pageNo += fmt.Sprintf(" (rows %d–%d of %d shown)", from+1, to, len(c.page.Items))
	}
	if c.page.More {
		pageNo += " • pgdn for more"
	}
	b.WriteString(styles.dim.Render("  "+pageNo) + "\n\n")
	b.WriteString(fmt.Sprintf("Cart: %d item(s), %s — tab to review and pay", m.units(), m.review.cart.TotalAmount))
	return b.String()
}
