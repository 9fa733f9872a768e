package postgres

import (
	"math"
	"strings"

	"github.com/rabbitpay/rabbitpay/internal/shop"
)

// limit is the LIMIT of a page query: one row more than asked, to tell
// whether more rows match.
func limit(o shop.ListOptions) int64 {
	if o.Limit <= 0 || o.Limit >= math.MaxInt32 { // no limit, or more rows than any list holds
		return math.MaxInt64
	}
	return int64(o.Limit) + 1
}

// page cuts the extra row limit asked for.
func page[T any](items []T, o shop.ListOptions) shop.Page[T] {
	if items == nil {
		items = []T{}
	}
	if o.Limit > 0 && len(items) > o.Limit {
		return shop.Page[T]{Items: items[:o.Limit], More: true}
	}
	return shop.Page[T]{Items: items}
}

func direction(desc bool) string {
	if desc {
		return " DESC"
	}
	return ""
}

// likeEscape makes s match itself literally inside ILIKE '%…%'.
func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
