package shop

import (
	"strings"
	"time"
	"unicode/utf8"
)

// Limits on product fields, shared by the CLI, the import and the schema's CHECKs.
const (
	MaxSKULen        = 64
	MaxNameLen       = 200
	MaxStock   int64 = 1_000_000_000
)

// Product is a catalogue entry. Price is the unit price in won.
type Product struct {
	ID            int64     `json:"id"`
	SKU           string    `json:"sku"`
	Name          string    `json:"name"`
	Price         Won       `json:"price"`
	StockQuantity int64     `json:"stock_quantity"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
	// RetiredAt is set while the product is retired: hidden from lists,
	// refused in carts and new orders, kept in order history.
	RetiredAt *time.Time `json:"retired_at"`
}

// CheckNewSKU checks the SKU of a product being made (register, import):
// ValidateSKU, and no leading #. "#12" names product id 12 wherever a
// product is named (ProductRef), so a new SKU spelt so could be named only
// as sku:#12. Products made before this rule keep their SKU, and can still
// be changed.
func CheckNewSKU(sku string) error {
	if err := ValidateSKU(sku); err != nil {
		return err
	}
	if strings.HasPrefix(sku, "#") {
		return Invalid("SKU %q starts with #, which names a product by id (#12 is product 12): choose a SKU without it", sku)
	}
	return nil
}

// ValidateSKU checks a SKU: 1–64 printable characters without spaces or colons.
func ValidateSKU(sku string) error {
	if sku == "" {
		return Invalid("SKU must not be empty")
	}
	if !utf8.ValidString(sku) {
		return Invalid("SKU is not valid UTF-8")
	}
	if utf8.RuneCountInString(sku) > MaxSKULen {
		return Invalid("SKU %q is longer than %d characters", sku, MaxSKULen)
	}
	for _, r := range sku {
		if r <= ' ' || r == 0x7f || r == ':' {
			return Invalid("SKU %q contains a space, colon or control character", sku)
		}
	}
	return nil
}

// ValidateName checks a display name (product or customer).
func ValidateName(what, name string, max int) error {
	if !utf8.ValidString(name) {
		return Invalid("%s is not valid UTF-8", what)
	}
	if name == "" || isBlank(name) {
		return Invalid("%s must not be empty", what)
	}
	if n := utf8.RuneCountInString(name); n > max {
		return Invalid("%s is %d characters long; the limit is %d", what, n, max)
	}
	for _, r := range name {
		if r < ' ' || r == 0x7f {
			return Invalid("%s contains a control character", what)
		}
	}
	return nil
}

// ValidatePrice checks a unit price in won.
func ValidatePrice(p int64) error {
	if p < 0 {
		return InField("price", Invalid("price %d is negative", p))
	}
	if Won(p) > MaxWon {
		return InField("price", Invalid("price %d is larger than the maximum of %d", p, int64(MaxWon)))
	}
	return nil
}

// ValidateStock checks a stock quantity.
func ValidateStock(q int64) error {
	if q < 0 {
		return InField("stock", Invalid("stock %d is negative", q))
	}
	if q > MaxStock {
		return InField("stock", Invalid("stock %d is larger than the maximum of %d", q, MaxStock))
	}
	return nil
}

// Validate checks every field of a product about to be stored.
func (p Product) Validate() error {
	if err := ValidateSKU(p.SKU); err != nil {
		return err
	}
	if err := ValidateName("product name", p.Name, MaxNameLen); err != nil {
		return err
	}
	if err := ValidatePrice(int64(p.Price)); err != nil {
		return err
	}
	return ValidateStock(p.StockQuantity)
}

func isBlank(s string) bool {
	for _, r := range s {
		if r != ' ' && r != '\t' && r != '\u3000' {
			return false
		}
	}
	return true
}

// ProductPatch holds the fields `product update` changes; nil leaves a field alone.
type ProductPatch struct {
	Name  *string
	Price *int64
	Stock *int64
}
