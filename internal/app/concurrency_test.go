package app

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/rabbitpay/rabbitpay/internal/shop"
)

// 64 buyers race for 10 units: exactly 10 orders, stock 0, no oversell.
func TestConcurrentPlacementsSellExactlyTheStock(t *testing.T) {
	s := newShop(t)
	const buyers = 64
	var wg sync.WaitGroup
	results := make([]PlaceResult, buyers)
	errs := make([]error, buyers)
	for i := range buyers {
		wg.Go(func() {
			results[i], errs[i] = s.a.PlaceOrder(ctx, PlaceRequest{CustomerID: 1, Method: shop.Kakao, Items: items("A:1")}, nil)
		})
	}
	wg.Wait()
	placed := 0
	for i := range buyers {
		if errs[i] != nil {
			// Refused before its saga began: the stock was gone when it looked.
			if !errors.Is(errs[i], shop.ErrConflict) {
				t.Fatalf("buyer %d: %v", i, errs[i])
			}
			continue
		}
		switch {
		case results[i].Status == "placed":
			placed++
		case results[i].FailedStep != "reduce_stock" || !results[i].Compensated:
			t.Fatalf("buyer %d failed unexpectedly: %+v", i, results[i])
		}
	}
	if placed != 10 || s.stock("A") != 0 {
		t.Fatalf("placed %d orders, stock left %d; want 10 and 0", placed, s.stock("A"))
	}
	if n := s.count(`SELECT count(*) FROM payment WHERE status = 'SUCCESS'`); n != 10 {
		t.Fatalf("%d successful payments, want 10", n)
	}
}

// Multi-item orders taking products in opposite orders never deadlock.
func TestOppositeItemOrdersDoNotDeadlock(t *testing.T) {
	s := newShop(t)
	if _, err := s.a.UpdateProduct(ctx, "A", shop.ProductPatch{Stock: ptr(int64(100))}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.a.UpdateProduct(ctx, "B", shop.ProductPatch{Stock: ptr(int64(100))}); err != nil {
		t.Fatal(err)
	}
	const buyers = 32
	var wg sync.WaitGroup
	errs := make(chan error, buyers)
	for i := range buyers {
		req := items("A:1", "B:2")
		if i%2 == 1 {
			req = items("B:2", "A:1")
		}
		wg.Go(func() {
			res, err := s.a.PlaceOrder(ctx, PlaceRequest{CustomerID: 1, Method: shop.Naver, Items: req}, nil)
			if err == nil && res.Status != "placed" {
				err = fmt.Errorf("%s: %s", res.FailedStep, res.Error)
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if a, b := s.stock("A"), s.stock("B"); a != 100-buyers || b != 100-2*buyers {
		t.Fatalf("stock A=%d B=%d", a, b)
	}
}

func ptr[T any](v T) *T { return &v }

func TestIdempotencyKey(t *testing.T) {
	s := newShop(t)
	req := PlaceRequest{CustomerID: 1, Method: shop.Kakao, Items: items("A:2"), IdempotencyKey: "checkout-1"}
	first, err := s.a.PlaceOrder(ctx, req, nil)
	if err != nil || first.Status != "placed" || first.Replayed {
		t.Fatalf("first: %+v %v", first, err)
	}
	again, err := s.a.PlaceOrder(ctx, req, nil)
	if err != nil || !again.Replayed || again.Order.ID != first.Order.ID {
		t.Fatalf("replay: %+v %v", again, err)
	}
	if s.count(`SELECT count(*) FROM sandbox_payment`) != 1 || s.stock("A") != 8 {
		t.Fatal("a replay charged or reserved again")
	}
	other := req
	other.Items = items("A:3")
	if _, err := s.a.PlaceOrder(ctx, other, nil); !errors.Is(err, shop.ErrInvalid) {
		t.Fatalf("same key, different request: %v", err)
	}

	// Eight concurrent runs with one new key make one order.
	req.IdempotencyKey = "checkout-2"
	var wg sync.WaitGroup
	ids := make([]int64, 8)
	for i := range ids {
		wg.Go(func() {
			r, err := s.a.PlaceOrder(ctx, req, nil)
			if err != nil || r.Status != "placed" {
				t.Errorf("concurrent run %d: %+v %v", i, r, err)
				return
			}
			ids[i] = r.Order.ID
		})
	}
	wg.Wait()
	for _, id := range ids {
		if id != ids[0] {
			t.Fatalf("concurrent runs made different orders: %v", ids)
		}
	}
	if n := s.count(`SELECT count(*) FROM orders`); n != 2 {
		t.Fatalf("%d orders, want 2", n)
	}
	if s.stock("A") != 6 {
		t.Fatalf("stock A = %d, want 6", s.stock("A"))
	}
}

func TestCancelBeforeAndAfterShipping(t *testing.T) {
	s := newShop(t)
	place := func() *shop.Order {
		res, err := s.a.PlaceOrder(ctx, PlaceRequest{CustomerID: 1, Method: shop.Kakao, Items: items("A:2", "B:1")}, nil)
		if err != nil || res.Status != "placed" {
			t.Fatalf("place: %+v %v", res, err)
		}
		return res.Order
	}
	o := place()
	res, err := s.a.CancelOrder(ctx, o.ID, nil)
	if err != nil || res.AlreadyCancelled || res.Order.Status != shop.OrderCancelled || res.Order.Payment.Status != shop.PaymentCancelled {
		t.Fatalf("cancel: %+v %v", res, err)
	}
	if s.stock("A") != 10 || s.stock("B") != 10 {
		t.Fatalf("stock after cancel A=%d B=%d", s.stock("A"), s.stock("B"))
	}
	again, err := s.a.CancelOrder(ctx, o.ID, nil)
	if err != nil || !again.AlreadyCancelled {
		t.Fatalf("second cancel: %+v %v", again, err)
	}
	if n := s.count(`SELECT count(*) FROM notification WHERE kind IN ('order.cancelled', 'payment.refunded')`); n != 2 || s.stock("A") != 10 {
		t.Fatalf("cancelling twice changed something: %d notifications, stock %d", n, s.stock("A"))
	}

	shipped := place()
	if _, err := s.a.db.Pool.Exec(ctx, `INSERT INTO delivery (order_product_id, status)
		SELECT id, 'SHIPPED' FROM order_product WHERE order_id = $1 LIMIT 1`, shipped.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.a.CancelOrder(ctx, shipped.ID, nil); !errors.Is(err, shop.ErrConflict) {
		t.Fatalf("cancel after shipping: %v", err)
	}
	after, _ := s.a.Order(ctx, shipped.ID)
	if after.Status != shop.OrderPaid || after.Payment.Status != shop.PaymentSuccess || s.stock("A") != 8 {
		t.Fatalf("refused cancel changed the order: %+v, stock %d", after, s.stock("A"))
	}
}
