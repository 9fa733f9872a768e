package postgres

import "github.com/rabbitpay/rabbitpay/internal/shop"

// QueueEvents is the one statement that writes the outbox; every change a
// customer hears about runs it as a CTE or a batch entry of its own
// statement or transaction, so the change and its notifications commit
// together (or not at all).
//
// The events' types and payloads are made in Go (package shop) and passed
// as one jsonb parameter, events ($9::jsonb), encoded by EventsParam or
// KeyedEventsParam, and queued in their order. from is a query with the columns key, customer_id,
// order_id and facts: each row queues the events of its key (events without
// a key go with every row whose key is NULL) for that customer and order,
// with facts (a jsonb object) merged over the payload: the values only the
// database knows, such as a new order's id or what a payment row holds. A
// from with no row queues nothing, which makes it the guard of a
// conditional change (a payment that did not move, a saga no longer
// cancelling).
//
// QueueEvents and EventsParam are exported for scripts/benchorders, whose
// SQL floor replays order placement's statements.
func QueueEvents(events, from string) string {
	return `INSERT INTO notification (kind, customer_id, order_id, payload)
		SELECT e.ev->>'type', f.customer_id, f.order_id, (e.ev->'payload') || f.facts
		FROM (` + from + `) f JOIN jsonb_array_elements(` + events + `) WITH ORDINALITY AS e(ev, n)
			ON e.ev->>'key' IS NOT DISTINCT FROM f.key::text
		ORDER BY e.n`
}

type queued struct {
	Type    shop.NotificationKind `json:"type"`
	Key     *string               `json:"key"`
	Payload shop.Event            `json:"payload"`
}

// EventsParam encodes events for QueueEvents' jsonb parameter: each goes
// with every row of from whose key is NULL.
func EventsParam(evs ...shop.Event) string {
	out := make([]queued, len(evs))
	for i, ev := range evs {
		out[i] = queued{ev.Kind(), nil, ev}
	}
	return jsonText(out)
}

// KeyedEvent is an event for the row of QueueEvents' from whose key is Key.
type KeyedEvent struct {
	Key   string
	Event shop.Event
}

// KeyedEventsParam encodes events for QueueEvents' jsonb parameter, each
// for the row of from with its key (as text), as when one statement changes
// several deliveries (key: the order item's id) and the database adds each
// one's facts.
func KeyedEventsParam(evs ...KeyedEvent) string {
	out := make([]queued, len(evs))
	for i, ev := range evs {
		out[i] = queued{ev.Event.Kind(), &ev.Key, ev.Event}
	}
	return jsonText(out)
}
