package cmd

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/rabbitpay/rabbitpay/internal/app"
	"github.com/rabbitpay/rabbitpay/internal/render"
	"github.com/rabbitpay/rabbitpay/internal/shop"
)

func newSagaCmd(e *env) *cobra.Command {
	c := &cobra.Command{Use: "saga", Short: "Inspect the durable order-saga log and recover unfinished sagas",
		Example: "  rabbitpay saga list --state running\n  rabbitpay saga recover --wait 1m"}
	c.AddCommand(newSagaListCmd(e, nil), newSagaShowCmd(e, nil), newSagaRecoverCmd(e, nil))
	return c
}

// sagaListOptions is what `saga list` shows.
type sagaListOptions struct {
	*env
	Filter shop.SagaFilter
	List   shop.ListOptions
}

func newSagaListCmd(e *env, runF func(*sagaListOptions) error) *cobra.Command {
	opts := &sagaListOptions{env: e}
	var state string
	var lf *listFlags
	cmd := &cobra.Command{
		Use:     "list [--state S] [--limit N | --all]",
		Short:   "List sagas, newest first",
		Example: "  rabbitpay saga list --state running -o json",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			if opts.List, err = lf.options(e, cmd); err != nil {
				return err
			}
			if cmd.Flags().Changed("state") {
				if opts.Filter.State, err = shop.ParseSagaState(state); err != nil {
					return err
				}
			}
			return dispatch(cmd, opts, runF, sagaListRun)
		},
	}
	lf = addPageFlags(cmd, "sagas")
	cmd.Flags().StringVar(&state, "state", "", "only sagas in this state: running, compensating, completed, compensated, failed, cancelling, cancelled")
	return cmd
}

func sagaListRun(ctx context.Context, opts *sagaListOptions) error {
	a, err := opts.app(ctx)
	if err != nil {
		return err
	}
	p, err := a.Sagas(ctx, opts.Filter, opts.List)
	if err != nil {
		return err
	}
	return printPage(opts.env, p, sagaRows, noun{"saga", "sagas"}, nil, opts.List)
}

// sagaShowOptions is the saga `saga show` shows.
type sagaShowOptions struct {
	*env
	Saga string // an order UUID or an order id
}

func newSagaShowCmd(e *env, runF func(*sagaShowOptions) error) *cobra.Command {
	opts := &sagaShowOptions{env: e}
	return &cobra.Command{
		Use:     "show ORDER_UUID|ORDER_ID",
		Short:   "Show a saga: every step and compensation with times and outcomes",
		Example: "  rabbitpay saga show 6f1c2e7a-3b9d-4c51-9f0e-2a7d1c8b4e55\n  rabbitpay saga show 17      # the saga of order 17",
		Args:    exactArgs(1, "one order UUID or order id"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Saga = args[0]
			return dispatch(cmd, opts, runF, sagaShowRun)
		},
	}
}

func sagaShowRun(ctx context.Context, opts *sagaShowOptions) error {
	a, err := opts.app(ctx)
	if err != nil {
		return err
	}
	r, err := a.Saga(ctx, opts.Saga)
	if err != nil {
		return err
	}
	return opts.printSaga(r)
}

// printSaga shows one saga: JSON as one document; CSV as its trail; a table
// as the saga and its trail.
func (e *env) printSaga(r shop.SagaRecord) error {
	switch e.format() {
	case render.JSON:
		return e.print(r, nil)
	case render.CSV: // one CSV document: the trail's rows
		return e.print(r, trailRows(r.History))
	}
	if err := e.print(r, sagaRows([]shop.SagaRecord{r})); err != nil {
		return err
	}
	return writeTrail(e.Out, r.History)
}

// sagaRecoverOptions is how long `saga recover` waits for live leases.
type sagaRecoverOptions struct {
	*env
	Wait time.Duration
	// Follow keeps recovering, every Interval, until interrupted.
	Follow   bool
	Interval time.Duration
}

func newSagaRecoverCmd(e *env, runF func(*sagaRecoverOptions) error) *cobra.Command {
	opts := &sagaRecoverOptions{env: e}
	cmd := &cobra.Command{
		Use:   "recover",
		Short: "Finish every saga a crash left unfinished",
		Long: `recover finishes sagas left running, compensating or cancelling by a process that
died: forward when the payment provider says the payment succeeded (the order is
created), backward otherwise (void the payment at the provider so a late charge
is refused, refund what was charged, restore the stock).

A running saga is owned through a lease its process renews while it works and
waits. recover takes over only sagas whose lease has expired (saga.lease after
the owner died, default 30s), and the takeover fences the old owner out: should
it still be alive, it can change nothing more. A saga whose lease is live is
skipped at once; --wait retries it until its lease expires.
Exit code 3 when something is still unfinished.

--follow runs as a service (like notify send --follow): it looks for unfinished
sagas every --interval and finishes each once its owner's lease has expired, so
the orders a crash or a database failover cut off are finished with nobody there
to run recover. The database going away is said on stderr and waited out. Ctrl-C
or SIGTERM ends it with exit 0.`,
		Example: "  rabbitpay saga recover\n  rabbitpay saga recover --wait 1m   # right after a crash: wait for the dead owner's lease",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.Wait < 0 {
				return usageErr(cmd, "--wait %s must not be negative", opts.Wait)
			}
			if opts.Interval <= 0 {
				return usageErr(cmd, "--interval %s must be positive", opts.Interval)
			}
			return dispatch(cmd, opts, runF, sagaRecoverRun)
		},
		Annotations: runsLong(),
	}
	cmd.Flags().DurationVar(&opts.Wait, "wait", 0, "retry sagas whose owner's lease has not expired yet for up to this long (e.g. 1m)")
	cmd.Flags().BoolVar(&opts.Follow, "follow", false, "keep running: finish sagas as their leases expire, until Ctrl-C or SIGTERM")
	cmd.Flags().DurationVar(&opts.Interval, "interval", 5*time.Second, "with --follow, how often to look for unfinished sagas")
	return cmd
}

func sagaRecoverRun(ctx context.Context, opts *sagaRecoverOptions) error {
	if opts.Follow {
		return sagaRecoverFollow(ctx, opts)
	}
	a, err := opts.app(ctx)
	if err != nil {
		return err
	}
	w := opts.stepWriter()
	out, err := a.RecoverSagas(ctx, opts.Wait, func(uuid string) shop.Observer {
		fmt.Fprintf(w, "saga %s:\n", uuid)
		return opts.stepPrinter()
	})
	if err != nil {
		return err
	}
	if err := opts.print(out, recoveredRows(out)); err != nil {
		return err
	}
	return app.RecoveryError(out)
}

// sagaRecoverFollow recovers every opts.Interval until ctx ends, printing
// what each round finished; a round that fails (the database away, a
// failover) is said once on stderr and the next round tries again.
func sagaRecoverFollow(ctx context.Context, opts *sagaRecoverOptions) error {
	w := opts.stepWriter()
	lastErr := ""
	for {
		a, err := opts.app(ctx)
		var out []app.Recovered
		if err == nil {
			out, err = a.RecoverSagas(ctx, 0, func(uuid string) shop.Observer {
				fmt.Fprintf(w, "saga %s:\n", uuid)
				return opts.stepPrinter()
			})
		}
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			if msg := app.DescribeError(opts.cfg, err).Error(); msg != lastErr {
				warn(opts.Err, []string{"saga recover: " + msg + "; trying again every " + opts.Interval.String()})
				lastErr = msg
			}
		} else {
			lastErr = ""
			var done []app.Recovered
			for _, r := range out {
				if !r.Skipped() {
					done = append(done, r)
				}
			}
			if len(done) > 0 {
				if err := opts.print(done, recoveredRows(done)); err != nil {
					return err
				}
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(opts.Interval):
		}
	}
}

func recoveredRows(out []app.Recovered) rowsFunc {
	return func() ([]string, [][]string) {
		rows := make([][]string, 0, len(out))
		for _, r := range out {
			rows = append(rows, []string{r.OrderUUID, string(r.From), string(r.To), r.Action, r.Error})
		}
		return []string{"order_uuid", "from", "to", "action", "error"}, rows
	}
}

func sagaRows(rs []shop.SagaRecord) rowsFunc {
	return func() ([]string, [][]string) {
		rows := make([][]string, 0, len(rs))
		for _, r := range rs {
			order := ""
			if r.OrderID != nil {
				order = itoa(*r.OrderID)
			}
			lease := ""
			if r.LeaseUntil != nil {
				lease = r.LeaseUntil.Local().Format("15:04:05")
			}
			rows = append(rows, []string{r.OrderUUID, string(r.State), itoa(r.CustomerID), string(r.Method), itoa(int64(r.TotalAmount)), order, r.Error,
				itoa(r.OwnerToken), lease, stamp(r.UpdatedAt)})
		}
		return []string{"order_uuid", "state", "customer_id", "method", "total_amount", "order_id", "error", "owner_token", "lease_until", "updated_at"}, rows
	}
}
