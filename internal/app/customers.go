package app

import (
	"context"

	"github.com/rabbitpay/rabbitpay/internal/shop"
)

// RegisterCustomer validates and stores a customer; password may be empty
// (no login). Only its argon2id hash is stored.
func (a *App) RegisterCustomer(ctx context.Context, c shop.Customer, password string) (shop.Customer, error) {
	c = c.Trimmed()
	if err := c.Validate(); err != nil {
		return c, err
	}
	hash, err := hashIfGiven(password)
	if err != nil {
		return c, err
	}
	return a.customers.CreateCustomer(ctx, c, hash)
}

func hashIfGiven(password string) (string, error) {
	if password == "" {
		return "", nil
	}
	if err := shop.ValidatePassword(password); err != nil {
		return "", err
	}
	return HashPassword(password)
}

// UpdateCustomer changes a customer's name, default address or password
// (password "" keeps it). The result is validated whole before it is written.
func (a *App) UpdateCustomer(ctx context.Context, id int64, patch shop.CustomerPatch, password string) (shop.Customer, error) {
	if patch == (shop.CustomerPatch{}) && password == "" {
		return shop.Customer{}, shop.Invalid("nothing to update: no new name, address or password was given")
	}
	hash, err := hashIfGiven(password)
	if err != nil {
		return shop.Customer{}, err
	}
	return a.customers.UpdateCustomer(ctx, id, func(c *shop.Customer) error {
		patch.Apply(c)
		*c = c.Trimmed()
		return c.Validate()
	}, hash)
}

// Customer returns one customer.
func (a *App) Customer(ctx context.Context, id int64) (shop.Customer, error) {
	return show(ctx, a, func(s reads) (shop.Customer, error) { return s.GetCustomer(ctx, id) })
}

// Customers lists every customer.
func (a *App) Customers(ctx context.Context, o shop.ListOptions) (shop.Page[shop.Customer], error) {
	return a.reader(ctx).ListCustomers(ctx, o)
}

// AddAddress checks an address book entry (recipient, phone, postal code,
// lines, memo) and adds it to its customer's book; the first one, or one
// marked Default, becomes the default.
func (a *App) AddAddress(ctx context.Context, addr shop.BookAddress) (shop.BookAddress, error) {
	addr, err := addr.Normalized()
	if err != nil {
		return addr, err
	}
	return a.customers.AddAddress(ctx, addr)
}

// Addresses lists a customer's address book, the default first.
func (a *App) Addresses(ctx context.Context, customerID int64) ([]shop.BookAddress, error) {
	return a.customers.Addresses(ctx, customerID)
}

// SetDefaultAddress makes an address its customer's default.
func (a *App) SetDefaultAddress(ctx context.Context, id int64) (shop.BookAddress, error) {
	return a.customers.SetDefaultAddress(ctx, id)
}

// RemoveAddress takes an address out of its customer's book.
func (a *App) RemoveAddress(ctx context.Context, id int64) (shop.BookAddress, error) {
	return a.customers.RemoveAddress(ctx, id)
}
