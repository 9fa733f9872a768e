package tui

import (
	"context"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/rabbitpay/rabbitpay/internal/app"
	"github.com/rabbitpay/rabbitpay/internal/config"
	"github.com/rabbitpay/rabbitpay/internal/shop"
	"github.com/rabbitpay/rabbitpay/internal/testdb"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

var ctx = context.Background()

// testShop is a test database with customers 김토끼 (1) and 박당근 (2) and
// products A (₩1,000, 10), B (₩2,500, 10), GOLD (₩900,000, 5) and LAST
// (₩5,000, 1); the payment sandbox declines over ₩1,000,000.
type testShop struct {
	t *testing.T
	a *app.App
}

func newShop(t *testing.T, settings ...func(*config.Config)) *testShop {
	t.Parallel()
	c := &config.Config{DatabaseURL: testdb.New(t), Output: "table", MaxConns: 8}
	c.Payment.Sandbox.DeclineOver = 1_000_000
	c.Saga.CompensationAttempts = 2
	c.Saga.Lease = 2 * time.Second
	c.Payment.Timeout = 10 * time.Second
	for _, set := range settings {
		set(c)
	}
	a, err := app.Open(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	for _, name := range []string{"김토끼", "박당근"} {
		if _, err := a.RegisterCustomer(ctx, shop.Customer{Name: name}, ""); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []shop.Product{
		{SKU: "A", Name: "토끼 인형", Price: 1000, StockQuantity: 10},
		{SKU: "B", Name: "당근", Price: 2500, StockQuantity: 10},
		{SKU: "GOLD", Name: "금 토끼", Price: 900_000, StockQuantity: 5},
		{SKU: "LAST", Name: "마지막 하나", Price: 5000, StockQuantity: 1},
	} {
		if _, err := a.RegisterProduct(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	return &testShop{t: t, a: a}
}

func (s *testShop) stock(sku string) int64 {
	s.t.Helper()
	p, err := s.a.Product(ctx, sku)
	if err != nil {
		s.t.Fatal(err)
	}
	return p.StockQuantity
}

func (s *testShop) orders(customer int64) []shop.Order {
	s.t.Helper()
	p, err := s.a.Orders(ctx, shop.OrderFilter{CustomerID: customer}, shop.ListOptions{})
	if err != nil {
		s.t.Fatal(err)
	}
	return p.Items
}

func (s *testShop) cart(customer int64) shop.Cart {
	s.t.Helper()
	c, err := s.a.Cart(ctx, customer)
	if err != nil {
		s.t.Fatal(err)
	}
	return c
}

// probe wraps the model and publishes every state it takes, so a test waits
// for a state (not for time) before the next key.
type probe struct {
	tea.Model
	last *atomic.Pointer[Model]
}

func (p probe) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	next, cmd := p.Model.Update(msg)
	m := next.(Model)
	p.last.Store(&m)
	return probe{next, p.last}, cmd
}

// session drives one checkout under teatest at 80×24.
type session struct {
	t    *testing.T
	tm   *teatest.TestModel
	last *atomic.Pointer[Model]
	wg   *sync.WaitGroup
}

func start(t *testing.T, s Shop, customer int64) *session {
	wg := new(sync.WaitGroup)
	last := new(atomic.Pointer[Model])
	m := New(Options{Shop: s, Ctx: ctx, CustomerID: customer, Running: wg})
	last.Store(&m)
	tm := teatest.NewTestModel(t, probe{m, last}, teatest.WithInitialTermSize(80, 24))
	t.Cleanup(wg.Wait)
	return &session{t: t, tm: tm, last: last, wg: wg}
}

// waitFor waits until the model satisfies cond; the bound only stops a broken test.
func (s *session) waitFor(what string, cond func(m Model) bool) Model {
	s.t.Helper()
	var got Model
	teatest.WaitFor(s.t, s.tm.Output(), func([]byte) bool {
		got = *s.last.Load()
		return cond(got)
	}, teatest.WithDuration(60*time.Second), teatest.WithCheckInterval(5*time.Millisecond))
	return got
}

func (s *session) key(keys ...string) {
	for _, k := range keys {
		s.tm.Send(keyMsg(k))
	}
}

// keyMsg makes the key press String() names k.
func keyMsg(k string) tea.KeyPressMsg {
	special := map[string]rune{"enter": tea.KeyEnter, "tab": tea.KeyTab, "esc": tea.KeyEscape, "up": tea.KeyUp,
		"down": tea.KeyDown, "pgdown": tea.KeyPgDown, "pgup": tea.KeyPgUp, "backspace": tea.KeyBackspace}
	if c, ok := special[k]; ok {
		return tea.KeyPressMsg{Code: c}
	}
	if k == "ctrl+c" || k == "ctrl+o" || k == "ctrl+n" {
		return tea.KeyPressMsg{Code: rune(k[5]), Mod: tea.ModCtrl}
	}
	r := []rune(k)[0]
	return tea.KeyPressMsg{Code: r, Text: k}
}

func (s *session) final() Model {
	s.t.Helper()
	m := s.tm.FinalModel(s.t, teatest.WithFinalTimeout(60*time.Second))
	return m.(probe).Model.(Model)
}
