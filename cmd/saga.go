package cmd

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/rabbitpay/rabbitpay/internal/postgres"
	"github.com/rabbitpay/rabbitpay/internal/render"
	"github.com/rabbitpay/rabbitpay/internal/saga"
)

func newSagaCmd(e *env) *cobra.Command {
	c := &cobra.Command{Use: "saga", Short: "Inspect the durable order-saga log and recover unfinished sagas"}
	list := &cobra.Command{
		Use:     "list",
		Short:   "List sagas, newest first",
		Example: "  rabbitpay saga list -o json",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			a, err := e.app(cmd.Context())
			if err != nil {
				return err
			}
			rs, err := a.Sagas(cmd.Context())
			if err != nil {
				return err
			}
			return e.print(nonNil(rs), sagaRows(rs))
		},
	}
	show := &cobra.Command{
		Use:     "show ORDER_UUID",
		Short:   "Show a saga: every step and compensation with times and outcomes",
		Example: "  rabbitpay saga show 6f1c2e7a-3b9d-4c51-9f0e-2a7d1c8b4e55",
		Args:    exactArgs(1, "one order UUID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			a, err := e.app(cmd.Context())
			if err != nil {
				return err
			}
			r, err := a.Saga(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if e.format() == render.JSON {
				return e.print(r, nil)
			}
			if err := e.print(r, sagaRows([]postgres.SagaRecord{r})); err != nil {
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
created), backward otherwise (refund what was charged, restore the stock). It
asks the provider before refunding. A saga a live process is running is skipped
(after waiting up to 2 s for a just-killed process's session to end).
Exit code 3 when something is still unfinished.`,
		Example: "  rabbitpay saga recover",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			a, err := e.app(cmd.Context())
			if err != nil {
				return err
			}
			w := e.stepWriter()
			out, err := a.RecoverSagas(cmd.Context(), func(uuid string) saga.Observer {
				fmt.Fprintf(w, "saga %s:\n", uuid)
				return e.stepPrinter()
			})
			if err != nil {
				return err
			}
			if err := e.print(out, rowsFunc(func() ([]string, [][]string) {
				rows := make([][]string, 0, len(out))
				for _, r := range out {
					rows = append(rows, []string{r.OrderUUID, r.From, r.To, r.Action, r.Error})
				}
				return []string{"order_uuid", "from", "to", "action", "error"}, rows
			})); err != nil {
				return err
			}
			for _, r := range out {
				if r.Error != "" {
					return &exitError{code: ExitIncomplete, err: fmt.Errorf("saga %s is still unfinished: %s", r.OrderUUID, r.Error)}
				}
			}
			return nil
		},
	}
	c.AddCommand(list, show, recover)
	return c
}

func sagaRows(rs []postgres.SagaRecord) rowsFunc {
	return func() ([]string, [][]string) {
		rows := make([][]string, 0, len(rs))
		for _, r := range rs {
			order := ""
			if r.OrderID != nil {
				order = itoa(*r.OrderID)
			}
			rows = append(rows, []string{r.OrderUUID, r.State, itoa(r.CustomerID), r.Method, itoa(int64(r.TotalAmount)), order, r.Error,
				r.UpdatedAt.Local().Format("2006-01-02 15:04:05")})
		}
		return []string{"order_uuid", "state", "customer_id", "method", "total_amount", "order_id", "error", "updated_at"}, rows
	}
}
