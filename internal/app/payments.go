package app

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/rabbitpay/rabbitpay/internal/payment"
	"github.com/rabbitpay/rabbitpay/internal/postgres"
	"github.com/rabbitpay/rabbitpay/internal/shop"
)

// provider returns the method's provider when an order can be paid with it
// now: a registered method, configured for live payments in live mode;
// otherwise a sentence naming what is missing (shop.ErrInvalid).
func (a *App) provider(m shop.PaymentMethod) (*payment.Provider, error) {
	p, err := payment.Lookup(m)
	if err == nil && a.live() {
		err = p.Configured(a.cfg.Payment.Providers[m])
	}
	return p, err
}

// PaymentMethods lists the methods an order can be paid with now: every
// registered one with the sandbox, the configured ones in live mode (or, when
// none is, every one, so that choosing one says what to set).
func (a *App) PaymentMethods() []shop.PaymentMethod {
	var ms []shop.PaymentMethod
	for _, m := range payment.Methods() {
		if _, err := a.provider(m); err == nil {
			ms = append(ms, m)
		}
	}
	if len(ms) == 0 {
		return payment.Methods()
	}
	return ms
}

// Gateway returns the gateway for a payment method: the offline sandbox, or
// in live mode the provider's HTTP API; every call bounded by
// payment.timeout.
func (a *App) Gateway(m shop.PaymentMethod) (payment.Gateway, error) {
	prov, err := a.provider(m)
	if err != nil {
		return nil, err
	}
	p := a.cfg.Payment
	if a.live() {
		gw, err := prov.Live(p.Providers[m], &http.Client{Timeout: p.HTTPTimeout})
		if err != nil {
			return nil, err
		}
		return payment.WithDeadline(gw, p.Timeout), nil
	}
	ledger, err := a.sandboxLedger()
	if err != nil {
		return nil, err
	}
	sandbox := &payment.Sandbox{Provider: prov, DeclineOver: shop.Won(p.Sandbox.DeclineOver), Ledger: ledger}
	return payment.WithDeadline(sandbox, p.Timeout), nil
}

// sandboxLedger returns the payment sandboxes' ledger: on the store's pool,
// which spares every paying command a second connection (its
// authentication and statement preparation: `order place` took 34–54 ms
// with a pool of its own, 28–31 ms without), unless that pool has a single
// connection: a provider call would hold it while the saga's lease renewal
// waited for it, and a live saga could be taken over. Then the ledger gets
// one connection of its own, opened on first use. With several sagas at once
// in one process (checkout --serve), max_conns ledger calls all blocked for
// two thirds of a lease would starve renewals the same way; a ledger
// statement waits only on the same order's ledger rows, which no two sagas
// share, so none is held that long.
func (a *App) sandboxLedger() (*postgres.SandboxLedger, error) {
	if a.cfg.MaxConns >= 2 {
		return postgres.NewSandboxLedger(a.db), nil
	}
	a.gw.once.Do(func() {
		a.gw.own, a.gw.err = postgres.OpenSandboxLedger(a.url, 1, postgres.ConnectTimeout(a.cfg.ConnectTimeout))
	})
	return a.gw.own, a.gw.err
}

// gateways holds the sandbox ledger's own pool, when it has one.
type gateways struct {
	once sync.Once
	own  *postgres.SandboxLedger
	err  error
}

func (g *gateways) close() {
	if g.own != nil {
		g.own.Close()
	}
}

// Payments lists a page of payments, newest first.
func (a *App) Payments(ctx context.Context, f shop.PaymentFilter, o shop.ListOptions) (shop.Page[shop.Payment], error) {
	return a.reader(ctx).ListPayments(ctx, f, o)
}

// Payment reads one payment, by id or order UUID, with every provider call
// made for it, its refunds and its order.
func (a *App) Payment(ctx context.Context, ref string) (shop.PaymentDetail, error) {
	d, err := show(ctx, a, func(s reads) (shop.PaymentDetail, error) { return s.GetPayment(ctx, ref) })
	if err != nil || d.OrderID == nil {
		return d, err
	}
	order, err := show(ctx, a, func(s reads) (shop.Order, error) { return s.GetOrder(ctx, *d.OrderID) })
	d.Order = &order
	return d, err
}

// Reconciled is what `pay reconcile` found for one payment.
type Reconciled struct {
	PaymentID int64              `json:"payment_id"`
	OrderUUID string             `json:"order_uuid"`
	Method    shop.PaymentMethod `json:"method"`
	Ours      shop.PaymentStatus `json:"ours"`
	Amount    shop.Won           `json:"amount"`
	Refunded  shop.Won           `json:"refunded_amount"`
	Theirs    string             `json:"theirs"`
	// TheirAmount and TheirRefunded are what the provider holds.
	TheirAmount   shop.Won `json:"their_amount"`
	TheirRefunded shop.Won `json:"their_refunded_amount"`
	Result        string   `json:"result"` // match, settled, mismatch, unknown, skipped
	Detail        string   `json:"detail,omitempty"`
}

// Reconcile outcomes.
const (
	ReconcileMatch    = "match"
	ReconcileSettled  = "settled"
	ReconcileMismatch = "mismatch"
	ReconcileUnknown  = "unknown"
	ReconcileSkipped  = "skipped"
)

// Reconcile asks the provider about every payment created since since. A
// PROGRESS one is settled through its saga (forward or backward, as `saga
// recover` would, obs(uuid) hearing each step); every other one is compared
// with the provider's record, and a difference is reported, never "fixed".
func (a *App) Reconcile(ctx context.Context, since time.Time, obs func(uuid string) shop.Observer) ([]Reconciled, error) {
	var out []Reconciled
	for opt := (shop.ListOptions{Since: since, Limit: 500}); ; {
		pg, err := a.primary.ListPayments(ctx, shop.PaymentFilter{}, opt)
		if err != nil {
			return out, err
		}
		for _, p := range pg.Items {
			out = append(out, a.reconcileOne(ctx, p, obs))
		}
		if !pg.More {
			return out, nil
		}
		opt.After = pg.Items[len(pg.Items)-1].ID
	}
}

func (a *App) reconcileOne(ctx context.Context, p shop.Payment, obs func(uuid string) shop.Observer) Reconciled {
	r := Reconciled{PaymentID: p.ID, OrderUUID: p.OrderUUID, Method: p.Method, Ours: p.Status, Amount: p.Amount, Refunded: p.Refunded}
	rec, err := a.primary.GetSaga(ctx, p.OrderUUID)
	if err != nil {
		r.Result, r.Detail = ReconcileUnknown, err.Error()
		return r
	}
	if p.Status == shop.PaymentProgress {
		rv := a.recoverOne(ctx, rec, obs)
		r.Result, r.Detail = ReconcileSettled, rv.Action
		switch {
		case rv.Error != "":
			r.Result, r.Detail = ReconcileUnknown, rv.Error
		case rv.skipped:
			r.Result = ReconcileSkipped
		}
		if now, err := a.primary.GetPayment(ctx, p.OrderUUID); err == nil {
			r.Ours, r.Refunded = now.Status, now.Refunded
		}
		return r
	}
	o, err := a.openSaga(nil, &rec)
	if err != nil {
		r.Result, r.Detail = ReconcileUnknown, err.Error()
		return r
	}
	theirs, err := o.gw.Lookup(ctx, o.ref)
	if rerr := a.sagas.RecordCalls(ctx, p.OrderUUID, o.calls); rerr != nil && a.Warn != nil {
		// only pay show's call list misses it; the reconcile's answer stands
		a.Warn(fmt.Sprintf("payment %d: the provider look-up could not be logged: %v", p.ID, rerr))
	}
	if err != nil {
		r.Theirs, r.Result, r.Detail = "error", ReconcileUnknown, "ask the provider: "+err.Error()
		return r
	}
	r.Theirs, r.TheirAmount, r.TheirRefunded = cmp.Or(string(theirs.Status), "no record"), theirs.Amount, theirs.Refunded
	r.Result, r.Detail = ReconcileMatch, ""
	if d := mismatch(p, theirs); d != "" {
		r.Result, r.Detail = ReconcileMismatch, d
	}
	return r
}

// mismatch describes how the provider's record of a settled payment differs
// from ours ("" when it agrees).
func mismatch(p shop.Payment, t payment.Result) string {
	switch p.Status {
	case shop.PaymentFailed:
		if t.Status == shop.PaymentSuccess || t.Status == shop.PaymentCancelled && t.Amount > 0 {
			return fmt.Sprintf("ours FAILED, theirs %s: the provider charged %s for an order we did not complete", t.Status, t.Amount)
		}
		return ""
	case shop.PaymentSuccess, shop.PaymentCancelled:
		if t.Status != p.Status {
			return fmt.Sprintf("ours %s, theirs %s", p.Status, cmp.Or(string(t.Status), "no record"))
		}
		if t.Amount != 0 && t.Amount != p.Amount {
			return fmt.Sprintf("ours charged %s, theirs %s", p.Amount, t.Amount)
		}
		if t.Refunded != p.Refunded && t.Amount != 0 {
			return fmt.Sprintf("ours refunded %s, theirs %s", p.Refunded, t.Refunded)
		}
	}
	return ""
}

// ReconcileError says how many payments need a person's look (mismatches,
// shop.ErrConflict) or are still unsettled (shop.ErrIncomplete).
func ReconcileError(rs []Reconciled) error {
	var mismatches, unknown int
	for _, r := range rs {
		switch r.Result {
		case ReconcileMismatch:
			mismatches++
		case ReconcileUnknown, ReconcileSkipped:
			unknown++
		}
	}
	switch {
	case unknown > 0:
		return shop.Incomplete("%d payment(s) could not be settled or compared, %d mismatch(es)", unknown, mismatches)
	case mismatches > 0:
		return shop.Conflict("%d payment(s) differ from the provider's record: see the mismatch rows", mismatches)
	}
	return nil
}
