package cmd

import (
	"fmt"
	"time"

	"github.com/rabbitpay/rabbitpay/internal/app"

	"github.com/spf13/cobra"

	"github.com/rabbitpay/rabbitpay/internal/render"
	"github.com/rabbitpay/rabbitpay/internal/shop"
)

func newSagaCmd(e *env) *cobra.Command {
	c := &cobra.Command{Use: "saga", Short: "Inspect the durable order-saga log and recover unfinished sagas",
		Example: "  rabbitpay saga list --state running\n  rabbitpay saga recover --wait 1m"}
	var state string
	var wait time.Duration
	var lf *listFlags
	list := &cobra.Command{
		Use:     "list [--state S] [--limit N | --all]",
		Short:   "List sagas, newest first",
		Example: "  rabbitpay saga list --state running -o json",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o, err := lf.options(e, cmd)
			if err != nil {
				return err
			}
			var f shop.SagaFilter
			if cmd.Flags().Changed("state") {
				st, err := shop.ParseSagaState(state)
				if err != nil {
					return err
				}
				f.State = st
			}
			a, err := e.app(cmd.Context())
			if err != nil {
				return err
			}
			p, err := a.Sagas(cmd.Context(), f, o)
			if err != nil {
				return err
			}
			return printPage(e, p, sagaRows, "sagas", nil, o)
		},
	}
	show := &cobra.Command{
		Use:     "show ORDER_UUID|ORDER_ID",
		Short:   "Show a saga: every step and compensation with times and outcomes",
		Example: "  rabbitpay saga show 6f1c2e7a-3b9d-4c51-9f0e-2a7d1c8b4e55\n  rabbitpay saga show 17      # the saga of order 17",
		Args:    exactArgs(1, "one order UUID or order id"),
		RunE: func(cmd *cobra.Command, args []string) error {
			a, err := e.app(cmd.Context())
			if err != nil {
				return err
			}
			r, err := a.Saga(cmd.Context(), args[0])
			if err != nil {
				return err
			}
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
		},
	}
	recover := &cobra.Command{
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
Exit code 3 when something is still unfinished.`,
		Example: "  rabbitpay saga recover\n  rabbitpay saga recover --wait 1m   # right after a crash: wait for the dead owner's lease",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			a, err := e.app(cmd.Context())
			if err != nil {
				return err
			}
			w := e.stepWriter()
			out, err := a.RecoverSagas(cmd.Context(), wait, func(uuid string) shop.Observer {
				fmt.Fprintf(w, "saga %s:\n", uuid)
				return e.stepPrinter()
			})
			if err != nil {
				return err
			}
			if err := e.print(out, rowsFunc(func() ([]string, [][]string) {
				rows := make([][]string, 0, len(out))
				for _, r := range out {
					rows = append(rows, []string{r.OrderUUID, string(r.From), string(r.To), r.Action, r.Error})
				}
				return []string{"order_uuid", "from", "to", "action", "error"}, rows
			})); err != nil {
				return err
			}
			return app.RecoveryError(out)
		},
	}
	lf = addPageFlags(list, "sagas")
	list.Flags().StringVar(&state, "state", "", "only sagas in this state: running, compensating, completed, compensated, failed, cancelling, cancelled")
	recover.Flags().DurationVar(&wait, "wait", 0, "retry sagas whose owner's lease has not expired yet for up to this long (e.g. 1m)")
	c.AddCommand(list, show, recover)
	return c
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
				itoa(r.OwnerToken), lease, r.UpdatedAt.Local().Format("2006-01-02 15:04:05")})
		}
		return []string{"order_uuid", "state", "customer_id", "method", "total_amount", "order_id", "error", "owner_token", "lease_until", "updated_at"}, rows
	}
}
