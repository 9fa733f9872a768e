package app

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/rabbitpay/rabbitpay/internal/payment"
	"github.com/rabbitpay/rabbitpay/internal/postgres"
	"github.com/rabbitpay/rabbitpay/internal/saga"
	"github.com/rabbitpay/rabbitpay/internal/shop"
)

// The order saga's steps and compensations, as the operator sees them.
const (
	StepReduceStock  = "reduce_stock"
	StepPayment      = "payment"
	StepCreateOrder  = "create_order"
	StepNotify       = "notify"
	UndoRestoreStock = "restore_stock"
	UndoRefund       = "refund"
	// stepApproval names the buyer's approval inside the payment step.
	stepApproval = "approval"
)

var event = shop.NewEvent

// orderSaga is one order's saga: its durable record, this process's
// ownership of it, and the step functions that placement, recovery and
// cancellation share. openSaga sets it up; only its own methods change it.
type orderSaga struct {
	a   *App
	rec *shop.SagaRecord
	gw  payment.Gateway
	obs shop.Observer
	// key and hash are a placement's idempotency key and the request it
	// was first used for.
	key, hash string
	// approval says where the buyer's approval comes from (placement only).
	approval Approval
	// interrupt is closed when the operator gives up on a placement.
	interrupt <-chan struct{}

	// What the run has done and learned so far.
	log sagaLog // nil until the saga's first transaction
	// ref names the payment at its provider, as far as it is known.
	ref payment.Ref
	// lost is closed when another process took the saga over while this one
	// waited (see renewing).
	lost <-chan struct{}
	// calls are provider calls made while the saga was not owned (look-ups).
	calls    []shop.PaymentCall
	paid     payment.Result
	declined *shop.PaymentOutcome
	created  shop.CreatedOrder
	// refunded is what the refund compensation gave back (not what partial
	// refunds had before it).
	refunded shop.Won
	// unlogged holds events that happened outside any transaction of ours (the
	// provider's answer); the next saga transaction writes them.
	unlogged []shop.SagaEvent
}

// sagaOption sets up an order saga as openSaga makes it.
type sagaOption func(*orderSaga)

// observedBy makes obs hear every step and compensation as it happens.
func observedBy(obs shop.Observer) sagaOption { return func(o *orderSaga) { o.obs = obs } }

// observedPer is observedBy(obs(uuid)), asked for only once the saga is
// open (obs may print a heading for it).
func observedPer(obs func(uuid string) shop.Observer) sagaOption {
	return func(o *orderSaga) { o.obs = obs(o.rec.OrderUUID) }
}

// placing is a placement's: its idempotency key ("" for none) and request
// hash, where the buyer's approval comes from, and interrupt, closed when
// the operator gives up.
func placing(key, hash string, approval Approval, interrupt <-chan struct{}) sagaOption {
	return func(o *orderSaga) { o.key, o.hash, o.approval, o.interrupt = key, hash, approval, interrupt }
}

// openSaga makes the saga for rec, owned through log (nil before its first
// write), with its payment's gateway; provider calls are recorded with the
// saga's next write.
func (a *App) openSaga(log sagaLog, rec *shop.SagaRecord, opts ...sagaOption) (*orderSaga, error) {
	o := &orderSaga{a: a, log: log, rec: rec, ref: payment.Ref{OrderUUID: rec.OrderUUID, CustomerID: rec.CustomerID,
		Amount: rec.TotalAmount, TxID: rec.ProviderRef, Token: rec.ApprovalToken}}
	gw, err := a.Gateway(rec.Method)
	if err != nil {
		return nil, err
	}
	o.gw = payment.Recorded(gw, o.recordCall)
	for _, opt := range opts {
		opt(o)
	}
	return o, nil
}

// recordCall hands a provider call to the saga log, which writes it with
// its next write; without a log it is kept in o.calls.
func (o *orderSaga) recordCall(c shop.PaymentCall) {
	if o.log != nil {
		o.log.RecordCall(c)
	} else {
		o.calls = append(o.calls, c)
	}
}

// yield gives a saga's lease back early, so that `saga recover` need not
// wait for it to run out. Nothing depends on it (the lease runs out on its
// own), so a failure is only said, as a warning naming the saga.
func (a *App) yield(ctx context.Context, log sagaLog) {
	if err := log.Yield(ctx); err != nil && a.Warn != nil {
		a.Warn(fmt.Sprintf("saga %s: its lease could not be given back early (%v); 'saga recover' takes it over once it runs out", log.OrderUUID(), err))
	}
}

func (o *orderSaga) runner() *saga.Runner {
	return &saga.Runner{Observer: o.obs, Failpoints: o.a.Failpoints, Attempts: o.a.cfg.Saga.CompensationAttempts,
		Backoff: 50 * time.Millisecond, OnFailure: o.onFailure, Describe: postgres.DescribeConnectError}
}

// steps are the saga's steps in order; the charge is its point of no return.
func (o *orderSaga) steps() saga.Steps {
	return saga.Steps{
		{Name: StepReduceStock, Do: o.reduceStock, UndoName: UndoRestoreStock, Undo: o.restoreStock, Interruptible: true},
		{Name: StepPayment, Do: o.pay, UndoName: UndoRefund, Undo: o.refund, Interruptible: true,
			Timeout: o.a.cfg.Payment.ApprovalTimeout + 2*saga.StepTimeout},
		{Name: StepCreateOrder, Do: o.createOrder},
		// Its outbox rows were committed with the order.
		{Name: StepNotify, Detail: notifyDetail},
	}
}

// parseFailpoints reads RABBITPAY_FAILPOINTS, refusing failpoints that name
// none of the order saga's steps and compensations.
func (a *App) parseFailpoints(spec string) (saga.Failpoints, error) {
	fp, err := saga.ParseFailpoints(spec)
	if err == nil {
		err = fp.Check((&orderSaga{a: a}).steps()) // a saga of no order: only its steps' names are read
	}
	if err != nil {
		return nil, shop.Invalid("RABBITPAY_FAILPOINTS: %v", err)
	}
	return fp, nil
}

func itemList(lines []shop.Line) string {
	parts := make([]string, len(lines))
	for i, l := range lines {
		parts[i] = fmt.Sprintf("%s×%d", l.SKU, l.Quantity)
	}
	return strings.Join(parts, ", ")
}

func (o *orderSaga) reduceStock(ctx context.Context) (string, error) {
	detail := "reserved " + itemList(o.rec.Items)
	log, err := o.a.sagas.StartSaga(ctx, o.rec, o.key, o.hash, event(shop.EventStep, StepReduceStock, shop.OutcomeOK, detail))
	if errors.Is(err, postgres.ErrKeyUsed) {
		return "", saga.Abort(err)
	}
	if errors.Is(err, shop.ErrIncomplete) {
		o.log = log // it may have committed: the token is known, so the lease can be yielded
	}
	if err != nil {
		return "", err
	}
	o.log = log
	o.a.Failpoints.Crash("after_" + StepReduceStock)
	return detail, nil
}

// renewing runs f while renewing the saga's lease every lease/3, so a live
// owner waiting (on a slow provider, on the buyer) is never taken over.
// A renewal refused because the saga was taken over closes o.lost, which
// ends a wait for the buyer; a provider call's outcome is reported by the
// next write, which is refused too.
func (o *orderSaga) renewing(ctx context.Context, f func()) {
	renewCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	lost := make(chan struct{})
	o.lost = lost
	// A timer, not a goroutine: most calls end long before the first
	// renewal is due, and then cost no goroutine at all. mu is held while a
	// renewal runs, and renewCtx is cancelled before the timer is stopped, so
	// none is running, or starts, once f has returned.
	every := o.a.cfg.Saga.Lease / 3
	var mu sync.Mutex
	var t *time.Timer
	mu.Lock()
	t = time.AfterFunc(every, func() {
		mu.Lock()
		defer mu.Unlock()
		if renewCtx.Err() != nil { // f has returned
			return
		}
		if err := o.log.Renew(renewCtx); errors.Is(err, shop.ErrFenced) {
			close(lost)
			return
		}
		t.Reset(every)
	})
	mu.Unlock()
	defer func() {
		stop() // a renewal in flight gives up at once
		mu.Lock()
		t.Stop()
		mu.Unlock()
	}()
	f()
}

// call runs one provider call while renewing the saga's lease.
func (o *orderSaga) call(ctx context.Context, f func(context.Context) (payment.Result, error)) (res payment.Result, err error) {
	o.renewing(ctx, func() { res, err = f(ctx) })
	return res, err
}

func (o *orderSaga) pay(ctx context.Context) (string, error) {
	var qty int64
	for _, l := range o.rec.Items {
		qty += l.Quantity
	}
	req := payment.Request{OrderUUID: o.rec.OrderUUID, CustomerID: o.rec.CustomerID, Amount: o.rec.TotalAmount,
		ItemName: itemList(o.rec.Items), Quantity: qty, ReturnURL: o.a.returnURL(o.rec.OrderUUID)}
	var pending payment.Pending
	_, err := o.call(ctx, func(ctx context.Context) (res payment.Result, err error) {
		pending, err = o.gw.Ready(ctx, req)
		return res, err
	})
	if err != nil {
		// Nothing can be charged without our approval call: a definite failure.
		return "", fmt.Errorf("the payment could not be started: %w", err)
	}
	if pending.TxID != "" {
		// Committed before the buyer sees anything: a crash from here on can
		// still look the payment up.
		o.ref.TxID = pending.TxID
		ev := event(shop.EventStep, stepApproval, shop.OutcomeWaiting, "approve at "+pending.ApprovalURL)
		if err := o.log.RecordPending(ctx, pending.TxID, pending.ApprovalURL, ev); err != nil {
			return "", err
		}
	}
	// One payment.approval_timeout bounds the whole wait for the buyer, a
	// token refused and asked again included.
	deadline := time.Now().Add(o.a.cfg.Payment.ApprovalTimeout)
	var res payment.Result
	for first := true; ; first = false {
		if pending.ApprovalURL != "" {
			var token string
			o.renewing(ctx, func() { token, err = o.awaitApproval(ctx, pending.ApprovalURL, deadline, first) })
			if err != nil {
				return "", err
			}
			// Committed before it is used: a process taking the saga over from
			// here on can finish the charge.
			o.ref.Token = token
			ev := event(shop.EventStep, stepApproval, shop.OutcomeOK, "approved by the buyer")
			if err := o.untilStored(ctx, func(ctx context.Context) error { return o.log.RecordApproval(ctx, token, ev) }); err != nil {
				return "", err
			}
			o.observe(ev)
		}
		res, err = o.charge(ctx)
		if !errors.Is(err, payment.ErrApprovalToken) {
			break
		}
		if pending.ApprovalURL == "" || o.approval.Token != "" || o.approval.Retry == nil {
			err = nil // a token given up front, nobody to ask again: a decline
			break
		}
		// The payment still waits for the buyer's approval: say why this
		// token was not it and ask again.
		o.approval.Retry(err)
	}
	if err != nil {
		err = fmt.Errorf("payment outcome unknown: %v", err)
		if o.ref.Token != "" {
			// The buyer approved, and a live provider's charge still in
			// flight cannot be voided: never guess. The saga stays running,
			// payment PROGRESS, and recovery approves again (charging once)
			// to learn the outcome and finish forward or backward.
			return "", shop.Incomplete("%v; 'rabbitpay saga recover' or 'rabbitpay pay reconcile' settles it", err)
		}
		return "", saga.Uncertain(err)
	}
	o.a.Failpoints.Crash("after_" + StepPayment)
	return o.settlePay(res)
}

// untilStored writes the buyer's approval to the saga log, waiting for the
// database when it has gone away (stopped, restarting, unreachable): the
// approval stays good at the provider, which charges nothing without our
// approve, so the sale goes on once the database is back. The wait is said
// once, and bounded by payment.approval_timeout; after that nothing has
// been charged by this process, and the saga is left for 'saga recover'
// (which charges the approval if a cut-off write did record it, or gives
// the reserved stock back). Writing the approval again is harmless (the
// same token, under the same fence; its history event may be written
// twice).
func (o *orderSaga) untilStored(ctx context.Context, write func(context.Context) error) error {
	err := write(ctx)
	if !postgres.Unavailable(err) {
		return err
	}
	limit := o.a.cfg.Payment.ApprovalTimeout
	o.emit(shop.EventStep, stepApproval, shop.OutcomeRetry, fmt.Sprintf(
		"the database is not answering: the buyer's approval is kept, and the sale goes on when the database is back (waiting up to %s)", limit))
	giveUp := time.Now().Add(limit)
	// A write cut off by the outage may have been committed: the approval
	// may be in the log, and recovery would then charge it. So the end of
	// the wait says what is certain (this process charged nothing) and what
	// recovery does, never that the approval was not used.
	unsettled := func(why string) error {
		return shop.Incomplete("nothing has been charged yet: %s; once the database is back, 'rabbitpay saga recover' finishes the sale if the buyer's approval was recorded, or gives the reserved stock back if not. Do not take payment again before it has run", why)
	}
	for wait := 200 * time.Millisecond; postgres.Unavailable(err); wait = min(2*wait, 3*time.Second) {
		if time.Now().Add(wait).After(giveUp) || ctx.Err() != nil {
			return unsettled(fmt.Sprintf("the database did not come back within %s (payment.approval_timeout)", limit))
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
		case <-o.interrupt: // Ctrl-C: the operator stops waiting
			return unsettled("interrupted while waiting for the database")
		}
		err = write(ctx)
	}
	if err == nil {
		o.emit(shop.EventStep, stepApproval, shop.OutcomeRetry, "the database is back: charging the approved payment")
	}
	return err
}

// charge asks the provider to charge the approved payment. When the answer
// is lost it asks what became of it; only a charge or a refund found there
// is an answer, anything else stays unknown. A token the provider refused
// as a token is a FAILED Result with payment.ErrApprovalToken.
func (o *orderSaga) charge(ctx context.Context) (payment.Result, error) {
	return o.call(ctx, func(ctx context.Context) (payment.Result, error) {
		res, err := o.gw.Approve(ctx, o.ref)
		if errors.Is(err, payment.ErrApprovalToken) {
			return payment.Result{Status: shop.PaymentFailed, TxID: o.ref.TxID, Reason: err.Error()}, err
		}
		if err != nil {
			if res, lerr := o.gw.Lookup(ctx, o.ref); lerr == nil && (res.Status == shop.PaymentSuccess || res.Status == shop.PaymentCancelled) {
				return res, nil
			}
		}
		return res, err
	})
}

// settlePay turns the provider's answer into the payment step's outcome.
func (o *orderSaga) settlePay(res payment.Result) (string, error) {
	if res.Status == shop.PaymentSuccess && res.Amount != 0 && res.Amount != o.rec.TotalAmount {
		// Never a success: the refund compensation gives back what was charged.
		return "", saga.Uncertain(fmt.Errorf("the provider charged %s but the order is %s", res.Amount, o.rec.TotalAmount))
	}
	if res.Status != shop.PaymentSuccess {
		reason := res.Reason
		if reason == "" {
			reason = fmt.Sprintf("the provider reports the payment as %s", orDefault(string(res.Status), "unknown"))
		}
		status := shop.PaymentFailed
		if res.Status == shop.PaymentCancelled { // charged and refunded already
			status = shop.PaymentCancelled
		}
		o.declined = &shop.PaymentOutcome{Status: status, TxID: res.TxID, Reason: reason}
		return "", errors.New(reason)
	}
	o.paid = res
	detail := fmt.Sprintf("charged %s via %s (%s)", o.rec.TotalAmount, o.rec.Method, res.TxID)
	o.unlogged = append(o.unlogged, event(shop.EventStep, StepPayment, shop.OutcomeOK, detail))
	return detail, nil
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// notifyDetail describes the notify step: its outbox rows commit with the order.
const notifyDetail = "order.placed, payment.succeeded queued in the outbox"

func (o *orderSaga) createOrder(ctx context.Context) (string, error) {
	detail := "order created, paid"
	evs := append(o.unlogged,
		event(shop.EventStep, StepCreateOrder, shop.OutcomeOK, detail),
		event(shop.EventStep, StepNotify, shop.OutcomeOK, notifyDetail))
	created, err := o.log.CreateOrder(ctx, o.rec, o.paid.TxID, evs)
	if err != nil {
		return "", err
	}
	o.unlogged, o.created = nil, created
	o.rec.State = shop.SagaCompleted
	o.a.Failpoints.Crash("after_" + StepCreateOrder)
	return fmt.Sprintf("order %d created, paid", created.ID), nil
}

// order describes the order createOrder made, from what the saga knows,
// without reading it back.
func (o *orderSaga) order() *shop.Order {
	c := o.created
	order := &shop.Order{ID: c.ID, OrderUUID: o.rec.OrderUUID, CustomerID: o.rec.CustomerID, CustomerName: c.CustomerName, Status: shop.OrderPaid,
		TotalAmount: o.rec.TotalAmount, CreatedAt: c.At, UpdatedAt: c.At, ShipTo: o.rec.ShipTo, Pickup: o.rec.Pickup}
	for i, l := range o.rec.Items {
		order.Items = append(order.Items, shop.OrderItem{ID: c.ItemIDs[i], ProductID: l.ProductID, SKU: l.SKU, Name: l.Name,
			Quantity: l.Quantity, OrderPrice: l.Price})
	}
	order.Payment = &shop.Payment{ID: c.PaymentID, OrderUUID: o.rec.OrderUUID, OrderID: &c.ID, Method: o.rec.Method,
		Status: shop.PaymentSuccess, Amount: o.rec.TotalAmount, ProviderTxID: o.paid.TxID, CreatedAt: c.At, PaidAt: &c.At}
	return order
}

// onFailure makes the log say so before any compensation runs.
func (o *orderSaga) onFailure(ctx context.Context, step string, cause error) error {
	failed := event(shop.EventStep, step, shop.OutcomeFailed, cause.Error())
	if step == StepReduceStock { // nothing was changed: the log only keeps the attempt for saga list
		if err := o.a.sagas.RecordFailedStart(ctx, o.rec, cause.Error(), failed); err != nil && o.a.Warn != nil {
			o.a.Warn(fmt.Sprintf("the failed attempt (saga %s) could not be logged: %v; nothing had changed", o.rec.OrderUUID, err))
		}
		return nil
	}
	if step == StepPayment && o.declined == nil && !saga.IsUncertain(cause) {
		// A definite failure without a provider answer (the provider was never reached).
		o.declined = &shop.PaymentOutcome{Status: shop.PaymentFailed, Reason: cause.Error()}
	}
	err := o.log.MarkCompensating(ctx, cause.Error(), o.declined, append(o.unlogged, failed))
	if err == nil {
		o.unlogged, o.rec.State = nil, shop.SagaCompensating
	}
	return err
}

func (o *orderSaga) restoreStock(ctx context.Context) (string, error) {
	lines := o.rec.Items
	if o.rec.OrderID != nil { // a cancel: what partial refunds returned already stays out of the count
		order, err := o.a.primary.GetOrder(ctx, *o.rec.OrderID)
		if err != nil {
			return "", err
		}
		lines = shop.Unrefunded(lines, order.Items)
	}
	detail := "returned " + itemList(lines)
	if len(lines) == 0 {
		detail = "nothing to return: every item was refunded before"
	}
	n, err := o.log.RestoreStock(ctx, event(shop.EventCompensation, UndoRestoreStock, shop.OutcomeOK, detail))
	if err == nil && n == 0 {
		detail = "stock was already restored"
	}
	return detail, err
}

// refund voids the order at the provider first, so that a charge still in
// flight is refused, then refunds only what was really charged.
func (o *orderSaga) refund(ctx context.Context) (string, error) {
	var before shop.Won // what partial refunds gave back before this one
	res, err := o.call(ctx, func(ctx context.Context) (payment.Result, error) {
		res, err := o.gw.Void(ctx, o.ref)
		before, o.refunded = res.Refunded, 0
		if err == nil && res.Status == shop.PaymentSuccess {
			left := cmp.Or(res.Amount, o.rec.TotalAmount) - res.Refunded
			o.refunded = left
			refunded, err := o.gw.Cancel(ctx, o.ref, payment.Refund{Amount: left, Reason: "order not completed or cancelled",
				Key: o.rec.OrderUUID + "-all"})
			if err != nil {
				return res, fmt.Errorf("refund: %w", err)
			}
			if refunded.Status != shop.PaymentCancelled {
				return res, fmt.Errorf("refund: the provider still holds %s of the charge", refunded.Amount-refunded.Refunded)
			}
			res.Status, res.Refunded = shop.PaymentCancelled, refunded.Refunded
		}
		return res, err
	})
	if err != nil {
		return "", fmt.Errorf("ask the provider: %w", err)
	}
	outcome, kind := shop.PaymentOutcome{Status: shop.PaymentFailed, TxID: res.TxID, Reason: res.Reason}, shop.NotifyPaymentFailed
	var detail string
	switch res.Status {
	case shop.PaymentCancelled:
		outcome.Status, kind = shop.PaymentCancelled, shop.NotifyPaymentRefunded
		switch {
		case o.refunded == 0:
			detail = fmt.Sprintf("nothing left to refund: %s was refunded before (%s)", res.Refunded, res.TxID)
		case before > 0:
			detail = fmt.Sprintf("refunded %s, the rest after %s refunded before (%s)", o.refunded, before, res.TxID)
		default:
			detail = fmt.Sprintf("refunded %s (%s)", o.refunded, res.TxID)
		}
	case shop.PaymentFailed:
		detail = "nothing to refund: " + orDefault(res.Reason, "the payment was declined")
	default:
		return "", fmt.Errorf("the provider answered %q to a void", res.Status)
	}
	err = o.log.SettlePayment(ctx, outcome, kind, event(shop.EventCompensation, UndoRefund, shop.OutcomeOK, detail))
	return detail, err
}

// ended records how a run ended in the saga log and says whether everything
// was compensated. It writes even when the caller's context is cancelled:
// the log must say where things stand. An unfinished saga's lease is
// released so `saga recover` can take it over at once.
func (o *orderSaga) ended(ctx context.Context, res saga.Result) (compensated bool, incomplete error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), saga.StepTimeout)
	defer cancel()
	if res.FailedStep == "" {
		return false, nil
	}
	if res.CompensationErr != nil {
		if o.log != nil && !errors.Is(res.CompensationErr, shop.ErrFenced) {
			if err := o.log.Finish(ctx, o.rec.State, "compensation incomplete: "+res.CompensationErr.Error(), nil); err != nil {
				// recover finds the saga unfinished all the same; only the note is missing
				return false, fmt.Errorf("%w (and the saga log could not note it: %v)", res.CompensationErr, err)
			}
			o.a.yield(ctx, o.log)
		}
		return false, res.CompensationErr
	}
	if res.FailedStep != StepReduceStock {
		if err := o.log.Finish(ctx, shop.SagaCompensated, "", nil); err != nil {
			return false, shop.Incomplete("everything was compensated, but the saga log could not be closed: %v", err)
		}
	}
	return true, nil
}
