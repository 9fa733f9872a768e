package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rabbitpay/rabbitpay/internal/shop"
)

const notificationCols = `id, kind, customer_id, order_id, notification_message(kind, payload), payload, created_at, sent_at,
	attempts, CASE WHEN sent_at IS NULL AND dead_at IS NULL THEN next_attempt_at END, coalesce(last_error, ''), dead_at`

func scanNotification(row pgx.Row) (shop.Notification, error) {
	var n shop.Notification
	var payload []byte
	err := row.Scan(&n.ID, &n.Kind, &n.CustomerID, &n.OrderID, &n.Message, &payload, &n.CreatedAt, &n.SentAt,
		&n.Attempts, &n.NextAttemptAt, &n.LastError, &n.DeadAt)
	n.Payload = payload
	return n, err
}

// ListNotifications lists a page of the outbox, oldest first; After is the last id seen.
func (s *Store) ListNotifications(ctx context.Context, f shop.NotificationFilter, o shop.ListOptions) (shop.Page[shop.Notification], error) {
	rows, err := s.Pool.Query(ctx, `SELECT `+notificationCols+` FROM notification
		WHERE (NOT $1 OR sent_at IS NULL AND dead_at IS NULL) AND (NOT $2 OR dead_at IS NOT NULL)
		AND ($3 = 0 OR customer_id = $3) AND ($4 = '' OR kind = $4) AND id > $5
		ORDER BY id LIMIT $6`, f.Pending, f.Dead, f.CustomerID, string(f.Kind), o.After, limit(o))
	if err != nil {
		return shop.Page[shop.Notification]{}, err
	}
	ns, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (shop.Notification, error) { return scanNotification(r) })
	return page(ns, o), err
}

// SendNext claims the oldest due notification that no other sender holds
// (FOR UPDATE SKIP LOCKED: two senders never take the same one), hands it
// to deliver while holding its row lock, and records the outcome in the same
// transaction: sent, or the attempt, its error and the next attempt's time
// (backoff(attempts)); dead after maxAttempts. When the transaction does
// not commit (the process dies, Ctrl-C), the notification stays due: it is
// delivered at least once.
func (s *Store) SendNext(ctx context.Context, deliver func(context.Context, shop.Notification) error,
	backoff func(attempts int) time.Duration, maxAttempts int) (shop.SendAttempt, error) {
	var a shop.SendAttempt
	err := pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		a = shop.SendAttempt{}
		n, err := scanNotification(tx.QueryRow(ctx, `SELECT `+notificationCols+` FROM notification
			WHERE sent_at IS NULL AND dead_at IS NULL AND next_attempt_at <= now()
			ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED`))
		if IsNoRows(err) {
			return nil
		}
		if err != nil {
			return err
		}
		a.Found, a.N = true, n
		if a.Err = deliver(ctx, n); a.Err == nil {
			a.Sent = true
			_, err = tx.Exec(ctx, `UPDATE notification SET sent_at = now(), attempts = attempts + 1 WHERE id = $1`, n.ID)
			return err
		}
		if ctx.Err() != nil { // interrupted: not an attempt of the receiver's
			return ctx.Err()
		}
		return tx.QueryRow(ctx, `UPDATE notification SET attempts = attempts + 1, last_error = left($2, 500),
			next_attempt_at = now() + $3::interval, dead_at = CASE WHEN attempts + 1 >= $4 THEN now() END
			WHERE id = $1 RETURNING dead_at IS NOT NULL`, n.ID, a.Err.Error(), backoff(n.Attempts+1), maxAttempts).Scan(&a.Dead)
	})
	return a, err
}

// NextDue is when the next pending notification falls due (nil: none pending).
func (s *Store) NextDue(ctx context.Context) (*time.Time, error) {
	var t *time.Time
	err := s.Pool.QueryRow(ctx, `SELECT min(next_attempt_at) FROM notification WHERE sent_at IS NULL AND dead_at IS NULL`).Scan(&t)
	return t, err
}

// RetryNotification makes a dead or waiting notification due now with a
// fresh count of attempts; a sent one is refused.
func (s *Store) RetryNotification(ctx context.Context, id int64) (shop.Notification, error) {
	n, err := scanNotification(s.Pool.QueryRow(ctx, `UPDATE notification SET dead_at = NULL, attempts = 0, next_attempt_at = now()
		WHERE id = $1 AND sent_at IS NULL RETURNING `+notificationCols, id))
	if IsNoRows(err) {
		var sent bool
		if s.Pool.QueryRow(ctx, `SELECT true FROM notification WHERE id = $1`, id).Scan(&sent) == nil {
			return n, shop.Conflict("notification %d was sent already", id)
		}
		return n, shop.NotFound("no notification has id %d", id)
	}
	return n, err
}

// RetryDead makes every dead notification due again and returns how many.
func (s *Store) RetryDead(ctx context.Context) (int64, error) {
	tag, err := s.Pool.Exec(ctx, `UPDATE notification SET dead_at = NULL, attempts = 0, next_attempt_at = now() WHERE dead_at IS NOT NULL`)
	return tag.RowsAffected(), err
}

// Listener wakes a follower when a notification is written.
type Listener struct {
	conn  *pgx.Conn
	token string
	ttl   time.Duration
	done  func()
}

// Listen registers a follower (notification_follower: while one is
// registered, outbox inserts signal) and listens on a connection of its
// own. The registration lasts ttl unless Wait renews it.
func (s *Store) Listen(ctx context.Context, ttl time.Duration) (*Listener, error) {
	c, err := s.Pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	l := &Listener{conn: c.Conn(), ttl: ttl}
	l.done = func() {
		cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		l.conn.Exec(cctx, `DELETE FROM notification_follower WHERE token::text = $1 OR until < now()`, l.token)
		l.conn.Close(cctx) // a listening session goes back to no pool
		c.Release()
	}
	err = l.conn.QueryRow(ctx, `INSERT INTO notification_follower (token, until) VALUES (gen_random_uuid(), now() + $1::interval)
		RETURNING token::text`, ttl).Scan(&l.token)
	if err == nil {
		_, err = l.conn.Exec(ctx, `LISTEN rabbitpay_notification`)
	}
	if err != nil {
		l.done()
		return nil, err
	}
	return l, nil
}

// Wait renews the registration, then returns when a notification is
// written, d passes or ctx ends.
func (l *Listener) Wait(ctx context.Context, d time.Duration) error {
	if _, err := l.conn.Exec(ctx, `UPDATE notification_follower SET until = now() + $2::interval WHERE token = $1`, l.token, l.ttl); err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	_, err := l.conn.WaitForNotification(wctx)
	if wctx.Err() != nil && ctx.Err() == nil {
		return nil // the time passed
	}
	return err
}

// Close unregisters the follower and ends the listening connection.
func (l *Listener) Close() { l.done() }
