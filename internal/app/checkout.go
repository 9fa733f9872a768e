package app

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/rabbitpay/rabbitpay/internal/config"
	"github.com/rabbitpay/rabbitpay/internal/localpg"
	"github.com/rabbitpay/rabbitpay/internal/postgres"
	"github.com/rabbitpay/rabbitpay/internal/shop"
)

// FindCustomers returns up to limit customers whose name contains query, led
// by the customer whose id it is when it is a number (the checkout's picker).
func (a *App) FindCustomers(ctx context.Context, query string, limit int) ([]shop.Customer, error) {
	query = strings.TrimSpace(query)
	var out []shop.Customer
	if id, err := strconv.ParseInt(query, 10, 64); err == nil && id > 0 {
		c, err := a.primary.GetCustomer(ctx, id)
		if err != nil && !errors.Is(err, shop.ErrNotFound) {
			return nil, err
		}
		if err == nil {
			out = append(out, c)
		}
	}
	p, err := a.Customers(ctx, shop.ListOptions{Search: query, Limit: limit})
	if err != nil {
		return nil, err
	}
	for _, c := range p.Items {
		if len(out) == limit {
			break
		}
		if len(out) == 0 || out[0].ID != c.ID {
			out = append(out, c)
		}
	}
	return out, nil
}

// SetCartQuantity sets how many of a product the customer's cart holds: 0
// takes it out. Raising a line above the product's stock, or a retired
// product's, is refused; lowering one is always allowed (someone else may
// have bought the stock meanwhile). The cart is the one the CLI shows.
func (a *App) SetCartQuantity(ctx context.Context, customerID int64, productRef string, qty int64) (shop.Cart, error) {
	if qty != 0 {
		if err := shop.ValidateQuantity(qty); err != nil {
			return shop.Cart{}, err
		}
	}
	return a.updateCartQuantity(ctx, customerID, productRef, func(int64) int64 { return qty })
}

// AdjustCartQuantity adds delta (negative: takes away) to how many of a
// product the customer's cart holds, reading the quantity in the same
// transaction that writes it, so a change made meanwhile elsewhere (the
// CLI, another counter) is kept. Reaching 0 or less takes the line out;
// increases are checked as SetCartQuantity's are.
func (a *App) AdjustCartQuantity(ctx context.Context, customerID int64, productRef string, delta int64) (shop.Cart, error) {
	if delta > shop.MaxQuantity || delta < -shop.MaxQuantity {
		return shop.Cart{}, shop.Invalid("quantity change %d is larger than the maximum of %d", delta, shop.MaxQuantity)
	}
	return a.updateCartQuantity(ctx, customerID, productRef, func(current int64) int64 { return max(current+delta, 0) })
}

func (a *App) updateCartQuantity(ctx context.Context, customerID int64, productRef string, next func(current int64) int64) (shop.Cart, error) {
	r, err := shop.ParseProductRef(productRef)
	if err != nil {
		return shop.Cart{}, err
	}
	err = a.carts.UpdateCartQuantity(ctx, customerID, r, func(p shop.Product, current int64) (int64, error) {
		qty := next(current)
		return qty, shop.CheckCartQuantity(p, current, qty)
	})
	if err != nil {
		return shop.Cart{}, err
	}
	return a.carts.Cart(ctx, customerID)
}

// TodaysOrders lists up to limit orders placed since local midnight of now,
// newest first, each with its payment's method (Payment holds only that)
// and its customer's name in names: from the primary, as the checkout must
// see the order it just placed.
func (a *App) TodaysOrders(ctx context.Context, now time.Time, limit int) (shop.Page[shop.Order], map[int64]string, error) {
	y, m, d := now.Date()
	p, err := a.primary.ListOrders(ctx, shop.OrderFilter{}, shop.ListOptions{Since: time.Date(y, m, d, 0, 0, 0, 0, now.Location()), Limit: limit})
	if err != nil || len(p.Items) == 0 {
		return p, nil, err
	}
	ids := make([]int64, len(p.Items))
	for i, o := range p.Items {
		ids[i] = o.ID
	}
	labels, err := a.primary.OrderLabels(ctx, ids)
	if err != nil {
		return p, nil, err
	}
	names := map[int64]string{}
	for i, o := range p.Items {
		l := labels[o.ID]
		names[o.CustomerID] = l.CustomerName
		if l.Method != "" {
			p.Items[i].Payment = &shop.Payment{Method: l.Method}
		}
	}
	return p, names, nil
}

// CheckoutHostKey is where `checkout --serve` keeps its SSH host key: in the data dir.
func CheckoutHostKey(cfg *config.Config) string {
	return filepath.Join(cfg.DataDir, localpg.CheckoutHostKey)
}

// OpenDemoDatabase opens the database `rabbitpay demo` made on the embedded
// cluster, as it is (for `checkout --demo`).
func OpenDemoDatabase(ctx context.Context, cfg *config.Config) (*App, error) {
	cluster, err := embedded(cfg)
	if err != nil {
		return nil, err
	}
	if err := cluster.Ensure(ctx); err != nil {
		return nil, err
	}
	demoCfg := *cfg
	demoCfg.DatabaseURL = cluster.URL(DemoDatabase)
	demoCfg.DatabaseReadURL = ""  // a read URL is the shop's replica, not the demo's
	a, err := Open(ctx, &demoCfg) // migrated if an older rabbitpay made it
	if postgres.IsMissingDatabase(err) {
		return nil, fmt.Errorf("there is no demo database on the embedded cluster: run 'rabbitpay demo' first")
	}
	return a, err
}

// PaymentMode is "live" when payments go to the providers' real APIs,
// "sandbox" otherwise (the checkout's header shows it).
func (a *App) PaymentMode() string {
	if a.live() {
		return "live"
	}
	return "sandbox"
}

// ApprovalTimeout is how long a live payment waits for the buyer's
// approval (payment.approval_timeout); the checkout counts it down.
func (a *App) ApprovalTimeout() time.Duration { return a.cfg.Payment.ApprovalTimeout }
