package shop

import (
	"slices"
	"time"
)

// SagaState is where an order's saga stands.
type SagaState string

// Saga states. Running, compensating and cancelling are unfinished: a process
// owns them through a lease, and `saga recover` finishes them when it expires.
const (
	SagaRunning      SagaState = "running"
	SagaCompensating SagaState = "compensating"
	SagaCompleted    SagaState = "completed"
	SagaCompensated  SagaState = "compensated"
	SagaFailed       SagaState = "failed" // failed before changing anything
	SagaCancelling   SagaState = "cancelling"
	SagaCancelled    SagaState = "cancelled"
)

// SagaStates lists every state, in lifecycle order.
var SagaStates = []SagaState{SagaRunning, SagaCompensating, SagaCompleted, SagaCompensated, SagaFailed, SagaCancelling, SagaCancelled}

// sagaMoves lists the states each state may move to.
var sagaMoves = map[SagaState][]SagaState{
	SagaRunning:      {SagaCompensating, SagaCompleted},
	SagaCompensating: {SagaCompensated},
	SagaCompleted:    {SagaCancelling},
	SagaCancelling:   {SagaCancelled},
}

// CanMove reports whether a saga in state s may move to state to.
func (s SagaState) CanMove(to SagaState) bool { return slices.Contains(sagaMoves[s], to) }

// MovesTo returns the states from which a saga may move to s.
func MovesTo(s SagaState) []SagaState {
	var from []SagaState
	for _, f := range SagaStates {
		if f.CanMove(s) {
			from = append(from, f)
		}
	}
	return from
}

// Unfinished reports whether the saga still has work to do.
func (s SagaState) Unfinished() bool {
	return s == SagaRunning || s == SagaCompensating || s == SagaCancelling
}

// UnfinishedSagaStates are the states `saga recover` finishes.
var UnfinishedSagaStates = []SagaState{SagaRunning, SagaCompensating, SagaCancelling}

// FinishedSagaStates are the states a saga ends in.
var FinishedSagaStates = []SagaState{SagaCompleted, SagaCompensated, SagaFailed, SagaCancelled}

// ParseSagaState accepts one of the saga states.
func ParseSagaState(s string) (SagaState, error) {
	if st := SagaState(s); slices.Contains(SagaStates, st) {
		return st, nil
	}
	return "", Invalid("saga state %q is not one of running, compensating, completed, compensated, failed, cancelling, cancelled", s)
}

// SagaRecord is one order's durable saga log: what compensation and recovery
// need, where it stands, who owns it, and its trail of events.
type SagaRecord struct {
	OrderUUID     string        `json:"order_uuid"`
	CustomerID    int64         `json:"customer_id"`
	Method        PaymentMethod `json:"method"`
	Items         []Line        `json:"items"`
	TotalAmount   Won           `json:"total_amount"`
	FromCart      bool          `json:"from_cart"`
	ShipTo        *ShipTo       `json:"ship_to,omitempty"` // copied into the order
	Pickup        bool          `json:"pickup,omitempty"`
	PaymentID     *int64        `json:"payment_id"`
	OrderID       *int64        `json:"order_id"`
	State         SagaState     `json:"state"`
	Step          string        `json:"step"`
	StockReduced  bool          `json:"stock_reduced"`
	StockRestored bool          `json:"stock_restored"`
	Error         string        `json:"error,omitempty"`
	// ProviderRef is the provider's id for the payment before its charge
	// (Kakao's tid, Naver's reserveId), ApprovalToken the buyer's approval.
	ProviderRef   string      `json:"provider_ref,omitempty"`
	ApprovalToken string      `json:"-"`
	OwnerToken    int64       `json:"owner_token"`
	LeaseUntil    *time.Time  `json:"lease_until"`
	History       []SagaEvent `json:"history"`
	CreatedAt     time.Time   `json:"created_at"`
	UpdatedAt     time.Time   `json:"updated_at"`
}

// SagaFilter narrows `saga list`.
type SagaFilter struct {
	State SagaState // "" for any
}

// EventKind says whether an event is a step or a compensation.
type EventKind string

// Event kinds.
const (
	EventStep         EventKind = "step"
	EventCompensation EventKind = "compensation"
)

// Outcome is how a step or compensation went.
type Outcome string

// Outcomes.
const (
	OutcomeOK      Outcome = "ok"
	OutcomeFailed  Outcome = "failed"
	OutcomeRetry   Outcome = "retry"
	OutcomeSkipped Outcome = "skipped"
	OutcomeWaiting Outcome = "waiting" // for the buyer to approve the payment
)

// SagaEvent is one line of a saga's trail: a step or a compensation and its outcome.
type SagaEvent struct {
	At      time.Time `json:"at"`
	Kind    EventKind `json:"kind"`
	Name    string    `json:"name"`
	Outcome Outcome   `json:"outcome"`
	Detail  string    `json:"detail,omitempty"`
}

// NewEvent stamps an event with the current time.
func NewEvent(kind EventKind, name string, outcome Outcome, detail string) SagaEvent {
	return SagaEvent{At: time.Now().UTC(), Kind: kind, Name: name, Outcome: outcome, Detail: detail}
}

// Observer hears every saga step and compensation as it happens.
type Observer interface {
	Event(SagaEvent)
}

// ObserverFunc adapts a function to Observer.
type ObserverFunc func(SagaEvent)

// Event implements Observer.
func (f ObserverFunc) Event(e SagaEvent) { f(e) }

// CreatedOrder is what the saga's create step made.
type CreatedOrder struct {
	ID, PaymentID int64
	CustomerName  string
	ItemIDs       []int64 // order_product ids, in the saga's item order
	At            time.Time
}
