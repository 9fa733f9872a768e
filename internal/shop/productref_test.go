package shop

import (
	"errors"
	"strings"
	"testing"
)

func TestParseProductRef(t *testing.T) {
	for _, tc := range []struct {
		in, text, sku string
		id            int64
		bare          bool
	}{
		{in: "#12", text: "#12", id: 12},
		{in: " #12 ", text: "#12", id: 12},
		{in: "sku:12", text: "sku:12", sku: "12"},
		{in: "sku:#12", text: "sku:#12", sku: "#12"},
		{in: "12", text: "12", sku: "12", id: 12, bare: true},
		{in: "A-1", text: "A-1", sku: "A-1"},
		{in: "0", text: "0", sku: "0"},    // no product has id 0
		{in: "-3", text: "-3", sku: "-3"}, // nor a negative one
		{in: "007", text: "007", sku: "007", id: 7, bare: true},
	} {
		r, err := ParseProductRef(tc.in)
		if err != nil || r.String() != tc.text || r.SKU() != tc.sku || r.ID() != tc.id || r.Bare() != tc.bare {
			t.Errorf("%q: %q sku %q id %d bare %v, %v", tc.in, r, r.SKU(), r.ID(), r.Bare(), err)
		}
	}
	for in, want := range map[string]string{
		"#abc":    `"#abc" is not a product id: after # comes a positive number`,
		"#0":      `"#0" is not a product id`,
		"#-1":     `"#-1" is not a product id`,
		"#":       `"#" is not a product id`,
		"":        "SKU must not be empty",
		"sku:":    "SKU must not be empty",
		"a b":     "contains a space",
		"sku:x y": "contains a space",
	} {
		if _, err := ParseProductRef(in); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", in, err, want)
		}
	}
	if r := RefByID(5); r.String() != "#5" || r.ID() != 5 || r.SKU() != "" {
		t.Errorf("RefByID: %+v", r)
	}
	if r := RefBySKU("5"); r.String() != "sku:5" || r.ID() != 0 || r.SKU() != "5" || r.Bare() {
		t.Errorf("RefBySKU: %+v", r)
	}
}

// Product 1 has SKU A-1, product 2 SKU 1: what each reference resolves to,
// given what the store found for its SKU and its id.
func TestResolveProductRef(t *testing.T) {
	const ambiguous = `"1" is both product id 1 and the SKU of product 2: write #1 for the id or sku:1 for the SKU`
	for _, tc := range []struct {
		ref         string
		bySKU, byID int64
		want        int64
		err         string
	}{
		{ref: "1", bySKU: 2, byID: 1, err: ambiguous},
		{ref: "#1", bySKU: 2, byID: 1, want: 1},    // a SKU found for #1 is not looked at
		{ref: "sku:1", bySKU: 2, byID: 1, want: 2}, // nor an id for sku:1
		{ref: "1", bySKU: 0, byID: 1, want: 1},     // a number no SKU equals is the id
		{ref: "1", bySKU: 2, byID: 0, want: 2},     // an all-digit SKU with no such id
		{ref: "2", bySKU: 2, byID: 2, want: 2},     // both meanings, one product
		{ref: "A-1", bySKU: 1, want: 1},
		{ref: "B", want: 0},
		{ref: "#9", want: 0},
	} {
		r, err := ParseProductRef(tc.ref)
		if err != nil {
			t.Fatal(err)
		}
		got, err := r.Resolve(tc.bySKU, tc.byID)
		if tc.err != "" {
			if !errors.Is(err, ErrInvalid) || err.Error() != tc.err {
				t.Errorf("%q (%d, %d): %d, %v; want %q", tc.ref, tc.bySKU, tc.byID, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%q (%d, %d): %d, %v; want %d", tc.ref, tc.bySKU, tc.byID, got, err, tc.want)
		}
	}
}

// What a store finds for a reference (the products with its SKU or its id)
// and what PickProduct makes of it.
func TestPickProduct(t *testing.T) {
	a1, one, two := Product{ID: 1, SKU: "A-1"}, Product{ID: 2, SKU: "1"}, Product{ID: 3, SKU: "3"}
	key := func(p Product) (int64, string) { return p.ID, p.SKU }
	for _, tc := range []struct {
		ref   string
		found []Product
		want  int64
		err   string
	}{
		{ref: "1", found: []Product{a1, one}, err: `"1" is both product id 1 and the SKU of product 2: write #1 for the id or sku:1 for the SKU`},
		{ref: "1", found: []Product{one, a1}, err: `"1" is both product id 1`},
		{ref: "#1", found: []Product{a1}, want: 1},
		{ref: "sku:1", found: []Product{one}, want: 2},
		{ref: "A-1", found: []Product{a1}, want: 1},
		{ref: "3", found: []Product{two}, want: 3},
		{ref: "2", found: []Product{one}, want: 2}, // no SKU "2": the id
		{ref: "B", err: `no product has id or SKU "B"`},
		{ref: "#9", err: `no product has id or SKU "#9"`},
		{ref: "sku:1", found: []Product{a1}, err: `no product has id or SKU "sku:1"`}, // a candidate that is not it
	} {
		r, err := ParseProductRef(tc.ref)
		if err != nil {
			t.Fatal(err)
		}
		got, err := PickProduct(r, tc.found, key)
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%q among %v: %+v, %v; want %q", tc.ref, tc.found, got, err, tc.err)
		case tc.err == "" && (err != nil || got.ID != tc.want):
			t.Errorf("%q among %v: %+v, %v; want product %d", tc.ref, tc.found, got, err, tc.want)
		}
	}
	r, _ := ParseProductRef("Z")
	if _, err := PickProduct(r, nil, key); !errors.Is(err, ErrNotFound) {
		t.Errorf("nothing found: %v", err)
	}
	r, _ = ParseProductRef("1")
	if _, err := PickProduct(r, []Product{a1, one}, key); !errors.Is(err, ErrInvalid) {
		t.Errorf("ambiguous: %v", err)
	}
}

func TestParseItemAndMerge(t *testing.T) {
	var items []ItemRequest
	for _, s := range []string{"A:1", "#3:2", "sku:1:4", "A:2", "12:1"} {
		it, err := ParseItem(s)
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		items = append(items, it)
	}
	if items[2].Ref.SKU() != "1" || items[2].Ref.ID() != 0 || items[2].Quantity != 4 || items[1].Ref.ID() != 3 || !items[4].Ref.Bare() {
		t.Fatalf("parsed %+v", items)
	}
	merged, err := MergeItems(items)
	if err != nil || len(merged) != 4 || merged[0].Ref.String() != "A" || merged[0].Quantity != 3 {
		t.Fatalf("merged %+v %v", merged, err)
	}
	for s, want := range map[string]string{
		"A":      "is not SKU:QTY",
		"A:":     "is not SKU:QTY",
		":1":     "is not SKU:QTY",
		"#x:1":   `item "#x:1": "#x" is not a product id`,
		"A:0":    "quantity 0 must be at least 1",
		"A:many": "is not a whole number",
	} {
		if _, err := ParseItem(s); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", s, err, want)
		}
	}
	if _, err := MergeItems([]ItemRequest{{Ref: RefBySKU("A"), Quantity: MaxQuantity}, {Ref: RefBySKU("A"), Quantity: 1}}); !errors.Is(err, ErrInvalid) {
		t.Errorf("merging past the maximum: %v", err)
	}
}
