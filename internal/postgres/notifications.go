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

// Claim is a batch of due notifications one sender holds, by its token,
// until it records what became of them (RecordSends) or the hold runs out.
type Claim struct {
	Token         string
	Notifications []shop.Notification // in id order
}

// ClaimNotifications claims up to size of the oldest due notifications no
// other sender holds, for hold, and commits the claim at once: no
// transaction stays open while they are sent.
func (s *Store) ClaimNotifications(ctx context.Context, size int, hold time.Duration) (Claim, error) {
	var c Claim
	rows, err := s.Pool.Query(ctx, `UPDATE notification SET claimed_until = now() + $1::interval, claim_token = (SELECT gen_random_uuid())
		WHERE id IN (SELECT id FROM notification WHERE sent_at IS NULL AND dead_at IS NULL AND next_attempt_at <= now()
			AND (claimed_until IS NULL OR claimed_until < now()) ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED)
		RETURNING `+notificationCols+`, claim_token::text`, hold, size)
	if err != nil {
		return c, err
	}
	c.Notifications, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (shop.Notification, error) { return scanNotification(r, &c.Token) })
	slices.SortFunc(c.Notifications, func(a, b shop.Notification) int { return cmp.Compare(a.ID, b.ID) })
	return c, err
}

// SendOutcome is what became of one claimed notification: sent; given
// back untried (Free); or a failed attempt with its error, the wait before
// the next one, and whether it was the last (Dead).
type SendOutcome struct {
	ID    int64
	Sent  bool
	Free  bool
	Error string
	Wait  time.Duration
	Dead  bool
}

// RecordSends records a claim's outcomes in one round trip and returns the
// ids it recorded: a row whose claim ran out and that another sender holds
// now is left to that sender, whose outcome counts.
func (s *Store) RecordSends(ctx context.Context, token string, outcomes []SendOutcome) (map[int64]bool, error) {
	var sent, free, failed []int64
	var errs []string
	var waits []time.Duration
	var dead []bool
	for _, o := range outcomes {
		switch {
		case o.Sent:
			sent = append(sent, o.ID)
		case o.Free:
			free = append(free, o.ID)
		default:
			failed, errs, waits, dead = append(failed, o.ID), append(errs, o.Error), append(waits, o.Wait), append(dead, o.Dead)
		}
	}
	recorded := map[int64]bool{}
	collect := func(rows pgx.Rows) error {
		var id int64
		_, err := pgx.ForEachRow(rows, []any{&id}, func() error {
			recorded[id] = true
			return nil
		})
		return err
	}
	b := &pgx.Batch{}
	b.Queue(`UPDATE notification SET sent_at = now(), attempts = attempts + 1, claimed_until = NULL
		WHERE id = ANY($1) AND claim_token = $2::uuid RETURNING id`, sent, token).Query(collect)
	b.Queue(`UPDATE notification SET claimed_until = NULL WHERE id = ANY($1) AND claim_token = $2::uuid RETURNING id`, free, token).Query(collect)
	b.Queue(`UPDATE notification n SET attempts = attempts + 1, last_error = left(f.error, 500),
			next_attempt_at = now() + f.wait, dead_at = CASE WHEN f.dead THEN now() END, claimed_until = NULL
		FROM unnest($1::bigint[], $2::text[], $3::interval[], $4::boolean[]) AS f(id, error, wait, dead)
		WHERE n.id = f.id AND n.claim_token = $5::uuid RETURNING n.id`, failed, errs, waits, dead, token).Query(collect)
	return recorded, s.Pool.SendBatch(ctx, b).Close()
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
