package shop

import (
	"slices"
	"testing"
)

func TestAfterRefund(t *testing.T) {
	shipped := item(11, 1, "A", 1, 1, 101, DeliveryShipped)
	for _, c := range []struct {
		name  string
		items []ItemRef
		order OrderStatus
		pay   PaymentStatus
	}{
		{"everything refunded", []ItemRef{item(11, 1, "A", 2, 0, 0, ""), item(12, 2, "B", 1, 0, 0, "")}, OrderCancelled, PaymentCancelled},
		{"something left", []ItemRef{item(11, 1, "A", 2, 1, 0, ""), item(12, 2, "B", 1, 0, 0, "")}, OrderPaid, PaymentSuccess},
		{"the last unshipped item refunded", []ItemRef{shipped, item(12, 2, "B", 1, 0, 102, DeliveryReady)}, OrderShipped, PaymentSuccess},
	} {
		order, pay := AfterRefund(OrderSnapshot{ID: 1, Status: OrderPaid, Items: c.items})
		if order != c.order || pay != c.pay {
			t.Errorf("%s: order %s, payment %s; want %s, %s", c.name, order, pay, c.order, c.pay)
		}
	}
}

func TestMovesTo(t *testing.T) {
	if got := OrderMovesTo(OrderCancelled); !slices.Equal(got, []OrderStatus{OrderCreated, OrderPaid}) {
		t.Errorf("an order is cancelled from %v: a shipped one must stay shipped", got)
	}
	if got := OrderMovesTo(OrderShipped); !slices.Equal(got, []OrderStatus{OrderPaid}) {
		t.Errorf("an order ships from %v", got)
	}
	if got := PaymentMovesTo(PaymentFailed); !slices.Equal(got, []PaymentStatus{PaymentProgress}) {
		t.Errorf("a payment fails from %v: a charged one can only be refunded", got)
	}
	if got := PaymentMovesTo(PaymentCancelled); !slices.Equal(got, []PaymentStatus{PaymentProgress, PaymentSuccess}) {
		t.Errorf("a payment is cancelled from %v", got)
	}
}
