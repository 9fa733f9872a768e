package shop

import (
	"strings"
	"time"
)

// PaymentCall is one call made to a payment provider, as `pay show` lists it.
type PaymentCall struct {
	At       time.Time `json:"at"`
	Call     string    `json:"call"`    // ready, approve, lookup, void, cancel
	Outcome  string    `json:"outcome"` // the provider's answer (SUCCESS, FAILED, …) or "error"
	Detail   string    `json:"detail,omitempty"`
	Duration int64     `json:"duration_ms"`
}

// PaymentFilter narrows `pay list`.
type PaymentFilter struct {
	OrderID int64
	Status  PaymentStatus
	Method  PaymentMethod
}

// PaymentDetail is one payment with every provider call made for it and its order.
type PaymentDetail struct {
	Payment
	Calls   []PaymentCall `json:"calls"`
	Refunds []Refund      `json:"refunds,omitempty"`
	Order   *Order        `json:"order,omitempty"`
}

// ParsePaymentStatus accepts one of the payment statuses, in any case.
func ParsePaymentStatus(s string) (PaymentStatus, error) {
	switch st := PaymentStatus(strings.ToUpper(strings.TrimSpace(s))); st {
	case PaymentProgress, PaymentSuccess, PaymentFailed, PaymentCancelled:
		return st, nil
	}
	return "", Invalid("payment status %q is not one of PROGRESS, SUCCESS, FAILED, CANCELLED", s)
}

// RefundState is where a partial refund stands.
type RefundState string

// Refund states: refunding is unfinished (`saga recover` finishes it).
const (
	RefundRefunding RefundState = "refunding"
	RefundRefunded  RefundState = "refunded"
	RefundFailed    RefundState = "failed"
)

// Refund is part of a paid order given back: its items, amount and state.
type Refund struct {
	ID         int64       `json:"id"`
	OrderID    int64       `json:"order_id"`
	OrderUUID  string      `json:"order_uuid"`
	Items      []Line      `json:"items"`
	Amount     Won         `json:"amount"`
	Reason     string      `json:"reason,omitempty"`
	State      RefundState `json:"state"`
	Error      string      `json:"error,omitempty"`
	CreatedAt  time.Time   `json:"created_at"`
	FinishedAt *time.Time  `json:"finished_at"`
}
