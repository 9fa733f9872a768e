package shop

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// NotificationKind is an event type: what a notification tells the customer,
// the outbox's kind and the webhook body's type.
type NotificationKind string

// The event types. Each is declared once, in eventTypes, with its payload.
const (
	NotifyOrderPlaced       NotificationKind = "order.placed"
	NotifyPaymentSucceeded  NotificationKind = "payment.succeeded"
	NotifyPaymentFailed     NotificationKind = "payment.failed"
	NotifyPaymentRefunded   NotificationKind = "payment.refunded"
	NotifyOrderCancelled    NotificationKind = "order.cancelled"
	NotifyOrderShipped      NotificationKind = "order.shipped" // every item has shipped
	NotifyDeliveryReady     NotificationKind = "delivery.ready"
	NotifyDeliveryShipped   NotificationKind = "delivery.shipped"
	NotifyDeliveryInTransit NotificationKind = "delivery.in_transit"
	NotifyDeliveryDelivered NotificationKind = "delivery.delivered"
)

// An Event is the typed payload of one notification: its type, and the
// Korean-and-English sentence the customer reads. Its JSON is the outbox's
// payload and the webhook body's data.
type Event interface {
	Kind() NotificationKind
	Message() string
}

// eventTypes declares every event type with the payload of its current
// version, in the order `notify list --kind` offers them. A new version of a
// payload is a new type (OrderPlacedV2) with its version field, decoded by
// version here, so stored notifications of the old version still read.
var eventTypes = []struct {
	kind NotificationKind
	new  func() Event
}{
	{NotifyOrderPlaced, func() Event { return &OrderPlacedV1{} }},
	{NotifyPaymentSucceeded, func() Event { return &PaymentSucceededV1{} }},
	{NotifyPaymentFailed, func() Event { return &PaymentFailedV1{} }},
	{NotifyPaymentRefunded, func() Event { return &PaymentRefundedV1{} }},
	{NotifyOrderCancelled, func() Event { return &OrderCancelledV1{} }},
	{NotifyOrderShipped, func() Event { return &OrderShippedV1{} }},
	{NotifyDeliveryReady, func() Event { return &DeliveryChangedV1{Status: DeliveryReady} }},
	{NotifyDeliveryShipped, func() Event { return &DeliveryChangedV1{Status: DeliveryShipped} }},
	{NotifyDeliveryInTransit, func() Event { return &DeliveryChangedV1{Status: DeliveryInTransit} }},
	{NotifyDeliveryDelivered, func() Event { return &DeliveryChangedV1{Status: DeliveryDelivered} }},
}

// NotificationKinds lists every event type, for --kind.
var NotificationKinds = func() []NotificationKind {
	out := make([]NotificationKind, len(eventTypes))
	for i, t := range eventTypes {
		out[i] = t.kind
	}
	return out
}()

// ParseNotificationKind accepts an event type, or its name from before
// event types (order_placed for order.placed), which scripts may still use.
func ParseNotificationKind(s string) (NotificationKind, error) {
	k := strings.ToLower(strings.TrimSpace(s))
	if !strings.Contains(k, ".") {
		k = strings.Replace(k, "_", ".", 1)
	}
	if slices.Contains(NotificationKinds, NotificationKind(k)) {
		return NotificationKind(k), nil
	}
	names := make([]string, len(NotificationKinds))
	for i, k := range NotificationKinds {
		names[i] = string(k)
	}
	return "", Invalid("notification kind %s is not one of %s", Echo(s), strings.Join(names, ", "))
}

// DecodeEvent reads a stored payload of kind into its type. A payload
// stored before payloads had a version field is version 1.
func DecodeEvent(kind NotificationKind, payload []byte) (Event, error) {
	i := slices.IndexFunc(eventTypes, func(t struct {
		kind NotificationKind
		new  func() Event
	}) bool {
		return t.kind == kind
	})
	if i < 0 {
		return nil, fmt.Errorf("unknown notification kind %q", kind)
	}
	ev := eventTypes[i].new()
	if err := json.Unmarshal(payload, ev); err != nil {
		return nil, fmt.Errorf("the payload of a %s notification cannot be read: %w", kind, err)
	}
	if ev.Kind() != kind {
		return nil, fmt.Errorf("a %s notification holds the payload of a %s", kind, ev.Kind())
	}
	return ev, nil
}

// EventMessage is the message of a stored notification; when its payload
// cannot be read, the reason.
func EventMessage(kind NotificationKind, payload []byte) string {
	ev, err := DecodeEvent(kind, payload)
	if err != nil {
		return err.Error()
	}
	return ev.Message()
}

// v1 is the version field of a version-1 payload: it always says 1, and a
// payload of another version does not decode into it.
type v1 struct{}

func (v1) MarshalJSON() ([]byte, error) { return []byte("1"), nil }

func (*v1) UnmarshalJSON(b []byte) error {
	if string(b) != "1" {
		return fmt.Errorf("payload version %s is not 1", b)
	}
	return nil
}

// both says a sentence in Korean, then in English.
func both(ko, en string) string { return ko + " / " + en }

// OrderPlacedV1 is order.placed: an order was created, paid.
type OrderPlacedV1 struct {
	Version      v1            `json:"version"`
	OrderUUID    string        `json:"order_uuid"`
	OrderID      int64         `json:"order_id"`
	TotalAmount  Won           `json:"total_amount"`
	Method       PaymentMethod `json:"method"`
	ProviderTxID string        `json:"provider_tx_id"`
	ShipTo       *ShipTo       `json:"ship_to"` // where the order goes; null: nowhere yet, or pickup
	Pickup       bool          `json:"pickup"`
}

func (OrderPlacedV1) Kind() NotificationKind { return NotifyOrderPlaced }

func (e OrderPlacedV1) Message() string {
	return both(fmt.Sprintf("주문 #%d이(가) 접수되었습니다 (%s).", e.OrderID, e.TotalAmount),
		fmt.Sprintf("Order #%d was placed (%s).", e.OrderID, e.TotalAmount))
}

// PaymentSucceededV1 is payment.succeeded: an order's payment was taken.
type PaymentSucceededV1 struct {
	Version      v1            `json:"version"`
	OrderUUID    string        `json:"order_uuid"`
	OrderID      int64         `json:"order_id"`
	Amount       Won           `json:"amount"`
	Method       PaymentMethod `json:"method"`
	ProviderTxID string        `json:"provider_tx_id"`
}

func (PaymentSucceededV1) Kind() NotificationKind { return NotifyPaymentSucceeded }

func (e PaymentSucceededV1) Message() string {
	return both(fmt.Sprintf("%s 결제가 완료되었습니다 (%s).", e.Amount, e.Method),
		fmt.Sprintf("Payment of %s succeeded (%s).", e.Amount, e.Method))
}

// PaymentFailedV1 is payment.failed: the payment was declined or could not
// be taken; no order was made.
type PaymentFailedV1 struct {
	Version      v1            `json:"version"`
	OrderUUID    string        `json:"order_uuid"`
	Amount       Won           `json:"amount"`
	Method       PaymentMethod `json:"method"`
	ProviderTxID string        `json:"provider_tx_id"` // empty when the provider never made one
	Reason       string        `json:"reason"`
}

func (PaymentFailedV1) Kind() NotificationKind { return NotifyPaymentFailed }

func (e PaymentFailedV1) Message() string {
	r := cmp.Or(e.Reason, "-")
	return both("결제에 실패했습니다: "+r, "Payment failed: "+r)
}

// PaymentRefundedV1 is payment.refunded: money was given back, all of what
// was left (a cancel, a failed order) or some items' worth (order refund).
type PaymentRefundedV1 struct {
	Version        v1            `json:"version"`
	OrderUUID      string        `json:"order_uuid"`
	Amount         Won           `json:"amount"`          // given back now
	RefundedAmount Won           `json:"refunded_amount"` // given back in all, this included
	Method         PaymentMethod `json:"method"`
	ProviderTxID   string        `json:"provider_tx_id"`
	Items          []Line        `json:"items,omitempty"` // the items refunded (order refund); none when all that was left was
}

func (PaymentRefundedV1) Kind() NotificationKind { return NotifyPaymentRefunded }

func (e PaymentRefundedV1) Message() string {
	return both(fmt.Sprintf("%s 환불되었습니다.", e.Amount), fmt.Sprintf("%s was refunded.", e.Amount))
}

// OrderCancelledV1 is order.cancelled: the order was cancelled (and its
// payment refunded, its stock restored).
type OrderCancelledV1 struct {
	Version     v1     `json:"version"`
	OrderUUID   string `json:"order_uuid"`
	OrderID     int64  `json:"order_id"`
	TotalAmount Won    `json:"total_amount"`
}

func (OrderCancelledV1) Kind() NotificationKind { return NotifyOrderCancelled }

func (e OrderCancelledV1) Message() string {
	return both(fmt.Sprintf("주문 #%d이(가) 취소되었습니다.", e.OrderID), fmt.Sprintf("Order #%d was cancelled.", e.OrderID))
}

// OrderShippedV1 is order.shipped: every item of the order (but those
// refunded whole) has shipped.
type OrderShippedV1 struct {
	Version     v1     `json:"version"`
	OrderUUID   string `json:"order_uuid"`
	OrderID     int64  `json:"order_id"`
	TotalAmount Won    `json:"total_amount"`
}

func (OrderShippedV1) Kind() NotificationKind { return NotifyOrderShipped }

func (e OrderShippedV1) Message() string {
	return both(fmt.Sprintf("주문 #%d의 모든 상품이 발송되었습니다.", e.OrderID),
		fmt.Sprintf("Every item of order #%d has shipped.", e.OrderID))
}

// DeliveryChangedV1 is delivery.ready, delivery.shipped, delivery.in_transit
// or delivery.delivered: an item's delivery entered Status.
type DeliveryChangedV1 struct {
	Version        v1             `json:"version"`
	OrderUUID      string         `json:"order_uuid"`
	OrderID        int64          `json:"order_id"`
	DeliveryID     int64          `json:"delivery_id"`
	OrderProductID int64          `json:"order_product_id"`
	SKU            string         `json:"sku"`
	Product        string         `json:"product"`  // the product's name
	Quantity       int64          `json:"quantity"` // what is left to ship: bought less refunded
	Status         DeliveryStatus `json:"status"`
	Carrier        string         `json:"carrier"`
	TrackingNumber string         `json:"tracking_number"`
	TrackingURL    string         `json:"tracking_url"` // a known carrier's tracking page; "" otherwise
	ShipTo         *ShipTo        `json:"ship_to"`      // where the order goes
	Pickup         bool           `json:"pickup"`
	At             time.Time      `json:"at"`
}

// deliveryKinds is the event type of a delivery entering each status.
var deliveryKinds = map[DeliveryStatus]NotificationKind{DeliveryReady: NotifyDeliveryReady,
	DeliveryShipped: NotifyDeliveryShipped, DeliveryInTransit: NotifyDeliveryInTransit, DeliveryDelivered: NotifyDeliveryDelivered}

// Notification is the event type of a delivery entering s.
func (s DeliveryStatus) Notification() NotificationKind { return deliveryKinds[s] }

func (e DeliveryChangedV1) Kind() NotificationKind { return e.Status.Notification() }

func (e DeliveryChangedV1) Message() string {
	p := e.Product
	switch e.Status {
	case DeliveryReady:
		return both(p+" 상품의 배송을 준비 중입니다.", p+" is being prepared for shipping.")
	case DeliveryShipped:
		via := ""
		if e.Carrier != "" {
			via = " (" + e.Carrier + " " + e.TrackingNumber + ")"
		}
		return both(p+" 상품이 발송되었습니다"+via+".", p+" has shipped"+via+".")
	case DeliveryInTransit:
		return both(p+" 상품이 배송 중입니다.", p+" is in transit.")
	}
	return both(p+" 상품이 배송 완료되었습니다.", p+" was delivered.")
}

// OrderPlacedEvents is what creating a saga's order queues: order.placed and
// payment.succeeded. The new order's id is the store's to add.
func OrderPlacedEvents(r SagaRecord, providerTxID string) []Event {
	return []Event{
		OrderPlacedV1{OrderUUID: r.OrderUUID, TotalAmount: r.TotalAmount, Method: r.Method, ProviderTxID: providerTxID,
			ShipTo: r.ShipTo, Pickup: r.Pickup},
		PaymentSucceededV1{OrderUUID: r.OrderUUID, Amount: r.TotalAmount, Method: r.Method, ProviderTxID: providerTxID},
	}
}

// PaymentSettled is the event a payment settled as o queues, of kind
// payment.refunded or payment.failed; the store adds what the payment row
// holds (its amount, method).
func PaymentSettled(kind NotificationKind, orderUUID string, o PaymentOutcome) Event {
	if kind == NotifyPaymentRefunded {
		return PaymentRefundedV1{OrderUUID: orderUUID, ProviderTxID: o.TxID}
	}
	return PaymentFailedV1{OrderUUID: orderUUID, ProviderTxID: o.TxID, Reason: o.Reason}
}

// SettledKind is the event type a payment settled as status queues.
func SettledKind(status PaymentStatus) NotificationKind {
	if status == PaymentCancelled {
		return NotifyPaymentRefunded
	}
	return NotifyPaymentFailed
}
