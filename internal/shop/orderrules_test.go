package shop

import (
	"testing"
)

func TestCheckCancel(t *testing.T) {
	ready := item(11, 1, "A", 1, 1, 101, DeliveryReady)
	for _, tc := range []struct {
		name string
		o    OrderSnapshot
		done bool
		kind error
		msg  string
	}{
		{name: "paid, nothing started", o: order(1, OrderPaid, item(11, 1, "A", 1, 1, 0, ""))},
		{name: "paid, deliveries READY", o: order(1, OrderPaid, ready, item(12, 2, "B", 1, 1, 102, DeliveryReady))},
		{name: "paid, partly refunded", o: order(1, OrderPaid, item(11, 1, "A", 3, 1, 0, ""), item(12, 2, "B", 1, 0, 0, ""))},
		{name: "no items", o: order(1, OrderPaid)},
		{name: "created: a failed saga left it", o: order(1, OrderCreated, ready)},
		{name: "cancelled already: done", o: order(1, OrderCancelled, ready), done: true},
		{name: "cancelled already, whatever else holds", o: with(order(1, OrderCancelled, item(11, 1, "A", 1, 1, 101, DeliveryShipped)),
			func(o *OrderSnapshot) { o.Refunding = 3 }), done: true},
		{name: "shipped", o: order(1, OrderShipped, item(11, 1, "A", 1, 1, 101, DeliveryShipped)),
			kind: ErrConflict, msg: "order 1 has shipped and cannot be cancelled"},
		{name: "one item shipped", o: order(1, OrderPaid, ready, item(12, 2, "B", 1, 1, 102, DeliveryShipped)),
			kind: ErrConflict, msg: "order 1 cannot be cancelled: item B has shipped (SHIPPED)"},
		{name: "one item in transit", o: order(1, OrderPaid, item(11, 1, "A", 1, 1, 101, DeliveryInTransit), ready),
			kind: ErrConflict, msg: "item A has shipped (IN_TRANSIT)"},
		{name: "one item delivered", o: order(1, OrderPaid, item(11, 1, "A", 1, 1, 101, DeliveryDelivered)),
			kind: ErrConflict, msg: "item A has shipped (DELIVERED)"},
		{name: "the first shipped item is named", o: order(1, OrderPaid, ready,
			item(12, 2, "B", 1, 1, 102, DeliveryDelivered), item(13, 3, "C", 1, 1, 103, DeliveryShipped)),
			kind: ErrConflict, msg: "item B has shipped (DELIVERED)"},
		{name: "a refund in flight", o: with(order(1, OrderPaid, ready), func(o *OrderSnapshot) { o.Refunding = 4 }),
			kind: ErrConflict, msg: "order 1 has refund 4 still in progress"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			done, err := CheckCancel(tc.o)
			wantErr(t, err, tc.kind, tc.msg)
			if done != tc.done {
				t.Fatalf("done %v, want %v", done, tc.done)
			}
		})
	}
}

func TestRollUp(t *testing.T) {
	shipped := item(11, 1, "A", 1, 1, 101, DeliveryShipped)
	delivered := item(12, 2, "B", 2, 2, 102, DeliveryDelivered)
	for _, tc := range []struct {
		name   string
		status OrderStatus
		items  []ItemRef
		want   OrderStatus
	}{
		{"every item shipped", OrderPaid, []ItemRef{shipped, delivered}, OrderShipped},
		{"every item in transit or further", OrderPaid, []ItemRef{item(11, 1, "A", 1, 1, 101, DeliveryInTransit), delivered}, OrderShipped},
		{"one item READY", OrderPaid, []ItemRef{shipped, item(12, 2, "B", 1, 1, 102, DeliveryReady)}, OrderPaid},
		{"one item without a delivery", OrderPaid, []ItemRef{shipped, item(12, 2, "B", 1, 1, 0, "")}, OrderPaid},
		{"an item refunded whole, no delivery", OrderPaid, []ItemRef{shipped, item(12, 2, "B", 1, 0, 0, "")}, OrderShipped},
		{"an item refunded whole, delivery READY", OrderPaid, []ItemRef{shipped, item(12, 2, "B", 1, 0, 102, DeliveryReady)}, OrderShipped},
		{"an item partly refunded, not shipped", OrderPaid, []ItemRef{shipped, item(12, 2, "B", 3, 1, 102, DeliveryReady)}, OrderPaid},
		{"an item partly refunded, shipped", OrderPaid, []ItemRef{shipped, item(12, 2, "B", 3, 1, 102, DeliveryShipped)}, OrderShipped},
		{"everything refunded: nothing to ship", OrderPaid, []ItemRef{item(11, 1, "A", 1, 0, 101, DeliveryReady), item(12, 2, "B", 1, 0, 0, "")}, OrderPaid},
		{"no items", OrderPaid, nil, OrderPaid},
		{"shipped stays shipped", OrderShipped, []ItemRef{shipped, delivered}, OrderShipped},
		{"created is not rolled up", OrderCreated, []ItemRef{shipped}, OrderCreated},
		{"cancelled is not rolled up", OrderCancelled, []ItemRef{shipped}, OrderCancelled},
	} {
		if got := RollUp(tc.status, tc.items); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
}

func TestCheckDeliverable(t *testing.T) {
	for _, tc := range []struct {
		status    OrderStatus
		saga      SagaState
		refunding int64
		msg       string // "": deliverable
	}{
		{OrderPaid, SagaCompleted, 0, ""},
		{OrderShipped, SagaCompleted, 0, ""},
		{OrderPaid, "", 0, ""}, // an order without a saga row
		{OrderCancelled, SagaCancelled, 0, "order 1 is cancelled: its items cannot be delivered"},
		{OrderCancelled, SagaCompleted, 0, "order 1 is cancelled"},
		{OrderPaid, SagaCancelled, 0, "order 1 is cancelled"},
		{OrderPaid, SagaCancelling, 0, "order 1 is being cancelled: its items cannot be delivered"},
		{OrderCreated, SagaRunning, 0, "order 1 is created, not paid: its items cannot be delivered yet"},
		{OrderCreated, SagaCompensated, 0, "not paid"},
		{OrderPaid, SagaCompleted, 9, "order 1 has refund 9 still in progress (its outcome at the provider is unknown)"},
		{OrderCancelled, SagaCancelled, 9, "order 1 is cancelled"}, // cancelled says more than the refund
	} {
		o := OrderSnapshot{ID: 1, Status: tc.status, Saga: tc.saga, Refunding: tc.refunding}
		err := o.CheckDeliverable()
		if tc.msg == "" {
			if err != nil {
				t.Errorf("%s/%s: %v", tc.status, tc.saga, err)
			}
			continue
		}
		wantErr(t, err, ErrConflict, tc.msg)
	}
}

func TestPlanRefund(t *testing.T) {
	// A: 3 bought at ₩1,000, 1 refunded, not started; B: 1 at ₩5,000, READY;
	// C: 2 at ₩700, SHIPPED; D: refunded whole.
	o := order(1, OrderPaid,
		item(11, 1, "A", 3, 2, 0, ""),
		item(12, 2, "B", 1, 1, 102, DeliveryReady),
		item(13, 3, "C", 2, 2, 103, DeliveryShipped),
		item(14, 4, "D", 1, 0, 0, ""))
	line := func(pid int64, sku string, q int64, price Won) Line {
		return Line{ProductID: pid, SKU: sku, Quantity: q, Price: price}
	}
	a1, a2, a3 := line(1, "A", 1, 1000), line(1, "A", 2, 1000), line(1, "A", 3, 1000)
	b1 := line(2, "B", 1, 5000)
	for _, tc := range []struct {
		name  string
		o     OrderSnapshot
		lines []Line
		want  Won
		kind  error
		msg   string
	}{
		{name: "one line", o: o, lines: []Line{a1}, want: 1000},
		{name: "all that is left of an item", o: o, lines: []Line{a2}, want: 2000},
		{name: "an item whose delivery is READY", o: o, lines: []Line{b1}, want: 5000},
		{name: "several items", o: o, lines: []Line{a2, b1}, want: 7000},
		{name: "no lines", o: o, want: 0},
		{name: "more than is left", o: o, lines: []Line{a3},
			kind: ErrInvalid, msg: "order 1 has 2 of A left to refund (bought 3, refunded 1), not 3"},
		{name: "more than is left over two lines", o: o, lines: []Line{a1, b1, a2},
			kind: ErrInvalid, msg: "order 1 has 2 of A left to refund (bought 3, refunded 1), not 3"},
		{name: "an item refunded whole", o: o, lines: []Line{line(4, "D", 1, 100)},
			kind: ErrInvalid, msg: "order 1 has 0 of D left to refund (bought 1, refunded 1), not 1"},
		{name: "a shipped item", o: o, lines: []Line{line(3, "C", 1, 700)},
			kind: ErrConflict, msg: "item C of order 1 has shipped (SHIPPED) and cannot be refunded"},
		{name: "an item not in the order", o: o, lines: []Line{line(9, "Z", 1, 1)},
			kind: ErrInvalid, msg: "order 1 has no item Z"},
		{name: "a good line before a bad one", o: o, lines: []Line{b1, line(3, "C", 1, 700)},
			kind: ErrConflict, msg: "item C of order 1 has shipped"},
		{name: "an unpaid order", o: with(o, func(o *OrderSnapshot) { o.Status = OrderCreated }), lines: []Line{a1},
			kind: ErrConflict, msg: "order 1 is created: only a paid order can be refunded"},
		{name: "a shipped order", o: with(o, func(o *OrderSnapshot) { o.Status = OrderShipped }), lines: []Line{a1},
			kind: ErrConflict, msg: "order 1 is shipped: only a paid order can be refunded"},
		{name: "a cancelled order", o: with(o, func(o *OrderSnapshot) { o.Status = OrderCancelled }), lines: []Line{a1},
			kind: ErrConflict, msg: "order 1 is cancelled: only a paid order can be refunded"},
		{name: "a refund in flight", o: with(o, func(o *OrderSnapshot) { o.Refunding = 2 }), lines: []Line{a1},
			kind: ErrConflict, msg: "order 1 has refund 2 still in progress"},
		{name: "an amount beyond the maximum",
			o:     order(1, OrderPaid, item(11, 1, "A", MaxQuantity, MaxQuantity, 0, "")),
			lines: []Line{line(1, "A", MaxQuantity, MaxWon)}, kind: ErrInvalid, msg: "larger than the maximum"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := PlanRefund(tc.o, tc.lines)
			wantErr(t, err, tc.kind, tc.msg)
			if tc.kind == nil && got != tc.want {
				t.Fatalf("amount %s, want %s", got, tc.want)
			}
		})
	}
}

func TestRefundable(t *testing.T) {
	for _, tc := range []struct {
		it   ItemRef
		want int64
	}{
		{item(1, 1, "A", 3, 3, 0, ""), 3},
		{item(1, 1, "A", 3, 1, 0, ""), 1},
		{item(1, 1, "A", 3, 0, 0, ""), 0},
		{item(1, 1, "A", 3, 3, 9, DeliveryReady), 3},
		{item(1, 1, "A", 3, 3, 9, DeliveryShipped), 0},
		{item(1, 1, "A", 3, 2, 9, DeliveryInTransit), 0},
		{item(1, 1, "A", 3, 3, 9, DeliveryDelivered), 0},
	} {
		if got := tc.it.Refundable(); got != tc.want {
			t.Errorf("%+v: %d, want %d", tc.it, got, tc.want)
		}
	}
}

func TestCheckRefundStatus(t *testing.T) {
	for _, st := range []OrderStatus{OrderCreated, OrderPaid, OrderShipped, OrderCancelled} {
		err := CheckRefundStatus(7, st)
		if st == OrderPaid {
			wantErr(t, err, nil, "")
			continue
		}
		wantErr(t, err, ErrConflict, "order 7 is "+string(st)+": only a paid order can be refunded")
	}
}
