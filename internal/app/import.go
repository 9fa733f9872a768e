package app

import (
	"context"
	"io"

	"github.com/rabbitpay/rabbitpay/internal/shop"
)

// ImportProducts upserts a catalogue file by SKU, all or nothing, in
// bounded memory, without locking the products it leaves unchanged.
func (a *App) ImportProducts(ctx context.Context, r io.Reader, f shop.CatalogueFormat, opt shop.ImportOptions) (shop.ImportSummary, error) {
	rd, err := shop.NewCatalogueReader(r, f)
	if err != nil {
		return shop.ImportSummary{DryRun: opt.DryRun}, err
	}
	return a.catalogue.ImportProducts(ctx, rd, opt)
}

// ExportProducts writes the catalogue as CSV or JSON Lines and returns the row count.
func (a *App) ExportProducts(ctx context.Context, w io.Writer, f shop.CatalogueFormat) (int64, error) {
	if f == "" {
		f = shop.CatalogueCSV
	}
	return a.reader(ctx).ExportProducts(ctx, w, f)
}
