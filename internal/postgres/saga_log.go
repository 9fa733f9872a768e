package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rabbitpay/rabbitpay/internal/shop"
)

// ErrSagaBusy means another process holds the saga's lease (or it is not in a
// state the caller can take it over from).
var ErrSagaBusy = errors.New("saga is held by a live process")

// SagaLog is one process's ownership of one saga: the saga's order UUID and
// the owner (fencing) token it holds. It holds no connection and no session
// state. Every write first calls saga_fence, which renews the lease and
// refuses to go on when the token has moved on (shop.ErrFenced), in the same
// transaction as the write, so a process whose saga was taken over changes
// nothing more.
type SagaLog struct {
	s     *Store
	UUID  string
	Token int64
	// calls are provider calls not yet recorded: the next write records them.
	calls []shop.PaymentCall
}

// RecordCall notes a provider call made for the saga; the log's next write
// records it, in the same transaction.
func (l *SagaLog) RecordCall(c shop.PaymentCall) { l.calls = append(l.calls, c) }

// OrderUUID names the saga this log owns.
func (l *SagaLog) OrderUUID() string { return l.UUID }

// jsonText encodes v for a jsonb parameter as text. Behind a transaction
// pooler pgx runs in exec mode, where the server does not describe parameter
// types: pgx has no plan for a slice of structs and would send []byte as
// bytea; a string goes as text of unknown type, read as jsonb, in every mode.
func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("encode %T: %v", v, err)) // only plain structs are encoded
	}
	return string(b)
}

// shipToParam passes where an order goes as JSON text, nil (NULL) for nowhere.
func shipToParam(t *shop.ShipTo) *string {
	if t == nil {
		return nil
	}
	s := jsonText(t)
	return &s
}

func events(evs ...shop.SagaEvent) string {
	if evs == nil {
		evs = []shop.SagaEvent{}
	}
	return jsonText(evs)
}

// FenceSQL checks that saga $1 is still owned by token $2 and sets its lease
// to $3 from now (NULL drops it).
const FenceSQL = `SELECT saga_fence($1, $2, $3)`

// fence queues the ownership check that starts every saga write. lease nil
// drops the lease (the saga is finished); 0 lets it expire now.
// It also queues the provider calls made since the last write.
func (l *SagaLog) fence(b *pgx.Batch, lease *time.Duration) {
	b.Queue(FenceSQL, l.UUID, l.Token, lease)
	if len(l.calls) > 0 {
		queueCalls(b, l.UUID, l.calls)
	}
}

// batch sends b as one implicit transaction in one round trip.
func (l *SagaLog) batch(ctx context.Context, what string, b *pgx.Batch) error {
	ctx, cancel := l.s.bound(ctx)
	defer cancel()
	err := writeErr(what, l.s.Pool.SendBatch(ctx, b).Close())
	if err == nil {
		l.calls = nil
	}
	return err
}

func (l *SagaLog) lease() *time.Duration { d := l.s.Lease; return &d }

// bound is ctx under CommitWait, when set: a saga write that waits for a
// synchronous backup stream longer than that is cut off (its outcome unknown).
func (s *Store) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	if s.CommitWait > 0 {
		return context.WithTimeout(ctx, s.CommitWait)
	}
	return ctx, func() {}
}

// send sends the batch build makes, once more on a fresh connection when the
// first was found dead before anything ran (a pooled connection the server
// had ended: restarted, idle timeout, terminated).
func (s *Store) send(ctx context.Context, what string, build func(*pgx.Batch)) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	b := &pgx.Batch{}
	build(b)
	err := s.Pool.SendBatch(ctx, b).Close()
	if deadBeforeRunning(err) && ctx.Err() == nil {
		b = &pgx.Batch{}
		build(b)
		err = s.Pool.SendBatch(ctx, b).Close()
	}
	return writeErr(what, err)
}

// write sends the fenced batch build makes. When its outcome is unknown (the
// connection was lost mid-commit), it resolves the doubt instead of
// reporting it: it takes the saga over from itself (bumping the token, which
// waits for and then fences out the lost transaction), reads the record and
// asks done whether the write took effect; if not, it writes once more.
func (l *SagaLog) write(ctx context.Context, what string, build func(*pgx.Batch), done func(shop.SagaRecord) bool) error {
	err := l.write1(ctx, what, build, done)
	if err == nil {
		l.calls = nil
	}
	return err
}

func (l *SagaLog) write1(ctx context.Context, what string, build func(*pgx.Batch), done func(shop.SagaRecord) bool) error {
	err := l.s.send(ctx, what, build)
	if err == nil || done == nil || !errors.Is(err, shop.ErrIncomplete) || errors.Is(err, shop.ErrFenced) {
		return err
	}
	rec, rerr := l.resolve(ctx)
	if rerr != nil {
		if errors.Is(rerr, shop.ErrFenced) {
			return rerr
		}
		return err
	}
	if done(rec) {
		if !rec.State.Unfinished() { // resolve took a lease a finished saga must not keep
			b := &pgx.Batch{}
			l.fence(b, nil)
			l.batch(ctx, "the lease release", b)
		}
		return nil
	}
	return l.s.send(ctx, what, build)
}

// resolve bumps this process's own token: the row lock makes it wait for any
// transaction of ours still in flight, and the new token refuses one not yet
// begun, so the record it returns is the final word.
func (l *SagaLog) resolve(ctx context.Context) (shop.SagaRecord, error) {
	ctx, cancel := l.s.bound(ctx)
	defer cancel()
	rec, err := scanSaga(l.s.Pool.QueryRow(ctx, `UPDATE saga SET owner_token = owner_token + 1, lease_until = now() + $3::interval
		WHERE order_uuid = $1 AND owner_token = $2 RETURNING `+sagaCols, l.UUID, l.Token, l.s.Lease))
	if IsNoRows(err) {
		b := &pgx.Batch{}
		l.fence(b, l.lease()) // says whether the saga was taken over or does not exist
		if err = l.batch(ctx, "the saga's ownership", b); err == nil {
			err = fmt.Errorf("saga %s: ownership could not be confirmed", l.UUID)
		}
		return rec, err
	}
	if err != nil {
		return rec, err
	}
	l.Token = rec.OwnerToken
	return rec, nil
}

// logged reports whether the saga's history holds ev.
func logged(ev shop.SagaEvent) func(shop.SagaRecord) bool {
	return func(r shop.SagaRecord) bool {
		return slices.ContainsFunc(r.History, func(h shop.SagaEvent) bool { return h.At.Equal(ev.At) && h.Name == ev.Name })
	}
}

func inState(s shop.SagaState) func(shop.SagaRecord) bool {
	return func(r shop.SagaRecord) bool { return r.State == s }
}

func lineArrays(lines []shop.Line) (ids, qtys, prices []int64) {
	for _, l := range lines {
		ids = append(ids, l.ProductID)
		qtys = append(qtys, l.Quantity)
		prices = append(prices, int64(l.Price))
	}
	return
}

// StartSagaSQL is the saga's first statement: take the stock (all or none),
// then the payment (waiting: PROGRESS) and the log (running). $1 order
// UUID, $2 customer, $3 method, $4 items (JSON), $5 total, $6 from the cart,
// $7 the first events, $8 and $9 product ids and quantities, $10 owner
// token, $11 lease, $12 the payment's status, $13 the saga's state, $14
// where the order goes (JSON, NULL for nowhere) and $15 pickup.
const StartSagaSQL = `WITH stock AS (SELECT reduce_stock($8, $9)),
		p AS (INSERT INTO payment (order_uuid, method, status, amount) SELECT $1, $3, $12, $5 FROM stock RETURNING id)
		INSERT INTO saga (order_uuid, customer_id, method, items, total_amount, from_cart, payment_id, state, step, stock_reduced,
			history, owner_token, lease_until, ship_to, pickup)
		SELECT $1, $2, $3, $4, $5, $6, p.id, $13, 'payment', true, $7, $10, now() + $11::interval, $14, $15 FROM p RETURNING payment_id`

// StartSaga is the saga's first transaction: it claims the idempotency key
// (if any), writes the saga log owned by the returned SagaLog with a fresh
// lease, reduces the stock of every item (all or none) and commits a PROGRESS
// payment, before any provider is called. One round trip.
func (s *Store) StartSaga(ctx context.Context, r *shop.SagaRecord, key, requestHash string, ev shop.SagaEvent) (*SagaLog, error) {
	l := &SagaLog{s: s, UUID: r.OrderUUID, Token: 1}
	ids, qtys, _ := lineArrays(r.Items)
	err := s.send(ctx, "the stock reservation", func(b *pgx.Batch) {
		if key != "" { // first, so a reused key is found before anything else can fail
			b.Queue(`INSERT INTO idempotency_key (key, request_hash, order_uuid) VALUES ($1, $2, $3)`, key, requestHash, r.OrderUUID)
		}
		b.Queue(StartSagaSQL, r.OrderUUID, r.CustomerID, r.Method, jsonText(r.Items), r.TotalAmount, r.FromCart, events(ev), ids, qtys, l.Token, s.Lease,
			shop.PaymentProgress, shop.SagaRunning, shipToParam(r.ShipTo), r.Pickup).
			QueryRow(func(row pgx.Row) error { return row.Scan(&r.PaymentID) })
	})
	if errors.Is(err, shop.ErrIncomplete) {
		// If the saga row exists, the transaction committed and is ours to go on with.
		if rec, rerr := l.resolve(ctx); rerr == nil {
			r.PaymentID = rec.PaymentID
			return l, nil
		}
	}
	return l, err
}

// RecordFailedStart logs a saga that failed before changing anything.
func (s *Store) RecordFailedStart(ctx context.Context, r *shop.SagaRecord, cause string, ev shop.SagaEvent) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	_, err := s.Pool.Exec(ctx, `INSERT INTO saga (order_uuid, customer_id, method, items, total_amount, from_cart, state, step, error, history)
		VALUES ($1, $2, $3, $4, $5, $6, $9, 'reduce_stock', $7, $8) ON CONFLICT (order_uuid) DO NOTHING`,
		r.OrderUUID, r.CustomerID, r.Method, jsonText(r.Items), r.TotalAmount, r.FromCart, cause, events(ev), shop.SagaFailed)
	return err
}

// AcquireSaga takes a saga over for this process: only when it is in one of
// states and no live owner holds its lease. It bumps the owner token, so the
// previous owner's writes are refused from now on, and never waits for a
// busy saga (ErrSagaBusy).
func (s *Store) AcquireSaga(ctx context.Context, uuid string, states []shop.SagaState) (*SagaLog, shop.SagaRecord, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	rec, err := scanSaga(s.Pool.QueryRow(ctx, `UPDATE saga SET owner_token = owner_token + 1, lease_until = now() + $3::interval
		WHERE order_uuid = (SELECT order_uuid FROM saga WHERE order_uuid = $1 AND state = ANY($2::text[]::saga_state[])
			AND (lease_until IS NULL OR lease_until < now()) FOR UPDATE SKIP LOCKED)
		RETURNING `+sagaCols, uuid, names(states), s.Lease))
	if IsNoRows(err) {
		return nil, rec, ErrSagaBusy
	}
	if err != nil {
		return nil, rec, err
	}
	return &SagaLog{s: s, UUID: uuid, Token: rec.OwnerToken}, rec, nil
}

// Renew extends the lease while the owner waits (on a provider).
func (l *SagaLog) Renew(ctx context.Context) error {
	b := &pgx.Batch{}
	// Not l.fence: provider calls are being recorded while the lease is renewed.
	b.Queue(`SELECT saga_fence($1, $2, $3)`, l.UUID, l.Token, l.lease())
	ctx, cancel := l.s.bound(ctx)
	defer cancel()
	return writeErr("the lease renewal", l.s.Pool.SendBatch(ctx, b).Close())
}

// Yield lets the lease expire now, so `saga recover` can take an unfinished
// saga over at once. Nothing depends on it: the lease expires on its own.
func (l *SagaLog) Yield(ctx context.Context) error {
	zero := time.Duration(0)
	b := &pgx.Batch{}
	l.fence(b, &zero)
	return l.batch(ctx, "the lease release", b)
}

// CreateOrderSQL is CreateOrder's statement: $11 is the new order's status
// (paid), $12 the payment's (SUCCESS), $13 the saga's (completed), $14
// the states it completes from, $15 where the order goes (the saga's copy
// of the address) and $16 pickup. Each part sees the new order only through
// RETURNING. Made once: the text is long, and pgx looks its
// prepared statement up by it.
var CreateOrderSQL = `WITH o AS (
		INSERT INTO orders (order_uuid, customer_id, status, total_amount, ship_to, pickup) VALUES ($1, $2, $11, $3, $15, $16)
		RETURNING id, order_uuid, customer_id, total_amount, created_at),
	items AS (
		INSERT INTO order_product (order_id, product_id, quantity, order_price)
		SELECT o.id, t.pid, t.q, t.price FROM o, unnest($4::bigint[], $5::bigint[], $6::bigint[]) WITH ORDINALITY AS t(pid, q, price, n)
		ORDER BY t.n RETURNING id),
	paid AS (
		UPDATE payment SET status = $12, provider_tx_id = $7, paid_at = now(), order_id = (SELECT id FROM o)
		WHERE order_uuid = $1),
	cart AS (
		DELETE FROM cart_item WHERE $8 AND cart_id = (SELECT cart_id FROM cart WHERE customer_id = $2) AND product_id = ANY($4)),
	-- order.placed and payment.succeeded, made in Go; the order's id is the database's.
	outbox AS (` + QueueEvents(`$10::jsonb`, `SELECT customer_id, id AS order_id, jsonb_build_object('order_id', id) AS facts FROM o`) + `),
	done AS (
		UPDATE saga SET state = $13, step = 'done', order_id = (SELECT id FROM o), history = history || $9::jsonb,
			updated_at = now() WHERE order_uuid = $1 AND state = ANY($14::text[]::saga_state[]) RETURNING payment_id)
	SELECT o.id, o.created_at, (SELECT array_agg(id ORDER BY id) FROM items), (SELECT payment_id FROM done),
		(SELECT name FROM customer WHERE id = $2) FROM o`

// CreateOrder is the saga's last transaction: it records the payment's
// success, creates the order and its items (price snapshot), empties the
// ordered items from the cart, queues the notifications in the outbox and
// completes the saga (dropping its lease), all at once.
func (l *SagaLog) CreateOrder(ctx context.Context, r *shop.SagaRecord, providerTxID string, evs []shop.SagaEvent) (shop.CreatedOrder, error) {
	ids, qtys, prices := lineArrays(r.Items)
	var out shop.CreatedOrder
	build := func(b *pgx.Batch) {
		l.fence(b, nil)
		b.Queue(CreateOrderSQL,
			r.OrderUUID, r.CustomerID, r.TotalAmount, ids, qtys, prices, providerTxID, r.FromCart, events(evs...),
			EventsParam(shop.OrderPlacedEvents(*r, providerTxID)...),
			shop.OrderPaid, shop.PaymentSuccess, shop.SagaCompleted, names(shop.MovesTo(shop.SagaCompleted)), shipToParam(r.ShipTo), r.Pickup).
			QueryRow(func(row pgx.Row) error {
				return row.Scan(&out.ID, &out.At, &out.ItemIDs, &out.PaymentID, &out.CustomerName)
			})
	}
	err := l.write(ctx, "the order's creation", build, inState(shop.SagaCompleted))
	if err == nil && out.ID == 0 { // it had committed before the connection was lost: read what it made
		err = l.s.Pool.QueryRow(ctx, `SELECT o.id, o.created_at, array_agg(op.id ORDER BY op.id), s.payment_id, c.name
			FROM orders o JOIN order_product op ON op.order_id = o.id JOIN saga s USING (order_uuid) JOIN customer c ON c.id = o.customer_id
			WHERE o.order_uuid = $1 GROUP BY o.id, s.payment_id, c.name`, l.UUID).Scan(&out.ID, &out.At, &out.ItemIDs, &out.PaymentID, &out.CustomerName)
	}
	return out, err
}

// MarkCompensating records a failed step before compensation begins, so a
// crash from here on is recovered backward. A declined payment is recorded as
// FAILED with its reason, and payment.failed is queued.
func (l *SagaLog) MarkCompensating(ctx context.Context, cause string, declined *shop.PaymentOutcome, evs []shop.SagaEvent) error {
	moved := false
	err := l.write(ctx, "the saga log", func(b *pgx.Batch) {
		l.fence(b, l.lease())
		b.Queue(`WITH u AS (UPDATE saga SET state = $5, error = $2, history = history || $3::jsonb, updated_at = now()
			WHERE order_uuid = $1 AND state = ANY($4::text[]::saga_state[]) RETURNING 1) SELECT EXISTS (SELECT FROM u)`,
			l.UUID, cause, events(evs...), names(shop.MovesTo(shop.SagaCompensating)), shop.SagaCompensating).QueryRow(func(row pgx.Row) error { return row.Scan(&moved) })
		if declined != nil {
			queuePaymentOutcome(b, l.UUID, *declined, shop.SettledKind(declined.Status))
		}
	}, inState(shop.SagaCompensating))
	if err == nil && !moved {
		if rec, rerr := l.Load(ctx); rerr != nil || rec.State != shop.SagaCompensating {
			return fmt.Errorf("saga %s is %s: it cannot be compensated", l.UUID, rec.State)
		}
	}
	return err
}

// queuePaymentOutcome settles the payment as o.Status (from a status
// shop.PaymentMovesTo allows, while its saga is undoing) and queues
// notification kind, once: a settled payment is left as it is. A refund
// (CANCELLED) gives back the whole amount, and its event tells what it gave
// back now: what partial refunds left.
func queuePaymentOutcome(b *pgx.Batch, uuid string, o shop.PaymentOutcome, kind shop.NotificationKind) {
	refund := o.Status == shop.PaymentCancelled
	b.Queue(`WITH before AS (SELECT refunded_amount FROM payment WHERE order_uuid = $1),
		p AS (
			UPDATE payment SET status = $2, provider_tx_id = coalesce(NULLIF($3, ''), provider_tx_id),
				refunded_amount = CASE WHEN $6 THEN amount ELSE refunded_amount END,
				failure_reason = NULLIF($4, ''),
				cancelled_at = CASE WHEN $6 THEN now() END
			WHERE order_uuid = $1 AND status = ANY($7::text[]::payment_status[])
				AND EXISTS (SELECT FROM saga WHERE order_uuid = $1 AND state = ANY($8::text[]::saga_state[]))
			RETURNING order_id, amount, refunded_amount, method, coalesce(provider_tx_id, '') AS tx)
		`+QueueEvents(`$5::jsonb`, `SELECT s.customer_id, p.order_id, jsonb_build_object(
			'amount', CASE WHEN $6 THEN p.amount - before.refunded_amount ELSE p.amount END,
			'method', p.method, 'provider_tx_id', p.tx) || CASE WHEN $6
				THEN jsonb_build_object('refunded_amount', p.refunded_amount) ELSE '{}' END AS facts
		FROM p, saga s, before WHERE s.order_uuid = $1`), uuid, o.Status, o.TxID, o.Reason, EventsParam(shop.PaymentSettled(kind, uuid, o)),
		refund, names(shop.PaymentMovesTo(o.Status)), names(shop.UndoingSagaStates))
}

// SettlePayment records the provider's final word on the payment (FAILED or
// CANCELLED) with its notification, and logs the compensation event.
func (l *SagaLog) SettlePayment(ctx context.Context, o shop.PaymentOutcome, kind shop.NotificationKind, ev shop.SagaEvent) error {
	return l.write(ctx, "the payment's settlement", func(b *pgx.Batch) {
		l.fence(b, l.lease())
		queuePaymentOutcome(b, l.UUID, o, kind)
		b.Queue(`UPDATE saga SET history = history || $2::jsonb, updated_at = now() WHERE order_uuid = $1`, l.UUID, events(ev))
	}, logged(ev))
}

// RestoreStock gives the saga's items back unless that was done already, and
// returns how many products it restored.
func (l *SagaLog) RestoreStock(ctx context.Context, ev shop.SagaEvent) (int, error) {
	var n int
	err := l.write(ctx, "the stock restore", func(b *pgx.Batch) {
		l.fence(b, l.lease())
		b.Queue(`SELECT restore_stock($1, $2::jsonb, $3)`, l.UUID, events(ev), names(shop.UndoingSagaStates)).QueryRow(func(row pgx.Row) error { return row.Scan(&n) })
	}, func(r shop.SagaRecord) bool { return r.StockRestored })
	return n, err
}

// Finish moves the saga to state (or leaves it in its unfinished state, with
// the lease released, when compensation is incomplete) and appends events.
func (l *SagaLog) Finish(ctx context.Context, state shop.SagaState, cause string, evs []shop.SagaEvent) error {
	moved := true // unless the statement says otherwise
	err := l.write(ctx, "the saga log", func(b *pgx.Batch) {
		if state.Unfinished() {
			zero := time.Duration(0)
			l.fence(b, &zero)
		} else {
			l.fence(b, nil)
		}
		b.Queue(`WITH u AS (UPDATE saga SET state = $2, error = coalesce(NULLIF($3, ''), error), history = history || $4::jsonb, updated_at = now()
			WHERE order_uuid = $1 AND (state = $2 OR state = ANY($5::text[]::saga_state[])) RETURNING 1) SELECT EXISTS (SELECT FROM u)`,
			l.UUID, state, cause, events(evs...), names(shop.MovesTo(state))).QueryRow(func(row pgx.Row) error { return row.Scan(&moved) })
	}, func(r shop.SagaRecord) bool { return r.State == state && !state.Unfinished() })
	if err != nil {
		return err
	}
	if !moved {
		return fmt.Errorf("saga %s cannot move to %s from its current state", l.UUID, state)
	}
	return nil
}

// BeginCancel checks that the order can be cancelled (shop.CheckCancel) and
// marks its saga cancelling, under the order's row lock. It returns done
// when the order was cancelled already.
func (l *SagaLog) BeginCancel(ctx context.Context, orderID int64, ev shop.SagaEvent) (done bool, err error) {
	err = pgx.BeginFunc(ctx, l.s.Pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT saga_fence($1, $2, $3)`, l.UUID, l.Token, l.lease()); err != nil {
			return err
		}
		o, err := lockOrder(ctx, tx, orderID)
		if err != nil {
			return err
		}
		if done, err = shop.CheckCancel(o); done || err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE saga SET state = $4, history = history || $2::jsonb, updated_at = now()
			WHERE order_uuid = $1 AND state = ANY($3::text[]::saga_state[])`, l.UUID, events(ev),
			names(shop.MovesTo(shop.SagaCancelling)), shop.SagaCancelling)
		return err
	})
	return done, writeErr("the cancel request", err)
}

// FinishCancel sets the order cancelled, queues order.cancelled and closes the saga.
func (l *SagaLog) FinishCancel(ctx context.Context, ev shop.SagaEvent) error {
	return l.write(ctx, "the cancellation", func(b *pgx.Batch) {
		l.fence(b, nil)
		b.Queue(`UPDATE orders SET status = $2, updated_at = now() WHERE order_uuid = $1 AND status = ANY($3::text[]::order_status[])`,
			l.UUID, shop.OrderCancelled, names(shop.OrderMovesTo(shop.OrderCancelled)))
		b.Queue(QueueEvents(`$2::jsonb`, `SELECT o.customer_id, o.id AS order_id,
				jsonb_build_object('order_id', o.id, 'total_amount', o.total_amount) AS facts
			FROM orders o JOIN saga s USING (order_uuid) WHERE o.order_uuid = $1 AND s.state = $3`),
			l.UUID, EventsParam(shop.OrderCancelledV1{OrderUUID: l.UUID}), shop.SagaCancelling)
		b.Queue(`UPDATE saga SET state = $3, history = history || $2::jsonb, updated_at = now()
			WHERE order_uuid = $1 AND state = ANY($4::text[]::saga_state[])`,
			l.UUID, events(ev), shop.SagaCancelled, names(shop.MovesTo(shop.SagaCancelled)))
	}, inState(shop.SagaCancelled))
}

// Load reads the saga this log owns.
func (l *SagaLog) Load(ctx context.Context) (shop.SagaRecord, error) {
	return l.s.GetSaga(ctx, l.UUID)
}
