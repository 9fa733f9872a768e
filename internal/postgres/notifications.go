package postgres

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rabbitpay/rabbitpay/internal/shop"
)

const notificationCols = `id, kind, customer_id, order_id, payload, created_at, sent_at,
	attempts, CASE WHEN sent_at IS NULL AND dead_at IS NULL THEN next_attempt_at END, coalesce(last_error, ''), dead_at`

func scanNotification(row pgx.Row, more ...any) (shop.Notification, error) {
	var n shop.Notification
	var payload []byte
	err := row.Scan(append([]any{&n.ID, &n.Kind, &n.CustomerID, &n.OrderID, &payload, &n.CreatedAt, &n.SentAt,
		&n.Attempts, &n.NextAttemptAt, &n.LastError, &n.DeadAt}, more...)...)
	if err == nil {
		n.Payload, n.Message = payload, shop.EventMessage(n.Kind, payload)
	}
	return n, err
}

// ListNotifications lists a page of the outbox, oldest first; After is the last id seen.
func (s *Store) ListNotifications(ctx context.Context, f shop.NotificationFilter, o shop.ListOptions) (shop.Page[shop.Notification], error) {
	w := newFilters().
		when(f.Pending, "n.sent_at IS NULL AND n.dead_at IS NULL", "", nil).
		when(f.Dead, "n.dead_at IS NOT NULL", "", nil).
		when(f.CustomerID != 0, "n.customer_id = @customer", "customer", f.CustomerID).
		when(f.Kind != "", "n.kind = @kind", "kind", string(f.Kind))
	rows, err := s.Pool.Query(ctx, `SELECT `+notificationCols+` FROM notification n`+w.page("n", o, "n.id", false), w.args)
	if err != nil {
		return shop.Page[shop.Notification]{}, err
	}
	ns, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (shop.Notification, error) { return scanNotification(r) })
	return page(ns, o), err
}

// SendBatch claims up to size of the oldest due notifications no other
// sender holds, hands each to deliver, makes them durable with flush (nil:
// nothing to do), and records the outcomes: sent, or the attempt, its error
// and the next attempt's time (backoff(attempts)); dead after maxAttempts.
// A sink that is not durable until flushed (a file) takes a batch per claim
// and per record, two commits for size notifications; the webhook, whose
// every send is a delivery, takes size 1. No notifications due: none.
//
// The claim is committed before anything is sent (claimed_until, a token):
// for claim, no other sender takes the rows, even if this one's session ends
// mid-send (an idle-in-transaction timeout, a pooler, a failover), so a
// healthy receiver never gets one twice; only the claim's token records the
// outcome. claim must outlast delivering the batch (the webhook timeout,
// plus a margin). A process that dies before recording leaves the rows due
// again when the claim runs out: delivered at least once.
func (s *Store) SendBatch(ctx context.Context, size int, deliver func(context.Context, shop.Notification) error, flush func() error,
	backoff func(attempts int) time.Duration, maxAttempts int, claim time.Duration) ([]shop.SendAttempt, error) {
	var token string
	rows, err := s.Pool.Query(ctx, `UPDATE notification SET claimed_until = now() + $1::interval, claim_token = (SELECT gen_random_uuid())
		WHERE id IN (SELECT id FROM notification WHERE sent_at IS NULL AND dead_at IS NULL AND next_attempt_at <= now()
			AND (claimed_until IS NULL OR claimed_until < now()) ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED)
		RETURNING `+notificationCols+`, claim_token::text`, claim, size)
	if err != nil {
		return nil, err
	}
	ns, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (shop.Notification, error) { return scanNotification(r, &token) })
	if err != nil || len(ns) == 0 {
		return nil, err
	}
	slices.SortFunc(ns, func(a, b shop.Notification) int { return cmp.Compare(a.ID, b.ID) })
	out := make([]shop.SendAttempt, 0, len(ns))
	for _, n := range ns {
		if ctx.Err() != nil { // interrupted: the rest stays unsent
			break
		}
		out = append(out, shop.SendAttempt{Found: true, N: n, Err: deliver(ctx, n)})
	}
	// The outcomes are recorded even when the caller gives up (Ctrl-C) right
	// after a send: otherwise it would be sent again.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if flush != nil {
		if ferr := flush(); ferr != nil {
			for i := range out {
				if out[i].Err == nil {
					out[i].Err = ferr
				}
			}
		}
	}
	var sent, failed, free []int64
	var errs []string
	var waits []time.Duration
	for i, a := range out {
		switch {
		case a.Err == nil:
			out[i].Sent = true
			sent = append(sent, a.N.ID)
		case ctx.Err() != nil: // interrupted: not an attempt of the receiver's; free the row now
			free = append(free, a.N.ID)
		default:
			failed = append(failed, a.N.ID)
			errs = append(errs, a.Err.Error())
			waits = append(waits, backoff(a.N.Attempts+1))
		}
	}
	for _, n := range ns[len(out):] {
		free = append(free, n.ID)
	}
	b := &pgx.Batch{}
	b.Queue(`UPDATE notification SET sent_at = now(), attempts = attempts + 1, claimed_until = NULL
		WHERE id = ANY($1) AND claim_token = $2::uuid`, sent, token)
	b.Queue(`UPDATE notification SET claimed_until = NULL WHERE id = ANY($1) AND claim_token = $2::uuid`, free, token)
	dead := map[int64]bool{}
	// A row whose claim ran out and that another sender holds is not
	// updated: that sender's outcome counts.
	b.Queue(`UPDATE notification n SET attempts = attempts + 1, last_error = left(f.error, 500),
			next_attempt_at = now() + f.wait, dead_at = CASE WHEN attempts + 1 >= $4 THEN now() END, claimed_until = NULL
		FROM unnest($1::bigint[], $2::text[], $3::interval[]) AS f(id, error, wait)
		WHERE n.id = f.id AND n.claim_token = $5::uuid RETURNING n.id, n.dead_at IS NOT NULL`,
		failed, errs, waits, maxAttempts, token).Query(func(rows pgx.Rows) error {
		var id int64
		var d bool
		_, err := pgx.ForEachRow(rows, []any{&id, &d}, func() error {
			dead[id] = d
			return nil
		})
		return err
	})
	if err := s.Pool.SendBatch(rctx, b).Close(); err != nil {
		return out, err
	}
	for i := range out {
		out[i].Dead = dead[out[i].N.ID]
	}
	if ctx.Err() != nil {
		return out, ctx.Err()
	}
	return out, nil
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
	// A connection of its own, outside the pool: it is held for the whole
	// run, and senders need the pool's connections (max_conns may be 1).
	c, err := pgx.ConnectConfig(ctx, s.Pool.Config().ConnConfig.Copy())
	if err != nil {
		return nil, err
	}
	l := &Listener{conn: c, ttl: ttl}
	l.done = func() {
		cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		l.conn.Exec(cctx, `DELETE FROM notification_follower WHERE token::text = $1 OR until < now()`, l.token)
		l.conn.Close(cctx)
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
