package shop

import "slices"

// The status changes the store writes are decided here. The store takes the
// new status, and the statuses a row may move from, as parameters; SQL only
// applies them under its locks (a row that moved meanwhile is not changed).

// orderMoves lists the statuses each order status may move to.
var orderMoves = map[OrderStatus][]OrderStatus{
	OrderCreated: {OrderPaid, OrderCancelled},
	OrderPaid:    {OrderShipped, OrderCancelled},
}

// OrderMovesTo returns the statuses from which an order may move to to.
func OrderMovesTo(to OrderStatus) []OrderStatus {
	return movesTo(orderMoves, to, []OrderStatus{OrderCreated, OrderPaid, OrderShipped, OrderCancelled})
}

// paymentMoves lists the statuses each payment status may move to: a
// payment waits (PROGRESS) until it is charged, declined or voided, and a
// charged one can only be refunded whole (CANCELLED).
var paymentMoves = map[PaymentStatus][]PaymentStatus{
	PaymentProgress: {PaymentSuccess, PaymentFailed, PaymentCancelled},
	PaymentSuccess:  {PaymentCancelled},
}

// PaymentMovesTo returns the statuses from which a payment may move to to.
func PaymentMovesTo(to PaymentStatus) []PaymentStatus {
	return movesTo(paymentMoves, to, []PaymentStatus{PaymentProgress, PaymentSuccess, PaymentFailed, PaymentCancelled})
}

func movesTo[S comparable](moves map[S][]S, to S, all []S) []S {
	var from []S
	for _, f := range all {
		if slices.Contains(moves[f], to) {
			from = append(from, f)
		}
	}
	return from
}

// UndoingSagaStates are the states in which a saga gives back what it took:
// its stock and its charge. A saga in any other state keeps them, whatever
// its caller believes.
var UndoingSagaStates = []SagaState{SagaCompensating, SagaCancelling}

// AfterRefund is where a refund leaves order o and its payment once the
// provider has refunded it (o's quantities count the refund already): an
// order with nothing left is cancelled and its payment refunded whole
// (CANCELLED); any other order rolls up (RollUp) and its payment stays
// SUCCESS.
func AfterRefund(o OrderSnapshot) (OrderStatus, PaymentStatus) {
	for _, it := range o.Items {
		if it.Remaining > 0 {
			return RollUp(o.Status, o.Items), PaymentSuccess
		}
	}
	return OrderCancelled, PaymentCancelled
}
