package shop

import (
	"strings"
	"time"
)

// ListOptions pages and narrows a list. Paging is by keyset: After is the
// last key (id) already seen, in the list's order.
type ListOptions struct {
	Limit   int    // 0: every row
	After   int64  // 0: from the start
	Search  string // a substring of names (and SKUs), case-insensitive
	Sort    string // a key of the list's sort table, "-" before it for descending
	InStock bool   // products only: stock above zero
	Retired bool   // products only: include retired products
	// Orders only: created in [Since, Until).
	Since, Until time.Time
}

// Page is one page of a list and whether more rows match after it.
type Page[T any] struct {
	Items []T
	More  bool
}

// SortKey checks o.Sort against the keys a list can be sorted by and
// returns the key and whether it is descending. Keyset paging (After) needs
// the default order.
func (o ListOptions) SortKey(keys ...string) (key string, desc bool, err error) {
	key, desc = strings.CutPrefix(o.Sort, "-")
	if key == "" {
		return keys[0], desc, nil
	}
	for _, k := range keys {
		if k == key {
			if o.After != 0 && (k != keys[0] || desc) {
				return "", false, Invalid("paging with an 'after' key works in the default order (by %s, ascending) only", keys[0])
			}
			return key, desc, nil
		}
	}
	return "", false, Invalid("sort key %q is not one of %s (put - before it for descending)", o.Sort, strings.Join(keys, ", "))
}
