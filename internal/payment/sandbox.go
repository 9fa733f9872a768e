package payment

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net/url"

	"github.com/rabbitpay/rabbitpay/internal/shop"
)

// Sandbox is an offline stand-in for a provider: a SANDBOX, not a real payment.
// It keeps its own ledger as the provider would, declines every amount above
// DeclineOver, and answers look-ups after a crash.
type Sandbox struct {
	Provider    *Provider
	DeclineOver shop.Won // 0: never decline
	// Ledger keeps the sandbox's payments. It commits durably: a provider
	// never forgets a charge it confirmed.
	Ledger Ledger
}

// Ledger is where sandboxes keep the payments they took, as a provider would
// (the app wires the store's).
type Ledger interface {
	// Record writes the order's payment as p unless the order has one
	// already, and returns the order's payment either way (waiting for one
	// being written). A FAILED payment's Amount reads 0.
	Record(ctx context.Context, m shop.PaymentMethod, orderUUID string, p Result) (Result, error)
	// Refund takes r.Amount off the order's successful payment, once per
	// r.Key (a repeated key changes nothing), and returns the payment as it
	// is afterwards; a payment refunded in full is CANCELLED. ok is false
	// when the order has no successful payment with r.Amount left.
	Refund(ctx context.Context, orderUUID string, r Refund) (res Result, ok bool, err error)
	// Lookup returns the order's payment, a zero Result when it has none.
	Lookup(ctx context.Context, orderUUID string) (Result, error)
}

// RefundOf is what refunding amount leaves of the sandbox's payment res, as
// a provider books it: only a successful payment with that much left can be
// refunded (ok false otherwise), and one refunded in full is CANCELLED.
func RefundOf(res Result, amount shop.Won) (after Result, ok bool) {
	if res.Status != shop.PaymentSuccess || res.Refunded+amount > res.Amount {
		return res, false
	}
	res.Refunded += amount
	if res.Refunded >= res.Amount {
		res.Status = shop.PaymentCancelled
	}
	return res, true
}

func (s *Sandbox) name() string { return s.Provider.Name + " sandbox" }

// Ready needs nothing from the buyer: the sandbox charges on Approve.
func (s *Sandbox) Ready(context.Context, Request) (Pending, error) { return Pending{}, nil }

// Callback is never reached: the sandbox asks no buyer to approve.
func (s *Sandbox) Callback(*url.URL) (string, string) { return "", "" }

// Approve charges the order once; approving an order again returns the
// first answer.
func (s *Sandbox) Approve(ctx context.Context, r Ref) (Result, error) {
	p := Result{TxID: s.Provider.SandboxTxID(), Status: shop.PaymentSuccess, Amount: r.Amount}
	if s.DeclineOver > 0 && r.Amount > s.DeclineOver {
		p.Status = shop.PaymentFailed
		p.Reason = fmt.Sprintf("declined by the %s: %s is over its limit of %s", s.name(), r.Amount, s.DeclineOver)
	}
	return s.Ledger.Record(ctx, s.Provider.Method, r.OrderUUID, p)
}

// Cancel refunds part or all of a successful payment, once per refund key;
// a fully refunded payment is CANCELLED.
func (s *Sandbox) Cancel(ctx context.Context, ref Ref, r Refund) (Result, error) {
	res, ok, err := s.Ledger.Refund(ctx, ref.OrderUUID, r)
	if err == nil && !ok {
		err = fmt.Errorf("the %s has no successful payment with %s left to refund for order %s", s.name(), r.Amount, ref.OrderUUID)
	}
	return res, err
}

// Lookup returns the sandbox's record of the order's payment.
func (s *Sandbox) Lookup(ctx context.Context, ref Ref) (Result, error) {
	return s.Ledger.Lookup(ctx, ref.OrderUUID)
}

// voidReason is the sandbox's answer for an order voided before any charge.
const voidReason = "voided by the merchant before any charge"

// Void records that the order will not be charged, unless a charge landed
// first, and returns the ledger's answer for the order either way.
func (s *Sandbox) Void(ctx context.Context, ref Ref) (Result, error) {
	return s.Ledger.Record(ctx, s.Provider.Method, ref.OrderUUID,
		Result{TxID: s.Provider.SandboxTxID(), Status: shop.PaymentFailed, Reason: voidReason})
}

// randomHex returns n random bytes in hex, for identifiers.
func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func randomUint64() uint64 {
	var b [8]byte
	rand.Read(b[:])
	return binary.BigEndian.Uint64(b[:])
}
