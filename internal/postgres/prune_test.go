package postgres_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rabbitpay/rabbitpay/internal/postgres"
	"github.com/rabbitpay/rabbitpay/internal/testdb"
)

// A prune batch finds the oldest prunable rows through an index, not by
// scanning the table: with 20,000 recent rows of each kind and 100 old ones,
// each batch's plan reads its index (migration 009) and never the whole
// table it prunes.
func TestPruneBatchesUseIndexes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, testdb.Direct(t, testdb.New(t)))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `
		INSERT INTO notification (kind, payload, created_at, sent_at, dead_at)
			SELECT 'order.placed', '{}', now() - make_interval(days => d), CASE WHEN i % 50 <> 0 THEN now() - make_interval(days => d) END,
				CASE WHEN i % 50 = 0 THEN now() - make_interval(days => d) END
			FROM generate_series(1, 20100) i, LATERAL (SELECT CASE WHEN i <= 100 THEN 200 ELSE 1 END AS d) a;
		INSERT INTO idempotency_key (key, request_hash, order_uuid, created_at)
			SELECT 'k' || i, 'h', gen_random_uuid(), now() - make_interval(days => CASE WHEN i <= 100 THEN 200 ELSE 1 END)
			FROM generate_series(1, 20100) i;
		INSERT INTO payment_call (order_uuid, call, outcome, detail, duration_ms, at)
			SELECT gen_random_uuid(), 'pay', 'ok', '', 1, now() - make_interval(days => CASE WHEN i <= 100 THEN 200 ELSE 1 END)
			FROM generate_series(1, 20100) i;
		INSERT INTO saga (order_uuid, customer_id, method, items, total_amount, state, step, history, created_at, updated_at)
			SELECT gen_random_uuid(), 1, 'KAKAO', '[]', 1000, 'completed', 'done', '[{"name": "payment"}]',
				now() - make_interval(days => d), now() - make_interval(days => d)
			FROM generate_series(1, 20100) i, LATERAL (SELECT CASE WHEN i <= 100 THEN 200 ELSE 1 END AS d) a;
		ANALYZE notification, idempotency_key, payment_call, saga`); err != nil {
		t.Fatal(err)
	}
	cut := time.Now().Add(-90 * 24 * time.Hour)
	for kind, ix := range map[string][2]string{"notifications": {"notification", "notification_done"},
		"idempotency_keys": {"idempotency_key", "idempotency_key_created"}, "payment_calls": {"payment_call", "payment_call_at"},
		"saga_histories": {"saga", "saga_history_done"}} {
		table, index := ix[0], ix[1]
		rows, err := conn.Query(ctx, "EXPLAIN "+postgres.PruneBatchSQL(kind), cut, 5000)
		if err != nil {
			t.Fatal(err)
		}
		lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		plan := strings.Join(lines, "\n")
		if !strings.Contains(plan, index) || strings.Contains(plan, "Seq Scan on "+table+" ") || strings.Contains(plan, "Seq Scan on "+table+"\n") {
			t.Errorf("%s: the batch does not go through %s:\n%s", kind, index, plan)
		}
	}
}
