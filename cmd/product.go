package cmd

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/rabbitpay/rabbitpay/internal/render"
	"github.com/rabbitpay/rabbitpay/internal/shop"
)

func newProductCmd(e *env) *cobra.Command {
	c := &cobra.Command{Use: "product", Short: "Manage the product catalogue",
		Example: "  rabbitpay product register --sku A-1 --name \"토끼 인형\" --price 12000 --stock 5\n  rabbitpay product list --search 토끼\n  rabbitpay product import catalogue.csv"}
	c.AddCommand(newProductRegisterCmd(e, nil), newProductShowCmd(e, nil), newProductListCmd(e, nil), newProductUpdateCmd(e, nil),
		newProductRetireCmd(e, nil), newProductRestoreCmd(e, nil), newProductDeleteCmd(e, nil), newProductImportCmd(e, nil), newProductExportCmd(e, nil))
	return c
}

// productOptions is what a command on one product acts on: show, update,
// retire, restore, delete.
type productOptions struct {
	*env
	Verb  string
	Ref   string // an id or a SKU, as shop.ParseProductRef reads it
	Patch shop.ProductPatch
}

func newProductShowCmd(e *env, runF func(*productOptions) error) *cobra.Command {
	return newProductRefCmd(&productOptions{env: e, Verb: "show"}, runF, "Show one product by id or SKU",
		"  rabbitpay product show A-1\n  rabbitpay product show 1 -o json")
}

func newProductRetireCmd(e *env, runF func(*productOptions) error) *cobra.Command {
	return newProductRefCmd(&productOptions{env: e, Verb: "retire"}, runF,
		"Retire a product: hidden from lists, refused in carts and new orders, kept in order history", "")
}

func newProductRestoreCmd(e *env, runF func(*productOptions) error) *cobra.Command {
	return newProductRefCmd(&productOptions{env: e, Verb: "restore"}, runF, "Bring a retired product back", "")
}

func newProductDeleteCmd(e *env, runF func(*productOptions) error) *cobra.Command {
	return newProductRefCmd(&productOptions{env: e, Verb: "delete"}, runF,
		"Delete a product no order holds (an ordered one can only be retired)", "")
}

// newProductRefCmd is the shape of the commands that take one product reference.
func newProductRefCmd(opts *productOptions, runF func(*productOptions) error, short, example string) *cobra.Command {
	if example == "" {
		example = fmt.Sprintf("  rabbitpay product %s RBT-DOLL\n  rabbitpay product %s '#12'", opts.Verb, opts.Verb)
	}
	return &cobra.Command{
		Use:     opts.Verb + " ID|SKU",
		Short:   short,
		Example: example,
		Args:    exactArgs(1, "one product ID or SKU"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Ref = args[0]
			return dispatch(cmd, opts, runF, productRun)
		},
	}
}

func newProductUpdateCmd(e *env, runF func(*productOptions) error) *cobra.Command {
	opts := &productOptions{env: e, Verb: "update"}
	var name string
	var price, stock int64
	cmd := &cobra.Command{
		Use:     "update ID|SKU [--name N] [--price P] [--stock Q]",
		Short:   "Change a product's name, price or stock",
		Example: "  rabbitpay product update A-1 --price 13000 --stock 20",
		Args:    exactArgs(1, "one product ID or SKU"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Ref = args[0]
			if cmd.Flags().Changed("name") {
				opts.Patch.Name = &name
			}
			if cmd.Flags().Changed("price") {
				opts.Patch.Price = &price
			}
			if cmd.Flags().Changed("stock") {
				opts.Patch.Stock = &stock
			}
			if opts.Patch == (shop.ProductPatch{}) {
				return usageErr(cmd, "nothing to update: give --name, --price or --stock")
			}
			return dispatch(cmd, opts, runF, productRun)
		},
	}
	f := cmd.Flags()
	f.StringVar(&name, "name", "", "new name")
	f.Int64Var(&price, "price", 0, "new unit price in won")
	f.Int64Var(&stock, "stock", 0, "new stock quantity")
	return cmd
}

func productRun(ctx context.Context, opts *productOptions) error {
	a, err := opts.app(ctx)
	if err != nil {
		return err
	}
	var p shop.Product
	switch opts.Verb {
	case "show":
		p, err = a.Product(ctx, opts.Ref)
	case "update":
		p, err = a.UpdateProduct(ctx, opts.Ref, opts.Patch)
	case "retire", "restore":
		p, err = a.RetireProduct(ctx, opts.Ref, opts.Verb == "retire")
	case "delete":
		p, err = a.DeleteProduct(ctx, opts.Ref)
	}
	if err != nil {
		return err
	}
	if opts.Verb == "delete" && opts.format() == render.Table { // the product is gone: say so, not show it
		fmt.Fprintf(opts.Out, "deleted product %s (%s, id %d)\n", p.SKU, p.Name, p.ID)
		return nil
	}
	return opts.print(p, productRows([]shop.Product{p}))
}

// productListOptions is what `product list` shows.
type productListOptions struct {
	*env
	List shop.ListOptions
}

func newProductListCmd(e *env, runF func(*productListOptions) error) *cobra.Command {
	opts := &productListOptions{env: e}
	var lf *listFlags
	var inStock, retired bool
	cmd := &cobra.Command{
		Use:   "list [--search TEXT] [--in-stock] [--sort KEY] [--limit N | --all] [--after ID]",
		Short: "List the catalogue, a page at a time",
		Example: `  rabbitpay product list --search 토끼 --in-stock
  rabbitpay product list --sort -price --limit 10
  rabbitpay product list --all -o csv > catalogue.csv`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			if opts.List, err = lf.options(e, cmd); err != nil {
				return err
			}
			opts.List.InStock, opts.List.Retired = inStock, retired
			return dispatch(cmd, opts, runF, productListRun)
		},
	}
	lf = addListFlags(cmd, "products", "name or SKU", "id, sku, name, price, stock")
	cmd.Flags().BoolVar(&inStock, "in-stock", false, "only products with stock left")
	cmd.Flags().BoolVar(&retired, "retired", false, "include retired products")
	return cmd
}

func productListRun(ctx context.Context, opts *productListOptions) error {
	a, err := opts.app(ctx)
	if err != nil {
		return err
	}
	p, err := a.Products(ctx, opts.List)
	if err != nil {
		return err
	}
	return printPage(opts.env, p, productRows, noun{"product", "products"}, func(p shop.Product) int64 { return p.ID }, opts.List)
}

// productRegisterOptions is the product `product register` makes.
type productRegisterOptions struct {
	*env
	Product shop.Product
}

func newProductRegisterCmd(e *env, runF func(*productRegisterOptions) error) *cobra.Command {
	opts := &productRegisterOptions{env: e}
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
			opts.Product.Price = shop.Won(price)
			if err := opts.Product.Validate(); err != nil {
				return err
			}
			return dispatch(cmd, opts, runF, productRegisterRun)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Product.SKU, "sku", "", "stock keeping unit, unique (required)")
	f.StringVar(&opts.Product.Name, "name", "", "product name (required)")
	f.Int64Var(&price, "price", 0, "unit price in won (required)")
	f.Int64Var(&opts.Product.StockQuantity, "stock", 0, "units in stock (required)")
	return cmd
}

func productRegisterRun(ctx context.Context, opts *productRegisterOptions) error {
	a, err := opts.app(ctx)
	if err != nil {
		return err
	}
	out, err := a.RegisterProduct(ctx, opts.Product)
	if err != nil {
		return err
	}
	return opts.print(out, productRows([]shop.Product{out}))
}
