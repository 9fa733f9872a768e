package app

import (
	"context"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rabbitpay/rabbitpay/internal/config"
	"github.com/rabbitpay/rabbitpay/internal/saga"
	"github.com/rabbitpay/rabbitpay/internal/shop"
	"github.com/rabbitpay/rabbitpay/internal/testdb"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

var ctx = context.Background()

func testConfig(url string) *config.Config {
	c := &config.Config{DatabaseURL: url, Output: "table", MaxConns: 24}
	c.Payment.Sandbox.DeclineOver = 1_000_000
	c.Saga.CompensationAttempts = 2
	c.Saga.Lease = 2 * time.Second
	c.Payment.Timeout = 10 * time.Second
	return c
}

// shop is a test database with a customer (id 1, with a default address) and products A (stock 10,
// ₩1,000), B (stock 10, ₩2,500) and GOLD (stock 5, ₩900,000).
type testShop struct {
	t   *testing.T
	a   *App
	url string
}

func newShop(t *testing.T) *testShop {
	t.Parallel()
	url := testdb.New(t)
	a, err := Open(ctx, testConfig(url))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	s := &testShop{t: t, a: a, url: url}
	if _, err := a.RegisterCustomer(ctx, shop.Customer{Name: "김토끼", // orders ship to this default address
		Address: &shop.Address{ZipCode: "04524", Line1: "서울 중구 세종대로 110"}}, ""); err != nil {
		t.Fatal(err)
	}
	for _, p := range []shop.Product{
		{SKU: "A", Name: "토끼 인형", Price: 1000, StockQuantity: 10},
		{SKU: "B", Name: "당근", Price: 2500, StockQuantity: 10},
		{SKU: "GOLD", Name: "금 토끼", Price: 900_000, StockQuantity: 5},
	} {
		if _, err := a.RegisterProduct(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// reopen returns a second App on the same database with the given failpoints.
func (s *testShop) withFailpoints(spec string) *App {
	a, err := Open(ctx, testConfig(s.url))
	if err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(a.Close)
	if a.Failpoints, err = saga.ParseFailpoints(spec); err != nil {
		s.t.Fatal(err)
	}
	return a
}

func (s *testShop) stock(sku string) int64 {
	s.t.Helper()
	p, err := s.a.Product(ctx, sku)
	if err != nil {
		s.t.Fatal(err)
	}
	return p.StockQuantity
}

func (s *testShop) count(sql string, args ...any) int {
	s.t.Helper()
	var n int
	if err := s.a.db.Pool.QueryRow(ctx, sql, args...).Scan(&n); err != nil {
		s.t.Fatalf("%s: %v", sql, err)
	}
	return n
}

func (s *testShop) strings(sql string, args ...any) []string {
	s.t.Helper()
	rows, err := s.a.db.Pool.Query(ctx, sql, args...)
	if err != nil {
		s.t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		s.t.Fatal(err)
	}
	return out
}

func items(specs ...string) []shop.ItemRequest {
	var out []shop.ItemRequest
	for _, s := range specs {
		it, err := shop.ParseItem(s)
		if err != nil {
			panic(err)
		}
		out = append(out, it)
	}
	return out
}

// The compensation matrix, row by row: which steps are undone when each step fails.
func TestCompensationMatrix(t *testing.T) {
	cases := []struct {
		failpoints   string
		failedStep   string
		stockA       int64    // after the attempt (started at 10, 3 asked)
		paymentState []string // payment rows' status
		sandbox      []string // the provider's ledger
		orders       int
		cartItems    int
		outbox       []string
		sagaState    string
	}{
		{"", "", 7, []string{"SUCCESS"}, []string{"SUCCESS"}, 1, 0, []string{"order.placed", "payment.succeeded"}, "completed"},
		{"reduce_stock=error", "reduce_stock", 10, nil, nil, 0, 1, nil, "failed"},
		{"payment=error", "payment", 10, []string{"FAILED"}, nil, 0, 1, []string{"payment.failed"}, "compensated"},
		{"create_order=error", "create_order", 10, []string{"CANCELLED"}, []string{"CANCELLED"}, 0, 1, []string{"payment.refunded"}, "compensated"},
	}
	for _, tc := range cases {
		t.Run("fail="+tc.failedStep, func(t *testing.T) {
			s := newShop(t)
			a := s.withFailpoints(tc.failpoints)
			if _, err := a.AddToCart(ctx, 1, "A", 3); err != nil {
				t.Fatal(err)
			}
			var seen []string
			res, err := a.PlaceOrder(ctx, PlaceRequest{CustomerID: 1, Method: shop.Kakao}, shop.ObserverFunc(func(e shop.SagaEvent) {
				seen = append(seen, string(e.Kind)+":"+e.Name+":"+string(e.Outcome))
			}))
			if err != nil {
				t.Fatal(err)
			}
			if res.FailedStep != tc.failedStep || res.Incomplete || (tc.failedStep != "" && !res.Compensated) {
				t.Fatalf("result %+v; events %v", res, seen)
			}
			if got := s.stock("A"); got != tc.stockA {
				t.Errorf("stock of A = %d, want %d", got, tc.stockA)
			}
			if got := s.strings(`SELECT status FROM payment`); !slices.Equal(got, tc.paymentState) {
				t.Errorf("payments %v, want %v", got, tc.paymentState)
			}
			if got := s.strings(`SELECT status FROM sandbox_payment`); !slices.Equal(got, tc.sandbox) {
				t.Errorf("provider ledger %v, want %v", got, tc.sandbox)
			}
			if got := s.count(`SELECT count(*) FROM orders`); got != tc.orders {
				t.Errorf("orders = %d, want %d", got, tc.orders)
			}
			if got := s.count(`SELECT count(*) FROM order_product`); got != tc.orders {
				t.Errorf("order items = %d, want %d", got, tc.orders)
			}
			if got := s.count(`SELECT count(*) FROM cart_item`); got != tc.cartItems {
				t.Errorf("cart items = %d, want %d", got, tc.cartItems)
			}
			if got := s.strings(`SELECT kind FROM notification ORDER BY id`); !slices.Equal(got, tc.outbox) {
				t.Errorf("outbox %v, want %v", got, tc.outbox)
			}
			if got := s.strings(`SELECT state FROM saga`); !slices.Equal(got, []string{tc.sagaState}) {
				t.Errorf("saga states %v, want %s", got, tc.sagaState)
			}
			// The observer heard the compensations the matrix asks for, in reverse order.
			wantComp := map[string][]string{
				"payment":      {"compensation:restore_stock:ok"},
				"create_order": {"compensation:refund:ok", "compensation:restore_stock:ok"},
			}[tc.failedStep]
			var comp []string
			for _, e := range seen {
				if e[:5] == "compe" {
					comp = append(comp, e)
				}
			}
			if !slices.Equal(comp, wantComp) {
				t.Errorf("compensations %v, want %v", comp, wantComp)
			}
		})
	}
}

// A compensation that keeps failing leaves the saga visible for `saga recover`,
// which finishes it once the cause is gone.
func TestIncompleteCompensationThenRecover(t *testing.T) {
	s := newShop(t)
	a := s.withFailpoints("create_order=error;refund=error")
	res, err := a.PlaceOrder(ctx, PlaceRequest{CustomerID: 1, Method: shop.Naver, Items: items("A:2")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Incomplete || res.Compensated {
		t.Fatalf("result %+v, want incomplete", res)
	}
	if st := s.strings(`SELECT state FROM saga`); !slices.Equal(st, []string{"compensating"}) {
		t.Fatalf("saga state %v", st)
	}
	if got := s.strings(`SELECT status FROM sandbox_payment`); !slices.Equal(got, []string{"SUCCESS"}) {
		t.Fatalf("provider %v: the refund failed, so it should still hold the charge", got)
	}
	out, err := s.a.RecoverSagas(ctx, 0, func(string) shop.Observer { return nil })
	if err != nil || len(out) != 1 || out[0].To != "compensated" || out[0].Error != "" {
		t.Fatalf("recover: %+v %v", out, err)
	}
	if got := s.strings(`SELECT status FROM sandbox_payment UNION ALL SELECT status FROM payment`); !slices.Equal(got, []string{"CANCELLED", "CANCELLED"}) {
		t.Fatalf("after recover: provider/payment %v", got)
	}
	if s.stock("A") != 10 {
		t.Fatalf("stock A = %d after recover, want 10", s.stock("A"))
	}
	// Recovering again finds nothing to do.
	if out, err := s.a.RecoverSagas(ctx, 0, func(string) shop.Observer { return nil }); err != nil || len(out) != 0 {
		t.Fatalf("second recover: %+v %v", out, err)
	}
}

func TestDeclineOverLimit(t *testing.T) {
	s := newShop(t)
	res, err := s.a.PlaceOrder(ctx, PlaceRequest{CustomerID: 1, Method: shop.Kakao, Items: items("GOLD:2")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.FailedStep != "payment" || !res.Compensated || s.stock("GOLD") != 5 {
		t.Fatalf("result %+v, stock %d", res, s.stock("GOLD"))
	}
	if got := s.strings(`SELECT failure_reason FROM payment`); len(got) != 1 || got[0] != "declined by the Kakao Pay sandbox: ₩1,800,000 is over its limit of ₩1,000,000" {
		t.Fatalf("failure reason %v", got)
	}
}

// A real database failure while creating the order (not a failpoint) rolls
// that transaction back, refunds, restores the stock, and leaves the saga's
// connection usable.
func TestCreateOrderDatabaseFailureIsCompensated(t *testing.T) {
	s := newShop(t)
	if _, err := s.a.db.Pool.Exec(ctx, `ALTER TABLE orders ADD CONSTRAINT test_refuse CHECK (total_amount < 0) NOT VALID`); err != nil {
		t.Fatal(err)
	}
	res, err := s.a.PlaceOrder(ctx, PlaceRequest{CustomerID: 1, Method: shop.Kakao, Items: items("A:4")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.FailedStep != "create_order" || !res.Compensated || res.Incomplete {
		t.Fatalf("result %+v", res)
	}
	if got := s.strings(`SELECT status FROM payment UNION ALL SELECT status FROM sandbox_payment`); !slices.Equal(got, []string{"CANCELLED", "CANCELLED"}) {
		t.Fatalf("payment/provider %v, want both CANCELLED", got)
	}
	if s.stock("A") != 10 || s.count(`SELECT count(*) FROM orders`) != 0 {
		t.Fatalf("stock %d, orders %d", s.stock("A"), s.count(`SELECT count(*) FROM orders`))
	}
	// The pool's connections are still healthy: the next order goes through.
	if _, err := s.a.db.Pool.Exec(ctx, `ALTER TABLE orders DROP CONSTRAINT test_refuse`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.a.UpdateProduct(ctx, "A", shop.ProductPatch{Stock: ptr(int64(100))}); err != nil {
		t.Fatal(err)
	}
	for i := range 30 { // more orders than pool connections, so the failed saga's connection is reused
		r, err := s.a.PlaceOrder(ctx, PlaceRequest{CustomerID: 1, Method: shop.Kakao, Items: items("A:1")}, nil)
		if err != nil || r.Status != "placed" {
			t.Fatalf("order %d after the failure: %+v %v", i, r, err)
		}
	}
}
