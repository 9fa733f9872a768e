package app

import (
	"encoding/json"
	"maps"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/rabbitpay/rabbitpay/internal/shop"
)

// Every event type the store writes holds exactly the payload its Go type
// declares: the keys the database adds (facts merged over the Go payload)
// are the type's fields, with the values the change made, and each reads
// back as its type with its message.
func TestStoredPayloadsAreTheirTypes(t *testing.T) {
	s := newShop(t)
	o := s.place("A:1")
	d := s.start(o.ID)[0]
	if _, err := s.a.UpdateDelivery(ctx, shop.DeliveryChange{ID: d.ID, Status: shop.DeliveryShipped, Carrier: "CJ대한통운", Tracking: "601234567890"}); err != nil {
		t.Fatal(err)
	}
	for _, st := range []shop.DeliveryStatus{shop.DeliveryInTransit, shop.DeliveryDelivered} {
		if err := s.move(d.ID, st); err != nil {
			t.Fatal(err)
		}
	}
	o2 := s.place("A:1", "B:1")
	if _, err := s.refund(o2.ID, "B:1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.a.CancelOrder(ctx, o2.ID, nil); err != nil {
		t.Fatal(err)
	}
	for _, fp := range []string{"payment=error", "create_order=error"} {
		if _, err := s.withFailpoints(fp).PlaceOrder(ctx, PlaceRequest{CustomerID: 1, Method: shop.Naver, Items: items("A:1")}, nil); err != nil {
			t.Fatal(err)
		}
	}

	p, err := s.a.Notifications(ctx, shop.NotificationFilter{}, shop.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[shop.NotificationKind]bool{}
	for _, n := range p.Items {
		seen[n.Kind] = true
		ev, err := shop.DecodeEvent(n.Kind, n.Payload)
		if err != nil {
			t.Fatalf("notification %d: %v", n.ID, err)
		}
		if n.Message != ev.Message() {
			t.Errorf("notification %d: message %q, want %q", n.ID, n.Message, ev.Message())
		}
		typed, _ := json.Marshal(ev)
		var stored, want map[string]any
		json.Unmarshal(n.Payload, &stored)
		json.Unmarshal(typed, &want)
		if !slices.Equal(slices.Sorted(maps.Keys(stored)), slices.Sorted(maps.Keys(want))) {
			t.Errorf("%s %d: stored keys %v, its type's %v", n.Kind, n.ID, slices.Sorted(maps.Keys(stored)), slices.Sorted(maps.Keys(want)))
			continue
		}
		for k, v := range stored {
			if !sameValue(v, want[k]) {
				t.Errorf("%s %d: %s is %v stored, %v read back", n.Kind, n.ID, k, v, want[k])
			}
		}
		if n.Kind == shop.NotifyPaymentRefunded && n.OrderID != nil && *n.OrderID == o2.ID {
			r := ev.(*shop.PaymentRefundedV1)
			if r.Amount == 0 || r.RefundedAmount < r.Amount || r.Method != shop.Kakao {
				t.Errorf("refund %d: %+v", n.ID, r)
			}
		}
	}
	if missing := slices.DeleteFunc(slices.Clone(shop.NotificationKinds), func(k shop.NotificationKind) bool { return seen[k] }); len(missing) > 0 {
		t.Fatalf("no notification of %v was written", missing)
	}
}

// sameValue compares a stored JSON value with its typed reading: a null is
// the zero value, a time is the same instant whatever its zone's spelling.
func sameValue(stored, typed any) bool {
	if stored == nil {
		return typed == nil || reflect.ValueOf(typed).IsZero()
	}
	s, ok := stored.(string)
	t, tok := typed.(string)
	if ok && tok {
		a, aerr := time.Parse(time.RFC3339Nano, s)
		b, berr := time.Parse(time.RFC3339Nano, t)
		if aerr == nil && berr == nil {
			return a.Equal(b)
		}
	}
	return reflect.DeepEqual(stored, typed)
}
