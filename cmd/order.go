package cmd

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/rabbitpay/rabbitpay/internal/app"
	"github.com/rabbitpay/rabbitpay/internal/payment"
	"github.com/rabbitpay/rabbitpay/internal/render"
	"github.com/rabbitpay/rabbitpay/internal/secret"
	"github.com/rabbitpay/rabbitpay/internal/shop"
)

// stepPrinter prints each saga step and compensation as it happens, one line
// each. It writes to stderr when stdout carries a JSON or CSV document.
func (e *env) stepPrinter() shop.Observer {
	w := e.stepWriter()
	return shop.ObserverFunc(func(ev shop.SagaEvent) {
		mark := map[shop.Outcome]string{shop.OutcomeOK: "✓", shop.OutcomeFailed: "✗", shop.OutcomeRetry: "…", shop.OutcomeSkipped: "-",
			shop.OutcomeWaiting: "⋯"}[ev.Outcome]
		if ev.Kind == shop.EventCompensation && ev.Outcome == shop.OutcomeOK {
			mark = "↩"
		}
		if e.prompting.Swap(false) {
			fmt.Fprintln(e.Err)
		}
		fmt.Fprintf(w, "  %s %-14s %-7s %s\n", mark, ev.Name, ev.Outcome, oneLine(secret.Mask(ev.Detail)))
		if u, ok := strings.CutPrefix(ev.Detail, "approve at "); ok && ev.Outcome == shop.OutcomeWaiting {
			e.showApproval(u)
		}
	})
}

func (e *env) stepWriter() io.Writer {
	if e.format() == render.Table {
		return e.Out
	}
	return e.Err
}

func newOrderCmd(e *env) *cobra.Command {
	c := &cobra.Command{Use: "order", Short: "Place, list, show, cancel and refund orders; say where they go (ship-to)",
		Example: "  rabbitpay order place --customer 1 --method KAKAO --item A-1:2\n  rabbitpay order list --status paid --limit 10"}
	c.AddCommand(newOrderPlaceCmd(e, nil), newOrderListCmd(e, nil), newOrderRefundCmd(e, nil), newOrderShowCmd(e, nil), newOrderCancelCmd(e, nil),
		newOrderShipToCmd(e, nil))
	return c
}

// orderOptions is what `order show` and `order cancel` act on.
type orderOptions struct {
	*env
	OrderID int64
	// OrderUUID is `order show`'s argument when it is a UUID.
	OrderUUID string
}

func newOrderShowCmd(e *env, runF func(*orderOptions) error) *cobra.Command {
	opts := &orderOptions{env: e}
	return &cobra.Command{
		Use:     "show ID|UUID",
		Short:   "Show an order: items, payment and saga trail",
		Example: "  rabbitpay order show 17 -o json\n  rabbitpay order show 6f1c2e7a-3b9d-4c51-9f0e-2a7d1c8b4e55",
		Args:    exactArgs(1, "one order ID or UUID"),
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			if app.IsUUID(args[0]) {
				opts.OrderUUID = args[0]
			} else if opts.OrderID, err = parseID("order", args[0]); err != nil {
				return err
			}
			return dispatch(cmd, opts, runF, orderShowRun)
		},
	}
}

func orderShowRun(ctx context.Context, opts *orderOptions) error {
	a, err := opts.app(ctx)
	if err != nil {
		return err
	}
	var o shop.Order
	if opts.OrderUUID != "" {
		o, err = a.OrderByUUID(ctx, opts.OrderUUID)
	} else {
		o, err = a.Order(ctx, opts.OrderID)
	}
	if err != nil {
		return err
	}
	return opts.printOrder(o)
}

func newOrderCancelCmd(e *env, runF func(*orderOptions) error) *cobra.Command {
	opts := &orderOptions{env: e}
	return &cobra.Command{
		Use:   "cancel ID",
		Short: "Cancel an order that has not shipped: refund, restore stock, notify",
		Long: `Cancel refunds the payment, puts the stock back, sets the order cancelled and
queues an order.cancelled notification. An order with a shipped item is refused.
Cancelling a cancelled order changes nothing. If the refund keeps failing the
order is left for 'rabbitpay saga recover' (exit code 3).`,
		Example: "  rabbitpay order cancel 17",
		Args:    exactArgs(1, "one order ID"),
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			if opts.OrderID, err = parseID("order", args[0]); err != nil {
				return err
			}
			return dispatch(cmd, opts, runF, orderCancelRun)
		},
		Annotations: runsLong(),
	}
}

func orderCancelRun(ctx context.Context, opts *orderOptions) error {
	a, err := opts.app(ctx)
	if err != nil {
		return err
	}
	res, err := a.CancelOrder(ctx, opts.OrderID, opts.stepPrinter())
	if errors.Is(err, shop.ErrIncomplete) {
		return fmt.Errorf("%w; run 'rabbitpay saga recover' (see 'rabbitpay order show %d')", err, opts.OrderID)
	}
	if err != nil {
		return err
	}
	return opts.printCancel(opts.OrderID, res)
}

// printCancel shows a cancel's outcome: a sentence on a table, else the order.
func (e *env) printCancel(id int64, res app.CancelResult) error {
	if e.format() != render.Table {
		return e.print(res, orderRows([]shop.Order{*res.Order}))
	}
	if res.AlreadyCancelled {
		fmt.Fprintf(e.Out, "order %d was already cancelled; nothing changed\n", id)
	} else {
		refunded := res.Refunded.String() + " refunded"
		if res.Refunded == 0 {
			refunded = "nothing was left to refund"
		}
		fmt.Fprintf(e.Out, "order %d cancelled: %s, stock restored\n", id, refunded)
	}
	return nil
}

// placeOptions is what `order place` needs, its flags checked.
type placeOptions struct {
	*env
	CustomerID     int64
	Method         shop.PaymentMethod
	Items          []shop.ItemRequest // none: the cart
	Destination    shop.Destination
	IdempotencyKey string
	ApprovalToken  string // "-": read from stdin
}

func newOrderPlaceCmd(e *env, runF func(*placeOptions) error) *cobra.Command {
	opts := &placeOptions{env: e}
	var customer, shipTo int64
	var method string
	var items []string
	cmd := &cobra.Command{
		Use:   "place --customer C --method " + payment.MethodNames("|") + " [--item SKU:QTY ...] [--ship-to ADDRESS | --pickup] [--idempotency-key K]",
		Short: "Place an order: reduce stock, pay, create the order, notify",
		Long: `Place runs the order saga and prints each step as it happens. Without --item
it orders the customer's cart (and empties it). When a step fails, the steps
before it are undone and each compensation is printed.

The order keeps a copy of where it goes: the customer's default address
(see 'rabbitpay customer address'), --ship-to one of their other addresses,
or --pickup for an order handed over at the counter. Without a default
address, and without either flag, it goes nowhere yet: set its destination
with 'rabbitpay order ship-to' before its delivery starts.

Exit codes: 0 placed; 1 failed and fully compensated; 2 bad input;
3 failed and a compensation is incomplete (run 'rabbitpay saga recover');
130 interrupted (Ctrl-C) before the charge, everything compensated.

With payment.provider live, the provider asks the buyer to approve: the
approval URL is printed (with a QR code on a terminal) and the order waits,
up to payment.approval_timeout, for the buyer to come back through the
callback listener (payment.callback.listen), for --approval-token, or for
the token or final URL pasted at the prompt. A decline, the time running out
or Ctrl-C while waiting compensates like any failure.

The same --idempotency-key with the same request returns the first result
without charging again; with a different request it is an error.`,
		Example: `  rabbitpay order place --customer 1 --method KAKAO --item A-1:2 --item B-2:1
  rabbitpay order place --customer 1 --method KAKAO --item A-1:1 --ship-to 4
  rabbitpay order place --customer 1 --method NAVER --pickup --idempotency-key checkout-7f3a -o json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			if err := requireFlags(cmd, "customer", "method"); err != nil {
				return err
			}
			if opts.Method, err = payment.ParseMethod(method); err != nil {
				return err
			}
			opts.CustomerID = customer
			if opts.Destination, err = destination(cmd, shipTo, "ship-to"); err != nil {
				return err
			}
			if opts.Items, err = parseItems(items); err != nil {
				return err
			}
			if err := idempotencyKeyGiven(cmd, opts.IdempotencyKey); err != nil {
				return err
			}
			return dispatch(cmd, opts, runF, placeRun)
		},
		Annotations: runsLong(),
	}
	f := cmd.Flags()
	idVar(f, &customer, "customer", "customer", "customer id (required)")
	f.StringVar(&method, "method", "", "payment method: "+payment.MethodNames(" or ")+" (required)")
	f.StringArrayVar(&items, "item", nil, "SKU:QTY to order (repeatable); none orders the cart")
	idVar(f, &shipTo, "ship-to", "address", "send the order to this address of the customer's (default: their default address)")
	f.BoolVar(&opts.Destination.Pickup, "pickup", false, "the order is handed over at the counter: it goes to no address")
	f.StringVar(&opts.IdempotencyKey, "idempotency-key", "", "makes retries safe: the same key never charges twice")
	f.StringVar(&opts.ApprovalToken, "approval-token", "", "live payments: the buyer's approval (token or redirect URL; - reads it from stdin)")
	return cmd
}

// destination is where --pickup and the address flag (addressFlag) send an
// order: one of them, never both.
func destination(cmd *cobra.Command, addressID int64, addressFlag string) (shop.Destination, error) {
	pickup, _ := cmd.Flags().GetBool("pickup")
	if pickup && cmd.Flags().Changed(addressFlag) {
		return shop.Destination{}, shop.Invalid("give --%s or --pickup, not both: an order either goes to an address or is picked up", addressFlag)
	}
	return shop.Destination{AddressID: addressID, Pickup: pickup}, nil
}

// idempotencyKeyGiven checks --idempotency-key when it was given.
func idempotencyKeyGiven(cmd *cobra.Command, key string) error {
	if !cmd.Flags().Changed("idempotency-key") {
		return nil
	}
	return shop.CheckIdempotencyKey(key)
}

// parseItems parses --item values (SKU:QTY).
func parseItems(ss []string) ([]shop.ItemRequest, error) {
	var items []shop.ItemRequest
	for _, s := range ss {
		it, err := shop.ParseItem(s)
		if err != nil {
			return nil, err
		}
		items = append(items, it)
	}
	return items, nil
}

func placeRun(ctx context.Context, opts *placeOptions) error {
	req := app.PlaceRequest{CustomerID: opts.CustomerID, Method: opts.Method, Items: opts.Items, Destination: opts.Destination,
		IdempotencyKey: opts.IdempotencyKey, Approval: opts.approval(opts.ApprovalToken)}
	a, err := opts.app(ctx)
	if err != nil {
		return err
	}
	res, err := a.PlaceOrder(ctx, req, opts.stepPrinter())
	if errors.Is(err, shop.ErrCartEmpty) {
		return fmt.Errorf("%w: add items with 'rabbitpay cart add' or give --item SKU:QTY", err)
	}
	if err != nil {
		return err
	}
	return opts.reportPlacement(res)
}

// refundOptions is what `order refund` needs, its flags checked.
type refundOptions struct {
	*env
	OrderID        int64
	Items          []shop.ItemRequest
	Reason         string
	IdempotencyKey string
}

func newOrderRefundCmd(e *env, runF func(*refundOptions) error) *cobra.Command {
	opts := &refundOptions{env: e}
	var items []string
	cmd := &cobra.Command{
		Use:   "refund ID --item SKU:QTY [--item ...] [--reason R] [--idempotency-key K]",
		Short: "Refund some items of a paid order: partial refund, stock back, notify",
		Long: `Refund gives back the exact amount of the named items (at the price paid) through
the payment provider, returns their stock, records the refund on the order and
the payment (the payment stays SUCCESS with a refunded amount, or becomes
CANCELLED, and the order cancelled, once everything is refunded) and queues a
payment.refunded notification. Items that have shipped, and more than was
bought (minus earlier refunds), are refused. The same --idempotency-key
refunds once. A refund whose provider answer is lost is left for
'rabbitpay saga recover' (exit code 3).`,
		Example: `  rabbitpay order refund 17 --item A-1:1 --reason "damaged in store"`,
		Args:    exactArgs(1, "one order ID"),
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			if err := requireFlags(cmd, "item"); err != nil {
				return err
			}
			if opts.Items, err = parseItems(items); err != nil {
				return err
			}
			if opts.OrderID, err = parseID("order", args[0]); err != nil {
				return err
			}
			if err := idempotencyKeyGiven(cmd, opts.IdempotencyKey); err != nil {
				return err
			}
			return dispatch(cmd, opts, runF, refundRun)
		},
		Annotations: runsLong(),
	}
	f := cmd.Flags()
	f.StringArrayVar(&items, "item", nil, "SKU:QTY to refund (repeatable, required)")
	f.StringVar(&opts.Reason, "reason", "", "why, for the provider and the notification")
	f.StringVar(&opts.IdempotencyKey, "idempotency-key", "", "makes retries safe: the same key never refunds twice")
	return cmd
}

func refundRun(ctx context.Context, opts *refundOptions) error {
	a, err := opts.app(ctx)
	if err != nil {
		return err
	}
	req := app.RefundRequest{OrderID: opts.OrderID, Items: opts.Items, Reason: opts.Reason, IdempotencyKey: opts.IdempotencyKey}
	res, err := a.RefundOrder(ctx, req, opts.stepPrinter())
	if errors.Is(err, shop.ErrIncomplete) {
		return fmt.Errorf("%w (see 'rabbitpay order show %d')", err, opts.OrderID)
	}
	if err != nil {
		return err
	}
	return opts.printRefund(opts.OrderID, res)
}

// printRefund shows a refund's outcome: a sentence on a table, else the order.
func (e *env) printRefund(id int64, res app.RefundResult) error {
	if e.format() != render.Table {
		return e.print(res, orderRows([]shop.Order{*res.Order}))
	}
	f := res.Refund
	if res.Replayed {
		fmt.Fprintf(e.Out, "refund %d was already made with this key (%s): nothing refunded again\n", f.ID, f.State)
	} else {
		fmt.Fprintf(e.Out, "order %d: refunded %s for %s; stock returned; the order is %s\n", id, f.Amount, lineList(f.Items), res.Order.Status)
	}
	return nil
}

// reportPlacement prints the outcome and turns it into the exit code.
func (e *env) reportPlacement(res app.PlaceResult) error {
	res.Error = oneLine(secret.Mask(res.Error))
	if e.format() == render.JSON {
		if err := e.print(res, nil); err != nil {
			return err
		}
	} else {
		switch {
		case res.Status == app.Placed && res.Replayed:
			fmt.Fprintf(e.stepWriter(), "order %d was already placed with this idempotency key: nothing was charged again\n", res.Order.ID)
		case res.Status == app.Placed:
			fmt.Fprintf(e.stepWriter(), "order %d placed: %s paid with %s (saga %s)\n", res.Order.ID, res.Order.TotalAmount, res.Order.Payment.Method, res.OrderUUID)
		case res.Incomplete:
			fmt.Fprintf(e.Err, "order failed at %s: %s; it is NOT fully compensated: run 'rabbitpay saga recover' (see 'rabbitpay saga show %s')\n", res.FailedStep, res.Error, res.OrderUUID)
		case res.Interrupted:
			fmt.Fprintf(e.Err, "order interrupted before %s; everything was compensated (saga %s)\n", res.FailedStep, res.OrderUUID)
		case res.FailedStep == app.StepReduceStock: // the first step: there was nothing to compensate
			fmt.Fprintf(e.Err, "order failed at %s: %s; nothing was charged and no stock stays reserved (saga %s)\n", res.FailedStep, res.Error, res.OrderUUID)
		default:
			fmt.Fprintf(e.Err, "order failed at %s: %s; everything was compensated (saga %s)\n", res.FailedStep, res.Error, res.OrderUUID)
		}
		if e.format() == render.CSV && res.Order != nil {
			if err := e.print(res.Order, orderRows([]shop.Order{*res.Order})); err != nil {
				return err
			}
		}
	}
	if err := res.Err(); err != nil {
		return &exitError{silent: true, err: err}
	}
	return nil
}

// orderListOptions is what `order list` shows.
type orderListOptions struct {
	*env
	Filter shop.OrderFilter
	List   shop.ListOptions
}

func newOrderListCmd(e *env, runF func(*orderListOptions) error) *cobra.Command {
	opts := &orderListOptions{env: e}
	var customer int64
	var status string
	var lf *listFlags
	cmd := &cobra.Command{
		Use:   "list [--customer C] [--status S] [--since DATE] [--until DATE] [--limit N | --all] [--after ID]",
		Short: "List orders, newest first, a page at a time",
		Example: `  rabbitpay order list --customer 1 --status paid
  rabbitpay order list --since 2026-11-01 --until 2026-12-01 --all -o csv`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			if opts.List, err = lf.options(e, cmd); err != nil {
				return err
			}
			if cmd.Flags().Changed("status") {
				if opts.Filter.Status, err = shop.ParseOrderStatus(status); err != nil {
					return err
				}
			}
			opts.Filter.CustomerID = customer
			return dispatch(cmd, opts, runF, orderListRun)
		},
	}
	lf = addListFlags(cmd, "orders", "", "")
	cmd.Flags().StringVar(&lf.since, "since", "", "only orders placed at or after this date or time")
	cmd.Flags().StringVar(&lf.until, "until", "", "only orders placed before this date or time")
	idVar(cmd.Flags(), &customer, "customer", "customer", "only this customer's orders")
	cmd.Flags().StringVar(&status, "status", "", "only orders in this status: created, paid, shipped, cancelled")
	return cmd
}

func orderListRun(ctx context.Context, opts *orderListOptions) error {
	a, err := opts.app(ctx)
	if err != nil {
		return err
	}
	p, err := a.Orders(ctx, opts.Filter, opts.List)
	if err != nil {
		return err
	}
	return printPage(opts.env, p, orderRows, noun{"order", "orders"}, func(o shop.Order) int64 { return o.ID }, opts.List)
}

func orderRows(os []shop.Order) rowsFunc {
	return func() ([]string, [][]string) {
		rows := make([][]string, 0, len(os))
		for _, o := range os {
			rows = append(rows, []string{itoa(o.ID), o.OrderUUID, itoa(o.CustomerID), string(o.Status), itoa(int64(o.TotalAmount)),
				stamp(o.CreatedAt), deliverySummary(o.Items), o.CustomerName})
		}
		// customer (the name) comes last: scripts that read the CSV by position keep working
		return []string{"id", "order_uuid", "customer_id", "status", "total_amount", "created_at", "delivery", "customer"}, rows
	}
}

// deliverySummary is each item's delivery state in one cell: SKU:STATUS
// (SKU:- before its delivery starts).
func deliverySummary(items []shop.OrderItem) string {
	parts := make([]string, 0, len(items))
	for _, it := range items {
		parts = append(parts, it.SKU+":"+cmp.Or(it.DeliveryStatus, "-"))
	}
	return strings.Join(parts, " ")
}

// printOrder shows one order: JSON as one document; a table as the order,
// its items, its payment and its saga trail; CSV as its items.
func (e *env) printOrder(o shop.Order) error {
	items := rowsFunc(func() ([]string, [][]string) {
		rows := make([][]string, 0, len(o.Items))
		for _, it := range o.Items {
			delivery := ""
			if it.DeliveryID != 0 {
				delivery = itoa(it.DeliveryID)
			}
			rows = append(rows, []string{itoa(it.ID), it.SKU, it.Name, itoa(it.Quantity), itoa(int64(it.OrderPrice)),
				itoa(it.Refunded), itoa(it.Refunded * int64(it.OrderPrice)), delivery, it.DeliveryStatus})
		}
		return []string{"order_product_id", "sku", "name", "quantity", "order_price", "refunded_quantity", "refunded_amount", "delivery_id", "delivery_status"}, rows
	})
	if e.format() != render.Table {
		return e.print(o, items)
	}
	fmt.Fprintf(e.Out, "Order %d: %s, %s\n", o.ID, o.Status, o.TotalAmount)
	fmt.Fprintf(e.Out, "  customer  %d %s\n  placed    %s\n  uuid      %s\n", o.CustomerID, o.CustomerName, stamp(o.CreatedAt), o.OrderUUID)
	e.section("Ship to")
	fmt.Fprintln(e.Out, shipToLines(o.ID, o.ShipTo, o.Pickup))
	e.section("Items")
	if err := e.print(o, items); err != nil {
		return err
	}
	if p := o.Payment; p != nil {
		e.section("Payment")
		if err := render.WriteTable(e.Out, []string{"payment_id", "method", "status", "amount", "refunded_amount", "provider_tx_id"},
			[][]string{{itoa(p.ID), string(p.Method), string(p.Status), itoa(int64(p.Amount)), itoa(int64(p.Refunded)), p.ProviderTxID}}); err != nil {
			return err
		}
	}
	e.section("Saga trail")
	return writeTrail(e.Out, o.Saga)
}

// shipToLines is where an order goes, as a waybill reads it; show gives the
// phone whole.
func shipToLines(orderID int64, t *shop.ShipTo, pickup bool) string {
	switch {
	case pickup:
		return "  pickup at the counter"
	case t == nil:
		return fmt.Sprintf("  nowhere yet: set it with 'rabbitpay order ship-to %d --address ID' (or --pickup)", orderID)
	}
	out := fmt.Sprintf("  %s  %s\n  (%s) %s", t.Recipient, t.Phone, t.ZipCode, t.Line1)
	if t.Line2 != "" {
		out += " " + t.Line2
	}
	if t.Memo != "" {
		out += "\n  memo: " + t.Memo
	}
	return out + fmt.Sprintf("\n  (a copy of address %d)", t.AddressID)
}

func writeTrail(w io.Writer, events []shop.SagaEvent) error {
	header, rows := trailRows(events)()
	return render.WriteTable(w, header, rows)
}

func trailRows(events []shop.SagaEvent) rowsFunc {
	return func() ([]string, [][]string) {
		rows := make([][]string, 0, len(events))
		for _, ev := range events {
			rows = append(rows, []string{ev.At.Local().Format("2006-01-02 15:04:05.000"), string(ev.Kind), ev.Name, string(ev.Outcome), ev.Detail})
		}
		return []string{"at", "kind", "name", "outcome", "detail"}, rows
	}
}

// shipToOptions is what `order ship-to` needs, its flags checked.
type shipToOptions struct {
	*env
	OrderID     int64
	Destination shop.Destination
}

func newOrderShipToCmd(e *env, runF func(*shipToOptions) error) *cobra.Command {
	opts := &shipToOptions{env: e}
	var address int64
	cmd := &cobra.Command{
		Use:   "ship-to ORDER (--address ID | --pickup)",
		Short: "Change where an order goes, until its first item ships",
		Long: `Ship-to sends the order to another address of its customer's (a copy of it,
which the address book's later changes leave alone), or makes it a pickup at
the counter. It is refused once an item of the order has shipped, and for a
cancelled order. It prints the order.`,
		Example: `  rabbitpay order ship-to 17 --address 4
  rabbitpay order ship-to 17 --pickup`,
		Args: exactArgs(1, "one order ID"),
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			if pickup, _ := cmd.Flags().GetBool("pickup"); !cmd.Flags().Changed("address") && !pickup {
				return shop.Invalid("give --address ID (one of the customer's addresses) or --pickup")
			}
			if opts.Destination, err = destination(cmd, address, "address"); err != nil {
				return err
			}
			if opts.OrderID, err = parseID("order", args[0]); err != nil {
				return err
			}
			return dispatch(cmd, opts, runF, shipToRun)
		},
	}
	idVar(cmd.Flags(), &address, "address", "address", "the customer's address the order goes to")
	cmd.Flags().BoolVar(&opts.Destination.Pickup, "pickup", false, "the order is handed over at the counter")
	return cmd
}

func shipToRun(ctx context.Context, opts *shipToOptions) error {
	a, err := opts.app(ctx)
	if err != nil {
		return err
	}
	o, err := a.SetShipTo(ctx, opts.OrderID, opts.Destination)
	if err != nil {
		return err
	}
	return opts.printOrder(o)
}
