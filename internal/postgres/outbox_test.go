package postgres_test

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/rabbitpay/rabbitpay/internal/postgres"
	"github.com/rabbitpay/rabbitpay/internal/shop"
	"github.com/rabbitpay/rabbitpay/internal/testdb"
)

// QueueEvents queues the events for each row of from, in the events' order, with the rows'
// customer, order and facts merged over the Go payload; no row, nothing.
func TestQueueEvents(t *testing.T) {
	t.Parallel()
	s, err := postgres.Open(testdb.New(t), 2)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	queue := func(from, events string) {
		t.Helper()
		if _, err := s.Pool.Exec(ctx, postgres.QueueEvents(`$1::jsonb`, from), events); err != nil {
			t.Fatal(err)
		}
	}
	// Orders rolled up by one statement: the event for each row.
	queue(`SELECT id AS customer_id, id + 10 AS order_id, jsonb_build_object('order_id', id + 10) AS facts
		FROM generate_series(1, 2) id`, postgres.EventsParam(shop.OrderShippedV1{OrderUUID: "u"}))
	// A guard that holds no row queues nothing.
	queue(`SELECT 1 AS customer_id, 1 AS order_id, '{}'::jsonb AS facts WHERE false`,
		postgres.EventsParam(shop.OrderCancelledV1{}))

	rows, err := s.Pool.Query(ctx, `SELECT kind || ' ' || customer_id || ' ' || order_id || ' ' || payload::text FROM notification ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`order.shipped 1 11 {"version": 1, "order_id": 11, "order_uuid": "u", "total_amount": 0}`,
		`order.shipped 2 12 {"version": 1, "order_id": 12, "order_uuid": "u", "total_amount": 0}`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("outbox:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
