package cmd

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/rabbitpay/rabbitpay/internal/render"
	"github.com/rabbitpay/rabbitpay/internal/shop"
)

func newDeliverCmd(e *env) *cobra.Command {
	c := &cobra.Command{Use: "deliver", Short: "Ship order items: start, update, list, show, export and import deliveries",
		Long: `Every order item gets its own delivery. Its status only moves forward:
READY → SHIPPED → IN_TRANSIT → DELIVERED (a carrier may skip a step forward).
An order becomes shipped when every item has shipped, and from its first shipped
item on it can no longer be cancelled. Every change queues a notification in the
outbox ('rabbitpay notify list'). The day's hand-off to the courier is 'deliver
export' (the deliveries to ship, with where they go) and, with the courier's
waybill numbers filled in, 'deliver import' of the same file.`,
		Example: `  rabbitpay deliver start --order 1 --carrier CJ대한통운 --tracking 6012-3456-7890
  rabbitpay deliver update 1 --status SHIPPED
  rabbitpay deliver list --order 1
  rabbitpay deliver export today.csv`}
	c.AddCommand(newDeliverStartCmd(e, nil), newDeliverUpdateCmd(e, nil), newDeliverListCmd(e, nil), newDeliverShowCmd(e, nil),
		newDeliverExportCmd(e, nil), newDeliverImportCmd(e, nil), newDeliverCarriersCmd(e, nil))
	return c
}

// deliverStartOptions is what `deliver start` asks for.
type deliverStartOptions struct {
	*env
	Request shop.DeliveryStart
}

func newDeliverStartCmd(e *env, runF func(*deliverStartOptions) error) *cobra.Command {
	opts := &deliverStartOptions{env: e}
	var order int64
	req := &opts.Request
	cmd := &cobra.Command{
		Use:   "start --order ID [--item ORDER_PRODUCT_ID|SKU ...] [--carrier C --tracking T]",
		Short: "Create READY deliveries for a paid order's items",
		Long: `Start creates a READY delivery for each chosen item of a paid order (--item, an
order item id as 'order show' lists it, or a product SKU), or for every item
that has none yet. An item has one delivery: a second is refused. A cancelled,
cancelling or unpaid order is refused, and so is an order that goes nowhere
(no address and not a pickup: 'rabbitpay order ship-to'). A carrier is a known
one ('rabbitpay deliver carriers') or other:NAME.`,
		Example: `  rabbitpay deliver start --order 1
  rabbitpay deliver start --order 1 --item A-1 --carrier 우체국택배 --tracking 6865-1234-56789`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := requireFlags(cmd, "order"); err != nil {
				return err
			}
			req.OrderID = order
			return dispatch(cmd, opts, runF, deliverStartRun)
		},
	}
	f := cmd.Flags()
	idVar(f, &order, "order", "order", "the order id (required)")
	f.StringArrayVar(&req.Items, "item", nil, "an order item id or product SKU (repeatable); none: every item without a delivery")
	f.StringVar(&req.Carrier, "carrier", "", "the carrier")
	f.StringVar(&req.Tracking, "tracking", "", "the tracking number")
	return cmd
}

func deliverStartRun(ctx context.Context, opts *deliverStartOptions) error {
	a, err := opts.app(ctx)
	if err != nil {
		return err
	}
	ds, err := a.StartDeliveries(ctx, opts.Request)
	if err != nil {
		return err
	}
	return opts.print(ds, deliveryRows(ds))
}

// deliverUpdateOptions is the move `deliver update` makes.
type deliverUpdateOptions struct {
	*env
	Change shop.DeliveryChange
}

func newDeliverUpdateCmd(e *env, runF func(*deliverUpdateOptions) error) *cobra.Command {
	opts := &deliverUpdateOptions{env: e}
	var status, at string
	c := &opts.Change
	cmd := &cobra.Command{
		Use:   "update DELIVERY_ID --status SHIPPED|IN_TRANSIT|DELIVERED [--carrier C --tracking T] [--at TIME]",
		Short: "Move a delivery forward",
		Long: `Update moves a delivery to a later status (skipping ahead is allowed); a move
back or to its current status is refused (exit 1) and changes nothing. Two
operators updating one delivery at once cannot both win: the second sees the
first's status. --carrier and --tracking replace the current ones; --at dates the
change (default now).`,
		Example: `  rabbitpay deliver update 1 --status SHIPPED --carrier CJ대한통운 --tracking 6012-3456-7890
  rabbitpay deliver update 1 --status DELIVERED --at 2026-11-27T15:04:05+09:00`,
		Args: exactArgs(1, "one DELIVERY_ID"),
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			if c.ID, err = parseID("delivery", args[0]); err != nil {
				return err
			}
			if err := requireFlags(cmd, "status"); err != nil {
				return err
			}
			if c.Status, err = shop.ParseDeliveryStatus(status); err != nil {
				return err
			}
			if at != "" {
				if c.At, err = time.Parse(time.RFC3339, at); err != nil {
					return usageErr(cmd, "--at %q is not an RFC 3339 time (2026-11-25T14:00:00+09:00)", at)
				}
			}
			return dispatch(cmd, opts, runF, deliverUpdateRun)
		},
	}
	f := cmd.Flags()
	f.StringVar(&status, "status", "", "the new status: SHIPPED, IN_TRANSIT or DELIVERED (required)")
	f.StringVar(&c.Carrier, "carrier", "", "the carrier (default: unchanged)")
	f.StringVar(&c.Tracking, "tracking", "", "the tracking number (default: unchanged)")
	f.StringVar(&at, "at", "", "when it happened, RFC 3339 (default now)")
	return cmd
}

func deliverUpdateRun(ctx context.Context, opts *deliverUpdateOptions) error {
	a, err := opts.app(ctx)
	if err != nil {
		return err
	}
	d, err := a.UpdateDelivery(ctx, opts.Change)
	if err != nil {
		return err
	}
	return opts.print(d, deliveryRows([]shop.Delivery{d}))
}

// deliverListOptions is what `deliver list` shows.
type deliverListOptions struct {
	*env
	Filter shop.DeliveryFilter
	List   shop.ListOptions
}

func newDeliverListCmd(e *env, runF func(*deliverListOptions) error) *cobra.Command {
	opts := &deliverListOptions{env: e}
	f := &opts.Filter
	var status, since string
	var lf *listFlags
	cmd := &cobra.Command{
		Use:   "list [--order ID] [--status S] [--customer C] [--since T] [--limit N | --all] [--after ID]",
		Short: "List deliveries, one per order item",
		Example: `  rabbitpay deliver list --order 1
  rabbitpay deliver list --status READY --since 2026-12-07 --all -o csv`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			if opts.List, err = lf.options(e, cmd); err != nil {
				return err
			}
			if f.Since, err = parseDate(cmd, "since", since); err != nil {
				return err
			}
			if cmd.Flags().Changed("status") {
				if f.Status, err = shop.ParseDeliveryStatus(status); err != nil {
					return err
				}
			}
			return dispatch(cmd, opts, runF, deliverListRun)
		},
	}
	lf = addListFlags(cmd, "deliveries", "", "")
	cmd.Flags().StringVar(&since, "since", "", "only deliveries made at or after this date or time")
	idVar(cmd.Flags(), &f.OrderID, "order", "order", "only this order's deliveries")
	idVar(cmd.Flags(), &f.CustomerID, "customer", "customer", "only this customer's deliveries")
	cmd.Flags().StringVar(&status, "status", "", "only deliveries in this status: READY, SHIPPED, IN_TRANSIT, DELIVERED")
	return cmd
}

func deliverListRun(ctx context.Context, opts *deliverListOptions) error {
	a, err := opts.app(ctx)
	if err != nil {
		return err
	}
	p, err := a.Deliveries(ctx, opts.Filter, opts.List)
	if err != nil {
		return err
	}
	return printPage(opts.env, p, deliveryRows, noun{"delivery", "deliveries"}, func(d shop.Delivery) int64 { return d.ID }, opts.List)
}

// deliverShowOptions is the delivery `deliver show` shows.
type deliverShowOptions struct {
	*env
	DeliveryID int64
}

func newDeliverShowCmd(e *env, runF func(*deliverShowOptions) error) *cobra.Command {
	opts := &deliverShowOptions{env: e}
	return &cobra.Command{
		Use:     "show ID",
		Short:   "Show a delivery and its status history",
		Example: "  rabbitpay deliver show 1 -o json",
		Args:    exactArgs(1, "one delivery ID"),
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			if opts.DeliveryID, err = parseID("delivery", args[0]); err != nil {
				return err
			}
			return dispatch(cmd, opts, runF, deliverShowRun)
		},
	}
}

func deliverShowRun(ctx context.Context, opts *deliverShowOptions) error {
	a, err := opts.app(ctx)
	if err != nil {
		return err
	}
	d, err := a.Delivery(ctx, opts.DeliveryID)
	if err != nil {
		return err
	}
	return opts.printDelivery(d)
}

// printDelivery shows one delivery: JSON as one document with its history;
// a table as the delivery and its history; CSV as its history.
func (e *env) printDelivery(d shop.Delivery) error {
	history := rowsFunc(func() ([]string, [][]string) {
		rows := make([][]string, 0, len(d.History))
		for _, h := range d.History {
			rows = append(rows, []string{stamp(h.At), string(h.Status), h.Carrier, h.TrackingNumber})
		}
		return []string{"at", "status", "carrier", "tracking"}, rows
	})
	if e.format() != render.Table {
		return e.print(d, history)
	}
	if err := e.print(d, deliveryRows([]shop.Delivery{d})); err != nil {
		return err
	}
	if d.TrackingURL != "" {
		fmt.Fprintf(e.Out, "track it: %s\n", d.TrackingURL)
	}
	e.section("Ship to")
	fmt.Fprintln(e.Out, shipToLines(d.OrderID, d.ShipTo, d.Pickup))
	e.section("History")
	return e.print(d, history)
}

// deliverImportOptions is the file `deliver import` applies.
type deliverImportOptions struct {
	*env
	Path   string // "-": standard input
	Format shop.CatalogueFormat
}

func newDeliverImportCmd(e *env, runF func(*deliverImportOptions) error) *cobra.Command {
	opts := &deliverImportOptions{env: e}
	var format string
	cmd := &cobra.Command{
		Use:   "import FILE|- [--format csv|jsonl]",
		Short: "Apply a warehouse's delivery file, all or nothing",
		Long: `Import reads a CSV file with a header (columns delivery_id, order_id, sku, status,
carrier, tracking, at, in any order) or JSON Lines with the same
keys. Each row names a delivery by delivery_id, or by order_id and sku, and moves
it forward like 'deliver update' (several rows may move one delivery, in file
order). The whole file is validated and applied in one transaction: one bad or
refused row (reported with its line, up to 20 of them) and nothing changes.

A courier hand-off file ('rabbitpay deliver export', no status column) reads
back too: a row with a carrier and a waybill number ships its delivery
(SHIPPED), a row with neither is skipped. A carrier is a known one (code,
name or short name: 'rabbitpay deliver carriers') or other:NAME; a known
carrier's waybill number is checked against its shape.`,
		Example: `  rabbitpay deliver import today.csv
  printf 'order_id,sku,status,carrier,tracking\n1,A-1,SHIPPED,CJ대한통운,6012-3456-7890\n' | rabbitpay deliver import -`,
		Args: exactArgs(1, "one FILE (or - for standard input)"),
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			opts.Path = args[0]
			if opts.Format, err = catalogueFormat(cmd, args[0], format); err != nil {
				return err
			}
			return dispatch(cmd, opts, runF, deliverImportRun)
		},
		Annotations: runsLong(),
	}
	cmd.Flags().StringVar(&format, "format", "", "csv or jsonl (default: from the file extension, else the content)")
	return cmd
}

func deliverImportRun(ctx context.Context, opts *deliverImportOptions) error {
	br, f, _, closeIt, err := opts.openImport(opts.Path, opts.Format)
	if err != nil {
		return err
	}
	defer closeIt()
	a, err := opts.app(ctx)
	if err != nil {
		return err
	}
	sum, err := a.ImportDeliveries(ctx, br, f)
	if err != nil {
		return err
	}
	return opts.print(sum, rowsFunc(func() ([]string, [][]string) {
		return []string{"rows", "deliveries_changed", "skipped"}, [][]string{{itoa(int64(sum.Rows)), itoa(int64(sum.Changed)), itoa(int64(sum.Skipped))}}
	}))
}

func deliveryRows(ds []shop.Delivery) rowsFunc {
	return func() ([]string, [][]string) {
		rows := make([][]string, 0, len(ds))
		for _, d := range ds {
			rows = append(rows, []string{itoa(d.ID), itoa(d.OrderID), itoa(d.OrderProductID), d.SKU, d.Name, itoa(d.Quantity),
				string(d.Status), d.Carrier, d.TrackingNumber, stamp(d.UpdatedAt), shipToCell(d.ShipTo, d.Pickup)})
		}
		// ship_to comes last: scripts that read the CSV by position keep working
		return []string{"id", "order_id", "order_product_id", "sku", "product", "quantity", "status", "carrier", "tracking", "updated_at", "ship_to"}, rows
	}
}

// shipToCell is where a delivery goes, in one list cell: the phone masked.
func shipToCell(t *shop.ShipTo, pickup bool) string {
	switch {
	case pickup:
		return "pickup"
	case t == nil:
		return "-"
	}
	return t.Masked()
}

// deliverExportOptions is what `deliver export` writes, and where.
type deliverExportOptions struct {
	*env
	Path   string // - is standard output
	Format shop.CatalogueFormat
	Filter shop.DeliveryFilter
}

func newDeliverExportCmd(e *env, runF func(*deliverExportOptions) error) *cobra.Command {
	opts := &deliverExportOptions{env: e}
	var format, status, since string
	cmd := &cobra.Command{
		Use:   "export [FILE|-] [--status S] [--order ID] [--since T] [--format csv|jsonl]",
		Short: "Write the day's deliveries for the courier: who gets what where, waybill columns empty",
		Long: `Export writes the READY deliveries (or --status, --order, --since) as the
courier's hand-off file, CSV or JSON Lines: delivery_id, order_id, recipient,
phone (whole), zip_code, address, sku, product, quantity, memo, and empty
carrier and tracking columns. Pickups have nothing for a courier and are left
out. Fill carrier and tracking in (a spreadsheet is fine) and give the same
file to 'rabbitpay deliver import': each row with a waybill number ships its
delivery (SHIPPED), rows left empty are skipped.`,
		Example: `  rabbitpay deliver export today.csv
  rabbitpay deliver export --since 2026-12-07 --format jsonl > today.jsonl
  rabbitpay deliver import today.csv        # after the courier filled carrier and tracking in`,
		Args: exportArgs,
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			if opts.Path, opts.Format, err = exportTarget(cmd, args, format, "today.csv"); err != nil {
				return err
			}
			if cmd.Flags().Changed("status") {
				if opts.Filter.Status, err = shop.ParseDeliveryStatus(status); err != nil {
					return err
				}
			}
			if opts.Filter.Since, err = parseDate(cmd, "since", since); err != nil {
				return err
			}
			return dispatch(cmd, opts, runF, deliverExportRun)
		},
	}
	f := cmd.Flags()
	f.StringVar(&format, "format", "", "csv or jsonl (default: from the file extension, else csv)")
	f.StringVar(&status, "status", "", "deliveries in this status (default READY)")
	f.StringVar(&since, "since", "", "only deliveries made at or after this date or time")
	idVar(f, &opts.Filter.OrderID, "order", "order", "only this order's deliveries")
	return cmd
}

func deliverExportRun(ctx context.Context, opts *deliverExportOptions) error {
	a, err := opts.app(ctx)
	if err != nil {
		return err
	}
	var nowhere int
	err = opts.writeExport(opts.Path, noun{"delivery", "deliveries"}, func(w io.Writer) (n int, err error) {
		n, nowhere, err = a.ExportDeliveries(ctx, w, opts.Filter, opts.Format)
		return n, err
	})
	if err == nil && nowhere > 0 {
		fmt.Fprintf(opts.Err, "left out %s of orders that go nowhere: give them a destination with 'rabbitpay order ship-to'\n",
			noun{"delivery", "deliveries"}.count(nowhere))
	}
	return err
}

// deliverCarriersOptions lists the carriers.
type deliverCarriersOptions struct{ *env }

func newDeliverCarriersCmd(e *env, runF func(*deliverCarriersOptions) error) *cobra.Command {
	opts := &deliverCarriersOptions{env: e}
	return &cobra.Command{
		Use:   "carriers",
		Short: "List the carriers rabbitpay knows: code, name, waybill number shape, tracking URL",
		Long: `--carrier and import files take a carrier's code, name, English name or usual
short name (CJ, 우체국, 한진, 롯데, 로젠); a carrier not listed is written
other:NAME. A known carrier's waybill number is checked against its shape
(hyphens and spaces are dropped) and 'deliver show' links its tracking page.`,
		Example: "  rabbitpay deliver carriers",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return dispatch(cmd, opts, runF, func(_ context.Context, o *deliverCarriersOptions) error {
				return o.print(shop.Carriers, rowsFunc(func() ([]string, [][]string) {
					rows := make([][]string, 0, len(shop.Carriers))
					for _, c := range shop.Carriers {
						rows = append(rows, []string{c.Code, c.Name, c.English, c.Shape, c.Track})
					}
					return []string{"code", "name", "english", "waybill", "tracking_url"}, rows
				}))
			})
		},
	}
}
