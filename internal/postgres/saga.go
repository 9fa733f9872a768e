package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/rabbitpay/rabbitpay/internal/shop"
)

// Saga states.
const (
	SagaRunning      = "running"
	SagaCompensating = "compensating"
	SagaCompleted    = "completed"
	SagaCompensated  = "compensated"
	SagaFailed       = "failed" // failed before changing anything
	SagaCancelling   = "cancelling"
	SagaCancelled    = "cancelled"
)

// SagaRecord is one row of the durable saga log.
type SagaRecord struct {
	OrderUUID     string           `json:"order_uuid"`
	CustomerID    int64            `json:"customer_id"`
	Method        string           `json:"method"`
	Items         []shop.Line      `json:"items"`
	TotalAmount   shop.Won         `json:"total_amount"`
	FromCart      bool             `json:"from_cart"`
	PaymentID     *int64           `json:"payment_id"`
	OrderID       *int64           `json:"order_id"`
	State         string           `json:"state"`
	Step          string           `json:"step"`
	StockReduced  bool             `json:"stock_reduced"`
	StockRestored bool             `json:"stock_restored"`
	Error         string           `json:"error,omitempty"`
	History       []shop.SagaEvent `json:"history"`
	CreatedAt     time.Time        `json:"created_at"`
	UpdatedAt     time.Time        `json:"updated_at"`
}

// ErrSagaBusy means another live process holds the saga's lock.
var ErrSagaBusy = errors.New("saga is held by a live process")

// ErrKeyUsed means the idempotency key already names an order.
var ErrKeyUsed = errors.New("idempotency key already used")

// SagaSession is one connection holding a saga's advisory lock; every write
// of the saga goes through it. The lock dies with the connection, so a
// crashed process never blocks `saga recover`.
type SagaSession struct {
	conn     *pgxpool.Conn
	UUID     string
	unlocked bool // CreateOrder released the lock after its commit
}

// NewSagaSession reserves a connection for a new saga; Start takes its lock
// in the same round trip as the saga's first transaction.
func (s *Store) NewSagaSession(ctx context.Context, uuid string) (*SagaSession, error) {
	conn, err := s.Pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	return &SagaSession{conn: conn, UUID: uuid}, nil
}

// sagaLockGrace is how long LockSaga without wait keeps trying: the server
// session of a process killed a moment ago can hold the lock until the
// server notices the closed connection.
const sagaLockGrace = 2 * time.Second

// LockSaga takes the saga's lock on a dedicated connection. With wait false it
// returns ErrSagaBusy if the lock is still held after sagaLockGrace.
func (s *Store) LockSaga(ctx context.Context, uuid string, wait bool) (*SagaSession, error) {
	conn, err := s.Pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	ok := true
	if wait {
		_, err = conn.Exec(ctx, `SELECT pg_advisory_lock(hashtextextended($1, 0))`, uuid)
	} else {
		for deadline := time.Now().Add(sagaLockGrace); ; time.Sleep(50 * time.Millisecond) {
			err = conn.QueryRow(ctx, `SELECT pg_try_advisory_lock(hashtextextended($1, 0))`, uuid).Scan(&ok)
			if err != nil || ok || time.Now().After(deadline) {
				break
			}
		}
	}
	if err != nil || !ok {
		conn.Release()
		if err == nil {
			err = ErrSagaBusy
		}
		return nil, err
	}
	return &SagaSession{conn: conn, UUID: uuid}, nil
}

// Release drops the lock and returns the connection (or closes it when the
// unlock fails, which also drops the lock).
func (ss *SagaSession) Release() {
	if ss.unlocked {
		ss.conn.Release()
		return
	}
	if _, err := ss.conn.Exec(context.Background(), `SELECT pg_advisory_unlock(hashtextextended($1, 0))`, ss.UUID); err != nil {
		ss.conn.Conn().Close(context.Background())
	}
	ss.conn.Release()
}

// batch runs queued statements as one implicit transaction in one round trip.
func (ss *SagaSession) batch(ctx context.Context, b *pgx.Batch) error {
	return ss.conn.SendBatch(ctx, b).Close()
}

func lineArrays(lines []shop.Line) (ids, qtys, prices []int64) {
	for _, l := range lines {
		ids = append(ids, l.ProductID)
		qtys = append(qtys, l.Quantity)
		prices = append(prices, int64(l.Price))
	}
	return
}

// Start is the saga's first transaction: it takes the saga's lock (before its
// row is visible to anyone), claims the idempotency key (if any), writes the
// saga log, reduces the stock of every item (all or none) and commits a
// PROGRESS payment, before any provider is called. One round trip.
func (ss *SagaSession) Start(ctx context.Context, r *SagaRecord, key, requestHash string, ev shop.SagaEvent) error {
	ids, qtys, _ := lineArrays(r.Items)
	b := &pgx.Batch{}
	if key != "" { // first, so a reused key is found before anything else can fail
		b.Queue(`INSERT INTO idempotency_key (key, request_hash, order_uuid) VALUES ($1, $2, $3)`, key, requestHash, r.OrderUUID)
	}
	// One statement: lock, take the stock (all or none), then the PROGRESS payment and the log.
	b.Queue(`WITH locked AS (SELECT pg_advisory_lock(hashtextextended($8, 0))),
		stock AS (SELECT reduce_stock($9, $10) FROM locked),
		p AS (INSERT INTO payment (order_uuid, method, status, amount) SELECT $1, $3, 'PROGRESS', $5 FROM stock RETURNING id)
		INSERT INTO saga (order_uuid, customer_id, method, items, total_amount, from_cart, payment_id, state, step, stock_reduced, history)
		SELECT $1, $2, $3, $4, $5, $6, p.id, 'running', 'payment', true, $7 FROM p RETURNING payment_id`,
		r.OrderUUID, r.CustomerID, r.Method, r.Items, r.TotalAmount, r.FromCart, []shop.SagaEvent{ev}, r.OrderUUID, ids, qtys).
		QueryRow(func(row pgx.Row) error { return row.Scan(&r.PaymentID) })
	err := ss.batch(ctx, b)
	switch {
	case code(err) == "23505" && constraint(err) == "idempotency_key_pkey":
		return ErrKeyUsed
	case code(err) == "P0001":
		return shop.Conflict("%s", pgMessage(err))
	}
	return err
}

// RecordFailedStart logs a saga that failed before changing anything. It
// uses the session's connection: a saga never holds two at once, so a full
// pool cannot deadlock.
func (ss *SagaSession) RecordFailedStart(ctx context.Context, r *SagaRecord, cause string, ev shop.SagaEvent) error {
	_, err := ss.conn.Exec(ctx, `INSERT INTO saga (order_uuid, customer_id, method, items, total_amount, from_cart, state, step, error, history)
		VALUES ($1, $2, $3, $4, $5, $6, 'failed', 'reduce_stock', $7, $8) ON CONFLICT (order_uuid) DO NOTHING`,
		r.OrderUUID, r.CustomerID, r.Method, r.Items, r.TotalAmount, r.FromCart, cause, []shop.SagaEvent{ev})
	return err
}

// CreatedOrder is what CreateOrder made.
type CreatedOrder struct {
	ID, PaymentID int64
	ItemIDs       []int64 // order_product ids, in the saga's item order
	At            time.Time
}

// CreateOrder is the saga's last transaction: it records the payment's
// success, creates the order and its items (price snapshot), empties the
// ordered items from the cart, queues the notifications in the outbox and
// completes the saga, all at once; after the commit, in the same round trip,
// it releases the saga's lock.
func (ss *SagaSession) CreateOrder(ctx context.Context, r *SagaRecord, providerTxID string, events []shop.SagaEvent) (CreatedOrder, error) {
	ids, qtys, prices := lineArrays(r.Items)
	b := &pgx.Batch{}
	var out CreatedOrder
	b.Queue(`BEGIN`)
	// One statement: each part sees the new order only through RETURNING.
	b.Queue(`WITH o AS (
			INSERT INTO orders (order_uuid, customer_id, status, total_amount) VALUES ($1, $2, 'paid', $3)
			RETURNING id, order_uuid, customer_id, total_amount, created_at),
		items AS (
			INSERT INTO order_product (order_id, product_id, quantity, order_price)
			SELECT o.id, t.pid, t.q, t.price FROM o, unnest($4::bigint[], $5::bigint[], $6::bigint[]) WITH ORDINALITY AS t(pid, q, price, n)
			ORDER BY t.n RETURNING id),
		paid AS (
			UPDATE payment SET status = 'SUCCESS', provider_tx_id = $7, paid_at = now(), order_id = (SELECT id FROM o)
			WHERE order_uuid = $1),
		cart AS (
			DELETE FROM cart_item WHERE $8 AND cart_id = (SELECT cart_id FROM cart WHERE customer_id = $2) AND product_id = ANY($4)),
		outbox AS (
			INSERT INTO notification (kind, customer_id, order_id, payload)
			SELECT k, o.customer_id, o.id, jsonb_build_object('order_uuid', o.order_uuid, 'order_id', o.id, 'total_amount', o.total_amount,
				'method', $9::text, 'provider_tx_id', $7::text)
			FROM o, unnest(ARRAY['order_placed', 'payment_succeeded']) AS k),
		done AS (
			UPDATE saga SET state = 'completed', step = 'done', order_id = (SELECT id FROM o), history = history || $10,
				updated_at = now() WHERE order_uuid = $1 RETURNING payment_id)
		SELECT o.id, o.created_at, (SELECT array_agg(id ORDER BY id) FROM items), (SELECT payment_id FROM done) FROM o`,
		r.OrderUUID, r.CustomerID, r.TotalAmount, ids, qtys, prices, providerTxID, r.FromCart, r.Method, events).
		QueryRow(func(row pgx.Row) error { return row.Scan(&out.ID, &out.At, &out.ItemIDs, &out.PaymentID) })
	b.Queue(`COMMIT`)
	b.Queue(`SELECT pg_advisory_unlock(hashtextextended($1, 0))`, r.OrderUUID)
	if err := ss.batch(ctx, b); err != nil {
		// The explicit transaction may be left aborted: end it so the session can go on.
		if ss.conn.Conn().PgConn().TxStatus() != 'I' {
			ss.conn.Exec(ctx, `ROLLBACK`)
		}
		return out, err
	}
	ss.unlocked = true
	return out, nil
}

// MarkCompensating records a failed step before compensation begins, so a
// crash from here on is recovered backward. A declined payment is recorded as
// FAILED with its reason, and a payment_failed notification is queued.
func (ss *SagaSession) MarkCompensating(ctx context.Context, cause string, declined *PaymentAnswer, events []shop.SagaEvent) error {
	b := &pgx.Batch{}
	b.Queue(`UPDATE saga SET state = 'compensating', error = $2, history = history || $3, updated_at = now() WHERE order_uuid = $1`,
		ss.UUID, cause, events)
	if declined != nil {
		queuePaymentOutcome(b, ss.UUID, shop.PaymentFailed, declined, "payment_failed")
	}
	return ss.batch(ctx, b)
}

// PaymentAnswer is what the provider said about a payment.
type PaymentAnswer struct {
	TxID   string
	Reason string
}

// queuePaymentOutcome settles a PROGRESS (or SUCCESS) payment as status and
// queues notification kind, once: a settled payment is left as it is.
func queuePaymentOutcome(b *pgx.Batch, uuid string, status shop.PaymentStatus, a *PaymentAnswer, kind string) {
	b.Queue(`WITH p AS (
			UPDATE payment SET status = $2, provider_tx_id = coalesce(NULLIF($3, ''), provider_tx_id),
				failure_reason = NULLIF($4, ''),
				cancelled_at = CASE WHEN $2 = 'CANCELLED' THEN now() END
			WHERE order_uuid = $1 AND status IN ('PROGRESS', 'SUCCESS') AND status <> $2
			RETURNING order_uuid, order_id, amount, method, provider_tx_id, failure_reason)
		INSERT INTO notification (kind, customer_id, order_id, payload)
		SELECT $5, s.customer_id, p.order_id, jsonb_build_object('order_uuid', p.order_uuid, 'amount', p.amount,
			'method', p.method, 'provider_tx_id', p.provider_tx_id, 'reason', p.failure_reason)
		FROM p JOIN saga s USING (order_uuid)`, uuid, string(status), a.TxID, a.Reason, kind)
}

// SettlePayment records the provider's final word on the payment (FAILED or
// CANCELLED) with its notification, and logs the compensation event.
func (ss *SagaSession) SettlePayment(ctx context.Context, status shop.PaymentStatus, a PaymentAnswer, kind string, ev shop.SagaEvent) error {
	b := &pgx.Batch{}
	queuePaymentOutcome(b, ss.UUID, status, &a, kind)
	b.Queue(`UPDATE saga SET history = history || $2, updated_at = now() WHERE order_uuid = $1`, ss.UUID, []shop.SagaEvent{ev})
	return ss.batch(ctx, b)
}

// RestoreStock gives the saga's items back unless that was done already, and
// returns how many products it restored.
func (ss *SagaSession) RestoreStock(ctx context.Context, ev shop.SagaEvent) (int, error) {
	var n int
	err := ss.conn.QueryRow(ctx, `SELECT restore_stock($1, $2)`, ss.UUID, []shop.SagaEvent{ev}).Scan(&n)
	return n, err
}

// Finish sets the saga's final (or stuck) state and appends events.
func (ss *SagaSession) Finish(ctx context.Context, state, cause string, events []shop.SagaEvent) error {
	_, err := ss.conn.Exec(ctx, `UPDATE saga SET state = $2, error = coalesce(NULLIF($3, ''), error),
		history = history || coalesce($4::jsonb, '[]'::jsonb), updated_at = now() WHERE order_uuid = $1`, ss.UUID, state, cause, events)
	return err
}

// Load reads the saga this session holds.
func (ss *SagaSession) Load(ctx context.Context) (SagaRecord, error) {
	return scanSaga(ss.conn.QueryRow(ctx, sagaSelect+` WHERE order_uuid = $1`, ss.UUID))
}

const sagaSelect = `SELECT order_uuid::text, customer_id, method, items, total_amount, from_cart, payment_id, order_id, state, step,
	stock_reduced, stock_restored, coalesce(error, ''), history, created_at, updated_at FROM saga`

func scanSaga(row pgx.Row) (SagaRecord, error) {
	var r SagaRecord
	var items, history []byte
	err := row.Scan(&r.OrderUUID, &r.CustomerID, &r.Method, &items, &r.TotalAmount, &r.FromCart, &r.PaymentID, &r.OrderID,
		&r.State, &r.Step, &r.StockReduced, &r.StockRestored, &r.Error, &history, &r.CreatedAt, &r.UpdatedAt)
	if err != nil {
		return r, err
	}
	if err := json.Unmarshal(items, &r.Items); err != nil {
		return r, err
	}
	return r, json.Unmarshal(history, &r.History)
}

// GetSaga reads one saga by order UUID.
func (s *Store) GetSaga(ctx context.Context, uuid string) (SagaRecord, error) {
	r, err := scanSaga(s.Pool.QueryRow(ctx, sagaSelect+` WHERE order_uuid = $1::uuid`, uuid))
	if errors.Is(err, pgx.ErrNoRows) {
		return r, shop.NotFound("no saga has order UUID %q", uuid)
	}
	return r, err
}

// ListSagas lists sagas, newest first; unfinished only when asked.
func (s *Store) ListSagas(ctx context.Context, unfinished bool) ([]SagaRecord, error) {
	q := sagaSelect
	if unfinished {
		q += ` WHERE state IN ('running', 'compensating', 'cancelling')`
	}
	rows, err := s.Pool.Query(ctx, q+` ORDER BY created_at DESC`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (SagaRecord, error) { return scanSaga(r) })
}

// IdempotentOrder returns the order UUID and request hash a key was used for.
func (s *Store) IdempotentOrder(ctx context.Context, key string) (uuid, hash string, err error) {
	err = s.Pool.QueryRow(ctx, `SELECT order_uuid::text, request_hash FROM idempotency_key WHERE key = $1`, key).Scan(&uuid, &hash)
	return uuid, hash, err
}

func pgMessage(err error) string {
	if m := messageOf(err); m != "" {
		return m
	}
	return err.Error()
}
