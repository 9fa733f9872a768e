package app

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/rabbitpay/rabbitpay/internal/payment"
	"github.com/rabbitpay/rabbitpay/internal/shop"
)

func (s *testShop) place(specs ...string) shop.Order {
	s.t.Helper()
	res, err := s.a.PlaceOrder(ctx, PlaceRequest{CustomerID: 1, Method: shop.Kakao, Items: items(specs...)}, nil)
	if err != nil || res.Status != Placed {
		s.t.Fatalf("place %v: %v %+v", specs, err, res)
	}
	return *res.Order
}

func (s *testShop) refund(orderID int64, specs ...string) (RefundResult, error) {
	return s.a.RefundOrder(ctx, RefundRequest{OrderID: orderID, Items: items(specs...), Reason: "test"}, nil)
}

// A partial refund gives back exactly the items' amount at the provider,
// their stock, and records it; refunding the rest cancels payment and order.
func TestPartialRefunds(t *testing.T) {
	s := newShop(t)
	o := s.place("A:3", "B:1") // ₩3,000 + ₩2,500
	res, err := s.refund(o.ID, "A:1")
	if err != nil {
		t.Fatal(err)
	}
	if res.Refund.Amount != 1000 || res.Refund.State != shop.RefundRefunded || res.Order.Status != shop.OrderPaid {
		t.Fatalf("refund = %+v, order %s", res.Refund, res.Order.Status)
	}
	if got := s.stock("A"); got != 8 {
		t.Errorf("stock of A after refunding 1 of 3 = %d, want 8", got)
	}
	if p := res.Order.Payment; p.Status != shop.PaymentSuccess || p.Refunded != 1000 {
		t.Errorf("payment after a partial refund = %s refunded %s, want SUCCESS refunded ₩1,000", p.Status, p.Refunded)
	}
	if n := s.count(`SELECT count(*) FROM sandbox_payment WHERE order_uuid = $1 AND refunded = 1000 AND status = 'SUCCESS'`, o.OrderUUID); n != 1 {
		t.Errorf("the provider's ledger does not hold the ₩1,000 refund")
	}
	if n := s.count(`SELECT count(*) FROM notification WHERE kind = 'payment.refunded' AND (payload->>'amount')::bigint = 1000`); n != 1 {
		t.Errorf("payment.refunded notifications = %d, want 1", n)
	}

	// More than is left is refused, and nothing changes.
	if _, err := s.refund(o.ID, "A:3"); !errors.Is(err, shop.ErrInvalid) {
		t.Fatalf("refunding 3 of the 2 left: err = %v, want invalid", err)
	}
	if _, err := s.refund(o.ID, "GOLD:1"); !errors.Is(err, shop.ErrInvalid) {
		t.Fatalf("refunding an item not in the order: err = %v, want invalid", err)
	}
	if got := s.stock("A"); got != 8 {
		t.Errorf("a refused refund changed stock of A to %d", got)
	}

	res, err = s.refund(o.ID, "A:2", "B:1")
	if err != nil {
		t.Fatal(err)
	}
	if p := res.Order.Payment; res.Order.Status != shop.OrderCancelled || p.Status != shop.PaymentCancelled || p.Refunded != 5500 {
		t.Errorf("after refunding everything: order %s, payment %s refunded %s", res.Order.Status, p.Status, p.Refunded)
	}
	if s.stock("A") != 10 || s.stock("B") != 10 {
		t.Errorf("stock after refunding everything: A %d, B %d, want 10, 10", s.stock("A"), s.stock("B"))
	}
	if _, err := s.refund(o.ID, "A:1"); !errors.Is(err, shop.ErrConflict) {
		t.Errorf("refunding a cancelled order: err = %v, want conflict", err)
	}
	if n := s.count(`SELECT count(*) FROM saga WHERE lease_until IS NOT NULL`); n != 0 {
		t.Errorf("a refund left %d saga leases held", n)
	}
}

// Cancelling after a partial refund refunds and restores only what is left.
func TestCancelAfterPartialRefund(t *testing.T) {
	s := newShop(t)
	o := s.place("A:3")
	if _, err := s.refund(o.ID, "A:1"); err != nil {
		t.Fatal(err)
	}
	res, err := s.a.CancelOrder(ctx, o.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if p := res.Order.Payment; p.Status != shop.PaymentCancelled || p.Refunded != 3000 {
		t.Errorf("payment after cancel = %s refunded %s, want CANCELLED ₩3,000", p.Status, p.Refunded)
	}
	if got := s.stock("A"); got != 10 {
		t.Errorf("stock of A = %d, want 10 (restored once, not 11)", got)
	}
	if n := s.count(`SELECT count(*) FROM sandbox_payment WHERE order_uuid = $1 AND refunded = 3000 AND status = 'CANCELLED'`, o.OrderUUID); n != 1 {
		t.Errorf("the provider's ledger does not hold ₩3,000 refunded in all")
	}
}

// The same idempotency key refunds once.
func TestRefundIdempotencyKey(t *testing.T) {
	s := newShop(t)
	o := s.place("A:3")
	req := RefundRequest{OrderID: o.ID, Items: items("A:1"), IdempotencyKey: "r-1"}
	first, err := s.a.RefundOrder(ctx, req, nil)
	if err != nil {
		t.Fatal(err)
	}
	again, err := s.a.RefundOrder(ctx, req, nil)
	if err != nil || !again.Replayed || again.Refund.ID != first.Refund.ID {
		t.Fatalf("second refund with the key: %+v, %v", again, err)
	}
	if got := s.stock("A"); got != 8 {
		t.Errorf("stock of A = %d, want 8 (refunded once)", got)
	}
}

// startCrashed leaves a saga as a process that crashed after reducing stock
// leaves it: running, payment PROGRESS, lease expired.
func (s *testShop) startCrashed(specs ...string) string {
	s.t.Helper()
	lines, _, err := s.a.db.ResolveItems(ctx, 1, items(specs...), nil)
	if err != nil {
		s.t.Fatal(err)
	}
	total, _ := shop.Total(lines)
	rec := &shop.SagaRecord{OrderUUID: uuid.NewString(), CustomerID: 1, Method: shop.Kakao, Items: lines, TotalAmount: total, State: shop.SagaRunning}
	if _, err := s.a.db.StartSaga(ctx, rec, "", "", event(shop.EventStep, StepReduceStock, shop.OutcomeOK, "test")); err != nil {
		s.t.Fatal(err)
	}
	if _, err := s.a.db.Pool.Exec(ctx, `UPDATE saga SET lease_until = now() - interval '1 second' WHERE order_uuid = $1`, rec.OrderUUID); err != nil {
		s.t.Fatal(err)
	}
	return rec.OrderUUID
}

func reconciled(t *testing.T, rs []Reconciled, uuid string) Reconciled {
	t.Helper()
	for _, r := range rs {
		if r.OrderUUID == uuid {
			return r
		}
	}
	t.Fatalf("reconcile did not report order %s: %+v", uuid, rs)
	return Reconciled{}
}

// pay reconcile settles PROGRESS payments both ways and reports, without
// changing, a payment the provider holds differently.
func TestReconcile(t *testing.T) {
	s := newShop(t)
	paid := s.place("B:1")
	charged := s.startCrashed("A:2")   // the provider charged it before the crash
	uncharged := s.startCrashed("A:1") // the crash came before the charge
	gw, err := s.a.Gateway(shop.Kakao)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := gw.Approve(ctx, payment.Ref{OrderUUID: charged, CustomerID: 1, Amount: 2000}); err != nil {
		t.Fatal(err)
	}
	mismatched := s.place("A:1")
	if _, err := s.a.db.Pool.Exec(ctx, `UPDATE sandbox_payment SET status = 'CANCELLED', refunded = amount WHERE order_uuid = $1`, mismatched.OrderUUID); err != nil {
		t.Fatal(err)
	}

	rs, err := s.a.Reconcile(ctx, time.Now().Add(-time.Hour), func(string) shop.Observer { return nil })
	if err != nil {
		t.Fatal(err)
	}
	if r := reconciled(t, rs, paid.OrderUUID); r.Result != ReconcileMatch || r.Theirs != "SUCCESS" || r.TheirAmount != 2500 {
		t.Errorf("a matching payment: %+v", r)
	}
	if r := reconciled(t, rs, charged); r.Result != ReconcileSettled || r.Ours != shop.PaymentSuccess {
		t.Errorf("a PROGRESS payment the provider charged: %+v", r)
	}
	if n := s.count(`SELECT count(*) FROM orders WHERE order_uuid = $1 AND status = 'paid'`, charged); n != 1 {
		t.Errorf("the charged payment's order was not created")
	}
	if r := reconciled(t, rs, uncharged); r.Result != ReconcileSettled || r.Ours != shop.PaymentFailed {
		t.Errorf("a PROGRESS payment never charged: %+v", r)
	}
	if got := s.stock("A"); got != 10-2-1 {
		t.Errorf("stock of A = %d, want 7 (2 ordered, 1 ordered, the uncharged 1 restored)", got)
	}
	r := reconciled(t, rs, mismatched.OrderUUID)
	if r.Result != ReconcileMismatch || r.Ours != shop.PaymentSuccess || r.Theirs != "CANCELLED" {
		t.Errorf("ours SUCCESS, theirs CANCELLED: %+v", r)
	}
	if err := ReconcileError(rs); !errors.Is(err, shop.ErrConflict) {
		t.Errorf("ReconcileError = %v, want a conflict for the mismatch", err)
	}
	if n := s.count(`SELECT count(*) FROM payment WHERE order_uuid = $1 AND status = 'SUCCESS'`, mismatched.OrderUUID); n != 1 {
		t.Errorf("reconcile changed the mismatched payment")
	}
	d, err := s.a.Payment(ctx, mismatched.OrderUUID)
	if err != nil || len(d.Calls) == 0 || d.Calls[len(d.Calls)-1].Call != "lookup" {
		t.Errorf("pay show does not list reconcile's look-up: %+v %v", d.Calls, err)
	}
	if n := s.count(`SELECT count(*) FROM payment WHERE status = 'PROGRESS'`); n != 0 {
		t.Errorf("%d payments still PROGRESS", n)
	}
	if n := s.count(`SELECT count(*) FROM saga WHERE state IN ('running', 'compensating', 'cancelling')`); n != 0 {
		t.Errorf("%d sagas unfinished", n)
	}
}

// One product named twice (A, sku:A, #1) is refunded once, for the sum.
func TestRefundSameProductNamedTwice(t *testing.T) {
	s := newShop(t)
	o := s.place("A:2", "B:1")
	res, err := s.refund(o.ID, "A:1", "sku:A:1")
	if err != nil {
		t.Fatal(err)
	}
	if res.Refund.Amount != 2000 || len(res.Refund.Items) != 1 || res.Order.Payment.Refunded != 2000 {
		t.Fatalf("refund of A named twice = %+v, refunded %s", res.Refund, res.Order.Payment.Refunded)
	}
	if s.stock("A") != 10 {
		t.Errorf("stock of A = %d, want 10", s.stock("A"))
	}
	if _, err := s.refund(o.ID, "A:1", "#1:1"); !errors.Is(err, shop.ErrInvalid) {
		t.Errorf("refunding 2 more of the 0 left, named twice: err = %v", err)
	}
}

// While a refund's outcome at the provider is unknown (left refunding), the
// order can be neither cancelled nor refunded again; recover settles it first.
func TestRefundInFlightBlocksCancelAndRefund(t *testing.T) {
	s := newShop(t)
	o := s.place("A:3", "B:1")
	so, err := s.a.acquire(ctx, o.OrderUUID, []shop.SagaState{shop.SagaCompleted})
	if err != nil {
		t.Fatal(err)
	}
	lines, _ := refundLines(o, productLines(o, "B", 1))
	if _, _, err := so.log.BeginRefund(ctx, o.ID, "k", "", lines, event(shop.EventStep, "refund", shop.OutcomeOK, "test")); err != nil {
		t.Fatal(err)
	}
	so.log.Yield(ctx) // as an unknown outcome leaves it
	if _, err := s.a.CancelOrder(ctx, o.ID, nil); !errors.Is(err, shop.ErrConflict) || !strings.Contains(err.Error(), "still in progress") {
		t.Fatalf("cancel during a refund in flight: %v", err)
	}
	if _, err := s.refund(o.ID, "A:1"); !errors.Is(err, shop.ErrConflict) {
		t.Fatalf("a second refund during one in flight: %v", err)
	}
	out, err := s.a.RecoverSagas(ctx, 0, func(string) shop.Observer { return nil })
	if err != nil || RecoveryError(out) != nil {
		t.Fatalf("recover: %v %+v", err, out)
	}
	if _, err := s.a.CancelOrder(ctx, o.ID, nil); err != nil {
		t.Fatal(err)
	}
	if s.stock("A") != 10 || s.stock("B") != 10 {
		t.Errorf("stock after refund, recover and cancel: A %d, B %d, want 10, 10", s.stock("A"), s.stock("B"))
	}
	if n := s.count(`SELECT count(*) FROM sandbox_payment WHERE order_uuid = $1 AND refunded = 5500 AND status = 'CANCELLED'`, o.OrderUUID); n != 1 {
		t.Errorf("the provider does not hold exactly ₩5,500 refunded")
	}
	if n := s.count(`SELECT count(*) FROM notification WHERE kind = 'payment.refunded' AND (payload->>'amount')::bigint = 3000`); n != 1 {
		t.Errorf("the cancel's payment.refunded does not say ₩3,000 (what was left)")
	}
}

// productLines asks for qty of the order's product sku, as ResolveItems answers.
func productLines(o shop.Order, sku string, qty int64) []shop.Line {
	for _, it := range o.Items {
		if it.SKU == sku {
			return []shop.Line{{ProductID: it.ProductID, SKU: it.SKU, Quantity: qty}}
		}
	}
	return nil
}
