package app

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/rabbitpay/rabbitpay/internal/payment"
	"github.com/rabbitpay/rabbitpay/internal/postgres"
	"github.com/rabbitpay/rabbitpay/internal/saga"
	"github.com/rabbitpay/rabbitpay/internal/shop"
)

// PlaceRequest asks for an order.
type PlaceRequest struct {
	CustomerID     int64
	Method         shop.PaymentMethod
	Items          []shop.ItemRequest // empty: order the customer's cart
	IdempotencyKey string
}

// PlaceResult is how an order placement ended; it is printed with -o json.
type PlaceResult struct {
	Status      string      `json:"status"` // placed or failed
	OrderUUID   string      `json:"order_uuid"`
	Replayed    bool        `json:"replayed"`
	Order       *shop.Order `json:"order,omitempty"`
	FailedStep  string      `json:"failed_step,omitempty"`
	Error       string      `json:"error,omitempty"`
	Compensated bool        `json:"compensated"`
	// Incomplete means a compensation still failed: run `rabbitpay saga recover`.
	Incomplete bool `json:"incomplete,omitempty"`
}

func event(kind, name, outcome, detail string) shop.SagaEvent {
	return shop.SagaEvent{At: time.Now().UTC(), Kind: kind, Name: name, Outcome: outcome, Detail: detail}
}

// orderSaga is one order's saga: its durable record, the locked session every
// write goes through, and the step functions that placement, recovery and
// cancellation share.
type orderSaga struct {
	a   *App
	ss  *postgres.SagaSession
	rec *postgres.SagaRecord
	gw  payment.Gateway
	key string
	// hash identifies the request an idempotency key was first used for.
	hash     string
	paid     payment.Result
	declined *postgres.PaymentAnswer
	created  postgres.CreatedOrder
	// unlogged holds events that happened outside any transaction of ours (the
	// provider's answer); the next saga transaction writes them.
	unlogged []shop.SagaEvent
}

func (o *orderSaga) runner(obs saga.Observer) *saga.Runner {
	return &saga.Runner{Observer: obs, Failpoints: o.a.Failpoints, Attempts: o.a.Config.Saga.CompensationAttempts,
		Backoff: 50 * time.Millisecond, OnFailure: o.onFailure}
}

func (o *orderSaga) steps() []saga.Step {
	return []saga.Step{
		{Name: "reduce_stock", Do: o.reduceStock, UndoName: "restore_stock", Undo: o.restoreStock},
		{Name: "payment", Do: o.pay, UndoName: "refund", Undo: o.refund},
		{Name: "create_order", Do: o.createOrder},
	}
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
	err := o.ss.Start(ctx, o.rec, o.key, o.hash, event(saga.KindStep, "reduce_stock", saga.OK, detail))
	if errors.Is(err, postgres.ErrKeyUsed) {
		return "", saga.Abort(err)
	}
	if err != nil {
		return "", err
	}
	o.a.Failpoints.Crash("after_reduce_stock")
	return detail, nil
}

func (o *orderSaga) pay(ctx context.Context) (string, error) {
	req := payment.Request{OrderUUID: o.rec.OrderUUID, CustomerID: o.rec.CustomerID, Amount: o.rec.TotalAmount, ItemName: itemList(o.rec.Items)}
	res, err := o.gw.Pay(ctx, req)
	if err != nil {
		// The outcome is unknown: ask the provider before deciding anything.
		var lerr error
		if res, lerr = o.gw.Lookup(ctx, o.rec.OrderUUID); lerr != nil || res.Status == "" {
			return "", saga.Uncertain(fmt.Errorf("payment outcome unknown: %v", err))
		}
	}
	o.a.Failpoints.Crash("after_payment")
	return o.settlePay(res)
}

// settlePay turns the provider's answer into the payment step's outcome.
func (o *orderSaga) settlePay(res payment.Result) (string, error) {
	if res.Status != shop.PaymentSuccess {
		reason := res.Reason
		if reason == "" {
			reason = fmt.Sprintf("the provider reports the payment as %s", orDefault(string(res.Status), "unknown"))
		}
		o.declined = &postgres.PaymentAnswer{TxID: res.TxID, Reason: reason}
		return "", errors.New(reason)
	}
	o.paid = res
	detail := fmt.Sprintf("charged %s via %s (%s)", o.rec.TotalAmount, o.rec.Method, res.TxID)
	o.unlogged = append(o.unlogged, event(saga.KindStep, "payment", saga.OK, detail))
	return detail, nil
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// notifyDetail describes step 4: its outbox rows commit with the order.
const notifyDetail = "order_placed, payment_succeeded queued in the outbox"

func (o *orderSaga) createOrder(ctx context.Context) (string, error) {
	events := append(o.unlogged,
		event(saga.KindStep, "create_order", saga.OK, "order created, paid"),
		event(saga.KindStep, "notify", saga.OK, notifyDetail))
	created, err := o.ss.CreateOrder(ctx, o.rec, o.paid.TxID, events)
	if err != nil {
		return "", err
	}
	o.unlogged, o.created = nil, created
	o.a.Failpoints.Crash("after_create_order")
	return fmt.Sprintf("order %d created, paid", created.ID), nil
}

// order describes the order createOrder made, from what the saga knows,
// without reading it back.
func (o *orderSaga) order() *shop.Order {
	c := o.created
	order := &shop.Order{ID: c.ID, OrderUUID: o.rec.OrderUUID, CustomerID: o.rec.CustomerID, Status: shop.OrderPaid,
		TotalAmount: o.rec.TotalAmount, CreatedAt: c.At, UpdatedAt: c.At}
	for i, l := range o.rec.Items {
		order.Items = append(order.Items, shop.OrderItem{ID: c.ItemIDs[i], ProductID: l.ProductID, SKU: l.SKU, Name: l.Name,
			Quantity: l.Quantity, OrderPrice: l.Price})
	}
	order.Payment = &shop.Payment{ID: c.PaymentID, OrderUUID: o.rec.OrderUUID, OrderID: &c.ID, Method: shop.PaymentMethod(o.rec.Method),
		Status: shop.PaymentSuccess, Amount: o.rec.TotalAmount, ProviderTxID: o.paid.TxID, CreatedAt: c.At, PaidAt: &c.At}
	return order
}

// onFailure makes the log say so before any compensation runs.
func (o *orderSaga) onFailure(ctx context.Context, step string, cause error) error {
	failed := event(saga.KindStep, step, saga.Failed, cause.Error())
	if step == "reduce_stock" { // nothing was changed: log the attempt, best effort
		o.ss.RecordFailedStart(ctx, o.rec, cause.Error(), failed)
		return nil
	}
	if step == "payment" && o.declined == nil && !saga.IsUncertain(cause) {
		// A definite failure without a provider answer (the provider was never reached).
		o.declined = &postgres.PaymentAnswer{Reason: cause.Error()}
	}
	err := o.ss.MarkCompensating(ctx, cause.Error(), o.declined, append(o.unlogged, failed))
	if err == nil {
		o.unlogged, o.rec.State = nil, postgres.SagaCompensating
	}
	return err
}

func (o *orderSaga) restoreStock(ctx context.Context) (string, error) {
	detail := "returned " + itemList(o.rec.Items)
	n, err := o.ss.RestoreStock(ctx, event(saga.KindCompensation, "restore_stock", saga.OK, detail))
	if err == nil && n == 0 {
		detail = "stock was already restored"
	}
	return detail, err
}

// refund asks the provider first: it refunds only what was really charged.
func (o *orderSaga) refund(ctx context.Context) (string, error) {
	res, err := o.gw.Lookup(ctx, o.rec.OrderUUID)
	if err != nil {
		return "", fmt.Errorf("ask the provider: %w", err)
	}
	status, kind := shop.PaymentFailed, "payment_failed"
	answer := postgres.PaymentAnswer{TxID: res.TxID, Reason: res.Reason}
	var detail string
	switch res.Status {
	case shop.PaymentSuccess:
		if _, err := o.gw.Cancel(ctx, o.rec.OrderUUID); err != nil {
			return "", fmt.Errorf("refund: %w", err)
		}
		status, kind = shop.PaymentCancelled, "payment_refunded"
		detail = fmt.Sprintf("refunded %s (%s)", o.rec.TotalAmount, res.TxID)
	case shop.PaymentCancelled:
		status, kind = shop.PaymentCancelled, "payment_refunded"
		detail = fmt.Sprintf("%s was already refunded (%s)", o.rec.TotalAmount, res.TxID)
	case shop.PaymentFailed:
		detail = "nothing to refund: the payment was declined"
	default:
		answer.Reason = "the provider has no record of this payment"
		detail = "nothing to refund: the provider never charged it"
	}
	err = o.ss.SettlePayment(ctx, status, answer, kind, event(saga.KindCompensation, "refund", saga.OK, detail))
	return detail, err
}

// finish records how the run ended and builds the result. It writes even
// when the caller's context is cancelled: the log must say where things stand.
func (o *orderSaga) finish(ctx context.Context, res saga.Result, obs saga.Observer) PlaceResult {
	ctx = context.WithoutCancel(ctx)
	out := PlaceResult{OrderUUID: o.rec.OrderUUID, Status: "placed"}
	if res.FailedStep == "" {
		if obs != nil {
			obs.Event(event(saga.KindStep, "notify", saga.OK, notifyDetail))
		}
		return out
	}
	out.Status, out.FailedStep, out.Error = "failed", res.FailedStep, res.Err.Error()
	if res.CompensationErr != nil {
		out.Incomplete = true
		o.ss.Finish(ctx, o.rec.State, "compensation incomplete: "+res.CompensationErr.Error(), nil)
		return out
	}
	out.Compensated = true
	if res.FailedStep != "reduce_stock" {
		if err := o.ss.Finish(ctx, postgres.SagaCompensated, "", nil); err != nil {
			out.Compensated, out.Incomplete = false, true
			out.Error += "; and the saga log could not be closed: " + err.Error()
		}
	}
	return out
}

func newUUID() string {
	b := make([]byte, 16)
	rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// requestHash identifies a placement request for idempotency.
func requestHash(req PlaceRequest) string {
	items := make([]string, len(req.Items))
	for i, it := range req.Items {
		items[i] = fmt.Sprintf("%s:%d", it.SKU, it.Quantity)
	}
	slices.Sort(items)
	src := "cart"
	if len(items) > 0 {
		src = strings.Join(items, ",")
	}
	sum := sha256.Sum256(fmt.Appendf(nil, "%d|%s|%s", req.CustomerID, req.Method, src))
	return hex.EncodeToString(sum[:])
}

// PlaceOrder runs the order saga: reduce stock → payment → create order →
// notify, compensating on failure. obs hears every step as it happens.
// A returned error means nothing was attempted (bad request); a failed saga
// is a PlaceResult with Status "failed".
func (a *App) PlaceOrder(ctx context.Context, req PlaceRequest, obs saga.Observer) (PlaceResult, error) {
	if req.Method != shop.Naver && req.Method != shop.Kakao {
		return PlaceResult{}, shop.Invalid("payment method %q is not one of NAVER, KAKAO", req.Method)
	}
	items, err := shop.MergeItems(req.Items)
	if err != nil {
		return PlaceResult{}, err
	}
	req.Items = items
	hash := requestHash(req)
	if req.IdempotencyKey != "" {
		if res, done, err := a.replay(ctx, req.IdempotencyKey, hash); done || err != nil {
			return res, err
		}
	}
	var lines []shop.Line
	if len(req.Items) == 0 {
		if lines, err = a.Store.CartLines(ctx, req.CustomerID); err == nil && len(lines) == 0 {
			err = shop.Invalid("customer %d's cart is empty: add items with 'rabbitpay cart add' or give --item SKU:QTY", req.CustomerID)
		}
	} else {
		lines, err = a.Store.ResolveItems(ctx, req.CustomerID, req.Items)
	}
	if err != nil {
		return PlaceResult{}, err
	}
	total, err := shop.Total(lines)
	if err != nil {
		return PlaceResult{}, err
	}
	gw, err := a.Gateway(req.Method)
	if err != nil {
		return PlaceResult{}, err
	}
	rec := &postgres.SagaRecord{OrderUUID: newUUID(), CustomerID: req.CustomerID, Method: string(req.Method), Items: lines,
		TotalAmount: total, FromCart: len(req.Items) == 0, State: postgres.SagaRunning}
	ss, err := a.Store.NewSagaSession(ctx, rec.OrderUUID)
	if err != nil {
		return PlaceResult{}, err
	}
	o := &orderSaga{a: a, ss: ss, rec: rec, gw: gw, key: req.IdempotencyKey, hash: hash}
	res := o.runner(obs).Run(ctx, o.steps())
	if errors.Is(res.Err, postgres.ErrKeyUsed) {
		// A concurrent request with the same key won the race: wait for it.
		ss.Release()
		r, _, err := a.replay(ctx, req.IdempotencyKey, hash)
		return r, err
	}
	out := o.finish(ctx, res, obs)
	ss.Release()
	if out.Status == "placed" {
		out.Order = o.order()
	}
	return out, nil
}

// replay returns the result of the order an idempotency key was first used
// for, waiting for it if a live process is still placing it. done is false
// when the key is new.
func (a *App) replay(ctx context.Context, key, hash string) (PlaceResult, bool, error) {
	uuid, firstHash, err := a.Store.IdempotentOrder(ctx, key)
	if err != nil {
		if postgres.IsNoRows(err) {
			return PlaceResult{}, false, nil
		}
		return PlaceResult{}, true, err
	}
	if firstHash != hash {
		return PlaceResult{}, true, shop.Conflict("idempotency key %q was already used for a different order request", key)
	}
	waitCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	ss, err := a.Store.LockSaga(waitCtx, uuid, true)
	if err != nil {
		return PlaceResult{}, true, err
	}
	rec, err := ss.Load(ctx)
	ss.Release()
	if err != nil {
		return PlaceResult{}, true, err
	}
	out := PlaceResult{OrderUUID: uuid, Replayed: true}
	switch rec.State {
	case postgres.SagaCompleted, postgres.SagaCancelling, postgres.SagaCancelled:
		out.Status = "placed"
		order, err := a.Store.GetOrder(ctx, *rec.OrderID)
		if err != nil {
			return out, true, err
		}
		out.Order = &order
	case postgres.SagaCompensated:
		out.Status, out.Compensated, out.Error = "failed", true, rec.Error
	default:
		out.Status, out.Incomplete, out.Error = "failed", true,
			fmt.Sprintf("the first request with this key did not finish (saga %s); run 'rabbitpay saga recover'", rec.State)
	}
	if out.Status == "failed" {
		out.FailedStep = failedStep(rec.History)
	}
	return out, true, nil
}

func failedStep(h []shop.SagaEvent) string {
	for _, e := range h {
		if e.Kind == saga.KindStep && e.Outcome == saga.Failed {
			return e.Name
		}
	}
	return ""
}
