package app

import (
	"context"
	"errors"
	"time"

	"github.com/rabbitpay/rabbitpay/internal/payment"
	"github.com/rabbitpay/rabbitpay/internal/postgres"
	"github.com/rabbitpay/rabbitpay/internal/saga"
	"github.com/rabbitpay/rabbitpay/internal/shop"
)

// Recovered says what `saga recover` did with one unfinished saga.
type Recovered struct {
	OrderUUID string         `json:"order_uuid"`
	From      shop.SagaState `json:"from"` // the state it was found in
	To        shop.SagaState `json:"to"`   // the state it was left in
	Action    string         `json:"action"`
	Error     string         `json:"error,omitempty"`
	skipped   bool
}

// Skipped reports whether the saga was left alone because its owner's lease is live.
func (r Recovered) Skipped() bool { return r.skipped }

// RecoveryError says how many sagas `saga recover` left unfinished; it is
// shop.ErrIncomplete.
func RecoveryError(out []Recovered) error {
	var left []Recovered
	for _, r := range out {
		if r.Error != "" || r.skipped {
			left = append(left, r)
		}
	}
	if len(left) == 0 {
		return nil
	}
	return shop.Incomplete("%d saga(s) still unfinished, first %s: %s", len(left), left[0].OrderUUID, orDefault(left[0].Error, left[0].Action))
}

// acquire takes a saga over for this process, in one of states, and opens it.
func (a *App) acquire(ctx context.Context, uuid string, states []shop.SagaState, opts ...sagaOption) (*orderSaga, error) {
	log, rec, err := a.sagas.AcquireSaga(ctx, uuid, states)
	if err != nil {
		return nil, err
	}
	o, err := a.openSaga(log, &rec, opts...)
	if err != nil {
		a.yield(ctx, log)
	}
	return o, err
}

// RecoverSagas finishes every saga a crash left unfinished: forward when the
// provider says the payment succeeded, backward otherwise. A saga whose
// owner still holds its lease is skipped; with wait > 0 it is tried again
// until its lease expires or wait has passed (a crashed owner's lease runs
// out within saga.lease; a live owner keeps renewing it). obs(uuid) gives
// the observer for one saga.
func (a *App) RecoverSagas(ctx context.Context, wait time.Duration, obs func(uuid string) shop.Observer) ([]Recovered, error) {
	unfinished, err := a.primary.ListSagas(ctx, shop.UnfinishedSagaStates, shop.ListOptions{})
	if err != nil {
		return nil, err
	}
	recs := unfinished.Items
	out := make([]Recovered, len(recs))
	pending := make([]int, len(recs))
	for i := range recs {
		pending[i] = i
	}
	for deadline := time.Now().Add(wait); ; {
		var skipped []int
		for _, i := range pending {
			if out[i] = a.recoverOne(ctx, recs[i], obs); out[i].skipped {
				skipped = append(skipped, i)
			}
		}
		if len(skipped) == 0 || !time.Now().Before(deadline) {
			refunds, err := a.recoverRefunds(ctx, obs)
			return append(out, refunds...), err
		}
		select {
		case <-ctx.Done():
			return out, shop.Interrupted("interrupted while waiting for %d saga lease(s) to expire", len(skipped))
		case <-time.After(250 * time.Millisecond):
		}
		pending = skipped
	}
}

func (a *App) recoverOne(ctx context.Context, r shop.SagaRecord, observer func(uuid string) shop.Observer) Recovered {
	// Once begun, one saga's recovery finishes even if the caller gives up.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), saga.CompensationTimeout)
	defer cancel()
	out := Recovered{OrderUUID: r.OrderUUID, From: r.State, To: r.State}
	o, err := a.acquire(ctx, r.OrderUUID, shop.UnfinishedSagaStates, observedPer(observer))
	if errors.Is(err, postgres.ErrSagaBusy) {
		if cur, err := a.primary.GetSaga(ctx, r.OrderUUID); err == nil && !cur.State.Unfinished() {
			out.To, out.Action = cur.State, "nothing to do: its owner finished it"
			return out
		}
		out.Action, out.skipped = "skipped: its owner's lease has not expired (a live process, or one that crashed less than saga.lease ago)", true
		return out
	}
	if err != nil {
		out.Error = err.Error()
		return out
	}
	out.From = o.rec.State
	steps := o.steps()
	run := o.runner()
	var res saga.Result
	switch o.rec.State {
	case shop.SagaRunning:
		paid, err := o.recoverCharge(ctx)
		if err != nil {
			out.Error = "ask the provider: " + err.Error()
			o.a.yield(ctx, o.log)
			return out
		}
		var mismatch error // a decline, or a charge of another amount (refunded below)
		if paid.Status != "" {
			_, mismatch = o.settlePay(paid)
		}
		if paid.Status == shop.PaymentSuccess && mismatch == nil {
			out.Action = "forward: the provider charged the payment, so the order is created"
			res = run.Resume(ctx, steps.Through(StepPayment), steps.After(StepPayment))
		} else {
			// No charge yet: the refund compensation voids the order at the
			// provider first, so a charge still in flight is refused or refunded.
			out.Action = "backward: the payment did not go through, so it is voided and the stock restored"
			cause := errors.New("the provider has no charge for this order")
			if mismatch != nil {
				cause = mismatch
			}
			res = run.Backward(ctx, steps.Through(StepPayment), saga.Uncertain(cause))
		}
	case shop.SagaCompensating:
		out.Action = "backward: compensations resumed"
		res = saga.Result{FailedStep: failedStep(o.rec.History), Err: errors.New(o.rec.Error)}
		res.CompensationErr = run.Compensate(ctx, steps.Through(StepPayment))
	case shop.SagaCancelling:
		out.Action = "cancel resumed"
		if err := o.cancel(ctx); err != nil {
			out.Error = err.Error()
		}
		out.To = o.state(ctx)
		return out
	}
	if _, incomplete := o.ended(ctx, res); incomplete != nil {
		out.Error = incomplete.Error()
	}
	out.To = o.state(ctx)
	return out
}

// state reads where the saga stands now.
func (o *orderSaga) state(ctx context.Context) shop.SagaState {
	r, err := o.log.Load(context.WithoutCancel(ctx))
	if err != nil {
		return "unknown"
	}
	return r.State
}

// recoverCharge finds out what became of a running saga's charge. A buyer's
// approval already committed is used (approving twice charges once), so a
// charge its crashed owner may have sent is completed rather than lost;
// without one, nothing can have been charged beyond what the provider says.
func (o *orderSaga) recoverCharge(ctx context.Context) (payment.Result, error) {
	if o.ref.Token != "" {
		res, err := o.charge(ctx)
		if errors.Is(err, payment.ErrApprovalToken) { // the buyer is no longer asked: a decline
			err = nil
		}
		return res, err
	}
	return o.call(ctx, func(ctx context.Context) (payment.Result, error) { return o.gw.Lookup(ctx, o.ref) })
}
