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

// QueueEvents queues each event for the rows of from with its key (keyless
// events for every keyless row), in the events' order, with the rows'
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
	// Two deliveries changed in one statement: each event gets its row's facts.
	deliveries := `SELECT * FROM (VALUES (11, 1, 7, '{"delivery_id": 3}'::jsonb), (12, 2, 8, '{"delivery_id": 4}'::jsonb),
		(13, 3, 9, '{}'::jsonb)) AS v(key, customer_id, order_id, facts)`
	queue(deliveries, postgres.KeyedEventsParam(
		postgres.KeyedEvent{Key: "12", Event: shop.DeliveryChangedV1{OrderID: 8, Product: "당근", Status: shop.DeliveryShipped}},
		postgres.KeyedEvent{Key: "11", Event: shop.DeliveryChangedV1{OrderID: 7, Product: "토끼 인형", Status: shop.DeliveryReady}}))
	// Orders rolled up by one statement: a keyless event for each.
	queue(`SELECT NULL AS key, id AS customer_id, id + 10 AS order_id, jsonb_build_object('order_id', id + 10) AS facts
		FROM generate_series(1, 2) id`, postgres.EventsParam(shop.OrderShippedV1{OrderUUID: "u"}))
	// A guard that holds no row queues nothing.
	queue(`SELECT NULL AS key, 1 AS customer_id, 1 AS order_id, '{}'::jsonb AS facts WHERE false`,
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
		`delivery.shipped 2 8 {"at": "0001-01-01T00:00:00Z", "sku": "", "status": "SHIPPED", "carrier": "", "product": "당근", "version": 1, "order_id": 8, "quantity": 0, "order_uuid": "", "delivery_id": 4, "tracking_number": "", "order_product_id": 0}`,
		`delivery.ready 1 7 {"at": "0001-01-01T00:00:00Z", "sku": "", "status": "READY", "carrier": "", "product": "토끼 인형", "version": 1, "order_id": 7, "quantity": 0, "order_uuid": "", "delivery_id": 3, "tracking_number": "", "order_product_id": 0}`,
		`order.shipped 1 11 {"version": 1, "order_id": 11, "order_uuid": "u", "total_amount": 0}`,
		`order.shipped 2 12 {"version": 1, "order_id": 12, "order_uuid": "u", "total_amount": 0}`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("outbox:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
