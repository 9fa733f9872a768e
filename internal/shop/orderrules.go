package shop

import "slices"

// OrderSnapshot is an order as the rules decide on it: read by the store
// under the order's row lock, in the transaction that applies the decision.
type OrderSnapshot struct {
	ID        int64
	Status    OrderStatus
	Saga      SagaState // "" when the order has no saga
	Refunding int64     // a refund of it still refunding (its outcome unknown); 0: none
	Items     []ItemRef // in item id order
	// Destined says the order goes somewhere: an address, or pickup.
	Destined bool
}

// RefundInProgress refuses to change order orderID while its refund
// refundID is refunding: refunds, cancels and deliveries of one order never
// overlap, so the roll-up never counts an unsettled refund.
func RefundInProgress(orderID, refundID int64) error {
	return Conflict("order %d has refund %d still in progress (its outcome at the provider is unknown): run 'rabbitpay saga recover' first", orderID, refundID)
}

// CheckDeliverable says whether the order's items may get deliveries or
// move on: only a paid (or shipped) order that is not being cancelled and
// has no refund in flight.
func (o *OrderSnapshot) CheckDeliverable() error {
	switch {
	case o.Status == OrderCancelled || o.Saga == SagaCancelled:
		return Conflict("order %d is cancelled: its items cannot be delivered", o.ID)
	case o.Saga == SagaCancelling:
		return Conflict("order %d is being cancelled: its items cannot be delivered", o.ID)
	case o.Status != OrderPaid && o.Status != OrderShipped:
		return Conflict("order %d is %s, not paid: its items cannot be delivered yet", o.ID, o.Status)
	case o.Refunding != 0:
		return RefundInProgress(o.ID, o.Refunding)
	}
	return nil
}

// CheckCancel says whether the order may be cancelled: done when it was
// cancelled already; refused once it or any of its items has shipped, or
// while a refund of it is in flight.
func CheckCancel(o OrderSnapshot) (done bool, err error) {
	switch {
	case o.Status == OrderCancelled:
		return true, nil
	case o.Status == OrderShipped:
		return false, Conflict("order %d has shipped and cannot be cancelled", o.ID)
	case o.Refunding != 0:
		return false, RefundInProgress(o.ID, o.Refunding)
	}
	for _, it := range o.Items {
		if it.Delivery.Shipped() {
			return false, Conflict("order %d cannot be cancelled: item %s has shipped (%s)", o.ID, it.SKU, it.Delivery)
		}
	}
	return false, nil
}

// RollUp is the status an order in status whose items are items has: a
// paid order with something left to ship (an item not refunded whole) and
// every such item shipped is shipped; any other order keeps its status.
func RollUp(status OrderStatus, items []ItemRef) OrderStatus {
	if status != OrderPaid {
		return status
	}
	left := false
	for _, it := range items {
		if it.Remaining == 0 {
			continue
		}
		if !it.Delivery.Shipped() {
			return status
		}
		left = true
	}
	if !left { // refunded whole: the refund cancels it
		return status
	}
	return OrderShipped
}

// CheckRefundStatus says whether an order in status may be refunded at all.
func CheckRefundStatus(orderID int64, status OrderStatus) error {
	if status != OrderPaid {
		return Conflict("order %d is %s: only a paid order can be refunded", orderID, status)
	}
	return nil
}

// Refundable is how much of the item may still be refunded: what is left
// of it while it has not shipped, nothing once it has.
func (it ItemRef) Refundable() int64 {
	if it.Delivery.Shipped() {
		return 0
	}
	return it.Remaining
}

// CheckRefundReplay says whether a refund asked for again under key
// (orderID, amount) is the one prev that key already made: a replay returns
// prev; another request under the same key is bad input.
func CheckRefundReplay(prev Refund, key string, orderID int64, amount Won) error {
	if prev.OrderID != orderID || prev.Amount != amount {
		return Invalid("idempotency key %q was already used for a different refund", key)
	}
	return nil
}

// PlanRefund checks that lines (items of o at the prices paid) may be
// refunded now, and returns their amount: o is paid with no refund in
// flight, every line is one of its items, not shipped, and asks no more
// than is left of it (a product named on two lines counts once, summed).
func PlanRefund(o OrderSnapshot, lines []Line) (Won, error) {
	if err := CheckRefundStatus(o.ID, o.Status); err != nil {
		return 0, err
	}
	if o.Refunding != 0 {
		return 0, RefundInProgress(o.ID, o.Refunding)
	}
	asked := map[int64]int64{}
	for _, ln := range lines {
		i := slices.IndexFunc(o.Items, func(it ItemRef) bool { return it.ProductID == ln.ProductID })
		if i < 0 {
			return 0, Invalid("order %d has no item %s", o.ID, ln.SKU)
		}
		it := o.Items[i]
		if it.Delivery.Shipped() {
			return 0, Conflict("item %s of order %d has shipped (%s) and cannot be refunded", ln.SKU, o.ID, it.Delivery)
		}
		asked[ln.ProductID] += ln.Quantity
		if q := asked[ln.ProductID]; q > it.Refundable() {
			return 0, Invalid("order %d has %d of %s left to refund (bought %d, refunded %d), not %d",
				o.ID, it.Remaining, ln.SKU, it.Quantity, it.Quantity-it.Remaining, q)
		}
	}
	return Total(lines)
}

// CheckOrderable refuses, before an order's saga starts, a line the shop
// cannot sell now: a retired product, or more than its stock (stock is what
// the product has; retired whether it is). reduce_stock refuses the same
// inside the saga, for a sale lost to another order in between.
func CheckOrderable(l Line, stock int64, retired bool) error {
	switch {
	case retired:
		return Conflict("product %s is retired: it cannot be ordered", l.SKU)
	case stock <= 0:
		return Conflict("%s (%s) is out of stock", l.SKU, l.Name)
	case l.Quantity > stock:
		return Conflict("only %d of %s (%s) in stock, %d wanted", stock, l.SKU, l.Name, l.Quantity)
	}
	return nil
}

// CheckShipToChange says whether order o's destination may change: until
// its first item ships, and not once it is cancelled or being cancelled.
func CheckShipToChange(o OrderSnapshot) error {
	if o.Status == OrderCancelled || o.Saga == SagaCancelled || o.Saga == SagaCancelling {
		return Conflict("order %d is cancelled (or being cancelled): its destination cannot change", o.ID)
	}
	for _, it := range o.Items {
		if it.Delivery.Shipped() {
			return Conflict("order %d cannot go elsewhere: item %s has shipped (%s)", o.ID, it.SKU, it.Delivery)
		}
	}
	if o.Status != OrderPaid {
		return Conflict("order %d is %s: its destination can only change while it is paid", o.ID, o.Status)
	}
	return nil
}
