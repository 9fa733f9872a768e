package shop

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

// The message of every event type, in Korean and English, as the customer
// reads it.
func TestEventMessages(t *testing.T) {
	at := time.Date(2026, 12, 1, 9, 30, 0, 0, time.UTC)
	delivery := func(st DeliveryStatus, carrier, tracking string) DeliveryChangedV1 {
		return DeliveryChangedV1{OrderID: 7, DeliveryID: 3, SKU: "RBT-DOLL", Product: "토끼 인형", Quantity: 2, Status: st,
			Carrier: carrier, TrackingNumber: tracking, At: at}
	}
	cases := []struct {
		ev   Event
		kind NotificationKind
		want string
	}{
		{OrderPlacedV1{OrderID: 7, TotalAmount: 39800, Method: Kakao}, NotifyOrderPlaced,
			"주문 #7이(가) 접수되었습니다 (₩39,800). / Order #7 was placed (₩39,800)."},
		{PaymentSucceededV1{OrderID: 7, Amount: 39800, Method: Kakao}, NotifyPaymentSucceeded,
			"₩39,800 결제가 완료되었습니다 (KAKAO). / Payment of ₩39,800 succeeded (KAKAO)."},
		{PaymentFailedV1{Amount: 1_250_000, Method: Naver, Reason: "over the limit"}, NotifyPaymentFailed,
			"결제에 실패했습니다: over the limit / Payment failed: over the limit"},
		{PaymentFailedV1{Amount: 1000, Method: Naver}, NotifyPaymentFailed, "결제에 실패했습니다: - / Payment failed: -"},
		{PaymentRefundedV1{Amount: 2500, RefundedAmount: 2500}, NotifyPaymentRefunded, "₩2,500 환불되었습니다. / ₩2,500 was refunded."},
		{OrderCancelledV1{OrderID: 7, TotalAmount: 39800}, NotifyOrderCancelled, "주문 #7이(가) 취소되었습니다. / Order #7 was cancelled."},
		{OrderShippedV1{OrderID: 7}, NotifyOrderShipped, "주문 #7의 모든 상품이 발송되었습니다. / Every item of order #7 has shipped."},
		{delivery(DeliveryReady, "", ""), NotifyDeliveryReady, "토끼 인형 상품의 배송을 준비 중입니다. / 토끼 인형 is being prepared for shipping."},
		{delivery(DeliveryShipped, "CJ대한통운", "6012-3456-7890"), NotifyDeliveryShipped,
			"토끼 인형 상품이 발송되었습니다 (CJ대한통운 6012-3456-7890). / 토끼 인형 has shipped (CJ대한통운 6012-3456-7890)."},
		{delivery(DeliveryShipped, "", ""), NotifyDeliveryShipped, "토끼 인형 상품이 발송되었습니다. / 토끼 인형 has shipped."},
		{delivery(DeliveryInTransit, "CJ대한통운", "6012"), NotifyDeliveryInTransit, "토끼 인형 상품이 배송 중입니다. / 토끼 인형 is in transit."},
		{delivery(DeliveryDelivered, "CJ대한통운", "6012"), NotifyDeliveryDelivered, "토끼 인형 상품이 배송 완료되었습니다. / 토끼 인형 was delivered."},
	}
	covered := map[NotificationKind]bool{}
	for _, c := range cases {
		covered[c.kind] = true
		if c.ev.Kind() != c.kind {
			t.Errorf("%T is %s, want %s", c.ev, c.ev.Kind(), c.kind)
		}
		if got := c.ev.Message(); got != c.want {
			t.Errorf("%s message:\n got %s\nwant %s", c.kind, got, c.want)
		}
		// What is stored reads back as the same event with the same message.
		b, err := json.Marshal(c.ev)
		if err != nil {
			t.Fatal(err)
		}
		back, err := DecodeEvent(c.kind, b)
		if err != nil {
			t.Fatalf("%s: %v", c.kind, err)
		}
		if got := reflect.ValueOf(back).Elem().Interface(); !reflect.DeepEqual(got, c.ev) {
			t.Errorf("%s read back as %+v, want %+v", c.kind, got, c.ev)
		}
		if EventMessage(c.kind, b) != c.want {
			t.Errorf("%s: stored message %q", c.kind, EventMessage(c.kind, b))
		}
		if !strings.Contains(string(b), `"version":1`) {
			t.Errorf("%s payload has no version 1: %s", c.kind, b)
		}
	}
	for _, k := range NotificationKinds {
		if !covered[k] {
			t.Errorf("no message test for %s", k)
		}
	}
}

func TestDecodeEventRefusesWhatIsNotItsType(t *testing.T) {
	for _, c := range []struct {
		kind    NotificationKind
		payload string
		want    string
	}{
		{NotifyOrderPlaced, `{"version":2,"order_id":7}`, "payload version 2 is not 1"},
		{NotifyDeliveryShipped, `{"version":1,"status":"READY","product":"x"}`, "a delivery.shipped notification holds the payload of a delivery.ready"},
		{NotifyOrderPlaced, `{"order_id":"seven"}`, "the payload of a order.placed notification cannot be read"},
		{"order_placed", `{}`, `unknown notification kind "order_placed"`},
	} {
		_, err := DecodeEvent(c.kind, []byte(c.payload))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s %s: %v, want %q", c.kind, c.payload, err, c.want)
		}
		if m := EventMessage(c.kind, []byte(c.payload)); !strings.Contains(m, c.want) {
			t.Errorf("message of an unreadable %s: %q", c.kind, m)
		}
	}
	// A payload stored before payloads had a version is version 1.
	ev, err := DecodeEvent(NotifyOrderCancelled, []byte(`{"order_uuid":"u","order_id":7,"total_amount":1000}`))
	if err != nil || ev.Message() != "주문 #7이(가) 취소되었습니다. / Order #7 was cancelled." {
		t.Fatalf("an unversioned payload: %v %v", ev, err)
	}
}

func TestParseNotificationKind(t *testing.T) {
	for in, want := range map[string]NotificationKind{
		"order.placed": NotifyOrderPlaced, " Delivery.In_Transit ": NotifyDeliveryInTransit,
		// the names from before event types
		"order_placed": NotifyOrderPlaced, "delivery_in_transit": NotifyDeliveryInTransit, "PAYMENT_REFUNDED": NotifyPaymentRefunded,
	} {
		if got, err := ParseNotificationKind(in); err != nil || got != want {
			t.Errorf("%q: %s %v, want %s", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "nope", "order", "order.placed.v1", "order_placed_x", "delivery.in.transit"} {
		if _, err := ParseNotificationKind(bad); err == nil || !strings.Contains(err.Error(), "is not one of order.placed, payment.succeeded") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

// A settled payment queues payment.refunded when it was given back, else
// payment.failed with the provider's reason.
func TestPaymentSettled(t *testing.T) {
	o := PaymentOutcome{Status: PaymentCancelled, TxID: "T1"}
	if k := SettledKind(o.Status); k != NotifyPaymentRefunded {
		t.Fatalf("cancelled: %s", k)
	}
	if ev := PaymentSettled(SettledKind(o.Status), "u", o); !reflect.DeepEqual(ev, PaymentRefundedV1{OrderUUID: "u", ProviderTxID: "T1"}) {
		t.Fatalf("refunded: %+v", ev)
	}
	o = PaymentOutcome{Status: PaymentFailed, Reason: "declined"}
	if ev := PaymentSettled(SettledKind(o.Status), "u", o); !reflect.DeepEqual(ev, PaymentFailedV1{OrderUUID: "u", Reason: "declined"}) {
		t.Fatalf("failed: %+v", ev)
	}
	r := SagaRecord{OrderUUID: "u", TotalAmount: 3000, Method: Naver}
	evs := OrderPlacedEvents(r, "T2")
	if len(evs) != 2 || evs[0].Kind() != NotifyOrderPlaced || evs[1].Kind() != NotifyPaymentSucceeded ||
		evs[1].(PaymentSucceededV1).Amount != 3000 || evs[0].(OrderPlacedV1).ProviderTxID != "T2" {
		t.Fatalf("order placed: %+v", evs)
	}
}
