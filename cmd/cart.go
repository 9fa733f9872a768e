package cmd

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/rabbitpay/rabbitpay/internal/render"
	"github.com/rabbitpay/rabbitpay/internal/shop"
)

func newCartCmd(e *env) *cobra.Command {
	c := &cobra.Command{Use: "cart", Short: "Fill and inspect customers' carts",
		Example: "  rabbitpay cart add --customer 1 --product A-1 --qty 2\n  rabbitpay cart show --customer 1 -o json"}
	c.AddCommand(newCartAddCmd(e, nil), newCartShowCmd(e, nil), newCartRemoveCmd(e, nil), newCartClearCmd(e, nil))
	return c
}

// cartOptions is what a cart command acts on.
type cartOptions struct {
	*env
	Verb       string // add, show, remove or clear
	CustomerID int64
	Product    string // add and remove
	Qty        int64  // add
}

func newCartAddCmd(e *env, runF func(*cartOptions) error) *cobra.Command {
	opts := &cartOptions{env: e, Verb: "add"}
	cmd := newCartVerbCmd(opts, runF, "add --customer C --product ID|SKU [--qty N]", "Add a product to a cart (raises the quantity if it is there)",
		"  rabbitpay cart add --customer 1 --product A-1 --qty 2")
	cmd.Flags().Int64Var(&opts.Qty, "qty", 1, "quantity to add")
	return cmd
}

func newCartShowCmd(e *env, runF func(*cartOptions) error) *cobra.Command {
	return newCartVerbCmd(&cartOptions{env: e, Verb: "show"}, runF, "show --customer C", "Show a cart: items, unit prices, line totals, total",
		"  rabbitpay cart show --customer 1")
}

func newCartRemoveCmd(e *env, runF func(*cartOptions) error) *cobra.Command {
	return newCartVerbCmd(&cartOptions{env: e, Verb: "remove"}, runF, "remove --customer C --product ID|SKU", "Take a product out of a cart",
		"  rabbitpay cart remove --customer 1 --product A-1")
}

func newCartClearCmd(e *env, runF func(*cartOptions) error) *cobra.Command {
	return newCartVerbCmd(&cartOptions{env: e, Verb: "clear"}, runF, "clear --customer C", "Empty a cart", "  rabbitpay cart clear --customer 1")
}

// newCartVerbCmd is the shape every cart command shares: --customer, and
// --product for add and remove.
func newCartVerbCmd(opts *cartOptions, runF func(*cartOptions) error, use, short, example string) *cobra.Command {
	needProduct := opts.Verb == "add" || opts.Verb == "remove"
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
			return dispatch(cmd, opts, runF, cartRun)
		}}
	idVar(cmd.Flags(), &opts.CustomerID, "customer", "customer", "customer id (required)")
	if needProduct {
		cmd.Flags().StringVar(&opts.Product, "product", "", "product id or SKU (required)")
	}
	return cmd
}

func cartRun(ctx context.Context, opts *cartOptions) error {
	a, err := opts.app(ctx)
	if err != nil {
		return err
	}
	var cart shop.Cart
	switch opts.Verb {
	case "add":
		cart, err = a.AddToCart(ctx, opts.CustomerID, opts.Product, opts.Qty)
	case "show":
		cart, err = a.Cart(ctx, opts.CustomerID)
	case "remove":
		cart, err = a.RemoveFromCart(ctx, opts.CustomerID, opts.Product)
	case "clear":
		cart, err = a.ClearCart(ctx, opts.CustomerID)
	}
	if err != nil {
		return err
	}
	return opts.print(cart, cartRows(cart, opts.format() == render.Table))
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
