package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/rabbitpay/rabbitpay/internal/postgres"
	"github.com/rabbitpay/rabbitpay/internal/shop"
)

// floorScript is the "SQL floor": a pgbench script (run with -M prepared)
// that replays, for one order of one item, the statements PlaceOrder sends
// (internal/postgres ResolveItems, StartSaga, CreateOrder and the payment
// sandbox's Approve, as copied here: keep them in step), with the same round
// trips and the same commits, so that only the client differs:
//
//	round trip 1  ResolveItems: one read (implicit transaction, no WAL flush)
//	round trip 2  StartSaga: one statement, one commit
//	round trip 3  the sandbox's Pay: one statement, one commit
//	round trip 4  CreateOrder: saga_fence + the provider calls made (one,
//	              the charge, logged for pay show) + the order statement, one commit
//
// pgx sends a batch as Bind/Execute per statement and a single Sync, which
// makes one implicit transaction. pgbench sends the statements between
// \startpipeline and \endpipeline the same way, with one Sync at
// \endpipeline (PostgreSQL 15 has no \syncpipeline): one implicit
// transaction, no explicit BEGIN/COMMIT. (Checked: a set_config(…, true) in a
// pipeline's first statement is seen by its second one, and not by the next
// pipeline.) A one-statement pipeline is the same traffic as pgx's single
// query (Bind, Execute, Sync).
//
// Round trip 1 cannot be in a pipeline: \gset is not allowed there. It is
// ResolveItems' query with a few columns more, computed by the server, that
// carry what the app computes in Go to the later round trips: the order's
// fresh UUID (gen_random_uuid(); the app uses google/uuid), the product id and
// price as the one-element arrays the app passes, and the empty failure
// reason (pgbench -D cannot define an empty string). The SKU is built from a
// random number in SQL ('P-' || lpad(…)), as pgbench variables hold no
// strings. The provider's transaction id is the UUID's text (the sandbox
// makes a random "T…" string in Go). The JSON the app encodes per order
// (the items, the saga events and the notification events) is passed as
// parameters of the same shape and size, made once with the same encoder
// (-D), so the server parses the same jsonb; only the timestamps, the order
// UUID and the product inside them are fixed. The outbox part is the app's
// own text (postgres.QueueEvents).
// saga_fence's NULL lease is a literal where the app binds a NULL.
var floorScript = `
\set cust :client_id + 1
\set pn random(0, :maxp)
SELECT EXISTS (SELECT 1 FROM customer WHERE id = :cust) AS known, p.id AS pid, p.sku AS sku, p.name AS name,
	0::bigint AS line_total, p.price AS price, NULL::timestamptz AS added_at,
	gen_random_uuid() AS uuid, ARRAY[p.id] AS ids, ARRAY[p.price] AS prices, ''::text AS reason
	FROM (SELECT 1) one LEFT JOIN (unnest(ARRAY['P-' || lpad(:pn::text, 4, '0')], ARRAY[NULL::bigint]) WITH ORDINALITY AS r(sku, id, n)
	JOIN product p ON p.sku = r.sku OR p.id = r.id) ON true
\gset
\startpipeline
WITH stock AS (SELECT reduce_stock(:ids, :qtys)),
	p AS (INSERT INTO payment (order_uuid, method, status, amount) SELECT :uuid, :method, 'PROGRESS', :price FROM stock RETURNING id)
	INSERT INTO saga (order_uuid, customer_id, method, items, total_amount, from_cart, payment_id, state, step, stock_reduced,
		history, owner_token, lease_until)
	SELECT :uuid, :cust, :method, :items, :price, :fromcart, p.id, 'running', 'payment', true, :ev1, :token, now() + :lease::interval FROM p RETURNING payment_id;
\endpipeline
\startpipeline
INSERT INTO sandbox_payment (order_uuid, method, tx_id, amount, status, reason)
	VALUES (:uuid, :method, :uuid, :price, :status, NULLIF(:reason, ''))
	ON CONFLICT (order_uuid) DO UPDATE SET order_uuid = EXCLUDED.order_uuid
	RETURNING tx_id, status, CASE WHEN status = 'FAILED' THEN 0 ELSE amount END, refunded, coalesce(reason, '');
\endpipeline
\startpipeline
SELECT saga_fence(:uuid, :token, NULL);
INSERT INTO payment_call (order_uuid, call, outcome, detail, duration_ms, at)
	SELECT :uuid, c.call, c.outcome, coalesce(c.detail, ''), c.duration_ms, c.at
	FROM jsonb_to_recordset(:calls::jsonb) AS c(call text, outcome text, detail text, duration_ms integer, at timestamptz);
WITH o AS (
		INSERT INTO orders (order_uuid, customer_id, status, total_amount) VALUES (:uuid, :cust, 'paid', :price)
		RETURNING id, order_uuid, customer_id, total_amount, created_at),
	items AS (
		INSERT INTO order_product (order_id, product_id, quantity, order_price)
		SELECT o.id, t.pid, t.q, t.price FROM o, unnest(:ids::bigint[], :qtys::bigint[], :prices::bigint[]) WITH ORDINALITY AS t(pid, q, price, n)
		ORDER BY t.n RETURNING id),
	paid AS (
		UPDATE payment SET status = 'SUCCESS', provider_tx_id = :uuid, paid_at = now(), order_id = (SELECT id FROM o)
		WHERE order_uuid = :uuid),
	cart AS (
		DELETE FROM cart_item WHERE :fromcart AND cart_id = (SELECT cart_id FROM cart WHERE customer_id = :cust) AND product_id = ANY(:ids)),
	outbox AS (` + postgres.QueueEvents(`:events::jsonb`, `SELECT customer_id, id AS order_id, jsonb_build_object('order_id', id) AS facts FROM o`) + `),
	done AS (
		UPDATE saga SET state = 'completed', step = 'done', order_id = (SELECT id FROM o), history = history || :ev3::jsonb,
			updated_at = now() WHERE order_uuid = :uuid AND state = 'running' RETURNING payment_id)
	SELECT o.id, o.created_at, (SELECT array_agg(id ORDER BY id) FROM items), (SELECT payment_id FROM done) FROM o;
\endpipeline
`

// floorVars are the script's per-run parameters (-D): the values the app
// passes for a one-item order of quantity 1, JSON encoded as the store does.
func floorVars(hot bool, products int, lease time.Duration) []string {
	line := shop.Line{ProductID: 661, SKU: "P-0660", Name: "상품 660", Quantity: 1, Price: 1000}
	ev := func(name, detail string) shop.SagaEvent {
		return shop.NewEvent(shop.EventStep, name, shop.OutcomeOK, detail)
	}
	enc := func(v any) string { b, _ := json.Marshal(v); return string(b) }
	maxp := products - 1
	if hot {
		maxp = 0
	}
	txID := "T0123456789abcdef012"
	return []string{
		"maxp=" + strconv.Itoa(maxp),
		"method=" + string(shop.Kakao),
		"qtys={1}",
		"fromcart=f",
		"token=1",
		"lease=" + lease.String(),
		"status=" + string(shop.PaymentSuccess),
		"events=" + postgres.EventsParam(shop.OrderPlacedEvents(shop.SagaRecord{OrderUUID: "00000000-0000-4000-8000-000000000000",
			TotalAmount: line.Price, Method: shop.Kakao}, txID)...),
		"items=" + enc([]shop.Line{line}),
		"calls=" + enc([]shop.PaymentCall{{At: time.Now().UTC(), Call: "approve", Outcome: string(shop.PaymentSuccess),
			Detail: txID + "; charged ₩1,000", Duration: 1}}),
		"ev1=" + enc([]shop.SagaEvent{ev("reduce_stock", "reserved P-0660×1")}),
		"ev3=" + enc([]shop.SagaEvent{ev("payment", fmt.Sprintf("charged %s via %s (%s)", shop.Won(1000), shop.Kakao, txID)),
			ev("create_order", "order created, paid"), ev("notify", "order.placed, payment.succeeded queued in the outbox")}),
	}
}

// floorTPS runs the floor script on the orders database, throttled to rate
// transactions per second unless rate is 0 (pgbench -R), and returns its
// tps, its transaction count and the CPU seconds pgbench itself used.
func floorTPS(pgbench, dir string, conn []string, d time.Duration, clients int, hot bool, products int, lease time.Duration, rate float64) (float64, int64, float64, error) {
	script := filepath.Join(dir, "floor.sql")
	if err := os.WriteFile(script, []byte(floorScript), 0o644); err != nil {
		return 0, 0, 0, err
	}
	args := append(append([]string{}, conn...), "-n", "-M", "prepared", "-f", script, "-c", strconv.Itoa(clients), "-j", "2",
		"-T", strconv.Itoa(int(d.Seconds())))
	if rate > 0 {
		args = append(args, "-R", strconv.FormatFloat(rate, 'f', 0, 64))
	}
	for _, v := range floorVars(hot, products, lease) {
		args = append(args, "-D", v)
	}
	return runPgbench(exec.Command(pgbench, append(args, "orders")...))
}
