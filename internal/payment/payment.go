// Package payment talks to payment providers through one Gateway interface.
// The default gateways are offline sandboxes that behave like Kakao Pay and
// Naver Pay (their identifiers, declines, refunds and look-ups); in live mode
// the Kakao and Naver adapters call the providers' HTTP APIs.
package payment

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/rabbitpay/rabbitpay/internal/shop"
)

// Result is a provider's answer about one order's payment.
type Result struct {
	Status   shop.PaymentStatus // SUCCESS, FAILED or CANCELLED; "" when the provider has no record
	TxID     string             // Kakao's tid, Naver's paymentId
	Amount   shop.Won           // what the provider charged; 0 when nothing was
	Refunded shop.Won           // how much of the charge has been refunded so far
	Reason   string             // why a payment failed
}

// Request asks a provider to start a payment for an order. OrderUUID is the
// provider-side idempotency key: paying the same order twice charges once.
type Request struct {
	OrderUUID  string
	CustomerID int64
	Amount     shop.Won
	ItemName   string
	Quantity   int64
	// ReturnURL is where the provider sends the buyer back after approving
	// (or cancelling) on its page: the callback listener's URL for this
	// order. Adapters may append their own path elements to it.
	ReturnURL string
}

// Pending is a payment a provider has readied but not charged.
type Pending struct {
	TxID        string // Kakao's tid, Naver's reserveId; "" when nothing was created
	ApprovalURL string // where the buyer approves; "" when no approval is needed
}

// Ref names one order's payment at its provider: what rabbitpay recorded of it.
type Ref struct {
	OrderUUID  string
	CustomerID int64
	Amount     shop.Won // what rabbitpay asked for
	TxID       string   // Pending.TxID, recorded before the buyer was asked
	Token      string   // the buyer's approval (Kakao's pg_token, Naver's paymentId); "" before it
}

// Refund gives back part or all of a charge. Key identifies the refund to the
// provider, so sending it twice refunds once.
type Refund struct {
	Amount shop.Won
	Reason string
	Key    string
}

// Gateway is one payment method's provider. An error means the outcome is
// unknown (the provider could not be asked, or its answer could not be
// read); a decline is a FAILED Result. Errors the provider itself returned
// are *ProviderError.
type Gateway interface {
	// Ready starts the order's payment without charging it. A Pending with
	// an ApprovalURL must be approved by the buyer there; one without can be
	// approved at once with an empty token.
	Ready(ctx context.Context, r Request) (Pending, error)
	// Approve charges the payment the buyer approved (ref.Token). Approving
	// twice charges once. A token the provider refuses as a token, the
	// payment still waiting, is an *ApprovalTokenError (ErrApprovalToken).
	Approve(ctx context.Context, ref Ref) (Result, error)
	// Cancel refunds part or all of the charge and returns the payment as the
	// provider holds it afterwards.
	Cancel(ctx context.Context, ref Ref, r Refund) (Result, error)
	// Lookup asks the provider what it knows of the order's payment.
	Lookup(ctx context.Context, ref Ref) (Result, error)
	// Void gives up on the order's payment at the provider, so that no charge
	// for it can succeed from now on, and returns what the provider holds
	// afterwards: FAILED when nothing was charged, or the charge (SUCCESS or
	// CANCELLED) that landed first. Voiding twice is harmless.
	Void(ctx context.Context, ref Ref) (Result, error)
	// Callback reads the buyer's redirect back from the provider's page (the
	// URL the provider sent the buyer's browser to): the approval token, or
	// why the buyer did not approve.
	Callback(u *url.URL) (token string, declined string)
}

// ProviderError is an error answer from a provider: its code and message.
type ProviderError struct {
	Provider string // "Kakao Pay", "Naver Pay"
	Call     string // "ready", "approve", ...
	HTTP     int    // the HTTP status, 0 when the error came in a 200 answer
	Code     string
	Message  string
}

func (e *ProviderError) Error() string {
	return fmt.Sprintf("%s refused the %s: %s (code %s)", e.Provider, e.Call, e.Message, e.Code)
}

// ErrApprovalToken is an approval token the provider refused as a token
// (not a decline of the payment): the payment is still waiting for the
// buyer's approval, and the right token can still approve it. Only the
// adapters that can tell it from a decline return it (Kakao Pay); errors.Is
// finds it in an *ApprovalTokenError.
var ErrApprovalToken = errors.New("the provider did not accept that approval token")

// ApprovalTokenError is the provider's answer refusing an approval token.
type ApprovalTokenError struct {
	Provider string
	Code     string
	Message  string
}

func (e *ApprovalTokenError) Error() string {
	return fmt.Sprintf("%v: %s answered %s (code %s)", ErrApprovalToken, e.Provider, e.Message, e.Code)
}

func (e *ApprovalTokenError) Is(target error) bool { return target == ErrApprovalToken }

// PendingError is a refund the provider accepted but has not completed yet
// (Naver Pay's CancelNotComplete): neither made nor refused. A look-up later
// shows how it ended; asking again with the same refund key refunds once.
type PendingError struct {
	Provider string
	Call     string
	Message  string
}

func (e *PendingError) Error() string {
	return fmt.Sprintf("%s has not completed the %s yet: %s", e.Provider, e.Call, e.Message)
}

// WithDeadline bounds every call to g by timeout. A call once begun is not
// cut short by its caller giving up (Ctrl-C): its outcome would be unknown.
func WithDeadline(g Gateway, timeout time.Duration) Gateway { return deadline{g, timeout} }

type deadline struct {
	g       Gateway
	timeout time.Duration
}

func call[T any](d deadline, ctx context.Context, what string, f func(context.Context) (T, error)) (T, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), d.timeout)
	defer cancel()
	res, err := f(ctx)
	if err != nil && ctx.Err() != nil {
		err = fmt.Errorf("the provider did not answer the %s within %s", what, d.timeout)
	}
	return res, err
}

func (d deadline) Ready(ctx context.Context, r Request) (Pending, error) {
	return call(d, ctx, "payment request", func(ctx context.Context) (Pending, error) { return d.g.Ready(ctx, r) })
}

func (d deadline) Approve(ctx context.Context, ref Ref) (Result, error) {
	return call(d, ctx, "payment", func(ctx context.Context) (Result, error) { return d.g.Approve(ctx, ref) })
}

func (d deadline) Cancel(ctx context.Context, ref Ref, r Refund) (Result, error) {
	return call(d, ctx, "refund", func(ctx context.Context) (Result, error) { return d.g.Cancel(ctx, ref, r) })
}

func (d deadline) Lookup(ctx context.Context, ref Ref) (Result, error) {
	return call(d, ctx, "look-up", func(ctx context.Context) (Result, error) { return d.g.Lookup(ctx, ref) })
}

func (d deadline) Void(ctx context.Context, ref Ref) (Result, error) {
	return call(d, ctx, "void", func(ctx context.Context) (Result, error) { return d.g.Void(ctx, ref) })
}

func (d deadline) Callback(u *url.URL) (string, string) { return d.g.Callback(u) }

// Recorded reports every call made through g to record, with its outcome
// and duration.
func Recorded(g Gateway, record func(shop.PaymentCall)) Gateway { return recorded{g, record} }

type recorded struct {
	g      Gateway
	record func(shop.PaymentCall)
}

func (r recorded) log(call string, start time.Time, res Result, err error) {
	c := shop.PaymentCall{At: start.UTC(), Call: call, Outcome: string(res.Status), Duration: time.Since(start).Milliseconds()}
	switch {
	case err != nil:
		c.Outcome, c.Detail = "error", err.Error()
	case c.Outcome == "":
		c.Outcome = "no record"
	}
	if err == nil {
		var parts []string
		if res.TxID != "" {
			parts = append(parts, res.TxID)
		}
		if res.Amount != 0 {
			parts = append(parts, "charged "+res.Amount.String())
		}
		if res.Refunded != 0 {
			parts = append(parts, "refunded "+res.Refunded.String())
		}
		if res.Reason != "" {
			parts = append(parts, res.Reason)
		}
		c.Detail = strings.Join(parts, "; ")
	}
	r.record(c)
}

func (r recorded) Ready(ctx context.Context, req Request) (Pending, error) {
	start := time.Now()
	p, err := r.g.Ready(ctx, req)
	if p.TxID != "" || err != nil { // the sandbox's Ready is not a call
		res := Result{TxID: p.TxID}
		if err == nil {
			res.Status = "READY"
		}
		r.log("ready", start, res, err)
	}
	return p, err
}

func (r recorded) Approve(ctx context.Context, ref Ref) (Result, error) {
	start := time.Now()
	res, err := r.g.Approve(ctx, ref)
	r.log("approve", start, res, err)
	return res, err
}

func (r recorded) Cancel(ctx context.Context, ref Ref, rf Refund) (Result, error) {
	start := time.Now()
	res, err := r.g.Cancel(ctx, ref, rf)
	r.log("cancel "+rf.Amount.String(), start, res, err)
	return res, err
}

func (r recorded) Lookup(ctx context.Context, ref Ref) (Result, error) {
	start := time.Now()
	res, err := r.g.Lookup(ctx, ref)
	r.log("lookup", start, res, err)
	return res, err
}

func (r recorded) Void(ctx context.Context, ref Ref) (Result, error) {
	start := time.Now()
	res, err := r.g.Void(ctx, ref)
	r.log("void", start, res, err)
	return res, err
}

func (r recorded) Callback(u *url.URL) (string, string) { return r.g.Callback(u) }
