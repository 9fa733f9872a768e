package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/rabbitpay/rabbitpay/internal/app"
	"github.com/rabbitpay/rabbitpay/internal/notify"
	"github.com/rabbitpay/rabbitpay/internal/render"
	"github.com/rabbitpay/rabbitpay/internal/secret"
	"github.com/rabbitpay/rabbitpay/internal/shop"
)

func newNotifyCmd(e *env) *cobra.Command {
	c := &cobra.Command{Use: "notify", Short: "List and send the notifications in the outbox",
		Long: `Every change a customer hears about (order placed, payment succeeded, failed or
refunded, order cancelled or shipped, each delivery status) writes a notification
in the same transaction as the change. 'notify send' delivers them, oldest first,
at least once, each with a stable id (ntf_N) so a receiver can de-duplicate.`,
		Example: `  rabbitpay notify list --pending
  rabbitpay notify send --sink stdout`}
	c.AddCommand(newNotifyListCmd(e, nil), newNotifySendCmd(e, nil), newNotifyRetryCmd(e, nil))
	return c
}

// notifyListOptions is what `notify list` shows.
type notifyListOptions struct {
	*env
	Filter shop.NotificationFilter
	List   shop.ListOptions
}

func newNotifyListCmd(e *env, runF func(*notifyListOptions) error) *cobra.Command {
	opts := &notifyListOptions{env: e}
	f := &opts.Filter
	var kind string
	var lf *listFlags
	cmd := &cobra.Command{
		Use:   "list [--pending | --dead] [--customer C] [--kind K] [--limit N | --all] [--after ID]",
		Short: "List notifications, oldest first, with their delivery state",
		Example: `  rabbitpay notify list --pending
  rabbitpay notify list --dead -o json
  rabbitpay notify list --customer 1 --kind delivery.shipped`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			if opts.List, err = lf.options(e, cmd); err != nil {
				return err
			}
			if f.Pending && f.Dead {
				return usageErr(cmd, "--pending and --dead cannot be used together")
			}
			if cmd.Flags().Changed("kind") {
				if f.Kind, err = shop.ParseNotificationKind(kind); err != nil {
					return err
				}
			}
			return dispatch(cmd, opts, runF, notifyListRun)
		},
	}
	lf = addListFlags(cmd, "notifications", "", "")
	cmd.Flags().BoolVar(&f.Pending, "pending", false, "only notifications not yet delivered (and not dead)")
	cmd.Flags().BoolVar(&f.Dead, "dead", false, "only dead notifications (every attempt failed)")
	idVar(cmd.Flags(), &f.CustomerID, "customer", "customer", "only this customer's notifications")
	cmd.Flags().StringVar(&kind, "kind", "", "only this event type (order.placed, delivery.shipped, …)")
	return cmd
}

func notifyListRun(ctx context.Context, opts *notifyListOptions) error {
	a, err := opts.app(ctx)
	if err != nil {
		return err
	}
	p, err := a.Notifications(ctx, opts.Filter, opts.List)
	if err != nil {
		return err
	}
	return printPage(opts.env, p, notificationRows, noun{"notification", "notifications"}, func(n shop.Notification) int64 { return n.ID }, opts.List)
}

// notifySendOptions is where and how `notify send` delivers.
type notifySendOptions struct {
	*env
	Sink   string // stdout, file or webhook
	File   string // the file of --sink file
	Limit  int    // 0: every due one
	Follow bool
}

func newNotifySendCmd(e *env, runF func(*notifySendOptions) error) *cobra.Command {
	opts := &notifySendOptions{env: e}
	cmd := &cobra.Command{
		Use:   "send [--sink stdout|file|webhook] [--file PATH] [--limit N] [--follow]",
		Short: "Deliver pending notifications, oldest first, at least once",
		Long: `Send delivers the due notifications to a sink, oldest first: stdout (one JSON
document a line), a file (appended, synced) or an HTTP webhook (notify.webhook.url),
POSTed as JSON signed per the Standard Webhooks convention: webhook-id (ntf_N,
the same on every attempt), webhook-timestamp and webhook-signature
(v1,<base64 HMAC-SHA256 of "id.timestamp.body"> under notify.webhook.secret).

Delivery is at least once: a notification counts as sent only after its sink took
it, and each is held by one sender at a time, so senders running at once never
deliver one twice to a healthy receiver. A failed attempt (an error, a non-2xx
answer, no answer within notify.webhook.timeout) is recorded on the notification
with its error and retried after notify.backoff, doubling each time, with jitter;
after notify.max_attempts it is dead ('notify list --dead', 'notify retry').

--follow keeps running, woken by new notifications (LISTEN/NOTIFY; through a
transaction pooler it polls every notify.poll_interval), until Ctrl-C or
SIGTERM (exit 0) or, with --limit N, N attempts.
Exit code 1 when a notification is left undelivered after a failed attempt
(except when --follow is stopped by a signal: a service's normal end).`,
		Example: `  rabbitpay notify send
  rabbitpay notify send --sink file --file outbox.jsonl --limit 100
  RABBITPAY_NOTIFY_WEBHOOK_URL=https://shop.example/hooks rabbitpay notify send --sink webhook --follow`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if cmd.Flags().Changed("limit") && opts.Limit < 1 {
				return usageErr(cmd, "--limit %d must be at least 1", opts.Limit)
			}
			if (opts.Sink == "file") != (opts.File != "") {
				return usageErr(cmd, "--file PATH goes with --sink file, and --sink file needs it")
			}
			if opts.Sink != "stdout" && opts.Sink != "file" && opts.Sink != "webhook" {
				return shop.Invalid("sink %s is not one of stdout, file, webhook", shop.Echo(opts.Sink))
			}
			return dispatch(cmd, opts, runF, notifySendRun)
		},
		Annotations: runsLong(),
	}
	f := cmd.Flags()
	f.StringVar(&opts.Sink, "sink", "stdout", "where to deliver: stdout, file or webhook")
	f.StringVar(&opts.File, "file", "", "the file --sink file appends to")
	f.IntVar(&opts.Limit, "limit", 0, "stop after N delivery attempts, sent or failed (default: every due one)")
	f.BoolVar(&opts.Follow, "follow", false, "keep running and deliver new notifications as they come, until Ctrl-C")
	return cmd
}

func notifySendRun(ctx context.Context, opts *notifySendOptions) error {
	a, err := opts.app(ctx)
	if err != nil {
		return err
	}
	var sink notify.Sink
	switch opts.Sink {
	case "stdout":
		sink = &notify.Writer{W: opts.Out}
	case "file":
		f, err := notify.OpenFile(opts.File)
		if err != nil {
			return err
		}
		defer f.Close()
		sink = f
	case "webhook":
		if sink, err = a.Webhook(); err != nil {
			return err
		}
	}
	log := opts.sendLog()
	sum, err := a.SendNotifications(ctx, sink, app.SendOptions{Limit: opts.Limit, Follow: opts.Follow,
		Attempted: func(at shop.SendAttempt) { opts.printAttempt(log, at) }})
	if err != nil {
		return err
	}
	err = opts.printSent(sum)
	if opts.Follow && ctx.Err() != nil && errors.Is(err, shop.ErrConflict) {
		// A service stopped by Ctrl-C or SIGTERM ends well (exit 0): what it
		// could not deliver stays in the outbox, said above and in notify list.
		return nil
	}
	return err
}

// sendLog is where `notify send` reports: stderr when stdout carries the
// notifications themselves or a document.
func (o *notifySendOptions) sendLog() io.Writer {
	if o.Sink == "stdout" || o.format() != render.Table {
		return o.Err
	}
	return o.Out
}

// printAttempt reports one delivery attempt, one line.
func (o *notifySendOptions) printAttempt(log io.Writer, at shop.SendAttempt) {
	switch {
	case at.Sent && o.Sink != "stdout":
		fmt.Fprintf(log, "  ✓ %s %s\n", notify.MessageID(at.N), at.N.Kind)
	case at.Dead:
		fmt.Fprintf(log, "  ✗ %s %s: attempt %d failed: %s; it is dead now\n", notify.MessageID(at.N), at.N.Kind,
			at.N.Attempts+1, oneLine(secret.Mask(at.Err.Error())))
	case !at.Sent:
		fmt.Fprintf(log, "  ✗ %s %s: attempt %d failed: %s; it will be retried\n", notify.MessageID(at.N), at.N.Kind,
			at.N.Attempts+1, oneLine(secret.Mask(at.Err.Error())))
	}
}

// printSent reports what a send did, and fails when something is left undelivered.
func (o *notifySendOptions) printSent(sum shop.SendSummary) error {
	if o.format() != render.Table && o.Sink != "stdout" { // stdout carries the notifications themselves
		if err := o.print(sum, rowsFunc(func() ([]string, [][]string) {
			return []string{"sent", "failed_attempts", "dead", "waiting"},
				[][]string{{itoa(int64(sum.Sent)), itoa(int64(sum.Failed)), itoa(int64(sum.Dead)), itoa(int64(sum.Waiting))}}
		})); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(o.sendLog(), "sent %d %s\n", sum.Sent, plural(sum.Sent, "notification", "notifications"))
	}
	if sum.Waiting > 0 {
		return shop.Conflict("%d %s not delivered (%d failed %s, %d dead): see 'rabbitpay notify list --pending' and '--dead'",
			sum.Waiting, plural(sum.Waiting, "notification was", "notifications were"), sum.Failed,
			plural(sum.Failed, "attempt", "attempts"), sum.Dead)
	}
	return nil
}

// notifyRetryOptions is what `notify retry` puts back in line.
type notifyRetryOptions struct {
	*env
	NotificationID int64 // 0 with Dead
	Dead           bool  // every dead notification
}

func newNotifyRetryCmd(e *env, runF func(*notifyRetryOptions) error) *cobra.Command {
	opts := &notifyRetryOptions{env: e}
	cmd := &cobra.Command{
		Use:   "retry ID | --dead",
		Short: "Put a dead (or waiting) notification back in line, due now",
		Example: `  rabbitpay notify retry 12
  rabbitpay notify retry --dead`,
		Args: func(cmd *cobra.Command, args []string) error {
			if opts.Dead {
				return exactArgs(0, "")(cmd, args)
			}
			return exactArgs(1, "one notification ID, or --dead")(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			if !opts.Dead {
				if opts.NotificationID, err = parseID("notification", args[0]); err != nil {
					return err
				}
			}
			return dispatch(cmd, opts, runF, notifyRetryRun)
		},
	}
	cmd.Flags().BoolVar(&opts.Dead, "dead", false, "every dead notification")
	return cmd
}

func notifyRetryRun(ctx context.Context, opts *notifyRetryOptions) error {
	a, err := opts.app(ctx)
	if err != nil {
		return err
	}
	if opts.Dead {
		n, err := a.RetryDead(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(opts.Err, "%d dead %s due again\n", n, plural(int(n), "notification is", "notifications are"))
		return nil
	}
	n, err := a.RetryNotification(ctx, opts.NotificationID)
	if err != nil {
		return err
	}
	return opts.print(n, notificationRows([]shop.Notification{n}))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func notificationRows(ns []shop.Notification) rowsFunc {
	return func() ([]string, [][]string) {
		rows := make([][]string, 0, len(ns))
		opt := func(p *int64) string {
			if p == nil {
				return ""
			}
			return itoa(*p)
		}
		for _, n := range ns {
			next := ""
			if n.NextAttemptAt != nil {
				next = n.NextAttemptAt.Local().Format(time.TimeOnly)
			}
			rows = append(rows, []string{itoa(n.ID), string(n.Kind), opt(n.CustomerID), opt(n.OrderID), n.State(),
				itoa(int64(n.Attempts)), next, oneLine(secret.Mask(n.LastError)), n.Message, stamp(n.CreatedAt)})
		}
		return []string{"id", "kind", "customer_id", "order_id", "state", "attempts", "next_attempt", "last_error", "message", "created_at"}, rows
	}
}
