package shop

// CheckCartQuantity says whether a cart line of product p may go from
// current to qty: lowering it is always allowed (someone else may have
// bought the stock meanwhile); raising it is refused for a retired product,
// above the stock (the order would fail at reduce_stock) and above
// MaxQuantity. The CLI's cart add and the checkout share it.
func CheckCartQuantity(p Product, current, qty int64) error {
	switch {
	case qty <= current:
		return nil
	case p.RetiredAt != nil:
		return Conflict("product %s is retired: it cannot be put in a cart", p.SKU)
	case p.StockQuantity <= 0:
		return Conflict("%s (%s) is out of stock", p.SKU, p.Name)
	case qty > p.StockQuantity && current > 0:
		return Conflict("only %d of %s (%s) in stock, and the cart holds %d already", p.StockQuantity, p.SKU, p.Name, current)
	case qty > p.StockQuantity:
		return Conflict("only %d of %s (%s) in stock", p.StockQuantity, p.SKU, p.Name)
	case qty > MaxQuantity:
		return Invalid("quantity %d is larger than the maximum of %d", qty, MaxQuantity)
	}
	// A line whose amount no order could pay is refused before it is
	// written (a cart holding it could be neither shown nor ordered).
	if _, err := p.Price.MulQty(qty); err != nil {
		return Invalid("%d × %s (%s at %s) comes to more than the maximum amount of %s", qty, p.SKU, p.Name, p.Price, MaxWon)
	}
	return nil
}

// CheckPayable refuses an order whose total is ₩0 before anything changes:
// there is nothing for a payment provider to charge, and an order "paid"
// with no payment is none a refund or reconcile could follow. Free
// products go out with a paid one.
func CheckPayable(total Won) error {
	if total <= 0 {
		return Invalid("the order's total is %s: a payment provider takes no %s payment; add a product with a price", total, total)
	}
	return nil
}
