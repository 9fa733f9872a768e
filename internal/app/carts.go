package app

import (
	"context"
	"regexp"
	"strconv"

	"github.com/rabbitpay/rabbitpay/internal/shop"
)

// AddToCart adds qty of a product to the customer's cart and returns the
// cart: as in the checkout (shop.CheckCartQuantity), a cart line above the
// product's stock is refused ("only N in stock").
func (a *App) AddToCart(ctx context.Context, customerID int64, productRef string, qty int64) (shop.Cart, error) {
	if err := shop.ValidateQuantity(qty); err != nil {
		return shop.Cart{}, err
	}
	return a.updateCartQuantity(ctx, customerID, productRef, func(current int64) int64 { return current + qty })
}

// Cart returns the customer's cart.
func (a *App) Cart(ctx context.Context, customerID int64) (shop.Cart, error) {
	return a.carts.Cart(ctx, customerID)
}

// RemoveFromCart takes a product out of the cart and returns the cart.
func (a *App) RemoveFromCart(ctx context.Context, customerID int64, productRef string) (shop.Cart, error) {
	r, err := shop.ParseProductRef(productRef)
	if err != nil {
		return shop.Cart{}, err
	}
	if err := a.carts.RemoveFromCart(ctx, customerID, r); err != nil {
		return shop.Cart{}, err
	}
	return a.carts.Cart(ctx, customerID)
}

// ClearCart empties the cart and returns it.
func (a *App) ClearCart(ctx context.Context, customerID int64) (shop.Cart, error) {
	if _, err := a.carts.ClearCart(ctx, customerID); err != nil {
		return shop.Cart{}, err
	}
	return a.carts.Cart(ctx, customerID)
}

// Orders lists orders.
func (a *App) Orders(ctx context.Context, f shop.OrderFilter, o shop.ListOptions) (shop.Page[shop.Order], error) {
	return a.reader(ctx).ListOrders(ctx, f, o)
}

// Order returns one order with items, payment and saga trail.
func (a *App) Order(ctx context.Context, id int64) (shop.Order, error) {
	return show(ctx, a, func(s reads) (shop.Order, error) { return s.GetOrder(ctx, id) })
}

// OrderByUUID returns one order by the UUID its saga and payment carry.
func (a *App) OrderByUUID(ctx context.Context, orderUUID string) (shop.Order, error) {
	return show(ctx, a, func(s reads) (shop.Order, error) {
		id, err := s.OrderIDByUUID(ctx, orderUUID)
		if err != nil {
			return shop.Order{}, err
		}
		return s.GetOrder(ctx, id)
	})
}

// IsUUID says whether ref is shaped as an order UUID.
func IsUUID(ref string) bool { return uuidShape.MatchString(ref) }

// Sagas lists the saga log, newest first.
func (a *App) Sagas(ctx context.Context, f shop.SagaFilter, o shop.ListOptions) (shop.Page[shop.SagaRecord], error) {
	var states []shop.SagaState
	if f.State != "" {
		states = []shop.SagaState{f.State}
	}
	return a.primary.ListSagas(ctx, states, o)
}

var uuidShape = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// Saga returns one saga by order UUID or order id.
// ref is the order UUID, or the id of the order the saga created.
func (a *App) Saga(ctx context.Context, ref string) (shop.SagaRecord, error) {
	if id, err := strconv.ParseInt(ref, 10, 64); err == nil && id > 0 {
		o, err := a.primary.GetOrder(ctx, id)
		if err != nil {
			return shop.SagaRecord{}, err
		}
		ref = o.OrderUUID
	}
	if !uuidShape.MatchString(ref) {
		return shop.SagaRecord{}, shop.Invalid("%q is neither an order UUID (like 6f1c2e7a-3b9d-4c51-9f0e-2a7d1c8b4e55) nor an order id", ref)
	}
	return a.primary.GetSaga(ctx, ref)
}
