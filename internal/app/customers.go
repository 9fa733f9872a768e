package app

import (
	"context"

	"github.com/rabbitpay/rabbitpay/internal/shop"
)

// RegisterCustomer validates and stores a customer; password may be empty
// (no login). Only its argon2id hash is stored.
func (a *App) RegisterCustomer(ctx context.Context, c shop.Customer, password string) (shop.Customer, error) {
	if err := c.Validate(); err != nil {
		return c, err
	}
	var hash string
	if password != "" {
		if err := shop.ValidatePassword(password); err != nil {
			return c, err
		}
		var err error
		if hash, err = HashPassword(password); err != nil {
			return c, err
		}
	}
	return a.store.CreateCustomer(ctx, c, hash)
}

// Customer returns one customer.
func (a *App) Customer(ctx context.Context, id int64) (shop.Customer, error) {
	return a.store.GetCustomer(ctx, id)
}

// Customers lists every customer.
func (a *App) Customers(ctx context.Context, o shop.ListOptions) (shop.Page[shop.Customer], error) {
	return a.store.ListCustomers(ctx, o)
}
