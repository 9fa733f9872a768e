package app

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/google/uuid"

	"github.com/rabbitpay/rabbitpay/internal/payment"
	"github.com/rabbitpay/rabbitpay/internal/postgres"
	"github.com/rabbitpay/rabbitpay/internal/saga"
	"github.com/rabbitpay/rabbitpay/internal/shop"
)

// RefundRequest asks to give back part of a paid order.
type RefundRequest struct {
	OrderID int64
	Items   []shop.ItemRequest // the order's products to refund, with quantities
	Reason  string
	// IdempotencyKey makes a retried request refund once ("" for a new refund).
	IdempotencyKey string
}

// RefundResult says how `order refund` ended.
type RefundResult struct {
	Refund   shop.Refund `json:"refund"`
	Replayed bool        `json:"replayed"`
	Order    *shop.Order `json:"order,omitempty"`
}

// RefundOrder refunds some items of a paid order: the provider gives back
// their exact amount, their stock returns, and the order and payment record
// it (the payment is CANCELLED and the order cancelled once everything is
// refunded). Like a cancel it runs under the order saga's lease, fenced, and
// a refund whose provider call's outcome is unknown is left refunding for
// `saga recover` (shop.ErrIncomplete).
func (a *App) RefundOrder(ctx context.Context, req RefundRequest, obs shop.Observer) (RefundResult, error) {
	out := RefundResult{}
	items, err := shop.MergeItems(req.Items)
	if err != nil {
		return out, err
	}
	if len(items) == 0 {
		return out, shop.InField("items", shop.Invalid("name the items to refund"))
	}
	order, err := a.primary.GetOrder(ctx, req.OrderID)
	if err != nil {
		return out, err
	}
	if req.IdempotencyKey == "" { // a retried request may find its refund done
		if err := shop.CheckRefundStatus(order.ID, order.Status); err != nil {
			return out, err
		}
	}
	// References read as everywhere (place's ambiguity refusal included),
	// against the catalogue; then each product must be one of the order's.
	products, _, err := a.sagas.ResolveItems(ctx, order.CustomerID, items, nil)
	if errors.Is(err, shop.ErrNotFound) {
		return out, shop.Invalid("order %d has no item: %v", order.ID, err)
	}
	if err != nil {
		return out, err
	}
	lines, err := refundLines(order, products)
	if err != nil {
		return out, err
	}
	key := req.IdempotencyKey
	if key == "" {
		key = uuid.NewString()
	}
	// A refusal changes nothing: a new refund, or a key used before, is
	// checked before the saga is taken (its lease and owner token stay as
	// they are); BeginRefund checks again under the order's locks.
	amount, err := shop.Total(lines)
	if err != nil {
		return out, err
	}
	prev, err := a.sagas.GetRefundByKey(ctx, key)
	switch {
	case errors.Is(err, shop.ErrNotFound):
		snap, err := a.sagas.OrderSnapshot(ctx, order.ID)
		if err == nil {
			_, err = shop.PlanRefund(snap, lines)
		}
		if err != nil {
			return out, err
		}
	case err != nil:
		return out, err
	default:
		if err := shop.CheckRefundReplay(prev, key, order.ID, amount); err != nil {
			return out, err
		}
		if prev.State != shop.RefundRefunding { // finished: the replay is its result, with nothing taken
			return a.refundResult(ctx, prev, true)
		}
	}
	o, err := a.acquire(ctx, order.OrderUUID, []shop.SagaState{shop.SagaCompleted}, observedBy(obs))
	if errors.Is(err, postgres.ErrSagaBusy) {
		if f, ferr := a.sagas.GetRefundByKey(ctx, key); ferr == nil {
			return a.refundResult(ctx, f, true)
		}
		return out, shop.Conflict("order %d is being changed by another rabbitpay process, or is not a completed order; try again", req.OrderID)
	}
	if err != nil {
		return out, err
	}
	f, existing, err := o.log.BeginRefund(ctx, order.ID, key, req.Reason, lines,
		event(shop.EventStep, "refund", shop.OutcomeOK, fmt.Sprintf("refund of %s requested: %s", amount, itemList(lines))))
	if err != nil || (existing && f.State != shop.RefundRefunding) {
		o.a.yield(ctx, o.log)
		if err != nil {
			return out, err
		}
		return a.refundResult(ctx, f, true)
	}
	o.emit(shop.EventStep, "refund", shop.OutcomeOK, fmt.Sprintf("order %d: %s of %s to refund", order.ID, itemList(lines), amount))
	// From here on the refund finishes even if the caller gives up, within a bound.
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), saga.CompensationTimeout)
	defer cancel()
	if err := o.refundPart(cctx, f); err != nil {
		return RefundResult{Refund: f}, err
	}
	f, err = a.sagas.GetRefundByKey(ctx, key)
	if err != nil {
		return out, err
	}
	return a.refundResult(ctx, f, existing)
}

func (a *App) refundResult(ctx context.Context, f shop.Refund, replayed bool) (RefundResult, error) {
	order, err := a.primary.GetOrder(ctx, f.OrderID)
	return RefundResult{Refund: f, Replayed: replayed, Order: &order}, err
}

// refundLines are the order's own items for the products asked (each once,
// ResolveItems merged them), at the prices paid.
func refundLines(order shop.Order, products []shop.Line) ([]shop.Line, error) {
	lines := make([]shop.Line, len(products))
	for k, p := range products {
		i := slices.IndexFunc(order.Items, func(oi shop.OrderItem) bool { return oi.ProductID == p.ProductID })
		if i < 0 {
			return nil, shop.Invalid("order %d has no item %s", order.ID, p.SKU)
		}
		oi := order.Items[i]
		lines[k] = shop.Line{ProductID: oi.ProductID, SKU: oi.SKU, Name: oi.Name, Quantity: p.Quantity, Price: oi.OrderPrice}
	}
	return lines, nil
}

func (o *orderSaga) emit(kind shop.EventKind, name string, outcome shop.Outcome, detail string) {
	o.observe(event(kind, name, outcome, detail))
}

// observe tells the observer of an event the log has recorded, as recorded.
func (o *orderSaga) observe(ev shop.SagaEvent) {
	if o.obs != nil {
		o.obs.Event(ev)
	}
}

// refundPart asks the provider to refund f's amount (once, by f's key) and
// records the answer: refunded (stock back, payment and order updated), or
// failed when the provider refused it (nothing changed). An unknown answer
// leaves the refund refunding for `saga recover`.
func (o *orderSaga) refundPart(ctx context.Context, f shop.Refund) error {
	ours, err := o.a.primary.GetPayment(ctx, o.rec.OrderUUID)
	if err != nil {
		return err
	}
	unknown := func(err error) error {
		ev := event(shop.EventStep, "refund", shop.OutcomeFailed, "outcome unknown: "+err.Error())
		var pending *payment.PendingError
		if errors.As(err, &pending) { // under way at the provider, not refused
			ev = event(shop.EventStep, "refund", shop.OutcomeWaiting, "pending: "+err.Error())
		}
		o.observe(ev)
		o.a.yield(ctx, o.log)
		if pending != nil {
			return shop.Incomplete("refund %d is pending: %v; 'rabbitpay saga recover' completes it once the provider has", f.ID, err)
		}
		return shop.Incomplete("refund %d: the provider's answer is unknown (%v); 'rabbitpay saga recover' finishes it", f.ID, err)
	}
	// Not every provider takes a refund key (Kakao does not): a refund an
	// earlier, crashed attempt made shows in the provider's refunded amount,
	// and is not sent again. Refunds and cancels of one order never overlap
	// (BeginRefund and BeginCancel refuse while a refund is refunding), so
	// ours plus this one is what a refund already made shows.
	now, err := o.call(ctx, func(ctx context.Context) (payment.Result, error) { return o.gw.Lookup(ctx, o.ref) })
	if err != nil {
		return unknown(err)
	}
	res := now
	if now.Refunded < ours.Refunded+f.Amount {
		res, err = o.call(ctx, func(ctx context.Context) (payment.Result, error) {
			return o.gw.Cancel(ctx, o.ref, payment.Refund{Amount: f.Amount, Reason: f.Reason, Key: fmt.Sprintf("refund-%d", f.ID)})
		})
	}
	// Only the refund request's own refusal is a refusal: anything else
	// (a failed look-up after it) leaves the outcome unknown.
	var refused *payment.ProviderError
	if errors.As(err, &refused) && refused.Call == "refund" {
		cause := err.Error()
		ev := event(shop.EventStep, "refund", shop.OutcomeFailed, cause)
		o.observe(ev)
		if ferr := o.log.FailRefund(ctx, f, cause, ev); ferr != nil {
			return ferr
		}
		return fmt.Errorf("the refund was refused: %s", cause)
	}
	if err != nil {
		return unknown(err)
	}
	detail := fmt.Sprintf("refunded %s of %s (%s); stock returned: %s", f.Amount, o.rec.TotalAmount, res.TxID, itemList(f.Items))
	ev := event(shop.EventStep, "refunded", shop.OutcomeOK, detail)
	if err := o.log.FinishRefund(ctx, f, res.TxID, ev); err != nil {
		return err
	}
	o.observe(ev)
	return nil
}

// recoverRefunds finishes refunds a crash left refunding.
func (a *App) recoverRefunds(ctx context.Context, observer func(uuid string) shop.Observer) ([]Recovered, error) {
	refunds, err := a.sagas.UnfinishedRefunds(ctx)
	if err != nil {
		return nil, err
	}
	var out []Recovered
	for _, f := range refunds {
		// Once begun, one refund's recovery finishes even if the caller gives up.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), saga.CompensationTimeout)
		r := Recovered{OrderUUID: f.OrderUUID, From: shop.SagaCompleted, To: shop.SagaCompleted,
			Action: fmt.Sprintf("refund %d of %s resumed", f.ID, f.Amount)}
		o, err := a.acquire(ctx, f.OrderUUID, []shop.SagaState{shop.SagaCompleted}, observedPer(observer))
		switch {
		case errors.Is(err, postgres.ErrSagaBusy):
			r.Action, r.skipped = fmt.Sprintf("refund %d skipped: its order's saga is owned by a live process (lease not expired)", f.ID), true
		case err != nil:
			r.Error = err.Error()
		default:
			if err := o.refundPart(ctx, f); err != nil {
				r.Error = err.Error()
			}
		}
		cancel()
		out = append(out, r)
	}
	return out, nil
}
