package cmd

import (
	"context"
	"fmt"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/rabbitpay/rabbitpay/internal/app"
	"github.com/rabbitpay/rabbitpay/internal/render"
	"github.com/rabbitpay/rabbitpay/internal/shop"
)

// dbPruneOptions is what `db prune` removes: records older than Age (from
// --older-than, else the retention key), or only counts them.
type dbPruneOptions struct {
	*env
	Age    time.Duration
	DryRun bool
}

func newDBPruneCmd(e *env, runF func(*dbPruneOptions) error) *cobra.Command {
	opts := &dbPruneOptions{env: e}
	var olderThan string
	cmd := &cobra.Command{
		Use:   "prune [--older-than DURATION] [--dry-run]",
		Short: "Remove operational records older than an age (never orders, payments, refunds or deliveries)",
		Long: `prune removes what is only operational once it is older than --older-than (default:
the retention config key): sent and dead notifications, idempotency keys, the
detail of calls made to payment providers, sagas that failed before changing
anything (no stock, payment or order), and the step histories of finished
sagas (the rows of the others stay: cancel and refund need them). It keeps every order,
payment, refund and delivery (Korean e-commerce law keeps those five years),
every notification not yet sent, and everything of a saga still unfinished.

It works in batches of 5,000 rows, each its own short transaction, so it runs
safely while orders are placed. --dry-run counts without removing anything.
An age is a whole number of days (90d) or a duration with a unit (720h).`,
		Example: `  rabbitpay db prune --older-than 90d --dry-run
  rabbitpay db prune --older-than 90d
  rabbitpay db prune                      # with retention: 90d in the config file`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			age := olderThan
			if age == "" {
				age = e.cfg.Retention // config.Load checked it
			}
			if age == "" {
				return usageErr(cmd, "no age to prune by: pass --older-than (such as 90d) or set retention in the config file")
			}
			var err error
			if opts.Age, err = shop.ParseAge(age); err != nil {
				return shop.InField("retention", err)
			}
			return dispatch(cmd, opts, runF, dbPruneRun)
		},
		Annotations: runsLong(),
	}
	cmd.Flags().StringVar(&olderThan, "older-than", "", "remove operational records older than this (90d, 720h); default the retention key")
	cmd.Flags().BoolVar(&opts.DryRun, "dry-run", false, "count what would be removed and remove nothing")
	return cmd
}

func dbPruneRun(ctx context.Context, opts *dbPruneOptions) error {
	a, err := opts.app(ctx)
	if err != nil {
		return err
	}
	progress, done := opts.pruneProgress()
	res, err := a.Prune(ctx, app.PruneOptions{Age: opts.Age, DryRun: opts.DryRun, Progress: progress})
	done()
	if err != nil && ctx.Err() != nil {
		var n int64
		for _, c := range res.Counts {
			n += c.Rows
		}
		if !opts.DryRun {
			return shop.Interrupted("interrupted after removing %d records (each batch is whole); run db prune again to go on", n)
		}
	}
	if err != nil {
		return err
	}
	header := "removed"
	if res.DryRun {
		header = "would_remove"
	}
	if opts.format() == render.Table {
		fmt.Fprintf(opts.Out, "operational records older than %s:\n", res.Cut.Local().Format("2006-01-02 15:04:05 MST"))
	}
	return opts.print(res, rowsFunc(func() ([]string, [][]string) {
		rows := make([][]string, 0, len(res.Counts))
		for _, c := range res.Counts {
			rows = append(rows, []string{c.Kind, itoa(c.Rows)})
		}
		return []string{"kind", header}, rows
	}))
}

// pruneProgress shows a progress bar on stderr when it is a terminal, else
// a plain line every few seconds and one when the prune is done.
func (e *env) pruneProgress() (progress func(kind string, done, total int64), finish func()) {
	if e.isTTY(e.Err) {
		var bar *progressbar.ProgressBar
		return func(kind string, done, total int64) {
				if bar == nil {
					bar = progressbar.NewOptions64(total, progressbar.OptionSetWriter(e.Err), progressbar.OptionShowCount(),
						progressbar.OptionSetItsString("rows"), progressbar.OptionShowIts(), progressbar.OptionSetPredictTime(true),
						progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionClearOnFinish(), progressbar.OptionSetWidth(30))
				}
				bar.Describe("pruning " + kind)
				bar.ChangeMax64(total)
				bar.Set64(done)
			}, func() {
				if bar != nil {
					bar.Finish()
				}
			}
	}
	var last time.Time
	var line string
	return func(kind string, done, total int64) {
			line = fmt.Sprintf("pruning: %d of %d rows removed (%s)", done, total, kind)
			if time.Since(last) >= 5*time.Second {
				fmt.Fprintln(e.Err, line)
				last = time.Now()
				line = ""
			}
		}, func() {
			if line != "" {
				fmt.Fprintln(e.Err, line)
			}
		}
}
