package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/rabbitpay/rabbitpay/internal/shop"
)

// prunable is one kind of operational record `db prune` removes once it is
// older than the cut ($1): what selects it (from table t), the key its
// batches go by, the order they take it in (an index's), and what removing
// it means. Business records (orders, payments, refunds, deliveries) are
// never among them.
type prunable struct {
	kind, table, key, where, order, remove string
}

var prunables = []prunable{
	{ // sent and dead notifications: the receiver has them, or the operator gave up on them
		kind: "notifications", table: "notification", key: "id",
		where:  `(t.sent_at IS NOT NULL OR t.dead_at IS NOT NULL) AND coalesce(t.sent_at, t.dead_at) < $1`,
		order:  `coalesce(t.sent_at, t.dead_at)`,
		remove: `DELETE FROM notification`,
	},
	{ // idempotency keys, except those of a saga still unfinished (its retry must still find it)
		kind: "idempotency_keys", table: "idempotency_key", key: "key",
		where: `t.created_at < $1 AND NOT EXISTS (SELECT FROM saga s WHERE s.order_uuid = t.order_uuid
			AND s.state IN (` + lit(shop.UnfinishedSagaStates...) + `))`,
		order:  `t.created_at`,
		remove: `DELETE FROM idempotency_key`,
	},
	{ // sagas that failed before changing anything: no stock taken, no payment, no order, and no
		// idempotency key (RecordFailedStart's transaction never claimed one)
		kind: "failed_sagas", table: "saga", key: "order_uuid",
		where: `t.state = ` + lit(shop.SagaFailed) + ` AND t.updated_at < $1 AND NOT t.stock_reduced AND t.payment_id IS NULL AND t.order_id IS NULL
			AND t.lease_until IS NULL AND NOT EXISTS (SELECT FROM payment p WHERE p.order_uuid = t.order_uuid)`,
		order:  `t.updated_at`,
		remove: `DELETE FROM saga`,
	},
	{ // the detail of calls made to payment providers, except for payments still PROGRESS (reconcile's evidence)
		kind: "payment_calls", table: "payment_call", key: "id",
		where:  `t.at < $1 AND NOT EXISTS (SELECT FROM payment p WHERE p.order_uuid = t.order_uuid AND p.status = ` + lit(shop.PaymentProgress) + `)`,
		order:  `t.at`,
		remove: `DELETE FROM payment_call`,
	},
	{ // the step history of finished sagas: the row stays (cancel and refund need its items and payment);
		// never one owned (a lease) or with a refund in flight
		kind: "saga_histories", table: "saga", key: "order_uuid",
		where: `t.state IN (` + lit(shop.FinishedSagaStates...) + `) AND t.history <> '[]'::jsonb
			AND t.updated_at < $1 AND t.lease_until IS NULL
			AND NOT EXISTS (SELECT FROM order_refund r WHERE r.order_id = t.order_id AND r.state = ` + lit(shop.RefundRefunding) + `)`,
		order:  `t.updated_at`,
		remove: `UPDATE saga SET history = '[]'::jsonb`,
	},
}

// PruneKinds are the kinds of record Prune removes, in the order it removes them.
func PruneKinds() []string {
	out := make([]string, len(prunables))
	for i, p := range prunables {
		out[i] = p.kind
	}
	return out
}

// PruneCut is the database's now() less age: the cut every batch of one
// prune uses (the server's clock, not this machine's).
func (s *Store) PruneCut(ctx context.Context, age time.Duration) (time.Time, error) {
	var cut time.Time
	err := s.Pool.QueryRow(ctx, `SELECT now() - $1::interval`, age).Scan(&cut)
	return cut, err
}

func findPrunable(kind string) (prunable, error) {
	for _, p := range prunables {
		if p.kind == kind {
			return p, nil
		}
	}
	return prunable{}, fmt.Errorf("no prunable records of kind %q", kind)
}

// CountPrunable counts the records of kind older than cut.
func (s *Store) CountPrunable(ctx context.Context, kind string, cut time.Time) (int64, error) {
	p, err := findPrunable(kind)
	if err != nil {
		return 0, err
	}
	var n int64
	err = s.Pool.QueryRow(ctx, `SELECT count(*) FROM `+p.table+` t WHERE `+p.where, cut).Scan(&n)
	return n, err
}

// PruneBatch removes up to limit records of kind older than cut, oldest
// first, in one short transaction, and returns how many it removed. Rows
// another transaction holds (a sender, a cancel) are skipped, and each row
// is checked again once locked, so a record that changed meanwhile stays.
func (s *Store) PruneBatch(ctx context.Context, kind string, cut time.Time, limit int) (int64, error) {
	p, err := findPrunable(kind)
	if err != nil {
		return 0, err
	}
	tag, err := s.Pool.Exec(ctx, p.batchSQL(), cut, limit)
	return tag.RowsAffected(), err
}

// batchSQL removes up to $2 records older than $1, oldest first. The keys
// go as an array (= ANY), which the table's primary key finds: an IN
// (subquery) may be planned as a hash join over the whole table.
func (p prunable) batchSQL() string {
	return `WITH b AS (SELECT t.` + p.key + ` FROM ` + p.table + ` t WHERE ` + p.where + `
		ORDER BY ` + p.order + ` LIMIT $2 FOR UPDATE OF t SKIP LOCKED)
		` + p.remove + ` WHERE ` + p.key + ` = ANY (ARRAY(SELECT ` + p.key + ` FROM b))`
}
