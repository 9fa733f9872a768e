package app

import (
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/tern/v2/migrate"

	"github.com/rabbitpay/rabbitpay/internal/notify"
	"github.com/rabbitpay/rabbitpay/internal/shop"
	"github.com/rabbitpay/rabbitpay/internal/testdb"
	"github.com/rabbitpay/rabbitpay/migrations"
)

// migratedTo is an empty database of its own migrated to schema version
// (the server itself: migrations never go through a pooler), and a
// connection to it.
func migratedTo(t *testing.T, version int32) (string, *pgx.Conn) {
	t.Helper()
	url := testdb.Direct(t, testdb.Empty(t))
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	m, err := migrate.NewMigrator(ctx, conn, "schema_version")
	if err == nil {
		err = m.LoadMigrations(migrations.FS)
	}
	if err == nil {
		err = m.MigrateTo(ctx, version)
	}
	if err != nil {
		t.Fatal(err)
	}
	return url, conn
}

// upgraded closes conn, once seeding (seedErr) went through, and returns
// an App on url, which migrates it to the latest schema.
func upgraded(t *testing.T, conn *pgx.Conn, url string, seedErr error) *App {
	t.Helper()
	conn.Close(ctx)
	if seedErr != nil {
		t.Fatal(seedErr)
	}
	a, err := Open(ctx, testConfig(url))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	return a
}

// A database made by the first schema (text statuses with CHECKs) keeps its
// orders, payments, deliveries and unfinished sagas across the upgrade to
// enum types, and they still read, filter and recover.
func TestUpgradeFromFirstSchemaKeepsOrdersAndSagas(t *testing.T) {
	t.Parallel()
	url, conn := migratedTo(t, 1)
	// A paid order with a READY delivery, and a saga a crash left running
	// (stock taken, PROGRESS payment, the provider never charged it).
	_, err := conn.Exec(ctx, `
		INSERT INTO customer (name) VALUES ('김토끼');
		INSERT INTO product (sku, name, price, stock_quantity) VALUES ('A', '토끼 인형', 1000, 7);
		INSERT INTO orders (order_uuid, customer_id, status, total_amount) VALUES ('11111111-1111-4111-8111-111111111111', 1, 'paid', 2000);
		INSERT INTO order_product (order_id, product_id, quantity, order_price) VALUES (1, 1, 2, 1000);
		INSERT INTO delivery (order_product_id, status) VALUES (1, 'READY');
		INSERT INTO payment (order_uuid, order_id, method, status, amount, provider_tx_id, paid_at)
			VALUES ('11111111-1111-4111-8111-111111111111', 1, 'KAKAO', 'SUCCESS', 2000, 'T0000000000000000001', now());
		INSERT INTO saga (order_uuid, customer_id, method, items, total_amount, payment_id, order_id, state, step, stock_reduced)
			VALUES ('11111111-1111-4111-8111-111111111111', 1, 'KAKAO', '[{"product_id":1,"sku":"A","quantity":2,"price":1000}]', 2000, 1, 1, 'completed', 'done', true);
		INSERT INTO payment (order_uuid, method, status, amount) VALUES ('22222222-2222-4222-8222-222222222222', 'NAVER', 'PROGRESS', 1000);
		INSERT INTO saga (order_uuid, customer_id, method, items, total_amount, payment_id, state, step, stock_reduced)
			VALUES ('22222222-2222-4222-8222-222222222222', 1, 'NAVER', '[{"product_id":1,"sku":"A","quantity":1,"price":1000}]', 1000, 2, 'running', 'payment', true)`)
	a := upgraded(t, conn, url, err)
	page, err := a.Orders(ctx, shop.OrderFilter{Status: shop.OrderPaid}, shop.ListOptions{})
	paid := page.Items
	if err != nil || len(paid) != 1 || paid[0].TotalAmount != 2000 {
		t.Fatalf("paid orders after the upgrade: %+v, %v", paid, err)
	}
	o, err := a.Order(ctx, paid[0].ID)
	if err != nil || o.Payment == nil || o.Payment.Status != shop.PaymentSuccess || o.Payment.Method != shop.Kakao ||
		len(o.Items) != 1 || o.Items[0].DeliveryStatus != "READY" {
		t.Fatalf("order after the upgrade: %+v, %v", o, err)
	}
	rec, err := a.RecoverSagas(ctx, 0, func(string) shop.Observer { return nil })
	if err != nil || len(rec) != 1 || rec[0].To != shop.SagaCompensated {
		t.Fatalf("recover after the upgrade: %+v, %v", rec, err)
	}
	p, err := a.Product(ctx, "A")
	if err != nil || p.StockQuantity != 8 {
		t.Fatalf("stock after recovering the crashed saga: %+v, %v (want 8)", p, err)
	}
	if _, err := a.db.Pool.Exec(ctx, `UPDATE payment SET status = 'LOST' WHERE id = 1`); err == nil {
		t.Fatal("the upgraded schema accepts payment status LOST")
	}
}

// Behind a pooler a command does not migrate on its own: it says to migrate
// through the direct URL, and changes nothing.
func TestNoAutomaticMigrationThroughAPooler(t *testing.T) {
	t.Parallel()
	direct := testdb.Direct(t, testdb.Empty(t))
	pooled := direct + map[bool]string{true: "&", false: "?"}[strings.Contains(direct, "?")] + "default_query_exec_mode=exec"
	_, err := Open(ctx, testConfig(pooled))
	if err == nil || !strings.Contains(err.Error(), "run 'rabbitpay db migrate' with the direct URL") {
		t.Fatalf("Open through a pooler URL on an old schema: %v", err)
	}
	conn, err := pgx.Connect(ctx, direct)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var tables int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_tables WHERE schemaname = 'public'`).Scan(&tables); err != nil || tables != 0 {
		t.Fatalf("%d tables after the refusal (%v)", tables, err)
	}
	a, err := Open(ctx, testConfig(direct)) // the direct URL migrates
	if err != nil {
		t.Fatal(err)
	}
	a.Close()
}

// Notifications stored before event types (migration 007) keep their rows:
// their kinds become event types, --kind finds them by either name, their
// messages are made in Go, and they are sent with typed bodies.
func TestUpgradeRenamesNotificationKinds(t *testing.T) {
	t.Parallel()
	url, conn := migratedTo(t, 6)
	// As the writers before event types made them.
	_, err := conn.Exec(ctx, `INSERT INTO notification (kind, customer_id, order_id, payload) VALUES
		('order_placed', 1, 7, '{"order_uuid": "u", "order_id": 7, "total_amount": 39800, "method": "KAKAO", "provider_tx_id": "T1"}'),
		('payment_succeeded', 1, 7, '{"order_uuid": "u", "order_id": 7, "total_amount": 39800, "method": "KAKAO", "provider_tx_id": "T1"}'),
		('delivery_in_transit', 1, 7, '{"order_uuid": "u", "order_id": 7, "delivery_id": 3, "product": "토끼 인형", "status": "IN_TRANSIT", "carrier": null}')`)
	a := upgraded(t, conn, url, err)
	p, err := a.Notifications(ctx, shop.NotificationFilter{}, shop.ListOptions{})
	if err != nil || len(p.Items) != 3 {
		t.Fatalf("notifications after the upgrade: %+v %v", p.Items, err)
	}
	want := []string{
		"order.placed 주문 #7이(가) 접수되었습니다 (₩39,800). / Order #7 was placed (₩39,800).",
		"payment.succeeded ₩39,800 결제가 완료되었습니다 (KAKAO). / Payment of ₩39,800 succeeded (KAKAO).",
		"delivery.in_transit 토끼 인형 상품이 배송 중입니다. / 토끼 인형 is in transit.",
	}
	for i, n := range p.Items {
		if got := string(n.Kind) + " " + n.Message; got != want[i] {
			t.Errorf("notification %d: %s, want %s", n.ID, got, want[i])
		}
	}
	kind, err := shop.ParseNotificationKind("delivery_in_transit")
	if err != nil {
		t.Fatal(err)
	}
	if p, err := a.Notifications(ctx, shop.NotificationFilter{Kind: kind}, shop.ListOptions{}); err != nil || len(p.Items) != 1 || p.Items[0].ID != 3 {
		t.Fatalf("--kind delivery_in_transit: %+v %v", p.Items, err)
	}
	var out strings.Builder
	if sum, err := a.SendNotifications(ctx, &notify.Writer{W: &out}, SendOptions{}); err != nil || sum.Sent != 3 {
		t.Fatalf("send: %+v %v", sum, err)
	}
	if !strings.Contains(out.String(), `"type":"payment.succeeded"`) || !strings.Contains(out.String(), `"amount":39800`) {
		t.Fatalf("bodies after the upgrade:\n%s", out.String())
	}
}

// Orders placed before destinations (migration 013) go to their customer's
// default address, so their deliveries still start: a copy of it, with the
// customer's name and phone where the address has none; a cancelled order
// and one whose customer has no address keep none (issue 28).
func TestUpgradeGivesOrdersTheirAddress(t *testing.T) {
	t.Parallel()
	url, conn := migratedTo(t, 12)
	// As customer register and order place made them before 013.
	_, err := conn.Exec(ctx, `INSERT INTO customer (name, phone) VALUES ('김토끼', '010-1234-5678'), ('박거북', NULL);
		INSERT INTO address (customer_id, zip_code, line1, is_default) VALUES (1, '04524', '서울 중구 세종대로 110', true);
		INSERT INTO orders (order_uuid, customer_id, status, total_amount) VALUES
			(gen_random_uuid(), 1, 'paid', 1000), (gen_random_uuid(), 1, 'cancelled', 1000), (gen_random_uuid(), 2, 'paid', 1000)`)
	a := upgraded(t, conn, url, err)
	for id, want := range map[int64]string{1: "김토끼 010-1234-5678 04524 서울 중구 세종대로 110", 2: "none", 3: "none"} {
		o, err := a.Order(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		got := "none"
		if s := o.ShipTo; s != nil {
			got = strings.Join([]string{s.Recipient, s.Phone, s.ZipCode, s.Line1}, " ")
		}
		if got != want {
			t.Errorf("order %d after the upgrade: ship to %s, want %s", id, got, want)
		}
	}
}
