package shop

import (
	"strconv"
	"strings"
)

// ProductRef is a product as an operator names it, the one grammar every
// command and screen reads: "#12" is always id 12, "sku:12" always the SKU
// "12", and a bare value is the SKU or, when it is a number no SKU equals,
// the id. A bare number that is one thing's id and another's SKU is refused
// (ErrInvalid), never guessed. The zero value names nothing.
type ProductRef struct {
	text string // as written
	id   int64  // the id it names or, bare, may name; 0: none
	sku  string // the SKU it names or, bare, may name; "": none
}

// ParseProductRef reads a product reference: #ID (a positive id), sku:SKU,
// or a bare SKU (which, all digits, may also be read as an id).
func ParseProductRef(s string) (ProductRef, error) {
	s = strings.TrimSpace(s)
	if rest, ok := strings.CutPrefix(s, "#"); ok {
		n, err := strconv.ParseInt(rest, 10, 64)
		if err != nil || n <= 0 {
			return ProductRef{}, Invalid("%q is not a product id: after # comes a positive number", s)
		}
		return ProductRef{text: s, id: n}, nil
	}
	if rest, ok := strings.CutPrefix(s, "sku:"); ok {
		if err := ValidateSKU(rest); err != nil { // sku:#12 still names a SKU made before # was refused
			return ProductRef{}, err
		}
		return ProductRef{text: s, sku: rest}, nil
	}
	if err := ValidateSKU(s); err != nil {
		return ProductRef{}, err
	}
	r := ProductRef{text: s, sku: s}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n > 0 {
		r.id = n
	}
	return r, nil
}

// RefByID is the reference "#id".
func RefByID(id int64) ProductRef {
	return ProductRef{text: "#" + strconv.FormatInt(id, 10), id: id}
}

// RefBySKU is the reference "sku:SKU" (an all-digit SKU never reads as an id).
func RefBySKU(sku string) ProductRef { return ProductRef{text: "sku:" + sku, sku: sku} }

// String is the reference as written.
func (r ProductRef) String() string { return r.text }

// ID is the product id r names or, bare, may name (0: it names no id).
func (r ProductRef) ID() int64 { return r.id }

// SKU is the SKU r names or, bare, may name ("": it names an id).
func (r ProductRef) SKU() string { return r.sku }

// Bare reports whether r may mean an id and a SKU both (an all-digit bare value).
func (r ProductRef) Bare() bool { return r.id != 0 && r.sku != "" }

// Resolve picks the product r names from what was found for it: bySKU is
// the product whose SKU is r.SKU(), byID the one whose id is r.ID() (0: none
// found). It returns 0 when r names no product.
func (r ProductRef) Resolve(bySKU, byID int64) (int64, error) {
	if r.sku == "" {
		bySKU = 0
	}
	if r.id == 0 {
		byID = 0
	}
	if bySKU != 0 && byID != 0 && bySKU != byID {
		return 0, r.ambiguous("product id "+strconv.FormatInt(byID, 10), byID, "product "+strconv.FormatInt(bySKU, 10))
	}
	return max(bySKU, byID), nil
}

// PickProduct returns the product r names among candidates, the products a
// store found whose SKU is r.SKU() or whose id is r.ID(), each known by its
// id and SKU (key): ErrNotFound when none is, ErrInvalid when r is ambiguous.
func PickProduct[T any](r ProductRef, candidates []T, key func(T) (id int64, sku string)) (T, error) {
	var bySKU, byID int64
	for _, c := range candidates {
		id, sku := key(c)
		if sku == r.sku {
			bySKU = id
		}
		if id == r.id {
			byID = id
		}
	}
	var none T
	id, err := r.Resolve(bySKU, byID)
	if err != nil {
		return none, err
	}
	for _, c := range candidates {
		if cid, _ := key(c); cid == id && id != 0 {
			return c, nil
		}
	}
	return none, r.noProduct()
}

// ambiguous is the one sentence refusing a bare number that is the id of
// one thing (idWhat, product idProduct) and the SKU of another (skuWhat).
func (r ProductRef) ambiguous(idWhat string, idProduct int64, skuWhat string) error {
	return Invalid("%q is both %s and the SKU of %s: write #%d for the id or sku:%s for the SKU", r.text, idWhat, skuWhat, idProduct, r.sku)
}

// noProduct is the refusal of a reference that names no product.
func (r ProductRef) noProduct() error { return NotFound("no product has id or SKU %q", r.text) }
