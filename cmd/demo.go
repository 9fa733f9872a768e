package cmd

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/rabbitpay/rabbitpay/internal/app"
	"github.com/rabbitpay/rabbitpay/internal/shop"
)

func newDemoCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "demo",
		Short: "Show rabbitpay end to end on a fresh demo database",
		Long: `demo starts the embedded cluster (under --data-dir), recreates the database
rabbitpay_demo on it, loads a small Korean catalogue and a customer, and prints
them. Your own rabbitpay database is not touched.`,
		Example: "  go run . demo",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			a, err := app.OpenDemo(ctx, e.cfg)
			if err != nil {
				return err
			}
			e.a = a
			var ps []shop.Product
			for _, p := range app.DemoCatalogue {
				out, err := a.RegisterProduct(ctx, p)
				if err != nil {
					return err
				}
				ps = append(ps, out)
			}
			cu, err := a.RegisterCustomer(ctx, app.DemoCustomer, "")
			if err != nil {
				return err
			}
			e.section("Catalogue")
			if err := e.print(ps, productRows(ps)); err != nil {
				return err
			}
			e.section("Customer")
			return e.print(cu, customerRows([]shop.Customer{cu}))
		},
	}
}

// section prints a heading between demo steps (on stderr under -o json).
func (e *env) section(title string) {
	w := e.Out
	if e.format() != "table" {
		w = e.Err
	}
	fmt.Fprintf(w, "\n== %s ==\n", title)
}
