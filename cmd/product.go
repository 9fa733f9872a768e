package cmd

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/rabbitpay/rabbitpay/internal/app"

	"github.com/rabbitpay/rabbitpay/internal/render"
	"github.com/rabbitpay/rabbitpay/internal/shop"
)

func newProductCmd(e *env) *cobra.Command {
	c := &cobra.Command{Use: "product", Short: "Manage the product catalogue",
		Example: "  rabbitpay product register --sku A-1 --name \"토끼 인형\" --price 12000 --stock 5\n  rabbitpay product list --search 토끼\n  rabbitpay product import catalogue.csv"}
	show := &cobra.Command{
		Use:     "show ID|SKU",
		Short:   "Show one product by id or SKU",
		Example: "  rabbitpay product show A-1\n  rabbitpay product show 1 -o json",
		Args:    exactArgs(1, "one product ID or SKU"),
		RunE: func(cmd *cobra.Command, args []string) error {
			a, err := e.app(cmd.Context())
			if err != nil {
				return err
			}
			p, err := a.Product(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return e.print(p, productRows([]shop.Product{p}))
		},
	}
	var lf *listFlags
	var inStock, retired bool
	list := &cobra.Command{
		Use:   "list [--search TEXT] [--in-stock] [--sort KEY] [--limit N | --all] [--after ID]",
		Short: "List the catalogue, a page at a time",
		Example: `  rabbitpay product list --search 토끼 --in-stock
  rabbitpay product list --sort -price --limit 10
  rabbitpay product list --all -o csv > catalogue.csv`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o, err := lf.options(e, cmd)
			if err != nil {
				return err
			}
			o.InStock, o.Retired = inStock, retired
			a, err := e.app(cmd.Context())
			if err != nil {
				return err
			}
			p, err := a.Products(cmd.Context(), o)
			if err != nil {
				return err
			}
			return printPage(e, p, productRows, noun{"product", "products"}, func(p shop.Product) int64 { return p.ID }, o)
		},
	}
	lf = addListFlags(list, "products", "name or SKU", "id, sku, name, price, stock")
	list.Flags().BoolVar(&inStock, "in-stock", false, "only products with stock left")
	list.Flags().BoolVar(&retired, "retired", false, "include retired products")
	c.AddCommand(newProductStateCmd(e, "retire", "Retire a product: hidden from lists, refused in carts and new orders, kept in order history",
		func(a *app.App, ctx context.Context, ref string) (shop.Product, error) {
			return a.RetireProduct(ctx, ref, true)
		}),
		newProductStateCmd(e, "restore", "Bring a retired product back",
			func(a *app.App, ctx context.Context, ref string) (shop.Product, error) {
				return a.RetireProduct(ctx, ref, false)
			}),
		newProductStateCmd(e, "delete", "Delete a product no order holds (an ordered one can only be retired)",
			func(a *app.App, ctx context.Context, ref string) (shop.Product, error) {
				return a.DeleteProduct(ctx, ref)
			}))
	c.AddCommand(newProductRegisterCmd(e), show, list, newProductUpdateCmd(e), newProductImportCmd(e), newProductExportCmd(e))
	return c
}

func newProductRegisterCmd(e *env) *cobra.Command {
	var p shop.Product
	var price int64
	cmd := &cobra.Command{
		Use:     "register --sku S --name N --price P --stock Q",
		Short:   "Register a new product",
		Example: `  rabbitpay product register --sku A-1 --name "토끼 인형" --price 12000 --stock 5`,
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := requireFlags(cmd, "sku", "name", "price", "stock"); err != nil {
				return err
			}
			p.Price = shop.Won(price)
			if err := p.Validate(); err != nil {
				return err
			}
			a, err := e.app(cmd.Context())
			if err != nil {
				return err
			}
			out, err := a.RegisterProduct(cmd.Context(), p)
			if err != nil {
				return err
			}
			return e.print(out, productRows([]shop.Product{out}))
		},
	}
	f := cmd.Flags()
	f.StringVar(&p.SKU, "sku", "", "stock keeping unit, unique (required)")
	f.StringVar(&p.Name, "name", "", "product name (required)")
	f.Int64Var(&price, "price", 0, "unit price in won (required)")
	f.Int64Var(&p.StockQuantity, "stock", 0, "units in stock (required)")
	return cmd
}

func newProductUpdateCmd(e *env) *cobra.Command {
	var name string
	var price, stock int64
	cmd := &cobra.Command{
		Use:     "update ID|SKU [--name N] [--price P] [--stock Q]",
		Short:   "Change a product's name, price or stock",
		Example: "  rabbitpay product update A-1 --price 13000 --stock 20",
		Args:    exactArgs(1, "one product ID or SKU"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var patch shop.ProductPatch
			if cmd.Flags().Changed("name") {
				patch.Name = &name
			}
			if cmd.Flags().Changed("price") {
				patch.Price = &price
			}
			if cmd.Flags().Changed("stock") {
				patch.Stock = &stock
			}
			if patch == (shop.ProductPatch{}) {
				return usageErr(cmd, "nothing to update: give --name, --price or --stock")
			}
			a, err := e.app(cmd.Context())
			if err != nil {
				return err
			}
			p, err := a.UpdateProduct(cmd.Context(), args[0], patch)
			if err != nil {
				return err
			}
			return e.print(p, productRows([]shop.Product{p}))
		},
	}
	f := cmd.Flags()
	f.StringVar(&name, "name", "", "new name")
	f.Int64Var(&price, "price", 0, "new unit price in won")
	f.Int64Var(&stock, "stock", 0, "new stock quantity")
	return cmd
}

// newProductStateCmd builds retire, restore and delete: one product reference in, the product out.
func newProductStateCmd(e *env, verb, short string, do func(*app.App, context.Context, string) (shop.Product, error)) *cobra.Command {
	return &cobra.Command{
		Use:     verb + " ID|SKU",
		Short:   short,
		Example: fmt.Sprintf("  rabbitpay product %s RBT-DOLL\n  rabbitpay product %s '#12'", verb, verb),
		Args:    exactArgs(1, "one product ID or SKU"),
		RunE: func(cmd *cobra.Command, args []string) error {
			a, err := e.app(cmd.Context())
			if err != nil {
				return err
			}
			p, err := do(a, cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if verb == "delete" && e.format() == render.Table { // the product is gone: say so, not show it
				fmt.Fprintf(e.Out, "deleted product %s (%s, id %d)\n", p.SKU, p.Name, p.ID)
				return nil
			}
			return e.print(p, productRows([]shop.Product{p}))
		},
	}
}
