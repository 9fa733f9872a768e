package shop

import (
	"errors"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// item is an order item: bought of it, left not refunded, and its delivery
// (id 0: none yet).
func item(opID, productID int64, sku string, bought, left, delivery int64, st DeliveryStatus) ItemRef {
	return ItemRef{OrderProductID: opID, ProductID: productID, SKU: sku, Quantity: bought, Remaining: left,
		DeliveryID: delivery, Delivery: st}
}

func order(id int64, status OrderStatus, items ...ItemRef) OrderSnapshot {
	saga := SagaCompleted
	if status == OrderCancelled {
		saga = SagaCancelled
	}
	return OrderSnapshot{ID: id, Status: status, Saga: saga, Items: items, Destined: true}
}

// with returns o changed by f, for a table row that differs in one field.
func with(o OrderSnapshot, f func(*OrderSnapshot)) OrderSnapshot {
	o.Items = slices.Clone(o.Items)
	f(&o)
	return o
}

// shop1 is order 1, paid: A (2 bought) has READY delivery 101, B has no
// delivery yet, C was refunded whole and has READY delivery 103, D (1 of 3
// refunded) has none; and order 2, shipped: its only item E is SHIPPED (201).
// testNow is the plans' "now": the tests' times are fixed.
var testNow = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

// changedAt returns the snapshot with delivery 101's last change at t.
func changedAt(t time.Time) []OrderSnapshot {
	s := shop1()
	s[0].Items[0].Changed = t
	return s
}

func shop1() []OrderSnapshot {
	return []OrderSnapshot{
		order(1, OrderPaid,
			item(11, 1, "A", 2, 2, 101, DeliveryReady),
			item(12, 2, "B", 1, 1, 0, ""),
			item(13, 3, "C", 1, 0, 103, DeliveryReady),
			item(14, 4, "D", 3, 2, 0, "")),
		order(2, OrderShipped, item(21, 5, "E", 1, 1, 201, DeliveryShipped)),
	}
}

// wantErr checks err against a kind (nil: no error) and a part of its message.
func wantErr(t *testing.T, err, kind error, msg string) {
	t.Helper()
	switch {
	case kind == nil && err != nil:
		t.Fatalf("unexpected error: %v", err)
	case kind == nil:
	case !errors.Is(err, kind):
		t.Fatalf("error %v, want %v", err, kind)
	case !strings.Contains(err.Error(), msg):
		t.Fatalf("error %q, want it to say %q", err, msg)
	}
}

func TestPlanDeliveryStart(t *testing.T) {
	ready := func(order, op int64) DeliveryOp {
		return DeliveryOp{OrderID: order, OrderProductID: op, Status: DeliveryReady}
	}
	for _, tc := range []struct {
		name  string
		snap  []OrderSnapshot
		req   DeliveryStart
		want  []int64 // the items that get a delivery, in order
		kind  error
		msg   string
		carry bool // carrier and tracking go on every op
	}{
		{name: "none chosen: every item without one and not refunded whole", snap: shop1(), req: DeliveryStart{OrderID: 1}, want: []int64{12, 14}},
		{name: "none chosen, with a carrier", snap: shop1(), req: DeliveryStart{OrderID: 1, Carrier: "CJ", Tracking: "6012"}, want: []int64{12, 14}, carry: true},
		{name: "by SKU", snap: shop1(), req: DeliveryStart{OrderID: 1, Items: []string{"B"}}, want: []int64{12}},
		{name: "by item id", snap: shop1(), req: DeliveryStart{OrderID: 1, Items: []string{"14"}}, want: []int64{14}},
		{name: "by product id", snap: shop1(), req: DeliveryStart{OrderID: 1, Items: []string{"#4"}}, want: []int64{14}},
		{name: "in the order asked", snap: shop1(), req: DeliveryStart{OrderID: 1, Items: []string{"D", "sku:B"}}, want: []int64{14, 12}},
		{name: "one item named twice gets one delivery", snap: shop1(), req: DeliveryStart{OrderID: 1, Items: []string{"B", "sku:B", "12", "#2"}}, want: []int64{12}},
		{name: "a partly refunded item ships what is left", snap: shop1(), req: DeliveryStart{OrderID: 1, Items: []string{"D"}}, want: []int64{14}},
		{name: "a shipped order may start what it lacks",
			snap: []OrderSnapshot{order(3, OrderShipped, item(31, 1, "A", 1, 1, 301, DeliveryShipped), item(32, 2, "B", 1, 1, 0, ""))},
			req:  DeliveryStart{OrderID: 3}, want: []int64{32}},
		{name: "the chosen item has a delivery", snap: shop1(), req: DeliveryStart{OrderID: 1, Items: []string{"A"}},
			kind: ErrConflict, msg: "item A of order 1 already has delivery 101"},
		{name: "the chosen item was refunded whole (and has a delivery)", snap: shop1(), req: DeliveryStart{OrderID: 1, Items: []string{"C"}},
			kind: ErrConflict, msg: "item C of order 1 already has delivery 103"},
		{name: "the chosen item was refunded whole",
			snap: []OrderSnapshot{order(1, OrderPaid, item(11, 1, "A", 2, 0, 0, ""), item(12, 2, "B", 1, 1, 0, ""))},
			req:  DeliveryStart{OrderID: 1, Items: []string{"A"}}, kind: ErrConflict, msg: "item A of order 1 was refunded: there is nothing to deliver"},
		{name: "one bad choice among good ones refuses all", snap: shop1(), req: DeliveryStart{OrderID: 1, Items: []string{"B", "A", "D"}},
			kind: ErrConflict, msg: "already has delivery 101"},
		{name: "an item not in the order", snap: shop1(), req: DeliveryStart{OrderID: 1, Items: []string{"E"}},
			kind: ErrInvalid, msg: `order 1 has no item "E"`},
		{name: "another order's item id", snap: shop1(), req: DeliveryStart{OrderID: 1, Items: []string{"21"}},
			kind: ErrInvalid, msg: "order 1 has no item"},
		{name: "a bare number that is an item id and another item's SKU",
			snap: []OrderSnapshot{order(1, OrderPaid, item(7, 1, "A", 1, 1, 0, ""), item(8, 2, "7", 1, 1, 0, ""))},
			req:  DeliveryStart{OrderID: 1, Items: []string{"7"}}, kind: ErrInvalid, msg: "or sku:7 for the SKU"},
		{name: "none chosen and every item has one", snap: shop1(), req: DeliveryStart{OrderID: 2},
			kind: ErrConflict, msg: "every item of order 2 already has a delivery"},
		{name: "none chosen and what has none was refunded whole",
			snap: []OrderSnapshot{order(1, OrderPaid, item(11, 1, "A", 1, 1, 101, DeliveryReady), item(12, 2, "B", 1, 0, 0, ""))},
			req:  DeliveryStart{OrderID: 1}, kind: ErrConflict, msg: "every item of order 1 already has a delivery"},
		{name: "an unknown order", snap: shop1(), req: DeliveryStart{OrderID: 9}, kind: ErrNotFound, msg: "no order has id 9"},
		{name: "no order at all", req: DeliveryStart{OrderID: 1}, kind: ErrNotFound, msg: "no order has id 1"},
		{name: "a cancelled order", snap: []OrderSnapshot{with(shop1()[0], func(o *OrderSnapshot) { o.Status, o.Saga = OrderCancelled, SagaCancelled })},
			req: DeliveryStart{OrderID: 1}, kind: ErrConflict, msg: "order 1 is cancelled: its items cannot be delivered"},
		{name: "an order whose cancel finished but not its status", snap: []OrderSnapshot{with(shop1()[0], func(o *OrderSnapshot) { o.Saga = SagaCancelled })},
			req: DeliveryStart{OrderID: 1}, kind: ErrConflict, msg: "order 1 is cancelled"},
		{name: "an order being cancelled", snap: []OrderSnapshot{with(shop1()[0], func(o *OrderSnapshot) { o.Saga = SagaCancelling })},
			req: DeliveryStart{OrderID: 1, Items: []string{"B"}}, kind: ErrConflict, msg: "order 1 is being cancelled"},
		{name: "an unpaid order", snap: []OrderSnapshot{with(shop1()[0], func(o *OrderSnapshot) { o.Status, o.Saga = OrderCreated, SagaRunning })},
			req: DeliveryStart{OrderID: 1}, kind: ErrConflict, msg: "order 1 is created, not paid: its items cannot be delivered yet"},
		{name: "a refund in flight", snap: []OrderSnapshot{with(shop1()[0], func(o *OrderSnapshot) { o.Refunding = 5 })},
			req: DeliveryStart{OrderID: 1}, kind: ErrConflict, msg: "order 1 has refund 5 still in progress"},
		{name: "an order that goes nowhere", snap: []OrderSnapshot{with(shop1()[0], func(o *OrderSnapshot) { o.Destined = false })},
			req: DeliveryStart{OrderID: 1}, kind: ErrConflict, msg: "order 1 goes nowhere"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := clone(tc.snap)
			plan, err := PlanDeliveryStart(tc.snap, tc.req)
			wantErr(t, err, tc.kind, tc.msg)
			if !reflect.DeepEqual(tc.snap, before) {
				t.Fatalf("the plan changed its snapshot")
			}
			var want []DeliveryOp
			for _, op := range tc.want {
				w := ready(tc.req.OrderID, op)
				if tc.carry {
					w.Carrier, w.Tracking = tc.req.Carrier, tc.req.Tracking
				}
				want = append(want, w)
			}
			if !reflect.DeepEqual(plan.Ops, want) || plan.Shipped != nil {
				t.Fatalf("plan %+v, want ops %+v", plan, want)
			}
		})
	}
}

// Every pair of statuses on the command line: forward moves (skips too) are
// planned, a repeat or a move back is refused as a conflict.
func TestPlanDeliveryMoves(t *testing.T) {
	for i, from := range DeliveryStatuses {
		for j, to := range DeliveryStatuses {
			snap := []OrderSnapshot{order(1, OrderPaid, item(11, 1, "A", 1, 1, 101, from), item(12, 2, "B", 1, 1, 0, ""))}
			plan, err := PlanDeliveryChanges(snap, []DeliveryChange{{ID: 101, Status: to}}, RowErrors{}, testNow)
			switch {
			case j > i && (err != nil || len(plan.Ops) != 1 || plan.Ops[0].Status != to):
				t.Errorf("%s → %s: %+v %v", from, to, plan, err)
			case j == i:
				wantErr(t, err, ErrConflict, "delivery 101 is already "+string(from))
			case j < i:
				wantErr(t, err, ErrConflict, "delivery 101 is "+string(from)+" and cannot go back to "+string(to))
			}
			if snap[0].Items[0].Delivery != from {
				t.Fatalf("the plan changed its snapshot")
			}
		}
	}
	// A status no delivery has is refused as bad input.
	_, err := PlanDeliveryChanges(shop1(), []DeliveryChange{{ID: 101, Status: "LOST"}}, RowErrors{}, testNow)
	wantErr(t, err, ErrInvalid, `delivery status "LOST" is not one of`)
}

// One change from the command line: resolved, checked, planned as one op,
// or refused with its own error.
func TestPlanDeliveryChange(t *testing.T) {
	at := time.Date(2026, 11, 25, 14, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name    string
		snap    []OrderSnapshot
		change  DeliveryChange
		want    DeliveryOp
		shipped []int64
		kind    error
		msg     string
	}{
		{name: "by id", snap: shop1(), change: DeliveryChange{ID: 101, Status: DeliveryShipped},
			want: DeliveryOp{OrderID: 1, OrderProductID: 11, DeliveryID: 101, Status: DeliveryShipped}},
		{name: "carrier, tracking and time go on the op", snap: shop1(),
			change: DeliveryChange{ID: 101, Status: DeliveryInTransit, Carrier: "CJ", Tracking: "601234567890", At: at},
			want:   DeliveryOp{OrderID: 1, OrderProductID: 11, DeliveryID: 101, Status: DeliveryInTransit, Carrier: "CJ", Tracking: "601234567890", At: at}},
		{name: "by order and SKU", snap: shop1(), change: DeliveryChange{OrderID: 1, SKU: "A", Status: DeliveryShipped},
			want: DeliveryOp{OrderID: 1, OrderProductID: 11, DeliveryID: 101, Status: DeliveryShipped}},
		{name: "by order and item id", snap: shop1(), change: DeliveryChange{OrderID: 2, SKU: "21", Status: DeliveryDelivered},
			want: DeliveryOp{OrderID: 2, OrderProductID: 21, DeliveryID: 201, Status: DeliveryDelivered}},
		{name: "the last item to ship rolls its order up",
			snap:   []OrderSnapshot{order(1, OrderPaid, item(11, 1, "A", 1, 1, 101, DeliveryDelivered), item(12, 2, "B", 1, 1, 102, DeliveryReady))},
			change: DeliveryChange{ID: 102, Status: DeliveryShipped}, shipped: []int64{1},
			want: DeliveryOp{OrderID: 1, OrderProductID: 12, DeliveryID: 102, Status: DeliveryShipped}},
		{name: "a skip ships too",
			snap:   []OrderSnapshot{order(1, OrderPaid, item(11, 1, "A", 1, 1, 101, DeliveryReady))},
			change: DeliveryChange{ID: 101, Status: DeliveryDelivered}, shipped: []int64{1},
			want: DeliveryOp{OrderID: 1, OrderProductID: 11, DeliveryID: 101, Status: DeliveryDelivered}},
		{name: "an item refunded whole does not hold the roll-up back",
			snap:   []OrderSnapshot{order(1, OrderPaid, item(11, 1, "A", 1, 1, 101, DeliveryReady), item(12, 2, "B", 1, 0, 0, ""))},
			change: DeliveryChange{ID: 101, Status: DeliveryShipped}, shipped: []int64{1},
			want: DeliveryOp{OrderID: 1, OrderProductID: 11, DeliveryID: 101, Status: DeliveryShipped}},
		{name: "an item without a delivery holds the roll-up back", snap: shop1(), change: DeliveryChange{ID: 101, Status: DeliveryShipped},
			want: DeliveryOp{OrderID: 1, OrderProductID: 11, DeliveryID: 101, Status: DeliveryShipped}},
		{name: "a shipped order moves on without rolling up again",
			snap:   []OrderSnapshot{order(1, OrderShipped, item(11, 1, "A", 1, 1, 101, DeliveryShipped))},
			change: DeliveryChange{ID: 101, Status: DeliveryDelivered},
			want:   DeliveryOp{OrderID: 1, OrderProductID: 11, DeliveryID: 101, Status: DeliveryDelivered}},
		{name: "an unknown delivery", snap: shop1(), change: DeliveryChange{ID: 999, Status: DeliveryShipped},
			kind: ErrNotFound, msg: "no delivery has id 999"},
		{name: "an unknown order", snap: shop1(), change: DeliveryChange{OrderID: 9, SKU: "A", Status: DeliveryShipped},
			kind: ErrNotFound, msg: "no order has id 9"},
		{name: "an item not in the order", snap: shop1(), change: DeliveryChange{OrderID: 1, SKU: "E", Status: DeliveryShipped},
			kind: ErrInvalid, msg: `order 1 has no item "E"`},
		{name: "an item with no delivery yet", snap: shop1(), change: DeliveryChange{OrderID: 1, SKU: "B", Status: DeliveryShipped},
			kind: ErrConflict, msg: "item B of order 1 has no delivery yet"},
		{name: "an item refunded whole", snap: shop1(), change: DeliveryChange{ID: 103, Status: DeliveryShipped},
			kind: ErrConflict, msg: "delivery 103: item C of order 1 was refunded: there is nothing to deliver"},
		{name: "a cancelled order", snap: []OrderSnapshot{with(shop1()[0], func(o *OrderSnapshot) { o.Status, o.Saga = OrderCancelled, SagaCancelled })},
			change: DeliveryChange{ID: 101, Status: DeliveryShipped}, kind: ErrConflict, msg: "order 1 is cancelled"},
		{name: "an order being cancelled", snap: []OrderSnapshot{with(shop1()[0], func(o *OrderSnapshot) { o.Saga = SagaCancelling })},
			change: DeliveryChange{OrderID: 1, SKU: "A", Status: DeliveryShipped}, kind: ErrConflict, msg: "order 1 is being cancelled"},
		{name: "an unpaid order", snap: []OrderSnapshot{with(shop1()[0], func(o *OrderSnapshot) { o.Status = OrderCreated })},
			change: DeliveryChange{ID: 101, Status: DeliveryShipped}, kind: ErrConflict, msg: "not paid"},
		{name: "a refund in flight", snap: []OrderSnapshot{with(shop1()[0], func(o *OrderSnapshot) { o.Refunding = 7 })},
			change: DeliveryChange{ID: 101, Status: DeliveryShipped}, kind: ErrConflict, msg: "order 1 has refund 7 still in progress"},
		{name: "back", snap: shop1(), change: DeliveryChange{ID: 201, Status: DeliveryReady},
			kind: ErrConflict, msg: "delivery 201 is SHIPPED and cannot go back to READY"},
		{name: "a time before the last change", snap: changedAt(at.Add(time.Hour)), change: DeliveryChange{ID: 101, Status: DeliveryShipped, At: at},
			kind: ErrInvalid, msg: "delivery time 2026-11-25T14:00:00Z is before delivery 101's last change (2026-11-25T15:00:00Z): its history must read forward"},
		{name: "a time at the last change", snap: changedAt(at), change: DeliveryChange{ID: 101, Status: DeliveryShipped, At: at},
			want: DeliveryOp{OrderID: 1, OrderProductID: 11, DeliveryID: 101, Status: DeliveryShipped, At: at}},
		{name: "no time is now, after any last change", snap: changedAt(testNow), change: DeliveryChange{ID: 101, Status: DeliveryShipped},
			want: DeliveryOp{OrderID: 1, OrderProductID: 11, DeliveryID: 101, Status: DeliveryShipped}},
		{name: "a time in the future", snap: shop1(), change: DeliveryChange{ID: 101, Status: DeliveryShipped, At: testNow.Add(2 * ClockSkew)},
			kind: ErrInvalid, msg: "delivery time 2026-12-01T12:02:00Z is in the future"},
		{name: "a clock a little fast", snap: shop1(), change: DeliveryChange{ID: 101, Status: DeliveryShipped, At: testNow.Add(ClockSkew / 2)},
			want: DeliveryOp{OrderID: 1, OrderProductID: 11, DeliveryID: 101, Status: DeliveryShipped, At: testNow.Add(ClockSkew / 2)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := clone(tc.snap)
			plan, err := PlanDeliveryChanges(tc.snap, []DeliveryChange{tc.change}, RowErrors{}, testNow)
			wantErr(t, err, tc.kind, tc.msg)
			if !reflect.DeepEqual(tc.snap, before) {
				t.Fatalf("the plan changed its snapshot")
			}
			if tc.kind != nil {
				if plan.Ops != nil || plan.Shipped != nil {
					t.Fatalf("a refused change planned %+v", plan)
				}
				return
			}
			if !reflect.DeepEqual(plan.Ops, []DeliveryOp{tc.want}) || !reflect.DeepEqual(plan.Shipped, tc.shipped) {
				t.Fatalf("plan %+v, want %+v and shipped %v", plan, tc.want, tc.shipped)
			}
		})
	}
}

// A file's changes are planned in file order against the statuses the rows
// before them left; any bad row refuses the whole file, every bad row named
// by its line, in line order, with the rows the reader refused already.
func TestPlanDeliveryFile(t *testing.T) {
	type row = DeliveryChange
	for _, tc := range []struct {
		name    string
		snap    []OrderSnapshot
		rows    []row
		read    []RowError // refused by the file reader
		ops     []int64    // the deliveries moved, in order
		shipped []int64
		bad     []string // "line: part of the reason"
	}{
		{name: "one delivery moved twice, in order",
			snap: shop1(), rows: []row{{Line: 2, ID: 101, Status: DeliveryShipped}, {Line: 3, OrderID: 1, SKU: "A", Status: DeliveryDelivered}},
			ops: []int64{101, 101}},
		{name: "a move back after a move forward in the same file",
			snap: shop1(), rows: []row{{Line: 2, ID: 101, Status: DeliveryInTransit}, {Line: 3, ID: 101, Status: DeliveryShipped}},
			bad: []string{"3: delivery 101 is IN_TRANSIT and cannot go back to SHIPPED"}},
		{name: "the same move twice",
			snap: shop1(), rows: []row{{Line: 2, ID: 101, Status: DeliveryShipped}, {Line: 5, ID: 101, Status: DeliveryShipped}},
			bad: []string{"5: delivery 101 is already SHIPPED"}},
		{name: "two orders, each rolled up once, in the order first touched",
			snap: []OrderSnapshot{
				order(1, OrderPaid, item(11, 1, "A", 1, 1, 101, DeliveryReady)),
				order(2, OrderPaid, item(21, 1, "A", 1, 1, 201, DeliveryReady), item(22, 2, "B", 1, 1, 202, DeliveryReady)),
			},
			rows: []row{{Line: 2, ID: 201, Status: DeliveryShipped}, {Line: 3, ID: 101, Status: DeliveryShipped},
				{Line: 4, ID: 101, Status: DeliveryDelivered}, {Line: 5, OrderID: 2, SKU: "B", Status: DeliveryInTransit}},
			ops: []int64{201, 101, 101, 202}, shipped: []int64{2, 1}},
		{name: "an order not finished by the file is not rolled up",
			snap: []OrderSnapshot{order(2, OrderPaid, item(21, 1, "A", 1, 1, 201, DeliveryReady), item(22, 2, "B", 1, 1, 202, DeliveryReady))},
			rows: []row{{Line: 2, ID: 201, Status: DeliveryShipped}, {Line: 3, ID: 201, Status: DeliveryDelivered}},
			ops:  []int64{201, 201}},
		{name: "good and bad rows: all refused",
			snap: shop1(),
			rows: []row{
				{Line: 2, ID: 101, Status: DeliveryShipped},                 // fine on its own
				{Line: 4, ID: 999, Status: DeliveryShipped},                 // unknown delivery
				{Line: 5, OrderID: 1, SKU: "GOLD", Status: DeliveryShipped}, // not in the order
				{Line: 6, ID: 101, Status: DeliveryReady},                   // back after line 2
				{Line: 7, OrderID: 1, SKU: "B", Status: DeliveryShipped},    // no delivery yet
				{Line: 8, ID: 103, Status: DeliveryShipped},                 // refunded whole
				{Line: 9, OrderID: 8, SKU: "A", Status: DeliveryShipped},    // unknown order
				{Line: 10, ID: 201, Status: DeliveryDelivered},              // fine
			},
			read: []RowError{{Line: 3, Column: "status", Reason: "delivery status \"LOST\" is not one of …"}},
			bad: []string{"3: delivery status", "4: no delivery has id 999", `5: order 1 has no item "GOLD"`,
				"6: delivery 101 is SHIPPED and cannot go back to READY", "7: item B of order 1 has no delivery yet",
				"8: delivery 103: item C of order 1 was refunded", "9: no order has id 8"}},
		{name: "a file's second move dated before its first",
			snap: shop1(), rows: []row{{Line: 2, ID: 101, Status: DeliveryShipped, At: testNow.Add(-time.Hour)},
				{Line: 3, ID: 101, Status: DeliveryDelivered, At: testNow.Add(-2 * time.Hour)}},
			bad: []string{"3: delivery time 2026-12-01T10:00:00Z is before delivery 101's last change (2026-12-01T11:00:00Z)"}},
		{name: "a file's move in the future",
			snap: shop1(), rows: []row{{Line: 2, ID: 101, Status: DeliveryShipped, At: testNow.Add(24 * time.Hour)}},
			bad: []string{"2: delivery time 2026-12-02T12:00:00Z is in the future"}},
		{name: "a file's moves dated in order",
			snap: changedAt(testNow.Add(-3 * time.Hour)), rows: []row{{Line: 2, ID: 101, Status: DeliveryShipped, At: testNow.Add(-2 * time.Hour)},
				{Line: 3, ID: 101, Status: DeliveryDelivered, At: testNow.Add(-time.Hour)}},
			ops: []int64{101, 101}},
		{name: "only the reader's refusals",
			snap: shop1(), rows: []row{{Line: 3, ID: 101, Status: DeliveryShipped}},
			read: []RowError{{Line: 2, Reason: "name the delivery: delivery_id, or order_id and sku"}},
			bad:  []string{"2: name the delivery"}},
		{name: "a refused row does not move its delivery for the rows after it",
			snap: shop1(), rows: []row{{Line: 2, ID: 101, Status: DeliveryReady}, {Line: 3, ID: 101, Status: DeliveryShipped}},
			bad: []string{"2: delivery 101 is already READY"}},
		{name: "an order that cannot deliver refuses each of its rows",
			snap: []OrderSnapshot{with(shop1()[0], func(o *OrderSnapshot) { o.Saga = SagaCancelling }), shop1()[1]},
			rows: []row{{Line: 2, ID: 101, Status: DeliveryShipped}, {Line: 3, ID: 201, Status: DeliveryDelivered},
				{Line: 4, OrderID: 1, SKU: "D", Status: DeliveryShipped}},
			bad: []string{"2: order 1 is being cancelled", "4: item D of order 1 has no delivery yet"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var read RowErrors
			for _, r := range tc.read {
				read.Add(r)
			}
			readBefore := read.Total
			plan, err := PlanDeliveryChanges(tc.snap, tc.rows, read, testNow)
			if read.Total != readBefore {
				t.Fatalf("the plan changed the reader's errors")
			}
			if tc.bad == nil {
				if err != nil {
					t.Fatal(err)
				}
				var ops []int64
				for _, op := range plan.Ops {
					ops = append(ops, op.DeliveryID)
				}
				if !reflect.DeepEqual(ops, tc.ops) || !reflect.DeepEqual(plan.Shipped, tc.shipped) {
					t.Fatalf("moved %v and shipped %v, want %v and %v", ops, plan.Shipped, tc.ops, tc.shipped)
				}
				return
			}
			var re *RowErrors
			if !errors.As(err, &re) || !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v, want row errors", err)
			}
			if plan.Ops != nil || plan.Shipped != nil {
				t.Fatalf("a refused file planned %+v", plan)
			}
			var got []string
			for _, r := range re.Rows {
				got = append(got, strconv.Itoa(r.Line)+": "+r.Reason)
			}
			if re.Total != len(tc.bad) || len(got) != len(tc.bad) {
				t.Fatalf("%d bad rows %q, want %q", re.Total, got, tc.bad)
			}
			for i, w := range tc.bad {
				if !strings.HasPrefix(got[i], w) {
					t.Fatalf("bad row %d is %q, want %q…", i, got[i], w)
				}
			}
		})
	}
}

// A file with more bad rows than are reported names the first ones by line
// and counts them all.
func TestPlanDeliveryFileManyBadRows(t *testing.T) {
	var rows []DeliveryChange
	for line := 2 + MaxReportedRows*2; line >= 2; line-- { // in reverse: the report is in line order
		rows = append(rows, DeliveryChange{Line: line, ID: 999, Status: DeliveryShipped})
	}
	_, err := PlanDeliveryChanges(shop1(), rows, RowErrors{}, testNow)
	var re *RowErrors
	if !errors.As(err, &re) || re.Total != len(rows) || len(re.Rows) != MaxReportedRows {
		t.Fatalf("%v: %+v", err, re)
	}
	if !slices.IsSortedFunc(re.Rows, func(a, b RowError) int { return a.Line - b.Line }) {
		t.Fatalf("rows not in line order: %+v", re.Rows)
	}
	if d := re.Details(); d[len(d)-1] != "… and 21 more bad rows" {
		t.Fatalf("details end with %q", d[len(d)-1])
	}
}

// A command-line change is refused with its own error, not as a file's row,
// even among file rows.
func TestPlanDeliveryCommandLineError(t *testing.T) {
	_, err := PlanDeliveryChanges(shop1(), []DeliveryChange{{Line: 2, ID: 999, Status: DeliveryShipped}, {ID: 998, Status: DeliveryShipped}}, RowErrors{}, testNow)
	var re *RowErrors
	if errors.As(err, &re) || !errors.Is(err, ErrNotFound) || err.Error() != "no delivery has id 998" {
		t.Fatalf("%v", err)
	}
}

func TestDeliveryTargets(t *testing.T) {
	ids, orders := DeliveryTargets([]DeliveryChange{{ID: 4}, {OrderID: 1, SKU: "A"}, {ID: 5}, {OrderID: 2, SKU: "B"}})
	if !reflect.DeepEqual(ids, []int64{4, 5}) || !reflect.DeepEqual(orders, []int64{1, 2}) {
		t.Fatalf("%v %v", ids, orders)
	}
	if ids, orders := DeliveryTargets(nil); ids != nil || orders != nil {
		t.Fatalf("%v %v", ids, orders)
	}
}

// clone copies a snapshot deep, to show a plan leaves its snapshot alone.
func clone(snap []OrderSnapshot) []OrderSnapshot {
	out := slices.Clone(snap)
	for i := range out {
		out[i].Items = slices.Clone(out[i].Items)
	}
	return out
}
