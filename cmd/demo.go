package cmd

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/rabbitpay/rabbitpay/internal/app"
	"github.com/rabbitpay/rabbitpay/internal/notify"
	"github.com/rabbitpay/rabbitpay/internal/shop"
)

func newDemoCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "demo",
		Short: "Show rabbitpay end to end on a fresh demo database",
		Long: `demo starts the embedded cluster (under --data-dir), recreates the database
rabbitpay_demo on it, loads a small Korean catalogue and a customer, places one order
that succeeds and one the payment sandbox declines (showing the compensation),
prints the catalogue afterwards, ships the paid order item by item and sends
every notification to stdout. Your own rabbitpay database is not touched.`,
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
			if err := e.print(cu, customerRows([]shop.Customer{cu}, e.format() == "csv", false)); err != nil {
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
			paid := res.Order.ID
			e.section("Order over the sandbox's limit: the payment is declined and the stock restored")
			res, err = a.PlaceOrder(ctx, app.PlaceRequest{CustomerID: cu.ID, Method: shop.Naver,
				Items: []shop.ItemRequest{{Ref: shop.RefBySKU("KIMCHI-5KG"), Quantity: 1}}}, e.stepPrinter())
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
			if err := e.print(after.Items, productRows(after.Items)); err != nil {
				return err
			}
			return e.demoShipping(ctx, a, paid)
		},
		Annotations: runsLong(),
	}
}

// demoShipping ships the paid order item by item, then sends every
// notification the demo wrote to stdout.
func (e *env) demoShipping(ctx context.Context, a *app.App, orderID int64) error {
	e.section(fmt.Sprintf("Shipping order %d item by item", orderID))
	ds, err := a.StartDeliveries(ctx, shop.DeliveryStart{OrderID: orderID, Carrier: "CJ대한통운"})
	if err != nil {
		return err
	}
	for i, d := range ds {
		for _, st := range []shop.DeliveryStatus{shop.DeliveryShipped, shop.DeliveryDelivered} {
			if d, err = a.UpdateDelivery(ctx, shop.DeliveryChange{ID: d.ID, Status: st, Tracking: fmt.Sprintf("6012-3456-%04d", 7890+i)}); err != nil {
				return err
			}
		}
		ds[i] = d
		o, err := a.Order(ctx, orderID)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stepWriter(), "  ✓ %-10s %s (%s %s); order %d is %s\n", d.SKU, d.Status, d.Carrier, d.TrackingNumber, orderID, o.Status)
	}
	if err := e.print(ds, deliveryRows(ds)); err != nil {
		return err
	}
	e.section("Notifications, sent to stdout (rabbitpay notify send)")
	sum, err := a.SendNotifications(ctx, &notify.Writer{W: e.Out}, app.SendOptions{})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stepWriter(), "sent %d notifications\n", sum.Sent)
	return nil
}

// section prints a heading between the demo's steps and a show's parts (on
// stderr under -o json).
func (e *env) section(title string) {
	w := e.Out
	if e.format() != "table" {
		w = e.Err
	}
	fmt.Fprintf(w, "\n== %s ==\n", title)
}
