package shop

import (
	"cmp"
	"slices"
	"time"
)

// DeliveryOp is one write a delivery plan makes: a READY delivery for an
// item that has none (DeliveryID 0), or a move of an existing delivery.
type DeliveryOp struct {
	OrderID, OrderProductID int64
	DeliveryID              int64 // 0: a new delivery of OrderProductID
	Status                  DeliveryStatus
	Carrier, Tracking       string    // the delivery's, after the op ("" for none)
	At                      time.Time // zero: now
}

// TrackingURL is where the buyer tracks the delivery after the op.
func (op DeliveryOp) TrackingURL() string { return TrackingURL(op.Carrier, op.Tracking) }

// DeliveryPlan is what a delivery request writes, in order: its ops (a
// file may move one delivery twice), then the orders they roll up to
// shipped.
type DeliveryPlan struct {
	Ops     []DeliveryOp
	Shipped []int64
}

// DeliveryTargets says which deliveries (by id) and which orders changes
// name, for the store to lock and load.
func DeliveryTargets(changes []DeliveryChange) (deliveryIDs, orderIDs []int64) {
	for _, c := range changes {
		if c.ID != 0 {
			deliveryIDs = append(deliveryIDs, c.ID)
		} else {
			orderIDs = append(orderIDs, c.OrderID)
		}
	}
	return deliveryIDs, orderIDs
}

// PlanDeliveryStart plans READY deliveries for the order's chosen items, or
// for every item that has none yet and is not refunded whole when none is
// chosen. An item named twice gets one delivery.
func PlanDeliveryStart(snap []OrderSnapshot, req DeliveryStart) (DeliveryPlan, error) {
	i := slices.IndexFunc(snap, func(o OrderSnapshot) bool { return o.ID == req.OrderID })
	if i < 0 {
		return DeliveryPlan{}, NotFound("no order has id %d", req.OrderID)
	}
	o := &snap[i]
	if err := o.CheckDeliverable(); err != nil {
		return DeliveryPlan{}, err
	}
	if !o.Destined {
		return DeliveryPlan{}, NoDestination(o.ID)
	}
	var chosen []ItemRef
	for _, ref := range req.Items {
		it, err := MatchItem(o.ID, o.Items, ref)
		switch {
		case err != nil:
			return DeliveryPlan{}, err
		case it.DeliveryID != 0:
			return DeliveryPlan{}, Conflict("item %s of order %d already has delivery %d", it.SKU, o.ID, it.DeliveryID)
		case it.Remaining == 0:
			return DeliveryPlan{}, Conflict("item %s of order %d was refunded: there is nothing to deliver", it.SKU, o.ID)
		}
		if !slices.ContainsFunc(chosen, func(c ItemRef) bool { return c.OrderProductID == it.OrderProductID }) {
			chosen = append(chosen, it)
		}
	}
	if len(req.Items) == 0 {
		for _, it := range o.Items {
			if it.DeliveryID == 0 && it.Remaining > 0 {
				chosen = append(chosen, it)
			}
		}
		if len(chosen) == 0 {
			return DeliveryPlan{}, Conflict("every item of order %d already has a delivery", o.ID)
		}
	}
	var plan DeliveryPlan
	for _, it := range chosen {
		plan.Ops = append(plan.Ops, DeliveryOp{OrderID: o.ID, OrderProductID: it.OrderProductID, Status: DeliveryReady,
			Carrier: req.Carrier, Tracking: req.Tracking})
	}
	return plan, nil
}

// PlanDeliveryChanges plans moving deliveries forward, all or nothing: each
// change is checked against the status the changes before it left (a file
// may move one delivery twice, in its order), and the orders whose every
// item left to ship has then shipped roll up to shipped.
//
// A refused change from the command line (Line 0) returns its own error. A
// refused change from a file is added, with its line, to the rows the file
// reader refused already (bad): if there is any, the plan is refused as one
// *RowErrors naming every bad row in line order.
func PlanDeliveryChanges(snap []OrderSnapshot, changes []DeliveryChange, bad RowErrors, now time.Time) (DeliveryPlan, error) {
	// Copies: the plan moves the items' statuses as it goes.
	orders := map[int64]*OrderSnapshot{}
	deliveries := map[int64]delivered{}
	for _, o := range snap {
		o.Items = slices.Clone(o.Items)
		orders[o.ID] = &o
		for i := range o.Items {
			if id := o.Items[i].DeliveryID; id != 0 {
				deliveries[id] = delivered{&o, &o.Items[i]}
			}
		}
	}
	bad.Rows = slices.Clone(bad.Rows)
	var plan DeliveryPlan
	var touched []int64
	for _, c := range changes {
		op, err := planMove(orders, deliveries, c, now)
		if err != nil {
			if c.Line == 0 {
				return DeliveryPlan{}, err
			}
			bad.Add(RowError{Line: c.Line, Reason: err.Error()})
			continue
		}
		if op == (DeliveryOp{}) { // a hand-off row shipped already: nothing to do
			continue
		}
		plan.Ops = append(plan.Ops, op)
		if !slices.Contains(touched, op.OrderID) {
			touched = append(touched, op.OrderID)
		}
	}
	if bad.Total > 0 {
		bad.Sort()
		return DeliveryPlan{}, &bad
	}
	for _, id := range touched {
		if o := orders[id]; o.Status == OrderPaid && RollUp(o.Status, o.Items) == OrderShipped {
			plan.Shipped = append(plan.Shipped, id)
		}
	}
	return plan, nil
}

// ClockSkew is how far ahead of rabbitpay's clock a delivery time may be
// (a warehouse's clock a little fast) before it counts as the future.
const ClockSkew = time.Minute

// CheckDeliveryTime says whether a change of delivery id dated at (zero:
// now) may be recorded: not in the future, and not before the delivery's
// last change (last), so that its history reads forward in time.
func CheckDeliveryTime(id int64, at, last, now time.Time) error {
	switch {
	case at.IsZero():
		return nil
	case at.After(now.Add(ClockSkew)):
		return InField("delivery time", Invalid("delivery time %s is in the future", at.Format(time.RFC3339)))
	case at.Before(last):
		return InField("delivery time", Invalid("delivery time %s is before delivery %d's last change (%s): its history must read forward",
			at.Format(time.RFC3339), id, last.In(at.Location()).Format(time.RFC3339)))
	}
	return nil
}

// delivered is a delivery's order and item in a plan's copy of the snapshot.
type delivered struct {
	o  *OrderSnapshot
	it *ItemRef
}

// planMove resolves one change to its delivery and checks it, moving the
// item's status in place when it is allowed.
func planMove(orders map[int64]*OrderSnapshot, deliveries map[int64]delivered, c DeliveryChange, now time.Time) (DeliveryOp, error) {
	var o *OrderSnapshot
	var it *ItemRef
	if c.ID != 0 {
		d, ok := deliveries[c.ID]
		if !ok {
			return DeliveryOp{}, NotFound("no delivery has id %d", c.ID)
		}
		o, it = d.o, d.it
	} else {
		if o = orders[c.OrderID]; o == nil {
			return DeliveryOp{}, NotFound("no order has id %d", c.OrderID)
		}
		ref, err := MatchItem(o.ID, o.Items, c.SKU)
		if err != nil {
			return DeliveryOp{}, err
		}
		if ref.DeliveryID == 0 {
			return DeliveryOp{}, Conflict("item %s of order %d has no delivery yet: start its delivery first", ref.SKU, o.ID)
		}
		it = deliveries[ref.DeliveryID].it
	}
	if c.HandOff && it.Delivery.Shipped() && it.Tracking == c.Tracking && it.Carrier == c.Carrier {
		return DeliveryOp{}, nil // the same file imported again
	}
	if err := o.CheckDeliverable(); err != nil {
		return DeliveryOp{}, err
	}
	if it.Remaining == 0 {
		return DeliveryOp{}, Conflict("delivery %d: item %s of order %d was refunded: there is nothing to deliver", it.DeliveryID, it.SKU, o.ID)
	}
	if err := it.Delivery.CheckMove(it.DeliveryID, c.Status); err != nil {
		return DeliveryOp{}, err
	}
	if err := CheckDeliveryTime(it.DeliveryID, c.At, it.Changed, now); err != nil {
		return DeliveryOp{}, err
	}
	it.Delivery, it.Changed = c.Status, now
	if !c.At.IsZero() {
		it.Changed = c.At
	}
	// What the change does not give, the delivery keeps; a new number (or
	// carrier) is checked against the carrier it goes with.
	carrier, tracking := cmp.Or(c.Carrier, it.Carrier), cmp.Or(c.Tracking, it.Tracking)
	if c.Carrier != "" || c.Tracking != "" {
		var err error
		if tracking, err = CheckWaybill(carrier, tracking); err != nil {
			return DeliveryOp{}, err
		}
	}
	it.Carrier, it.Tracking = carrier, tracking
	return DeliveryOp{OrderID: o.ID, OrderProductID: it.OrderProductID, DeliveryID: it.DeliveryID, Status: c.Status,
		Carrier: it.Carrier, Tracking: it.Tracking, At: c.At}, nil
}
