package shop

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestDeliveryMoves(t *testing.T) {
	for i, from := range DeliveryStatuses {
		for j, to := range DeliveryStatuses {
			err := from.CheckMove(1, to)
			if (j > i) != (err == nil) || err != nil && !errors.Is(err, ErrConflict) {
				t.Errorf("%s → %s: %v", from, to, err)
			}
		}
	}
	for _, s := range []string{"shipped", " In_Transit ", "in-transit"} {
		if _, err := ParseDeliveryStatus(s); err != nil {
			t.Errorf("%q: %v", s, err)
		}
	}
	if _, err := ParseDeliveryStatus("LOST"); !errors.Is(err, ErrInvalid) {
		t.Errorf("LOST: %v", err)
	}
}

func TestMatchItem(t *testing.T) {
	items := []ItemRef{{OrderProductID: 7, ProductID: 1, SKU: "A"}, {OrderProductID: 8, ProductID: 2, SKU: "7"}}
	for ref, want := range map[string]int64{"A": 7, "sku:7": 8, "#2": 8, "#1": 7, "8": 8, " A ": 7} {
		if it, err := MatchItem(1, items, ref); err != nil || it.OrderProductID != want {
			t.Errorf("%q: %+v %v", ref, it, err)
		}
	}
	for ref, want := range map[string]string{
		"7":     `"7" is both the id of item 7 (product #1) and the SKU of item 8 of order 1: write #1 for the id or sku:7 for the SKU`,
		"B":     `order 1 has no item "B"`,
		"#9":    `order 1 has no item "#9"`,
		"9":     `order 1 has no item "9"`,
		"sku:8": `order 1 has no item "sku:8"`, // 8 is an item id, not a SKU
		"#abc":  `"#abc" is not a product id`,
	} {
		if _, err := MatchItem(1, items, ref); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", ref, err, want)
		}
	}
}

func TestBackoffDoublesWithJitterAndACap(t *testing.T) {
	for attempts := 1; attempts <= 40; attempts++ {
		full := min(time.Second<<min(attempts-1, 30), MaxBackoff)
		for range 20 {
			if d := Backoff(time.Second, attempts); d < full/2 || d > full {
				t.Fatalf("attempt %d: %s not in [%s, %s]", attempts, d, full/2, full)
			}
		}
	}
	if Backoff(0, 3) != 0 {
		t.Fatal("no backoff configured: no wait")
	}
}

func TestReadDeliveryFile(t *testing.T) {
	rows, bad, _, err := ReadDeliveryFile(strings.NewReader("delivery_id,status\n1,shipped\n\"2,DELIVERED\n"), CatalogueCSV)
	if err != nil || len(rows) != 1 || bad.Total != 1 || bad.Rows[0].Line != 3 {
		t.Fatalf("%v %+v %+v", err, rows, bad)
	}
	_, bad, _, err = ReadDeliveryFile(strings.NewReader(`{"delivery_id": 1, "order_id": 2, "sku": "A", "status": "SHIPPED"}
{"order_id": 2, "status": "SHIPPED"}
{"delivery_id": -1, "status": "SHIPPED", "at": "today"}
{"delivery_id": 1, "status": "SHIPPED", "colour": "red"}
not json
`), CatalogueJSONL)
	if err != nil || bad.Total != 6 {
		t.Fatalf("%v %v", err, bad.Details())
	}
	for _, tc := range []struct{ file, want string }{
		{"", "the file is empty"},
		{"delivery_id,state\n", `unknown column "state"`},
		{"delivery_id,carrier\n", `has neither "status" nor "tracking"`},
		{"delivery_id,status\n", "the file has no rows"},
	} {
		if _, _, _, err := ReadDeliveryFile(strings.NewReader(tc.file), CatalogueCSV); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want %q", tc.file, err, tc.want)
		}
	}
}
