// Package payment talks to payment providers through one Gateway interface.
// The default gateways are offline sandboxes that behave like Kakao Pay and
// Naver Pay (their identifiers, declines, refunds and look-ups).
package payment

import (
	"context"

	"github.com/rabbitpay/rabbitpay/internal/shop"
)

// Result is a provider's answer about one order's payment.
type Result struct {
	Status shop.PaymentStatus // SUCCESS, FAILED or CANCELLED; "" when the provider has no record
	TxID   string             // Kakao's tid, Naver's paymentId
	Reason string             // why a payment failed
}

// Request asks a provider to charge an order. OrderUUID is the provider-side
// idempotency key: paying the same order twice charges once.
type Request struct {
	OrderUUID  string
	CustomerID int64
	Amount     shop.Won
	ItemName   string
}

// Gateway is one payment method's provider. An error means the outcome is
// unknown (the provider could not be asked); a decline is a FAILED Result.
type Gateway interface {
	Pay(ctx context.Context, r Request) (Result, error)
	// Cancel refunds the order's payment in full; cancelling twice is harmless.
	Cancel(ctx context.Context, orderUUID string) (Result, error)
	// Lookup asks the provider what it knows of the order's payment.
	Lookup(ctx context.Context, orderUUID string) (Result, error)
}
