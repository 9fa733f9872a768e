package app

import (
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rabbitpay/rabbitpay/internal/shop"
)

func (s *testShop) start(orderID int64, items ...string) []shop.Delivery {
	s.t.Helper()
	ds, err := s.a.StartDeliveries(ctx, shop.DeliveryStart{OrderID: orderID, Items: items})
	if err != nil {
		s.t.Fatalf("start deliveries of order %d %v: %v", orderID, items, err)
	}
	return ds
}

func (s *testShop) move(id int64, st shop.DeliveryStatus) error {
	_, err := s.a.UpdateDelivery(ctx, shop.DeliveryChange{ID: id, Status: st})
	return err
}

// outbox is a fingerprint of everything a delivery change writes.
func (s *testShop) outbox() string {
	return strings.Join(s.strings(`SELECT concat_ws('|', (SELECT string_agg(id || ':' || status, ',' ORDER BY id) FROM delivery),
		(SELECT count(*) FROM delivery_history), (SELECT count(*) FROM notification),
		(SELECT string_agg(id || ':' || status, ',' ORDER BY id) FROM orders))`), "")
}

// Every pair of statuses: forward moves (skips included) are allowed, a
// repeat or a backward move is refused as a conflict and changes nothing;
// each allowed move writes exactly one history row and one notification.
func TestDeliveryTransitions(t *testing.T) {
	s := newShop(t)
	if _, err := s.a.UpdateProduct(ctx, "A", shop.ProductPatch{Stock: ptr(int64(100))}); err != nil {
		t.Fatal(err)
	}
	for fi, from := range shop.DeliveryStatuses {
		for ti, to := range shop.DeliveryStatuses[1:] {
			o := s.place("A:1")
			d := s.start(o.ID)[0]
			for _, st := range shop.DeliveryStatuses[1 : fi+1] { // walk to from
				if err := s.move(d.ID, st); err != nil {
					t.Fatalf("%s: %v", st, err)
				}
			}
			before := s.outbox()
			err := s.move(d.ID, to)
			if ti+1 > fi { // forward
				if err != nil {
					t.Fatalf("%s → %s refused: %v", from, to, err)
				}
				if n := s.count(`SELECT count(*) FROM notification WHERE kind = $1 AND (payload->>'delivery_id')::bigint = $2`,
					string(to.Notification()), d.ID); n != 1 {
					t.Fatalf("%s → %s: %d notifications", from, to, n)
				}
				if n := s.count(`SELECT count(*) FROM delivery_history WHERE delivery_id = $1 AND status = $2`, d.ID, to); n != 1 {
					t.Fatalf("%s → %s: %d history rows", from, to, n)
				}
				continue
			}
			if !errors.Is(err, shop.ErrConflict) {
				t.Fatalf("%s → %s: %v, want a conflict", from, to, err)
			}
			if after := s.outbox(); after != before {
				t.Fatalf("%s → %s refused but changed:\n%s\n%s", from, to, before, after)
			}
		}
	}
	// READY is where a delivery starts, never where it goes; bad ids are not found.
	o := s.place("A:1")
	d := s.start(o.ID)[0]
	if err := s.move(d.ID, shop.DeliveryReady); !errors.Is(err, shop.ErrConflict) {
		t.Fatalf("READY → READY: %v", err)
	}
	if err := s.move(999, shop.DeliveryShipped); !errors.Is(err, shop.ErrNotFound) {
		t.Fatalf("unknown delivery: %v", err)
	}
}

// Items ship separately; the order is shipped when the last one ships, and
// cannot be cancelled from the first shipped item on.
func TestPartialShipmentAndRollUp(t *testing.T) {
	s := newShop(t)
	o := s.place("A:1", "B:2")
	if len(o.Items) != 2 {
		t.Fatalf("items: %+v", o.Items)
	}
	a := s.start(o.ID, "A")[0]
	// A second delivery for one item, an unknown item: refused.
	if _, err := s.a.StartDeliveries(ctx, shop.DeliveryStart{OrderID: o.ID, Items: []string{"A"}}); !errors.Is(err, shop.ErrConflict) {
		t.Fatalf("second delivery for A: %v", err)
	}
	if _, err := s.a.StartDeliveries(ctx, shop.DeliveryStart{OrderID: o.ID, Items: []string{"GOLD"}}); !errors.Is(err, shop.ErrInvalid) {
		t.Fatalf("item not in the order: %v", err)
	}
	if _, err := s.a.StartDeliveries(ctx, shop.DeliveryStart{OrderID: 999}); !errors.Is(err, shop.ErrNotFound) {
		t.Fatalf("unknown order: %v", err)
	}
	b := s.start(o.ID)[0] // the rest: B, named by nothing
	if b.SKU != "B" {
		t.Fatalf("the default start took %+v", b)
	}
	if _, err := s.a.StartDeliveries(ctx, shop.DeliveryStart{OrderID: o.ID}); !errors.Is(err, shop.ErrConflict) {
		t.Fatalf("every item has one: %v", err)
	}
	if err := s.move(a.ID, shop.DeliveryShipped); err != nil {
		t.Fatal(err)
	}
	got, _ := s.a.Order(ctx, o.ID)
	if got.Status != shop.OrderPaid || got.Items[0].DeliveryStatus != "SHIPPED" || got.Items[1].DeliveryStatus != "READY" {
		t.Fatalf("after one shipped item: %s %+v", got.Status, got.Items)
	}
	if _, err := s.a.CancelOrder(ctx, o.ID, nil); !errors.Is(err, shop.ErrConflict) || !strings.Contains(err.Error(), "has shipped") {
		t.Fatalf("cancel after a shipped item: %v", err)
	}
	if err := s.move(b.ID, shop.DeliveryInTransit); err != nil { // a skip: READY → IN_TRANSIT
		t.Fatal(err)
	}
	got, _ = s.a.Order(ctx, o.ID)
	if got.Status != shop.OrderShipped {
		t.Fatalf("every item shipped, order %s", got.Status)
	}
	if n := s.count(`SELECT count(*) FROM notification WHERE kind = 'order.shipped' AND order_id = $1`, o.ID); n != 1 {
		t.Fatalf("%d order.shipped notifications", n)
	}
	// Later changes keep the order shipped and notify once more each, not the order again.
	if err := s.move(b.ID, shop.DeliveryDelivered); err != nil {
		t.Fatal(err)
	}
	if n := s.count(`SELECT count(*) FROM notification WHERE kind = 'order.shipped'`); n != 1 {
		t.Fatalf("%d order.shipped notifications", n)
	}
	p, err := s.a.Orders(ctx, shop.OrderFilter{}, shop.ListOptions{})
	if err != nil || len(p.Items[0].Items) != 2 || p.Items[0].Items[1].DeliveryStatus != "DELIVERED" {
		t.Fatalf("order list lacks delivery states: %v %+v", err, p.Items)
	}
	// Every message is in Korean and English.
	ns, err := s.a.Notifications(ctx, shop.NotificationFilter{}, shop.ListOptions{})
	if err != nil || len(ns.Items) == 0 {
		t.Fatalf("notifications: %v %d", err, len(ns.Items))
	}
	for _, n := range ns.Items {
		if m := n.Message; !strings.Contains(m, " / ") || strings.Contains(m, "cannot be read") {
			t.Fatalf("message %q is not Korean / English", m)
		}
	}
}

// A cancelled order, or one whose payment was declined, gets no delivery.
func TestNoDeliveryForCancelledOrUnpaidOrders(t *testing.T) {
	s := newShop(t)
	o := s.place("A:1")
	if _, err := s.a.CancelOrder(ctx, o.ID, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.a.StartDeliveries(ctx, shop.DeliveryStart{OrderID: o.ID}); !errors.Is(err, shop.ErrConflict) || !strings.Contains(err.Error(), "cancelled") {
		t.Fatalf("delivery for a cancelled order: %v", err)
	}
	// A delivery started before the cancel cannot move on after it.
	o2 := s.place("B:1")
	d := s.start(o2.ID)[0]
	if _, err := s.a.CancelOrder(ctx, o2.ID, nil); err != nil { // READY only: cancellable
		t.Fatal(err)
	}
	before := s.outbox()
	if err := s.move(d.ID, shop.DeliveryShipped); !errors.Is(err, shop.ErrConflict) || !strings.Contains(err.Error(), "cancelled") {
		t.Fatalf("shipping a cancelled order's item: %v", err)
	}
	if after := s.outbox(); after != before {
		t.Fatalf("the refused shipment changed something:\n%s\n%s", before, after)
	}
	// An order that is not paid.
	unpaid := s.place("A:1")
	s.exec(`UPDATE orders SET status = 'created' WHERE id = $1`, unpaid.ID)
	before = s.outbox()
	if _, err := s.a.StartDeliveries(ctx, shop.DeliveryStart{OrderID: unpaid.ID}); !errors.Is(err, shop.ErrConflict) || !strings.Contains(err.Error(), "not paid") {
		t.Fatalf("delivery for an unpaid order: %v", err)
	}
	if after := s.outbox(); after != before {
		t.Fatalf("the refused start changed something:\n%s\n%s", before, after)
	}
}

// Operators updating one delivery at once: exactly one wins each status;
// the others are refused, and exactly one notification is written per change.
func TestConcurrentUpdatesOfOneDelivery(t *testing.T) {
	s := newShop(t)
	o := s.place("A:1")
	d := s.start(o.ID)[0]
	const operators = 8
	var wg sync.WaitGroup
	errs := make([]error, operators)
	for i := range operators {
		wg.Go(func() { errs[i] = s.move(d.ID, shop.DeliveryShipped) })
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, shop.ErrConflict):
			t.Fatalf("unexpected error: %v", err)
		}
	}
	if won != 1 {
		t.Fatalf("%d operators won, want 1", won)
	}
	if n := s.count(`SELECT count(*) FROM notification WHERE kind = 'delivery.shipped'`); n != 1 {
		t.Fatalf("%d delivery.shipped notifications, want 1", n)
	}
	if n := s.count(`SELECT count(*) FROM delivery_history WHERE delivery_id = $1`, d.ID); n != 2 {
		t.Fatalf("%d history rows, want 2 (READY, SHIPPED)", n)
	}
}

// A delivery file with bad rows is refused whole, every bad row named by its
// line; a good one applies every row, in file order, in one transaction.
func TestDeliveryImport(t *testing.T) {
	s := newShop(t)
	o := s.place("A:1", "B:1")
	ds := s.start(o.ID)
	before := s.outbox()
	bad := "delivery_id,order_id,sku,status,carrier,tracking\n" +
		itoa(ds[0].ID) + ",,,SHIPPED,CJ,601234567890\n" + // fine on its own
		",1,B,LOST,,\n" + // unknown status
		"999,,,SHIPPED,,\n" + // unknown delivery
		",1,GOLD,SHIPPED,,\n" + // not in the order
		itoa(ds[0].ID) + ",,,READY,,\n" + // backward after line 2
		"x,,,SHIPPED,,\n" // not a number
	_, err := s.a.ImportDeliveries(ctx, strings.NewReader(bad), shop.CatalogueCSV)
	var re *shop.RowErrors
	if !errors.As(err, &re) || re.Total != 5 {
		t.Fatalf("bad file: %v", err)
	}
	var lines []int
	for _, r := range re.Rows {
		lines = append(lines, r.Line)
	}
	if !strings.Contains(strings.Join(re.Details(), "\n"), "line 3, column status") || len(lines) != 5 || lines[0] != 3 || lines[4] != 7 {
		t.Fatalf("row errors: %v", re.Details())
	}
	if after := s.outbox(); after != before {
		t.Fatalf("a refused import changed something:\n%s\n%s", before, after)
	}
	at := time.Now().Add(30 * time.Second).Truncate(time.Second).In(time.FixedZone("KST", 9*3600)) // after line 2's change, within the clock skew
	good := `{"delivery_id": ` + itoa(ds[0].ID) + `, "status": "SHIPPED", "carrier": "CJ대한통운", "tracking": "601234567890"}
{"order_id": 1, "sku": "B", "status": "in_transit"}
{"order_id": "1", "sku": "B", "status": "DELIVERED", "at": "` + at.Format(time.RFC3339) + `"}
`
	sum, err := s.a.ImportDeliveries(ctx, strings.NewReader(good), shop.CatalogueJSONL)
	if err != nil || sum.Rows != 3 || sum.Changed != 2 {
		t.Fatalf("good file: %v %+v", err, sum)
	}
	got, _ := s.a.Order(ctx, o.ID)
	if got.Status != shop.OrderShipped || got.Items[1].DeliveryStatus != "DELIVERED" {
		t.Fatalf("after import: %+v", got)
	}
	d, err := s.a.Delivery(ctx, ds[1].ID)
	if err != nil || len(d.History) != 3 || !d.History[2].At.Equal(at) {
		t.Fatalf("history: %v %+v", err, d.History)
	}
	d, _ = s.a.Delivery(ctx, ds[0].ID)
	if d.Carrier != "CJ대한통운" || d.TrackingNumber != "601234567890" {
		t.Fatalf("carrier: %+v", d)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// An item refunded whole gets no delivery and does not hold back the
// order's roll-up; a partly refunded one ships what is left; a shipped
// item cannot be refunded (the refund's own rule).
func TestDeliveriesOfRefundedItems(t *testing.T) {
	s := newShop(t)
	o := s.place("A:1", "B:2")
	if _, err := s.a.RefundOrder(ctx, RefundRequest{OrderID: o.ID, Items: items("A:1", "B:1")}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.a.StartDeliveries(ctx, shop.DeliveryStart{OrderID: o.ID, Items: []string{"A"}}); !errors.Is(err, shop.ErrConflict) || !strings.Contains(err.Error(), "refunded") {
		t.Fatalf("delivery of a refunded item: %v", err)
	}
	ds := s.start(o.ID) // B only: one of two is left
	if len(ds) != 1 || ds[0].SKU != "B" {
		t.Fatalf("started %+v", ds)
	}
	if err := s.move(ds[0].ID, shop.DeliveryShipped); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.a.Order(ctx, o.ID); got.Status != shop.OrderShipped {
		t.Fatalf("every item left has shipped, order %s", got.Status)
	}
	if _, err := s.a.RefundOrder(ctx, RefundRequest{OrderID: o.ID, Items: items("B:1")}, nil); !errors.Is(err, shop.ErrConflict) {
		t.Fatalf("refund of a shipped item: %v", err)
	}
}

// Refunding whole the last item not yet shipped rolls the order up to
// shipped: every item left has shipped.
func TestRefundOfLastUnshippedItemRollsUp(t *testing.T) {
	s := newShop(t)
	o := s.place("A:1", "B:1")
	ds := s.start(o.ID)
	var a int64
	for _, d := range ds {
		if d.SKU == "A" {
			a = d.ID
		}
	}
	if err := s.move(a, shop.DeliveryShipped); err != nil {
		t.Fatal(err)
	}
	if _, err := s.a.RefundOrder(ctx, RefundRequest{OrderID: o.ID, Items: items("B:1")}, nil); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.a.Order(ctx, o.ID); got.Status != shop.OrderShipped {
		t.Errorf("order after refunding its only unshipped item = %s, want shipped", got.Status)
	}
	if n := s.count(`SELECT count(*) FROM notification WHERE kind = 'order.shipped'`); n != 1 {
		t.Errorf("order.shipped notifications = %d, want 1", n)
	}
}

// While a refund's outcome is unknown, its order's deliveries do not move
// (the roll-up would count the refund as done); deliveries list what is
// left to ship, and nothing of a cancelled order.
func TestDeliveriesAndRefunds(t *testing.T) {
	s := newShop(t)
	o := s.place("A:3", "B:1")
	ds := s.start(o.ID)
	so, err := s.a.acquire(ctx, o.OrderUUID, []shop.SagaState{shop.SagaCompleted})
	if err != nil {
		t.Fatal(err)
	}
	lines, _ := refundLines(o, productLines(o, "B", 1))
	if _, _, err := so.log.BeginRefund(ctx, o.ID, "k", "", lines, event(shop.EventStep, "refund", shop.OutcomeOK, "test")); err != nil {
		t.Fatal(err)
	}
	so.log.Yield(ctx)
	if err := s.move(ds[0].ID, shop.DeliveryShipped); !errors.Is(err, shop.ErrConflict) || !strings.Contains(err.Error(), "still in progress") {
		t.Fatalf("a shipment during a refund in flight: %v", err)
	}
	if out, err := s.a.RecoverSagas(ctx, 0, func(string) shop.Observer { return nil }); err != nil || RecoveryError(out) != nil {
		t.Fatalf("recover: %v %+v", err, out)
	}
	if _, err := s.a.RefundOrder(ctx, RefundRequest{OrderID: o.ID, Items: items("A:2")}, nil); err != nil {
		t.Fatal(err)
	}
	p, err := s.a.Deliveries(ctx, shop.DeliveryFilter{OrderID: o.ID}, shop.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Items) != 1 || p.Items[0].SKU != "A" || p.Items[0].Quantity != 1 {
		t.Fatalf("deliveries left to ship = %+v, want A×1 (B refunded whole)", p.Items)
	}
	o2 := s.place("A:1")
	s.start(o2.ID)
	if _, err := s.a.CancelOrder(ctx, o2.ID, nil); err != nil {
		t.Fatal(err)
	}
	if p, _ := s.a.Deliveries(ctx, shop.DeliveryFilter{OrderID: o2.ID}, shop.ListOptions{}); len(p.Items) != 0 {
		t.Errorf("a cancelled order's READY deliveries are listed: %+v", p.Items)
	}
}
