package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/rabbitpay/rabbitpay/internal/postgres"
	"github.com/rabbitpay/rabbitpay/internal/saga"
	"github.com/rabbitpay/rabbitpay/internal/shop"
)

// Recovered says what `saga recover` did with one unfinished saga.
type Recovered struct {
	OrderUUID string `json:"order_uuid"`
	From      string `json:"from"` // the state it was found in
	To        string `json:"to"`   // the state it was left in
	Action    string `json:"action"`
	Error     string `json:"error,omitempty"`
}

// open resumes an existing saga under its lock.
func (a *App) open(ctx context.Context, ss *postgres.SagaSession) (*orderSaga, error) {
	rec, err := ss.Load(ctx)
	if err != nil {
		return nil, err
	}
	gw, err := a.Gateway(shop.PaymentMethod(rec.Method))
	if err != nil {
		return nil, err
	}
	return &orderSaga{a: a, ss: ss, rec: &rec, gw: gw}, nil
}

// RecoverSagas finishes every saga a crash left unfinished: forward when the
// provider says the payment succeeded, backward otherwise. A saga a live
// process holds is skipped. obs(uuid) gives the observer for one saga.
func (a *App) RecoverSagas(ctx context.Context, obs func(uuid string) saga.Observer) ([]Recovered, error) {
	recs, err := a.Store.ListSagas(ctx, true)
	if err != nil {
		return nil, err
	}
	out := []Recovered{}
	for _, r := range recs {
		out = append(out, a.recoverOne(ctx, r.OrderUUID, obs(r.OrderUUID)))
	}
	return out, nil
}

func (a *App) recoverOne(ctx context.Context, uuid string, obs saga.Observer) Recovered {
	out := Recovered{OrderUUID: uuid}
	ss, err := a.Store.LockSaga(ctx, uuid, false)
	if errors.Is(err, postgres.ErrSagaBusy) {
		out.Action = "skipped: a live process is running it"
		return out
	}
	if err != nil {
		out.Error = err.Error()
		return out
	}
	defer ss.Release()
	o, err := a.open(ctx, ss)
	if err != nil {
		out.Error = err.Error()
		return out
	}
	out.From = o.rec.State
	steps := o.steps()
	run := o.runner(obs)
	var res saga.Result
	switch o.rec.State {
	case postgres.SagaRunning:
		paid, err := o.gw.Lookup(ctx, uuid)
		if err != nil {
			out.Error, out.To = "ask the provider: "+err.Error(), o.rec.State
			return out
		}
		if paid.Status == shop.PaymentSuccess {
			out.Action = "forward: the provider charged the payment, so the order is created"
			o.settlePay(paid)
			res = run.Resume(ctx, steps[:2], steps[2:])
		} else {
			out.Action = "backward: the payment did not go through, so the stock is restored"
			_, cause := o.settlePay(paid)
			res = saga.Result{FailedStep: "payment", Err: cause}
			if err := o.onFailure(ctx, "payment", cause); err != nil {
				res.CompensationErr = err
			} else {
				res.CompensationErr = run.Compensate(ctx, steps[:2])
			}
		}
	case postgres.SagaCompensating:
		out.Action = "backward: compensations resumed"
		res = saga.Result{FailedStep: failedStep(o.rec.History), Err: errors.New(o.rec.Error)}
		res.CompensationErr = run.Compensate(ctx, steps[:2])
	case postgres.SagaCancelling:
		out.Action = "cancel resumed"
		if err := o.cancel(ctx, run, steps); err != nil {
			out.Error = err.Error()
		}
		out.To = sagaState(ctx, ss)
		return out
	default: // it finished between the listing and the lock
		out.Action, out.To = "nothing to do", o.rec.State
		return out
	}
	if r := o.finish(ctx, res, obs); r.Incomplete {
		out.Error = "compensation incomplete"
		if res.CompensationErr != nil {
			out.Error = res.CompensationErr.Error()
		}
	}
	out.To = sagaState(ctx, ss)
	return out
}

func sagaState(ctx context.Context, ss *postgres.SagaSession) string {
	r, err := ss.Load(ctx)
	if err != nil {
		return "unknown"
	}
	return r.State
}

// CancelResult says how `order cancel` ended.
type CancelResult struct {
	OrderID          int64       `json:"order_id"`
	AlreadyCancelled bool        `json:"already_cancelled"`
	Order            *shop.Order `json:"order,omitempty"`
}

// ErrCancelIncomplete means a refund or stock restore still failed: the saga
// stays cancelling for `saga recover`.
var ErrCancelIncomplete = errors.New("cancel incomplete")

// CancelOrder refunds the payment, restores the stock and cancels the order,
// while no item has shipped. Cancelling a cancelled order changes nothing.
func (a *App) CancelOrder(ctx context.Context, id int64, obs saga.Observer) (CancelResult, error) {
	out := CancelResult{OrderID: id}
	order, err := a.Store.GetOrder(ctx, id)
	if err != nil {
		return out, err
	}
	if order.Status == shop.OrderCancelled {
		out.AlreadyCancelled, out.Order = true, &order
		return out, nil
	}
	ss, err := a.Store.LockSaga(ctx, order.OrderUUID, false)
	if errors.Is(err, postgres.ErrSagaBusy) {
		return out, shop.Conflict("order %d is being changed by another rabbitpay process; try again", id)
	}
	if err != nil {
		return out, err
	}
	defer ss.Release()
	o, err := a.open(ctx, ss)
	if err != nil {
		return out, err
	}
	done, err := ss.BeginCancel(ctx, id, event(saga.KindStep, "cancel", saga.OK, "cancel requested"))
	if err != nil {
		return out, err
	}
	if !done {
		o.rec.State = postgres.SagaCancelling
		if obs != nil {
			obs.Event(event(saga.KindStep, "cancel", saga.OK, fmt.Sprintf("order %d: no item has shipped", id)))
		}
		if err := o.cancel(ctx, o.runner(obs), o.steps()); err != nil {
			return out, err
		}
	}
	order, err = a.Store.GetOrder(ctx, id)
	out.AlreadyCancelled, out.Order = done, &order
	return out, err
}

// cancel refunds and restores (the same compensations a failed order runs),
// then marks the order cancelled.
func (o *orderSaga) cancel(ctx context.Context, run *saga.Runner, steps []saga.Step) error {
	if err := run.Compensate(ctx, steps[:2]); err != nil {
		o.ss.Finish(ctx, postgres.SagaCancelling, "cancel incomplete: "+err.Error(), nil)
		return fmt.Errorf("%w: %v; run 'rabbitpay saga recover'", ErrCancelIncomplete, err)
	}
	ev := event(saga.KindStep, "cancelled", saga.OK, "order cancelled; order_cancelled queued in the outbox")
	if err := o.ss.FinishCancel(ctx, ev); err != nil {
		return err
	}
	if run.Observer != nil {
		run.Observer.Event(ev)
	}
	return nil
}
