package app

import (
	"context"
	"time"

	"github.com/rabbitpay/rabbitpay/internal/notify"
	"github.com/rabbitpay/rabbitpay/internal/postgres"
	"github.com/rabbitpay/rabbitpay/internal/shop"
)

// Notifications lists a page of the outbox, oldest first.
func (a *App) Notifications(ctx context.Context, f shop.NotificationFilter, o shop.ListOptions) (shop.Page[shop.Notification], error) {
	return a.reader(ctx).ListNotifications(ctx, f, o)
}

// RetryNotification makes a dead or waiting notification due now.
func (a *App) RetryNotification(ctx context.Context, id int64) (shop.Notification, error) {
	return a.outbox.RetryNotification(ctx, id)
}

// RetryDead makes every dead notification due again.
func (a *App) RetryDead(ctx context.Context) (int64, error) { return a.outbox.RetryDead(ctx) }

// Webhook is the configured webhook sink (notify.webhook.*).
func (a *App) Webhook() (*notify.Webhook, error) {
	w := a.cfg.Notify.Webhook
	return notify.NewWebhook(w.URL, w.Secret, w.Timeout)
}

// SendBatch is how many notifications `notify send` claims and records per
// transaction for a sink that flushes (stdout, a file).
const SendBatch = 100

// SendOptions bound one `notify send`.
type SendOptions struct {
	Limit  int  // at most this many attempts, sent or failed; 0: every due one
	Follow bool // keep running until ctx ends, woken by new notifications
	// Attempted hears every attempt as it ends.
	Attempted func(shop.SendAttempt)
}

// SendNotifications delivers due notifications to sink, oldest first, at
// least once: a committed claim keeps other senders off a notification from
// before it is sent until its outcome is recorded, a batch of SendBatch per
// claim and per record for the stdout and file sinks, one for the webhook. A failed
// attempt waits notify.backoff (doubling, with jitter) before the next one;
// after notify.max_attempts it is dead.
//
// With Follow it then waits for new notifications (LISTEN, else polling
// every notify.poll_interval, and always by the next due retry) until ctx
// ends, which is its normal end: it returns no error then.
func (a *App) SendNotifications(ctx context.Context, sink notify.Sink, opt SendOptions) (sum shop.SendSummary, err error) {
	cfg := a.cfg.Notify
	var l *postgres.Listener
	if opt.Follow && !postgres.BehindPooler(a.url) { // LISTEN needs a session of its own: not through a transaction pooler
		if l, err = a.outbox.Listen(ctx, 2*cfg.PollInterval+time.Minute); err != nil {
			return sum, err
		}
		defer l.Close()
	}
	backoff := func(attempts int) time.Duration { return shop.Backoff(cfg.Backoff, attempts) }
	failing := map[int64]bool{}
	defer func() { sum.Waiting = len(failing) }()
	size, flush := 1, (func() error)(nil)
	if f, ok := sink.(notify.Flusher); ok {
		size, flush = SendBatch, f.Flush
	}
	// Limit counts attempts, failed ones too: against a receiver that is
	// down, --follow --limit 1 ends after one try instead of retrying forever.
	for opt.Limit == 0 || sum.Sent+sum.Failed < opt.Limit {
		n := size
		if opt.Limit > 0 {
			n = min(n, opt.Limit-sum.Sent-sum.Failed)
		}
		ats, err := a.sendBatch(ctx, n, sink.Send, flush, backoff, cfg.MaxAttempts, 2*cfg.Webhook.Timeout+time.Minute)
		for _, at := range ats {
			if opt.Attempted != nil {
				opt.Attempted(at)
			}
			if at.Sent {
				sum.Sent++
				delete(failing, at.N.ID)
				continue
			}
			sum.Failed++
			failing[at.N.ID] = true
			if at.Dead {
				sum.Dead++
			}
		}
		switch {
		case err != nil:
			if opt.Follow && ctx.Err() != nil {
				return sum, nil
			}
			return sum, err
		case len(ats) > 0:
		case !opt.Follow:
			return sum, nil
		default:
			if err := a.waitForWork(ctx, l); err != nil {
				if ctx.Err() != nil {
					return sum, nil
				}
				return sum, err
			}
		}
	}
	return sum, nil
}

// sendBatch claims up to size of the oldest due notifications no other
// sender holds (for hold), hands each to deliver, makes them durable with
// flush (nil: nothing to do), and records the outcomes: sent, or the
// attempt, its error and the next attempt's time (backoff(attempts)); dead
// after maxAttempts (shop.NotificationDead). A sink that is not durable
// until flushed (a file) takes a batch per claim.
func (a *App) sendBatch(ctx context.Context, size int, deliver func(context.Context, shop.Notification) error, flush func() error,
	backoff func(attempts int) time.Duration, maxAttempts int, hold time.Duration) ([]shop.SendAttempt, error) {
	claim, err := a.outbox.ClaimNotifications(ctx, size, hold)
	if err != nil || len(claim.Notifications) == 0 {
		return nil, err
	}
	out := make([]shop.SendAttempt, 0, len(claim.Notifications))
	for _, n := range claim.Notifications {
		if ctx.Err() != nil { // interrupted: the rest stays unsent
			break
		}
		out = append(out, shop.SendAttempt{Found: true, N: n, Err: deliver(ctx, n)})
	}
	if flush != nil {
		if ferr := flush(); ferr != nil { // nothing of the batch is durable: each send failed
			for i := range out {
				if out[i].Err == nil {
					out[i].Err = ferr
				}
			}
		}
	}
	outcomes := make([]postgres.SendOutcome, 0, len(claim.Notifications))
	for i, at := range out {
		o := postgres.SendOutcome{ID: at.N.ID}
		switch {
		case at.Err == nil:
			o.Sent, out[i].Sent = true, true
		case ctx.Err() != nil: // interrupted: not an attempt of the receiver's; free the row now
			o.Free = true
		default:
			o.Error, o.Wait, o.Dead = at.Err.Error(), backoff(at.N.Attempts+1), shop.NotificationDead(at.N.Attempts+1, maxAttempts)
		}
		outcomes = append(outcomes, o)
	}
	for _, n := range claim.Notifications[len(out):] {
		outcomes = append(outcomes, postgres.SendOutcome{ID: n.ID, Free: true})
	}
	// The outcomes are recorded even when the caller gives up (Ctrl-C) right
	// after a send: otherwise it would be sent again.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	recorded, err := a.outbox.RecordSends(rctx, claim.Token, outcomes)
	if err != nil {
		return out, err
	}
	for i, o := range outcomes[:len(out)] {
		out[i].Dead = o.Dead && recorded[o.ID] // another sender's outcome counts when it took the row over
	}
	return out, ctx.Err()
}

// waitForWork sleeps until a notification is written (when listening), the
// next retry falls due, or the poll interval passes.
func (a *App) waitForWork(ctx context.Context, l *postgres.Listener) error {
	wait := a.cfg.Notify.PollInterval
	next, err := a.outbox.NextDue(ctx)
	if err != nil {
		return err
	}
	if next != nil {
		wait = max(min(wait, time.Until(*next)), 100*time.Millisecond) // a due row another sender holds: look again soon
	}
	if l != nil {
		return l.Wait(ctx, wait)
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(wait):
		return nil
	}
}
