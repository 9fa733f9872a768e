package postgres

import "github.com/rabbitpay/rabbitpay/internal/shop"

// QueueEvents is the one statement that writes the outbox; every change a
// customer hears about runs it as a CTE or a batch entry of its own
// statement or transaction, so the change and its notifications commit
// together (or not at all).
//
// The events' types and payloads are made in Go (package shop) and passed
// as one jsonb parameter, events (e.g. $9::jsonb), encoded by EventsParam,
// and queued in their order. from is a query with the columns customer_id,
// order_id and facts: each of its rows queues every event for that customer
// and order, with facts (a jsonb object) merged over the payload: the values
// only the database knows, such as a new order's id or what a payment row
// holds. A from with no row queues nothing, which makes it the guard of a
// conditional change (a payment that did not move, a saga no longer
// cancelling).
//
// QueueEvents and EventsParam are exported for scripts/benchorders, whose
// SQL floor replays order placement's statements.
func QueueEvents(events, from string) string {
	return `INSERT INTO notification (kind, customer_id, order_id, payload)
		SELECT e.ev->>'type', f.customer_id, f.order_id, (e.ev->'payload') || f.facts
		FROM (` + from + `) f CROSS JOIN jsonb_array_elements(` + events + `) WITH ORDINALITY AS e(ev, n)
		ORDER BY e.n`
}

type queued struct {
	Type    shop.NotificationKind `json:"type"`
	Payload shop.Event            `json:"payload"`
}

// EventsParam encodes events for QueueEvents' jsonb parameter.
func EventsParam(evs ...shop.Event) string {
	out := make([]queued, len(evs))
	for i, ev := range evs {
		out[i] = queued{ev.Kind(), ev}
	}
	return jsonText(out)
}
