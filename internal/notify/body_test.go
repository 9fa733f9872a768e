package notify

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rabbitpay/rabbitpay/internal/shop"
)

var update = flag.Bool("update", false, "rewrite testdata/*.json from the bodies made now")

// examples holds one notification of every event type: the bodies README's
// event table shows.
func examples() []shop.Notification {
	at := time.Date(2026, 12, 1, 9, 30, 0, 0, time.UTC)
	const uuid = "22b299a4-5f1c-4a7e-9c3d-8e2f6b1a0c11"
	items := []shop.Line{{ProductID: 2, SKU: "TEA-GREEN", Name: "녹차", Quantity: 1, Price: 9800}}
	shipTo := &shop.ShipTo{AddressID: 3, Recipient: "김토끼", Phone: "010-9876-5432", ZipCode: "04524", Line1: "서울 중구 세종대로 110",
		Line2: "3층", Memo: "문 앞에 놓아 주세요"}
	delivery := func(st shop.DeliveryStatus, carrier, tracking string) shop.Event {
		return shop.DeliveryChangedV1{OrderUUID: uuid, OrderID: 7, DeliveryID: 3, OrderProductID: 12, SKU: "RBT-DOLL", Product: "토끼 인형",
			Quantity: 2, Status: st, Carrier: carrier, TrackingNumber: tracking, TrackingURL: shop.TrackingURL(carrier, tracking),
			ShipTo: shipTo, At: at}
	}
	evs := []shop.Event{
		shop.OrderPlacedV1{OrderUUID: uuid, OrderID: 7, TotalAmount: 39800, Method: shop.Kakao, ProviderTxID: "T1a2b3c4d5e6f7a8b9c0", ShipTo: shipTo},
		shop.PaymentSucceededV1{OrderUUID: uuid, OrderID: 7, Amount: 39800, Method: shop.Kakao, ProviderTxID: "T1a2b3c4d5e6f7a8b9c0"},
		shop.PaymentFailedV1{OrderUUID: uuid, Amount: 1_250_000, Method: shop.Naver,
			Reason: "₩1,250,000 is over the limit"},
		shop.PaymentRefundedV1{OrderUUID: uuid, Amount: 9800, RefundedAmount: 9800, Method: shop.Kakao, ProviderTxID: "T1a2b3c4d5e6f7a8b9c0", Items: items},
		shop.OrderCancelledV1{OrderUUID: uuid, OrderID: 7, TotalAmount: 39800},
		shop.OrderShippedV1{OrderUUID: uuid, OrderID: 7, TotalAmount: 39800},
		delivery(shop.DeliveryReady, "", ""),
		delivery(shop.DeliveryShipped, "CJ대한통운", "601234567890"),
		delivery(shop.DeliveryInTransit, "CJ대한통운", "601234567890"),
		delivery(shop.DeliveryDelivered, "CJ대한통운", "601234567890"),
	}
	out := make([]shop.Notification, len(evs))
	for i, ev := range evs {
		payload, _ := json.Marshal(ev)
		customer, order := int64(1), int64(7)
		out[i] = shop.Notification{ID: int64(i + 1), Kind: ev.Kind(), CustomerID: &customer, OrderID: &order, Payload: payload, CreatedAt: at}
		if ev.Kind() == shop.NotifyPaymentFailed {
			out[i].OrderID = nil // declined: no order was made
		}
	}
	return out
}

// Every event type's body, byte for byte, as the webhook POSTs it and the
// stdout and file sinks write it (go test ./internal/notify -update rewrites them).
func TestBodiesAreGolden(t *testing.T) {
	covered := map[shop.NotificationKind]bool{}
	for _, n := range examples() {
		covered[n.Kind] = true
		body, err := Body(n)
		if err != nil {
			t.Fatalf("%s: %v", n.Kind, err)
		}
		path := filepath.Join("testdata", string(n.Kind)+".json")
		if *update {
			if err := os.WriteFile(path, append(body, '\n'), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (go test ./internal/notify -update writes it)", err)
		}
		if !bytes.Equal(append(body, '\n'), want) {
			t.Errorf("%s body:\n got %s\nwant %s", n.Kind, body, want)
		}
	}
	for _, k := range shop.NotificationKinds {
		if !covered[k] {
			t.Errorf("no golden body for %s", k)
		}
	}
}

// The event table (docs/notifications.md) shows every type's body as it is sent.
func TestReadmeShowsEveryBody(t *testing.T) {
	readme, err := os.ReadFile("../../docs/notifications.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range examples() {
		body, _ := Body(n)
		if !strings.Contains(string(readme), "| `"+string(n.Kind)+"` |") || !strings.Contains(string(readme), "`"+string(body)+"`") {
			t.Errorf("README's event table lacks %s or its body:\n%s", n.Kind, body)
		}
	}
}

// A notification whose payload is not its type's is not sent: the sink
// fails the attempt with the reason, which the outbox records.
func TestUnreadablePayloadIsNotSent(t *testing.T) {
	n := examples()[0]
	n.Payload = []byte(`{"version":2}`)
	var out bytes.Buffer
	err := (&Writer{W: &out}).Send(t.Context(), n)
	if err == nil || !strings.Contains(err.Error(), "payload version 2 is not 1") || out.Len() != 0 {
		t.Fatalf("sent %q, error %v", out.String(), err)
	}
}
