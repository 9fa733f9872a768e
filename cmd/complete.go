package cmd

import (
	"context"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/rabbitpay/rabbitpay/internal/app"
	"github.com/rabbitpay/rabbitpay/internal/config"
	"github.com/rabbitpay/rabbitpay/internal/payment"
	"github.com/rabbitpay/rabbitpay/internal/shop"
)

// registerCompletions completes flag values and arguments in every shell
// cobra supports: the fixed ones (formats, methods, statuses) and the
// catalogue's SKUs and customer ids from the database.
func registerCompletions(e *env, root *cobra.Command) {
	fixed := func(values ...string) cobra.CompletionFunc {
		return cobra.FixedCompletions(values, cobra.ShellCompDirectiveNoFileComp)
	}
	root.RegisterFlagCompletionFunc("output", fixed("table", "json", "csv"))
	states := make([]string, len(shop.SagaStates))
	for i, s := range shop.SagaStates {
		states[i] = string(s)
	}
	deliveries := make([]string, len(shop.DeliveryStatuses))
	for i, s := range shop.DeliveryStatuses {
		deliveries[i] = string(s)
	}
	var methods []string
	for _, m := range payment.Methods() {
		methods = append(methods, string(m))
	}
	kinds := make([]string, len(shop.NotificationKinds))
	for i, k := range shop.NotificationKinds {
		kinds[i] = string(k)
	}
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		status := fixed(string(shop.OrderCreated), string(shop.OrderPaid), string(shop.OrderShipped), string(shop.OrderCancelled))
		if c.Parent() != nil && c.Parent().Name() == "deliver" {
			status = fixed(deliveries...)
		}
		for name, fn := range map[string]cobra.CompletionFunc{
			"method":   fixed(methods...),
			"status":   status,
			"sink":     fixed("stdout", "file", "webhook"),
			"kind":     fixed(kinds...),
			"state":    fixed(states...),
			"format":   fixed(string(shop.CatalogueCSV), string(shop.CatalogueJSONL)),
			"sort":     fixed("id", "sku", "name", "price", "stock", "-id", "-name", "-price", "-stock"),
			"customer": e.completeCustomers,
			"product":  e.completeProducts,
			"item":     e.completeProducts, // deliver start: the order's SKUs are among them
		} {
			if c.Flags().Lookup(name) != nil {
				c.RegisterFlagCompletionFunc(name, fn)
			}
		}
		if c.Parent() != nil && c.Parent().Name() == "product" && c.Args != nil && c.Name() != "list" && c.Name() != "register" &&
			c.Name() != "import" && c.Name() != "export" {
			c.ValidArgsFunction = func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
				if len(args) > 0 {
					return nil, cobra.ShellCompDirectiveNoFileComp
				}
				return e.completeProducts(cmd, args, toComplete)
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

// completionApp opens the app for a completion; nil when it cannot.
func (e *env) completionApp(cmd *cobra.Command) *app.App {
	// Read the configuration again: the global flags on the completed command
	// line (--database-url, --data-dir) are parsed only now.
	cfg, err := config.Load(cmd.Root().PersistentFlags(), e.configFile)
	if err != nil {
		return nil
	}
	e.cfg = cfg
	// Only a database that is up and migrated, briefly: pressing Tab starts no
	// cluster, migrates nothing and never hangs the shell.
	ctx, cancel := context.WithTimeout(cmd.Context(), 2*time.Second)
	defer cancel()
	a, err := app.OpenExisting(ctx, cfg)
	if err != nil {
		return nil
	}
	e.a = a
	return a
}

func (e *env) completeProducts(cmd *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	a := e.completionApp(cmd)
	if a == nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	p, err := a.Products(cmd.Context(), shop.ListOptions{Search: toComplete, Limit: 50, Sort: "sku"})
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	out := make([]cobra.Completion, 0, len(p.Items))
	for _, pr := range p.Items {
		ref := pr.SKU
		if r, err := shop.ParseProductRef(ref); err == nil && r.Bare() {
			ref = shop.RefBySKU(pr.SKU).String() // an all-digit SKU could also read as an id
		}
		out = append(out, cobra.CompletionWithDesc(ref, pr.Name))
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

func (e *env) completeCustomers(cmd *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	a := e.completionApp(cmd)
	if a == nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	p, err := a.Customers(cmd.Context(), shop.ListOptions{Limit: 50})
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	out := make([]cobra.Completion, 0, len(p.Items))
	for _, c := range p.Items {
		out = append(out, cobra.CompletionWithDesc(strconv.FormatInt(c.ID, 10), c.Name))
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}
