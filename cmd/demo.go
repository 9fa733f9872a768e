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
rabbitpay_demo on it, loads a small Korean catalogue and a customer, places one order
that succeeds and one the payment sandbox declines (showing the compensation),
and prints the catalogue afterwards. Your own rabbitpay database is not touched.`,
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
			if err := e.print(cu, customerRows([]shop.Customer{cu})); err != nil {
				return err
			}
			for _, it := range []struct {
				sku string
				qty int64
			}{{"RBT-DOLL", 2}, {"TEA-GREEN", 1}} {
				if _, err := a.AddToCart(ctx, cu.ID, it.sku, it.qty); err != nil {
					return err
				}
			}
			e.section("Order from the cart, paid with Kakao Pay (sandbox)")
			res, err := a.PlaceOrder(ctx, app.PlaceRequest{CustomerID: cu.ID, Method: shop.Kakao}, e.stepPrinter())
			if err != nil {
				return err
			}
			if err := e.reportPlacement(res); err != nil {
				return err
			}
			e.section("Order over the sandbox's limit: the payment is declined and the stock restored")
			res, err = a.PlaceOrder(ctx, app.PlaceRequest{CustomerID: cu.ID, Method: shop.Naver,
				Items: []shop.ItemRequest{{SKU: "KIMCHI-5KG", Quantity: 1}}}, e.stepPrinter())
			if err != nil {
				return err
			}
			if err := e.reportPlacement(res); err != nil && exitCode(err) != ExitFailure {
				return err
			}
			e.section("Catalogue afterwards")
			after, err := a.Products(ctx, shop.ListOptions{})
			if err != nil {
				return err
			}
			return e.print(after.Items, productRows(after.Items))
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
