package shop

import (
	"strings"
	"time"
)

// PaymentMethod is how an order is paid.
type PaymentMethod string

// The payment methods built in. The methods rabbitpay takes are the
// payment providers' registry (internal/payment).
const (
	Naver PaymentMethod = "NAVER"
	Kakao PaymentMethod = "KAKAO"
)

// PaymentStatus is where a payment stands.
type PaymentStatus string

// Payment statuses. PROGRESS means the provider's answer is not yet recorded.
const (
	PaymentProgress  PaymentStatus = "PROGRESS"
	PaymentSuccess   PaymentStatus = "SUCCESS"
	PaymentFailed    PaymentStatus = "FAILED"
	PaymentCancelled PaymentStatus = "CANCELLED"
)

// PaymentOutcome is what a payment ended as, with the provider's id and reason.
type PaymentOutcome struct {
	Status PaymentStatus
	TxID   string
	Reason string
}

// OrderFilter narrows `order list`.
type OrderFilter struct {
	CustomerID int64
	Status     OrderStatus
}

// OrderStatus is where an order stands.
type OrderStatus string

// Order statuses.
const (
	OrderCreated   OrderStatus = "created"
	OrderPaid      OrderStatus = "paid"
	OrderShipped   OrderStatus = "shipped"
	OrderCancelled OrderStatus = "cancelled"
)

// ParseOrderStatus accepts one of the order statuses.
func ParseOrderStatus(s string) (OrderStatus, error) {
	switch st := OrderStatus(strings.ToLower(strings.TrimSpace(s))); st {
	case OrderCreated, OrderPaid, OrderShipped, OrderCancelled:
		return st, nil
	}
	return "", Invalid("order status %q is not one of created, paid, shipped, cancelled", s)
}

// MaxQuantity bounds one line's quantity.
const MaxQuantity = MaxStock

// ValidateQuantity checks an item quantity.
func ValidateQuantity(q int64) error {
	if q <= 0 {
		return InField("quantity", Invalid("quantity %d must be at least 1", q))
	}
	if q > MaxQuantity {
		return InField("quantity", Invalid("quantity %d is larger than the maximum of %d", q, MaxQuantity))
	}
	return nil
}

// ItemRequest is one REF:QTY asked for on the command line.
type ItemRequest struct {
	Ref      ProductRef
	Quantity int64
}

// ParseItem parses REF:QTY, where REF is a product reference (ProductRef).
func ParseItem(s string) (ItemRequest, error) {
	i := strings.LastIndexByte(s, ':')
	if i <= 0 || i == len(s)-1 {
		return ItemRequest{}, Invalid("item %q is not SKU:QTY", s)
	}
	ref, err := ParseProductRef(s[:i])
	if err != nil {
		return ItemRequest{}, Invalid("item %q: %v", s, err)
	}
	q, err := ParseInt("quantity in item "+s, s[i+1:])
	if err != nil {
		return ItemRequest{}, err
	}
	if err := ValidateQuantity(q); err != nil {
		return ItemRequest{}, Invalid("item %q: %v", s, err)
	}
	return ItemRequest{Ref: ref, Quantity: q}, nil
}

// MergeItems sums quantities of repeated references, keeping first-seen order.
func MergeItems(items []ItemRequest) ([]ItemRequest, error) {
	idx := map[ProductRef]int{}
	var out []ItemRequest
	for _, it := range items {
		if j, ok := idx[it.Ref]; ok {
			out[j].Quantity += it.Quantity
			if err := ValidateQuantity(out[j].Quantity); err != nil {
				return nil, err
			}
			continue
		}
		idx[it.Ref] = len(out)
		out = append(out, it)
	}
	return out, nil
}

// Line is one product in a cart or an order, with its unit price.
type Line struct {
	ProductID int64  `json:"product_id"`
	SKU       string `json:"sku"`
	Name      string `json:"name"`
	Quantity  int64  `json:"quantity"`
	Price     Won    `json:"price"`
}

// Unrefunded is lines less the quantities partial refunds gave back (items'
// refunded quantities, by product): what a cancel still returns to stock.
func Unrefunded(lines []Line, items []OrderItem) []Line {
	refunded := map[int64]int64{}
	for _, it := range items {
		refunded[it.ProductID] += it.Refunded
	}
	var out []Line
	for _, l := range lines {
		take := min(l.Quantity, refunded[l.ProductID])
		refunded[l.ProductID] -= take
		if l.Quantity -= take; l.Quantity > 0 {
			out = append(out, l)
		}
	}
	return out
}

// Total sums price × quantity over lines, refusing totals beyond MaxWon.
func Total(lines []Line) (Won, error) {
	var total Won
	for _, l := range lines {
		t, err := l.Price.MulQty(l.Quantity)
		if err != nil {
			return 0, err
		}
		if total > MaxWon-t {
			return 0, Invalid("order total is larger than the maximum of %s", MaxWon)
		}
		total += t
	}
	return total, nil
}

// Cart is a customer's cart.
type Cart struct {
	CustomerID  int64      `json:"customer_id"`
	Items       []CartLine `json:"items"`
	TotalAmount Won        `json:"total_amount"`
}

// CartLine is one cart item with its current price and line total.
type CartLine struct {
	Line
	LineTotal Won       `json:"line_total"`
	AddedAt   time.Time `json:"added_at"`
	// Stock is the product's stock when the cart was read: a line above it
	// cannot be paid for as it is.
	Stock int64 `json:"stock"`
}

// Order is a placed order with its items, payment and saga trail.
type Order struct {
	ID         int64  `json:"id"`
	OrderUUID  string `json:"order_uuid"`
	CustomerID int64  `json:"customer_id"`
	// CustomerName is the customer's name as it is now (not a snapshot).
	CustomerName string      `json:"customer_name"`
	Status       OrderStatus `json:"status"`
	TotalAmount  Won         `json:"total_amount"`
	CreatedAt    time.Time   `json:"created_at"`
	UpdatedAt    time.Time   `json:"updated_at"`
	// ShipTo is where the order goes (nil: nowhere yet, or Pickup).
	ShipTo  *ShipTo     `json:"ship_to"`
	Pickup  bool        `json:"pickup"`
	Items   []OrderItem `json:"items,omitempty"`
	Payment *Payment    `json:"payment,omitempty"`
	Saga    []SagaEvent `json:"saga,omitempty"`
}

// OrderItem is one order_product row: the unit price is the order-time snapshot.
type OrderItem struct {
	ID             int64  `json:"id"`
	ProductID      int64  `json:"product_id"`
	SKU            string `json:"sku"`
	Name           string `json:"name"`
	Quantity       int64  `json:"quantity"`
	OrderPrice     Won    `json:"order_price"`
	Refunded       int64  `json:"refunded_quantity"`
	DeliveryID     int64  `json:"delivery_id,omitempty"`
	DeliveryStatus string `json:"delivery_status,omitempty"`
}

// Payment is one payment of an order.
type Payment struct {
	ID            int64         `json:"id"`
	OrderUUID     string        `json:"order_uuid"`
	OrderID       *int64        `json:"order_id"`
	Method        PaymentMethod `json:"method"`
	Status        PaymentStatus `json:"status"`
	Amount        Won           `json:"amount"`
	Refunded      Won           `json:"refunded_amount"`
	ProviderTxID  string        `json:"provider_tx_id,omitempty"`
	ProviderRef   string        `json:"provider_ref,omitempty"` // Kakao's tid or Naver's reserveId, before the charge
	ApprovalURL   string        `json:"approval_url,omitempty"` // where the buyer approves, while PROGRESS
	FailureReason string        `json:"failure_reason,omitempty"`
	CreatedAt     time.Time     `json:"created_at"`
	PaidAt        *time.Time    `json:"paid_at"`
	CancelledAt   *time.Time    `json:"cancelled_at"`
}
