package postgres

import (
	"math"
	"strings"

	"github.com/jackc/pgx/v5"

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

// filters is a list query's WHERE clause, built from the filters given
// only, with named arguments (@name): each query says what it filters by,
// and no fragment depends on another's parameter positions.
type filters struct {
	conds []string
	args  pgx.NamedArgs
}

func newFilters() *filters { return &filters{args: pgx.NamedArgs{}} }

// when adds cond (which names @name) with its value, if ok.
func (f *filters) when(ok bool, cond, name string, v any) *filters {
	if ok {
		f.always(cond, name, v)
	}
	return f
}

// always adds cond, and its value when name is not "".
func (f *filters) always(cond, name string, v any) *filters {
	f.conds = append(f.conds, cond)
	if name != "" {
		f.args[name] = v
	}
	return f
}

// where is the WHERE clause ("" with no condition).
func (f *filters) where() string {
	if len(f.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(f.conds, " AND ")
}

// page adds the keyset after o.After (by a's id) and returns the WHERE
// clause, the ORDER BY and the LIMIT of a list's page; orderBy is the
// sort (ending in a's id).
func (f *filters) page(a string, o shop.ListOptions, orderBy string, desc bool) string {
	op := ">"
	if desc {
		op = "<"
	}
	f.when(o.After > 0, a+".id "+op+" @after", "after", o.After)
	f.args["limit"] = limit(o)
	return f.where() + " ORDER BY " + orderBy + " LIMIT @limit"
}

// windowPage is page for a newest-first list of table (aliased a) with an
// optional date window: by id, or by (created_at, id) when o has a window,
// so that the window is read on the (created_at, id) index instead of
// walking the primary key past every newer row.
func (f *filters) windowPage(table, a string, o shop.ListOptions) string {
	f.when(!o.Since.IsZero(), a+".created_at >= @since", "since", o.Since)
	f.when(!o.Until.IsZero(), a+".created_at < @until", "until", o.Until)
	if o.Since.IsZero() && o.Until.IsZero() {
		return f.page(a, o, a+".id DESC", true)
	}
	f.when(o.After > 0, "("+a+".created_at, "+a+".id) < (SELECT created_at, id FROM "+table+" WHERE id = @after)", "after", o.After)
	f.args["limit"] = limit(o)
	return f.where() + " ORDER BY " + a + ".created_at DESC, " + a + ".id DESC LIMIT @limit"
}
