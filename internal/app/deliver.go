package app

import (
	"context"
	"io"
	"time"

	"github.com/rabbitpay/rabbitpay/internal/shop"
)

// StartDeliveries creates READY deliveries for a paid order's items: the
// chosen ones, or every item without a delivery.
func (a *App) StartDeliveries(ctx context.Context, req shop.DeliveryStart) ([]shop.Delivery, error) {
	var err error
	if req.Carrier, req.Tracking, err = shop.CheckShipment(req.Carrier, req.Tracking); err != nil {
		return nil, err
	}
	return a.deliveries.UpdateDeliveries(ctx, nil, []int64{req.OrderID}, func(snap []shop.OrderSnapshot) (shop.DeliveryPlan, error) {
		return shop.PlanDeliveryStart(snap, req)
	})
}

// UpdateDelivery moves one delivery forward (READY → SHIPPED → IN_TRANSIT →
// DELIVERED, skipping ahead allowed).
func (a *App) UpdateDelivery(ctx context.Context, c shop.DeliveryChange) (shop.Delivery, error) {
	var err error
	if c.Carrier, c.Tracking, err = shop.CheckShipment(c.Carrier, c.Tracking); err != nil {
		return shop.Delivery{}, err
	}
	ds, err := a.changeDeliveries(ctx, []shop.DeliveryChange{c}, shop.RowErrors{})
	if err != nil {
		return shop.Delivery{}, err
	}
	return ds[0], nil
}

// ImportDeliveries applies a warehouse's delivery file (CSV or JSON Lines),
// validated whole and applied in one transaction: one bad row and nothing
// changes.
func (a *App) ImportDeliveries(ctx context.Context, r io.Reader, f shop.CatalogueFormat) (shop.DeliveryImportSummary, error) {
	changes, bad, skipped, err := shop.ReadDeliveryFile(r, f)
	if err != nil {
		return shop.DeliveryImportSummary{}, err
	}
	ds, err := a.changeDeliveries(ctx, changes, bad)
	return shop.DeliveryImportSummary{Rows: len(changes) + skipped, Changed: len(ds), Skipped: skipped}, err
}

// changeDeliveries moves deliveries forward, all or nothing, in one
// transaction: the store locks and loads their orders, shop plans the moves
// (bad holds the rows the file reader refused already: the file is checked
// whole, then refused whole), the store writes them.
func (a *App) changeDeliveries(ctx context.Context, changes []shop.DeliveryChange, bad shop.RowErrors) ([]shop.Delivery, error) {
	deliveryIDs, orderIDs := shop.DeliveryTargets(changes)
	return a.deliveries.UpdateDeliveries(ctx, deliveryIDs, orderIDs, func(snap []shop.OrderSnapshot) (shop.DeliveryPlan, error) {
		return shop.PlanDeliveryChanges(snap, changes, bad, time.Now())
	})
}

// Deliveries lists a page of deliveries.
func (a *App) Deliveries(ctx context.Context, f shop.DeliveryFilter, o shop.ListOptions) (shop.Page[shop.Delivery], error) {
	return a.reader(ctx).ListDeliveries(ctx, f, o)
}

// Delivery returns one delivery with its history.
func (a *App) Delivery(ctx context.Context, id int64) (shop.Delivery, error) {
	return show(ctx, a, func(s reads) (shop.Delivery, error) { return s.GetDelivery(ctx, id) })
}

// SetShipTo sends order id to dest, an address of its customer's or pickup,
// while nothing of it has shipped (shop.CheckShipToChange), and returns the
// order as it is now. The order keeps a copy: the address book's later
// changes leave it alone.
func (a *App) SetShipTo(ctx context.Context, id int64, dest shop.Destination) (shop.Order, error) {
	if err := a.deliveries.SetShipTo(ctx, id, dest, shop.CheckShipToChange); err != nil {
		return shop.Order{}, err
	}
	return a.primary.GetOrder(ctx, id)
}

// ExportDeliveries writes the deliveries f selects (READY ones, when f
// names no status) as the courier's hand-off file (shop.WriteHandOff), read
// from the primary a page at a time, and returns how many it wrote and how
// many it left out because their order goes nowhere.
func (a *App) ExportDeliveries(ctx context.Context, w io.Writer, f shop.DeliveryFilter, format shop.CatalogueFormat) (written, nowhere int, err error) {
	if f.Status == "" {
		f.Status = shop.DeliveryReady
	}
	var all []shop.Delivery
	o := shop.ListOptions{Limit: 1000}
	for {
		p, err := a.primary.ListDeliveries(ctx, f, o)
		if err != nil {
			return 0, 0, err
		}
		all = append(all, p.Items...)
		if !p.More || len(p.Items) == 0 {
			break
		}
		o.After = p.Items[len(p.Items)-1].ID
	}
	return shop.WriteHandOff(w, format, all)
}
