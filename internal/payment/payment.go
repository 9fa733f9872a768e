// Package payment talks to payment providers through one Gateway interface.
// The default gateways are offline sandboxes that behave like Kakao Pay and
// Naver Pay (their identifiers, declines, refunds and look-ups).
package payment

import (
	"context"
	"fmt"
	"time"

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
	// Void gives up on the order's payment at the provider, so that no charge
	// for it can succeed from now on, and returns what the provider holds
	// afterwards: FAILED when nothing was charged, or the charge (SUCCESS or
	// CANCELLED) that landed first. Voiding twice is harmless.
	Void(ctx context.Context, orderUUID string) (Result, error)
}

// WithDeadline bounds every call to g by timeout. A call once begun is not
// cut short by its caller giving up (Ctrl-C): its outcome would be unknown.
func WithDeadline(g Gateway, timeout time.Duration) Gateway { return deadline{g, timeout} }

type deadline struct {
	g       Gateway
	timeout time.Duration
}

func (d deadline) ctx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), d.timeout)
}

func (d deadline) call(ctx context.Context, what string, f func(context.Context) (Result, error)) (Result, error) {
	ctx, cancel := d.ctx(ctx)
	defer cancel()
	res, err := f(ctx)
	if err != nil && ctx.Err() != nil {
		err = fmt.Errorf("the provider did not answer the %s within %s", what, d.timeout)
	}
	return res, err
}

func (d deadline) Pay(ctx context.Context, r Request) (Result, error) {
	return d.call(ctx, "payment", func(ctx context.Context) (Result, error) { return d.g.Pay(ctx, r) })
}

func (d deadline) Cancel(ctx context.Context, orderUUID string) (Result, error) {
	return d.call(ctx, "refund", func(ctx context.Context) (Result, error) { return d.g.Cancel(ctx, orderUUID) })
}

func (d deadline) Lookup(ctx context.Context, orderUUID string) (Result, error) {
	return d.call(ctx, "look-up", func(ctx context.Context) (Result, error) { return d.g.Lookup(ctx, orderUUID) })
}

func (d deadline) Void(ctx context.Context, orderUUID string) (Result, error) {
	return d.call(ctx, "void", func(ctx context.Context) (Result, error) { return d.g.Void(ctx, orderUUID) })
}
