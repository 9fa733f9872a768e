package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/rabbitpay/rabbitpay/internal/postgres"
	"github.com/rabbitpay/rabbitpay/internal/saga"
	"github.com/rabbitpay/rabbitpay/internal/shop"
)

// CancelResult says how `order cancel` ended.
type CancelResult struct {
	OrderID          int64 `json:"order_id"`
	AlreadyCancelled bool  `json:"already_cancelled"`
	// Refunded is what this cancel refunded: the order's total less what
	// partial refunds gave back before.
	Refunded shop.Won    `json:"refunded"`
	Order    *shop.Order `json:"order,omitempty"`
}

// CancelOrder refunds the payment, restores the stock and cancels the order,
// while no item has shipped. Cancelling a cancelled order changes nothing.
// A refund or stock restore that still fails leaves the saga cancelling for
// `saga recover` and returns shop.ErrIncomplete.
func (a *App) CancelOrder(ctx context.Context, id int64, obs shop.Observer) (CancelResult, error) {
	out := CancelResult{OrderID: id}
	order, err := a.primary.GetOrder(ctx, id)
	if err != nil {
		return out, err
	}
	if order.Status == shop.OrderCancelled {
		out.AlreadyCancelled, out.Order = true, &order
		return out, nil
	}
	// What the rules refuse (an item shipped, a refund in flight) is refused
	// before the saga is taken over: a refusal changes nothing, not even the
	// saga's owner token and lease. The same check runs again, locked, below.
	snap, err := a.sagas.OrderSnapshot(ctx, id)
	if err != nil {
		return out, err
	}
	if _, err := shop.CheckCancel(snap); err != nil {
		return out, err
	}
	o, err := a.acquire(ctx, order.OrderUUID, []shop.SagaState{shop.SagaCompleted, shop.SagaCancelling}, observedBy(obs))
	if errors.Is(err, postgres.ErrSagaBusy) {
		return out, shop.Conflict("order %d is being changed by another rabbitpay process; try again", id)
	}
	if err != nil {
		return out, err
	}
	done, err := o.log.BeginCancel(ctx, id, event(shop.EventStep, "cancel", shop.OutcomeOK, "cancel requested"))
	if err != nil {
		o.a.yield(ctx, o.log)
		return out, err
	}
	if done {
		o.a.yield(ctx, o.log) // nothing to do: give back the lease the takeover took
	} else {
		if obs != nil {
			obs.Event(event(shop.EventStep, "cancel", shop.OutcomeOK, fmt.Sprintf("order %d: no item has shipped", id)))
		}
		// From here on the cancel finishes even if the caller gives up, within a bound.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), saga.CompensationTimeout)
		defer cancel()
		if err := o.cancel(cctx); err != nil {
			return out, err
		}
		out.Refunded = o.refunded
	}
	order, err = a.primary.GetOrder(ctx, id)
	out.AlreadyCancelled, out.Order = done, &order
	return out, err
}

// cancel refunds and restores (the same compensations a failed order runs),
// then marks the order cancelled.
func (o *orderSaga) cancel(ctx context.Context) error {
	o.rec.State = shop.SagaCancelling
	if err := o.runner().Compensate(ctx, o.steps().Through(StepPayment)); err != nil {
		if !errors.Is(err, shop.ErrFenced) {
			if ferr := o.log.Finish(ctx, shop.SagaCancelling, "cancel incomplete: "+err.Error(), nil); ferr != nil {
				return shop.Incomplete("cancel incomplete: %v (and the saga log could not note it: %v)", err, ferr)
			}
		}
		return shop.Incomplete("cancel incomplete: %v", err)
	}
	ev := event(shop.EventStep, "cancelled", shop.OutcomeOK, "order cancelled; order.cancelled queued in the outbox")
	if err := o.log.FinishCancel(ctx, ev); err != nil {
		return err
	}
	o.observe(ev)
	return nil
}
