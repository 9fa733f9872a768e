package app

import (
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/rabbitpay/rabbitpay/internal/shop"
)

// prunedTables fingerprints every table prune may not change: its row count
// and, for the saga log, the events it holds.
func (s *testShop) kept() map[string]int {
	out := map[string]int{}
	for _, tbl := range []string{"orders", "order_product", "payment", "order_refund", "delivery", "delivery_history", "saga",
		"sandbox_payment", "customer", "product"} {
		out[tbl] = s.count(`SELECT count(*) FROM ` + tbl)
	}
	return out
}

func (s *testShop) everything() map[string]int {
	out := s.kept()
	for _, tbl := range []string{"notification", "idempotency_key", "payment_call"} {
		out[tbl] = s.count(`SELECT count(*) FROM ` + tbl)
	}
	out["saga events"] = s.count(`SELECT coalesce(sum(jsonb_array_length(history)), 0) FROM saga`)
	return out
}

func (s *testShop) placeKeyed(key, item string) PlaceResult {
	s.t.Helper()
	res, err := s.a.PlaceOrder(ctx, PlaceRequest{CustomerID: 1, Method: shop.Kakao, Items: items(item), IdempotencyKey: key}, nil)
	if err != nil {
		s.t.Fatal(err)
	}
	return res
}

// db prune removes sent and dead notifications, idempotency keys,
// provider-call detail and finished sagas' histories older than the cut, and
// nothing else: not an order, payment, refund or delivery, not an unsent
// notification, nothing of an unfinished saga, nothing recent. A dry run
// counts the same and changes nothing; afterwards the old orders can still
// be shown, cancelled and recovered.
func TestPruneRemovesOnlyOldOperationalRecords(t *testing.T) {
	s := newShop(t)
	shipped := s.placeKeyed("k-shipped", "A:1")
	cancelled := s.placeKeyed("k-cancelled", "A:1")
	refunded := s.placeKeyed("k-refunded", "B:2")
	open := s.placeKeyed("", "B:1") // paid, never shipped: cancelled after the prune
	if declined := s.placeKeyed("k-declined", "GOLD:2"); declined.Status != Failed {
		t.Fatalf("declined order: %+v", declined)
	}
	s.start(shipped.Order.ID)
	if _, err := s.a.CancelOrder(ctx, cancelled.Order.ID, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.a.RefundOrder(ctx, RefundRequest{OrderID: refunded.Order.ID, Items: items("B:1"), IdempotencyKey: "r-1"}, nil); err != nil {
		t.Fatal(err)
	}
	// An unfinished saga (its refund keeps failing), with its key and PROGRESS-free payment calls.
	stuck, err := s.withFailpoints("create_order=error;refund=error").PlaceOrder(ctx,
		PlaceRequest{CustomerID: 1, Method: shop.Naver, Items: items("A:1"), IdempotencyKey: "k-stuck"}, nil)
	if err != nil || !stuck.Incomplete {
		t.Fatalf("stuck order: %+v %v", stuck, err)
	}
	// A PROGRESS payment whose provider calls reconcile still needs.
	progress := s.placeKeyed("", "A:1")
	s.count(`WITH u AS (UPDATE payment SET status = 'PROGRESS' WHERE order_uuid = $1 RETURNING 1) SELECT count(*) FROM u`, progress.OrderUUID)
	// The outbox: every notification sent but one unsent and one dead.
	s.count(`WITH u AS (UPDATE notification SET sent_at = now() RETURNING 1) SELECT count(*) FROM u`)
	unsent := s.count(`WITH u AS (UPDATE notification SET sent_at = NULL WHERE id = (SELECT min(id) FROM notification) RETURNING id) SELECT id FROM u`)
	dead := s.count(`WITH u AS (UPDATE notification SET sent_at = NULL, dead_at = now(), attempts = 8
		WHERE id = (SELECT max(id) FROM notification) RETURNING id) SELECT id FROM u`)

	// Everything so far is 100 days old.
	for _, q := range []string{
		`UPDATE notification SET created_at = created_at - interval '100 days', sent_at = sent_at - interval '100 days',
			dead_at = dead_at - interval '100 days'`,
		`UPDATE idempotency_key SET created_at = created_at - interval '100 days'`,
		`UPDATE payment_call SET at = at - interval '100 days'`,
		`UPDATE saga SET created_at = created_at - interval '100 days', updated_at = updated_at - interval '100 days'`,
	} {
		if _, err := s.a.db.Pool.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	// What is old and prunable, by construction.
	oldNotifications := s.count(`SELECT count(*) FROM notification`) - 1 // all but the unsent one
	oldKeys := s.count(`SELECT count(*) FROM idempotency_key`) - 1       // all but the stuck saga's
	// all but those of the PROGRESS payments (the stuck saga's never settled: its order was not created)
	oldCalls := s.count(`SELECT count(*) FROM payment_call WHERE order_uuid NOT IN ($1, $2)`, progress.OrderUUID, stuck.OrderUUID)
	oldSagas := s.count(`SELECT count(*) FROM saga`) - 1 // all but the stuck one
	if oldNotifications < 10 || oldKeys != 4 || oldCalls < 6 || oldSagas != 6 {
		t.Fatalf("set-up: %d notifications, %d keys, %d calls, %d sagas", oldNotifications, oldKeys, oldCalls, oldSagas)
	}
	// A recent order, its notifications sent just now.
	recent := s.placeKeyed("k-recent", "A:1")
	s.count(`WITH u AS (UPDATE notification SET sent_at = now() WHERE order_id = $1 RETURNING 1) SELECT count(*) FROM u`, recent.Order.ID)

	want := []shop.PruneCount{{Kind: "notifications", Rows: int64(oldNotifications)}, {Kind: "idempotency_keys", Rows: int64(oldKeys)}, {Kind: "failed_sagas"},
		{Kind: "payment_calls", Rows: int64(oldCalls)}, {Kind: "saga_histories", Rows: int64(oldSagas)}}
	before, kept := s.everything(), s.kept()
	dry, err := s.a.Prune(ctx, PruneOptions{Age: 90 * 24 * time.Hour, DryRun: true})
	if err != nil || !slices.Equal(dry.Counts, want) || !dry.DryRun {
		t.Fatalf("dry run: %+v %v, want %+v", dry, err, want)
	}
	if after := s.everything(); !maps.Equal(after, before) {
		t.Fatalf("the dry run changed the database: %v, was %v", after, before)
	}

	var reports int
	res, err := s.a.Prune(ctx, PruneOptions{Age: 90 * 24 * time.Hour, BatchSize: 3, Progress: func(string, int64, int64) { reports++ }})
	if err != nil || !slices.Equal(res.Counts, want) || res.DryRun {
		t.Fatalf("prune: %+v %v, want %+v", res, err, want)
	}
	if reports < oldNotifications/3 {
		t.Errorf("%d progress reports for batches of 3", reports)
	}
	if after := s.kept(); !maps.Equal(after, kept) {
		t.Fatalf("prune changed business records: %v, was %v", after, kept)
	}
	if got := s.strings(`SELECT id::text FROM notification WHERE order_id IS DISTINCT FROM $1 ORDER BY id`, recent.Order.ID); !slices.Equal(got, []string{itoa(int64(unsent))}) {
		t.Errorf("old notifications left %v, want only the unsent %d (dead %d pruned)", got, unsent, dead)
	}
	if n := s.count(`SELECT count(*) FROM notification WHERE order_id = $1`, recent.Order.ID); n == 0 {
		t.Errorf("the recent order's notifications were pruned")
	}
	if got := s.strings(`SELECT key FROM idempotency_key ORDER BY key`); !slices.Equal(got, []string{"k-recent", "k-stuck"}) {
		t.Errorf("idempotency keys left %v", got)
	}
	if n := s.count(`SELECT count(*) FROM payment_call WHERE order_uuid NOT IN ($1, $2, $3)`, progress.OrderUUID, stuck.OrderUUID, recent.OrderUUID); n != 0 {
		t.Errorf("%d old provider calls left", n)
	}
	if s.count(`SELECT count(*) FROM payment_call WHERE order_uuid = $1`, progress.OrderUUID) == 0 ||
		s.count(`SELECT count(*) FROM payment_call WHERE order_uuid = $1`, recent.OrderUUID) == 0 {
		t.Errorf("the PROGRESS payment's or the recent order's provider calls were pruned")
	}
	if got := s.strings(`SELECT state::text FROM saga WHERE history <> '[]' ORDER BY state`); !slices.Equal(got, []string{"compensating", "completed"}) {
		t.Errorf("sagas with a history left: %v, want the stuck one and the recent one", got)
	}

	// Pruning again finds nothing.
	if again, err := s.a.Prune(ctx, PruneOptions{Age: 90 * 24 * time.Hour}); err != nil || slices.ContainsFunc(again.Counts, func(c shop.PruneCount) bool { return c.Rows != 0 }) {
		t.Errorf("second prune: %+v %v", again, err)
	}
	// The old orders are still whole: shown, cancelled, recovered.
	if o, err := s.a.Order(ctx, shipped.Order.ID); err != nil || o.Status != shop.OrderPaid || len(o.Items) != 1 {
		t.Errorf("order show after prune: %+v %v", o, err)
	}
	if r, err := s.a.CancelOrder(ctx, open.Order.ID, nil); err != nil || r.Order == nil || r.Order.Status != shop.OrderCancelled {
		t.Errorf("cancel after prune: %+v %v", r, err)
	}
	out, err := s.a.RecoverSagas(ctx, 0, func(string) shop.Observer { return nil })
	if err != nil || len(out) != 1 || out[0].OrderUUID != stuck.OrderUUID || out[0].To != "compensated" {
		t.Errorf("recover after prune: %+v %v", out, err)
	}
}
