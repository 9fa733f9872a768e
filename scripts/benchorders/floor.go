package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/rabbitpay/rabbitpay/internal/postgres"
	"github.com/rabbitpay/rabbitpay/internal/shop"
)

// floorScript is the "SQL floor": a pgbench script (run with -M prepared)
// that replays, for one order of one item, the statements PlaceOrder sends
// (internal/postgres ResolveItems, StartSaga, CreateOrder and the payment
// sandbox's Approve), with the same round trips and the same commits, so
// that only the client differs. Rounds 2 to 4 are the store's own
// statements (postgres.StartSagaSQL, SandboxRecordSQL, FenceSQL,
// RecordCallsSQL, CreateOrderSQL) with their $N bound to pgbench variables
// (bind): nothing to keep in step by hand, and TestFloorIsTheStoresStatements
// fails if a statement gains a parameter the floor does not bind.
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
// price as the one-element arrays the app passes, the empty failure
// reason (pgbench -D cannot define an empty string), and the customer's
// default address as the JSON the app copies into the saga and the order
// (the app reads it with a second statement in the same round trip). The SKU is built from a
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
	gen_random_uuid() AS uuid, ARRAY[p.id] AS ids, ARRAY[p.price] AS prices, ''::text AS reason,
	(SELECT jsonb_build_object('address_id', id, 'recipient', recipient, 'phone', phone, 'zip_code', zip_code, 'line1', line1,
		'line2', line2, 'memo', memo) FROM address WHERE customer_id = :cust AND is_default) AS shipto
	FROM (SELECT 1) one LEFT JOIN (unnest(ARRAY['P-' || lpad(:pn::text, 4, '0')], ARRAY[NULL::bigint]) WITH ORDINALITY AS r(sku, id, n)
	JOIN product p ON p.sku = r.sku OR p.id = r.id) ON true
\gset
\startpipeline
` + bind(postgres.StartSagaSQL, "uuid", "cust", "method", "items", "price", "fromcart", "ev1", "ids", "qtys", "token", "lease",
	"progress", "running", "shipto", "pickup") + `;
\endpipeline
\startpipeline
` + bind(postgres.SandboxRecordSQL, "uuid", "method", "uuid", "price", "status", "reason") + `;
\endpipeline
\startpipeline
` + bind(postgres.FenceSQL, "uuid", "token", "NULL") + `;
` + bind(postgres.RecordCallsSQL, "uuid", "calls") + `;
` + bind(postgres.CreateOrderSQL, "uuid", "cust", "price", "ids", "qtys", "prices", "uuid", "fromcart", "ev3", "events",
	"paid", "status", "completed", "fromrunning", "shipto", "pickup") + `;
\endpipeline
`

// bind writes sql's parameters $1, $2, … as the pgbench variables vars
// name, in order (NULL stays a literal, as saga_fence's dropped lease). A
// parameter beyond vars stays $N, for the test to find.
func bind(sql string, vars ...string) string {
	return param.ReplaceAllStringFunc(sql, func(p string) string {
		n, _ := strconv.Atoi(p[1:])
		switch {
		case n > len(vars):
			return p
		case vars[n-1] == "NULL":
			return "NULL"
		}
		return ":" + vars[n-1]
	})
}

var param = regexp.MustCompile(`\$\d+`)

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
		// the statuses the store passes, as shop decides them
		"progress=" + string(shop.PaymentProgress),
		"running=" + string(shop.SagaRunning),
		"paid=" + string(shop.OrderPaid),
		"completed=" + string(shop.SagaCompleted),
		"pickup=f",
		"fromrunning={" + strings.Trim(fmt.Sprint(shop.MovesTo(shop.SagaCompleted)), "[]") + "}",
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

// floorShipTo is every benchmark customer's default address: each order
// copies it into its saga and its order, as a shop's orders do.
var floorShipTo = shop.ShipTo{Recipient: "구매자", Phone: "010-1234-5678", ZipCode: "06236",
	Line1: "서울특별시 강남구 테헤란로 152", Line2: "12층", Memo: "문 앞에 놓아 주세요"}
