package app

import (
	"context"

	"github.com/rabbitpay/rabbitpay/internal/shop"
)

// RegisterProduct validates and stores a new product.
func (a *App) RegisterProduct(ctx context.Context, p shop.Product) (shop.Product, error) {
	if err := shop.CheckNewSKU(p.SKU); err != nil {
		return p, err
	}
	if err := p.Validate(); err != nil {
		return p, err
	}
	return a.catalogue.CreateProduct(ctx, p)
}

// Product finds a product by id or SKU.
func (a *App) Product(ctx context.Context, ref string) (shop.Product, error) {
	r, err := shop.ParseProductRef(ref)
	if err != nil {
		return shop.Product{}, err
	}
	return show(ctx, a, func(s reads) (shop.Product, error) { return s.GetProduct(ctx, r) })
}

// Products lists a page of the catalogue.
func (a *App) Products(ctx context.Context, o shop.ListOptions) (shop.Page[shop.Product], error) {
	return a.reader(ctx).ListProducts(ctx, o)
}

// UpdateProduct changes the given fields of a product.
func (a *App) UpdateProduct(ctx context.Context, ref string, patch shop.ProductPatch) (shop.Product, error) {
	r, err := shop.ParseProductRef(ref)
	if err != nil {
		return shop.Product{}, err
	}
	if patch.Name == nil && patch.Price == nil && patch.Stock == nil {
		return shop.Product{}, shop.Invalid("nothing to update: no new name, price or stock was given")
	}
	return a.catalogue.UpdateProduct(ctx, r, patch)
}

// RetireProduct hides a product from lists and refuses it in carts and new
// orders; restore (retired false) undoes it. Orders keep it either way.
func (a *App) RetireProduct(ctx context.Context, ref string, retired bool) (shop.Product, error) {
	r, err := shop.ParseProductRef(ref)
	if err != nil {
		return shop.Product{}, err
	}
	return a.catalogue.SetRetired(ctx, r, retired)
}

// DeleteProduct removes a product no order holds.
func (a *App) DeleteProduct(ctx context.Context, ref string) (shop.Product, error) {
	r, err := shop.ParseProductRef(ref)
	if err != nil {
		return shop.Product{}, err
	}
	return a.catalogue.DeleteProduct(ctx, r)
}
