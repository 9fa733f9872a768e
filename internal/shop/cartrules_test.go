package shop

import (
	"testing"
	"time"
)

func TestCheckCartQuantity(t *testing.T) {
	doll := Product{SKU: "A", Name: "토끼 인형", StockQuantity: 99}
	retired := doll
	retired.RetiredAt = &time.Time{}
	for _, tc := range []struct {
		name         string
		p            Product
		current, qty int64
		kind         error
		msg          string
	}{
		{name: "within stock", p: doll, qty: 99},
		{name: "above stock", p: doll, qty: 100_000, kind: ErrConflict, msg: "only 99 of A (토끼 인형) in stock"},
		{name: "above stock with some in the cart", p: doll, current: 90, qty: 100, kind: ErrConflict,
			msg: "only 99 of A (토끼 인형) in stock, and the cart holds 90 already"},
		{name: "out of stock", p: Product{SKU: "C", Name: "당근"}, qty: 1, kind: ErrConflict, msg: "C (당근) is out of stock"},
		{name: "a lowering above stock", p: doll, current: 150, qty: 120},
		{name: "the same", p: doll, current: 150, qty: 150},
		{name: "retired", p: retired, qty: 1, kind: ErrConflict, msg: "product A is retired"},
		{name: "retired, lowered", p: retired, current: 3, qty: 1},
		{name: "above the maximum", p: Product{SKU: "B", StockQuantity: MaxStock + 10}, qty: MaxQuantity + 1, kind: ErrInvalid, msg: "is larger than the maximum"},
	} {
		t.Run(tc.name, func(t *testing.T) { wantErr(t, CheckCartQuantity(tc.p, tc.current, tc.qty), tc.kind, tc.msg) })
	}
}

func TestCheckPayable(t *testing.T) {
	for _, tc := range []struct {
		total Won
		msg   string
	}{
		{1, ""},
		{12000, ""},
		{0, "the order's total is ₩0: a payment provider takes no ₩0 payment; add a product with a price"},
	} {
		check(t, tc.total.String(), CheckPayable(tc.total), tc.msg)
	}
}
