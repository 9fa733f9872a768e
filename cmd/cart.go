package cmd

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/rabbitpay/rabbitpay/internal/app"
	"github.com/rabbitpay/rabbitpay/internal/render"
	"github.com/rabbitpay/rabbitpay/internal/shop"
)

func newCartCmd(e *env) *cobra.Command {
	c := &cobra.Command{Use: "cart", Short: "Fill and inspect customers' carts",
		Example: "  rabbitpay cart add --customer 1 --product A-1 --qty 2\n  rabbitpay cart show --customer 1 -o json"}
	var customer, qty int64
	var product string
	// each builds one cart subcommand; run gets the validated customer id.
	each := func(use, short, example string, needProduct bool, run func(ctx context.Context, a *app.App) (shop.Cart, error)) *cobra.Command {
		cmd := &cobra.Command{Use: use, Short: short, Example: example, Args: noArgs,
			RunE: func(cmd *cobra.Command, args []string) error {
				if err := requireFlags(cmd, "customer"); err != nil {
					return err
				}
				if needProduct {
					if err := requireFlags(cmd, "product"); err != nil {
						return err
					}
				}
				if customer == 0 {
					return requireFlags(cmd, "customer")
				}
				a, err := e.app(cmd.Context())
				if err != nil {
					return err
				}
				cart, err := run(cmd.Context(), a)
				if err != nil {
					return err
				}
				return e.print(cart, cartRows(cart, e.format() == render.Table))
			}}
		idVar(cmd.Flags(), &customer, "customer", "customer", "customer id (required)")
		if needProduct {
			cmd.Flags().StringVar(&product, "product", "", "product id or SKU (required)")
		}
		return cmd
	}
	add := each("add --customer C --product ID|SKU [--qty N]", "Add a product to a cart (raises the quantity if it is there)",
		"  rabbitpay cart add --customer 1 --product A-1 --qty 2", true,
		func(ctx context.Context, a *app.App) (shop.Cart, error) {
			return a.AddToCart(ctx, customer, product, qty)
		})
	add.Flags().Int64Var(&qty, "qty", 1, "quantity to add")
	show := each("show --customer C", "Show a cart: items, unit prices, line totals, total",
		"  rabbitpay cart show --customer 1", false,
		func(ctx context.Context, a *app.App) (shop.Cart, error) {
			return a.Cart(ctx, customer)
		})
	remove := each("remove --customer C --product ID|SKU", "Take a product out of a cart",
		"  rabbitpay cart remove --customer 1 --product A-1", true,
		func(ctx context.Context, a *app.App) (shop.Cart, error) {
			return a.RemoveFromCart(ctx, customer, product)
		})
	clear := each("clear --customer C", "Empty a cart", "  rabbitpay cart clear --customer 1", false,
		func(ctx context.Context, a *app.App) (shop.Cart, error) {
			return a.ClearCart(ctx, customer)
		})
	c.AddCommand(add, show, remove, clear)
	return c
}

// cartRows lists the items; a table also gets a total row.
func cartRows(c shop.Cart, withTotal bool) rowsFunc {
	return func() ([]string, [][]string) {
		rows := make([][]string, 0, len(c.Items)+1)
		for _, it := range c.Items {
			rows = append(rows, []string{itoa(it.ProductID), it.SKU, it.Name, itoa(int64(it.Price)), itoa(it.Quantity), itoa(int64(it.LineTotal))})
		}
		if withTotal {
			rows = append(rows, []string{"", "", "total", "", "", itoa(int64(c.TotalAmount))})
		}
		return []string{"product_id", "sku", "name", "price", "quantity", "line_total"}, rows
	}
}
