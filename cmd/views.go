package cmd

import (
	"strconv"
	"time"

	"github.com/rabbitpay/rabbitpay/internal/shop"
)

// rowsFunc builds a table lazily: JSON output never needs it.
type rowsFunc func() ([]string, [][]string)

func (f rowsFunc) Table() ([]string, [][]string) { return f() }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// stamp is how every table and CSV shows a time: local, to the second.
func stamp(t time.Time) string { return t.Local().Format("2006-01-02 15:04:05") }

func productRows(ps []shop.Product) rowsFunc {
	return func() ([]string, [][]string) {
		rows := make([][]string, 0, len(ps))
		for _, p := range ps {
			retired := ""
			if p.RetiredAt != nil {
				retired = p.RetiredAt.Local().Format("2006-01-02")
			}
			rows = append(rows, []string{itoa(p.ID), p.SKU, p.Name, itoa(int64(p.Price)), itoa(p.StockQuantity), retired})
		}
		return []string{"id", "sku", "name", "price", "stock_quantity", "retired"}, rows
	}
}
