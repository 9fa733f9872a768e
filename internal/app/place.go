package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/rabbitpay/rabbitpay/internal/postgres"
	"github.com/rabbitpay/rabbitpay/internal/shop"
)

// PlaceRequest asks for an order.
type PlaceRequest struct {
	CustomerID int64
	Method     shop.PaymentMethod
	Items      []shop.ItemRequest // empty: order the customer's cart
	// Destination is where the order goes: the customer's default address
	// unless it names one of theirs, or pickup.
	Destination    shop.Destination
	IdempotencyKey string
	// Approval is where the buyer's approval comes from (live payments).
	Approval Approval
	// ExpectedTotal is the total the buyer agreed to (0: no check): another
	// total is refused before the saga starts.
	ExpectedTotal shop.Won
}

// Placement outcomes.
const (
	Placed = "placed"
	Failed = "failed"
)

// PlaceResult is how an order placement ended; it is printed with -o json.
type PlaceResult struct {
	Status      string      `json:"status"` // placed or failed
	OrderUUID   string      `json:"order_uuid"`
	Replayed    bool        `json:"replayed"`
	Order       *shop.Order `json:"order,omitempty"`
	FailedStep  string      `json:"failed_step,omitempty"`
	Error       string      `json:"error,omitempty"`
	Compensated bool        `json:"compensated"`
	// Incomplete means something is left unfinished or its outcome is
	// unknown: `saga recover` finishes it.
	Incomplete bool `json:"incomplete,omitempty"`
	// Interrupted means the operator interrupted the placement before the charge.
	Interrupted bool `json:"interrupted,omitempty"`
	err         error
}

// Err is nil for a placed order, else an error of the kind the outcome
// deserves: shop.ErrIncomplete, shop.ErrInterrupted, or a plain failure.
func (r PlaceResult) Err() error {
	switch {
	case r.Status == Placed:
		return nil
	case r.err != nil:
		return r.err
	case r.Incomplete:
		return shop.Incomplete("%s", r.Error)
	}
	return errors.New(r.Error)
}

// requestHash identifies a placement request for idempotency.
func requestHash(req PlaceRequest) string {
	items := make([]string, len(req.Items))
	for i, it := range req.Items {
		items[i] = fmt.Sprintf("%s:%d", it.Ref, it.Quantity)
	}
	slices.Sort(items)
	src := "cart"
	if len(items) > 0 {
		src = strings.Join(items, ",")
	}
	switch d := req.Destination; { // the default destination hashes as before destinations were asked
	case d.Pickup:
		src += "|pickup"
	case d.AddressID != 0:
		src += fmt.Sprintf("|ship-to:%d", d.AddressID)
	}
	sum := sha256.Sum256(fmt.Appendf(nil, "%d|%s|%s", req.CustomerID, req.Method, src))
	return hex.EncodeToString(sum[:])
}

// PlaceOrder runs the order saga: reduce stock → payment → create order →
// notify, compensating on failure. obs hears every step as it happens.
// A returned error means nothing was attempted (bad request); a failed saga
// is a PlaceResult with Status "failed" (see PlaceResult.Err).
func (a *App) PlaceOrder(ctx context.Context, req PlaceRequest, obs shop.Observer) (PlaceResult, error) {
	if _, err := a.provider(req.Method); err != nil {
		return PlaceResult{}, err
	}
	if err := a.checkApproval(req.Method, req.Approval); err != nil {
		return PlaceResult{}, err
	}
	items, err := shop.MergeItems(req.Items)
	if err != nil {
		return PlaceResult{}, err
	}
	req.Items = items
	hash := requestHash(req)
	if req.IdempotencyKey != "" {
		// A retry is refused as a first request is while the server or the
		// backup cannot take it, and its replay is acknowledged only once the
		// backup holds it.
		if err := a.preflight(ctx, nil); err != nil {
			return PlaceResult{}, err
		}
		res, done, err := a.replay(ctx, req.IdempotencyKey, hash)
		if done && err == nil && res.Status == Placed {
			err = a.awaitBackup(ctx)
		}
		if done || err != nil {
			return res, err
		}
	}
	var lines []shop.Line
	var shipTo *shop.ShipTo // copied with the lines, in their round trip
	if len(req.Items) == 0 {
		if lines, shipTo, err = a.carts.CartLines(ctx, req.CustomerID, &req.Destination); err == nil && len(lines) == 0 {
			err = shop.CartEmpty(req.CustomerID)
		}
	} else {
		lines, shipTo, err = a.sagas.ResolveItems(ctx, req.CustomerID, req.Items, &req.Destination)
	}
	if err != nil {
		return PlaceResult{}, err
	}
	total, err := shop.Total(lines)
	if err == nil {
		err = shop.CheckPayable(total)
	}
	if err != nil {
		return PlaceResult{}, err
	}
	if req.ExpectedTotal != 0 && total != req.ExpectedTotal {
		return PlaceResult{}, shop.Conflict("the cart changed since it was reviewed: it is now %s, not %s", total, req.ExpectedTotal)
	}
	if err := a.preflight(ctx, lines); err != nil {
		return PlaceResult{}, err
	}
	rec := &shop.SagaRecord{OrderUUID: uuid.NewString(), CustomerID: req.CustomerID, Method: req.Method, Items: lines,
		TotalAmount: total, FromCart: len(req.Items) == 0, State: shop.SagaRunning, ShipTo: shipTo, Pickup: req.Destination.Pickup}
	o, err := a.openSaga(nil, rec, observedBy(obs), placing(req.IdempotencyKey, hash, req.Approval, ctx.Done()))
	if err != nil {
		return PlaceResult{}, err
	}
	res := o.runner().Run(ctx, o.steps())
	if errors.Is(res.Err, postgres.ErrKeyUsed) {
		// A concurrent request with the same key won the race: wait for it.
		r, _, err := a.replay(ctx, req.IdempotencyKey, hash)
		return r, err
	}
	out := PlaceResult{OrderUUID: rec.OrderUUID, Status: Placed}
	if res.FailedStep == "" {
		out.Order = o.order()
		return out, nil
	}
	out.Status, out.FailedStep, out.Error = Failed, res.FailedStep, res.Err.Error()
	compensated, incomplete := o.ended(ctx, res)
	switch {
	case incomplete != nil:
		out.Incomplete, out.err = true, incomplete
		if !errors.Is(incomplete, res.Err) {
			out.Error += "; " + incomplete.Error()
		}
		if !errors.Is(incomplete, shop.ErrIncomplete) {
			out.err = shop.Incomplete("%s", out.Error)
		}
	case errors.Is(res.Err, shop.ErrInterrupted):
		out.Compensated, out.Interrupted, out.err = compensated, true, res.Err
	default:
		out.Compensated = compensated
	}
	return out, nil
}

// replay returns the result of the order an idempotency key was first used
// for, waiting while a live process still owns it. done is false when the
// key is new.
func (a *App) replay(ctx context.Context, key, hash string) (PlaceResult, bool, error) {
	uuid, firstHash, err := a.sagas.IdempotentOrder(ctx, key)
	if err != nil {
		if postgres.IsNoRows(err) {
			return PlaceResult{}, false, nil
		}
		return PlaceResult{}, true, err
	}
	if firstHash != hash {
		return PlaceResult{}, true, shop.Invalid("idempotency key %q was already used for a different order request", key)
	}
	rec, err := a.awaitSaga(ctx, uuid)
	if err != nil {
		return PlaceResult{}, true, err
	}
	out := PlaceResult{OrderUUID: uuid, Replayed: true}
	switch rec.State {
	case shop.SagaCompleted, shop.SagaCancelling, shop.SagaCancelled:
		out.Status = Placed
		order, err := a.primary.GetOrder(ctx, *rec.OrderID)
		if err != nil {
			return out, true, err
		}
		out.Order = &order
	case shop.SagaCompensated:
		out.Status, out.Compensated, out.Error = Failed, true, rec.Error
	default:
		out.Status, out.Incomplete, out.Error = Failed, true,
			fmt.Sprintf("the first request with this key did not finish (saga %s is %s)", uuid, rec.State)
	}
	if out.Status == Failed {
		out.FailedStep = failedStep(rec.History)
	}
	return out, true, nil
}

// awaitSaga waits until the saga is finished or no live process owns it.
func (a *App) awaitSaga(ctx context.Context, uuid string) (shop.SagaRecord, error) {
	wait := 10 * time.Millisecond
	for deadline := time.Now().Add(2 * time.Minute); ; {
		rec, err := a.primary.GetSaga(ctx, uuid)
		if err != nil || !rec.State.Unfinished() || rec.LeaseUntil == nil || time.Now().After(*rec.LeaseUntil) || time.Now().After(deadline) {
			return rec, err
		}
		select {
		case <-ctx.Done():
			return rec, shop.Interrupted("interrupted while waiting for the first request with this key")
		case <-time.After(wait):
		}
		wait = min(2*wait, 250*time.Millisecond)
	}
}

func failedStep(h []shop.SagaEvent) string {
	for _, e := range h {
		if e.Kind == shop.EventStep && e.Outcome == shop.OutcomeFailed {
			return e.Name
		}
	}
	return ""
}
