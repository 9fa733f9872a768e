package shop

import (
	"errors"
	"strings"
	"testing"
)

// check runs a validation and checks it accepts (msg "") or refuses with
// ErrInvalid and a message containing msg.
func check(t *testing.T, name string, err error, msg string) {
	t.Helper()
	if msg == "" {
		if err != nil {
			t.Errorf("%s: %v", name, err)
		}
		return
	}
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), msg) {
		t.Errorf("%s: %v, want %q", name, err, msg)
	}
}

func TestValidateSKU(t *testing.T) {
	for _, tc := range []struct{ sku, msg string }{
		{"A-1", ""},
		{"토끼-01", ""},
		{"sku.with_dots/and+more", ""},
		{strings.Repeat("가", MaxSKULen), ""},
		{"", "SKU must not be empty"},
		{strings.Repeat("a", MaxSKULen+1), "is longer than 64 characters"},
		{"A 1", "contains a space, colon or control character"},
		{"A:1", "contains a space, colon or control character"},
		{"A\t1", "control character"},
		{"A\x7f", "control character"},
		{"\xff", "SKU is not valid UTF-8"},
	} {
		check(t, tc.sku, ValidateSKU(tc.sku), tc.msg)
	}
}

func TestValidateName(t *testing.T) {
	for _, tc := range []struct{ name, msg string }{
		{"토끼 인형", ""},
		{"a", ""},
		{strings.Repeat("가", 10), ""},
		{"", "product name must not be empty"},
		{"   ", "must not be empty"},
		{"\u3000\t", "must not be empty"},
		{strings.Repeat("가", 11), "product name is 11 characters long; the limit is 10"},
		{"a\nb", "product name contains a control character"},
		{"a\x00", "control character"},
		{"a\x7f", "control character"},
		{"\xc3\x28", "product name is not valid UTF-8"},
	} {
		check(t, tc.name, ValidateName("product name", tc.name, 10), tc.msg)
	}
}

func TestValidatePriceStockQuantity(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		msg  string
	}{
		{"price 0", ValidatePrice(0), ""},
		{"price max", ValidatePrice(int64(MaxWon)), ""},
		{"price negative", ValidatePrice(-1), "price -1 is negative"},
		{"price too large", ValidatePrice(int64(MaxWon) + 1), "price 1000000000001 is larger than the maximum of 1000000000000"},
		{"stock 0", ValidateStock(0), ""},
		{"stock max", ValidateStock(MaxStock), ""},
		{"stock negative", ValidateStock(-5), "stock -5 is negative"},
		{"stock too large", ValidateStock(MaxStock + 1), "is larger than the maximum of 1000000000"},
		{"quantity 1", ValidateQuantity(1), ""},
		{"quantity max", ValidateQuantity(MaxQuantity), ""},
		{"quantity 0", ValidateQuantity(0), "quantity 0 must be at least 1"},
		{"quantity negative", ValidateQuantity(-2), "quantity -2 must be at least 1"},
		{"quantity too large", ValidateQuantity(MaxQuantity + 1), "is larger than the maximum"},
	} {
		check(t, tc.name, tc.err, tc.msg)
	}
}

func TestProductValidate(t *testing.T) {
	good := Product{SKU: "A-1", Name: "토끼", Price: 12000, StockQuantity: 3}
	for _, tc := range []struct {
		name string
		edit func(*Product)
		msg  string
	}{
		{"good", func(*Product) {}, ""},
		{"free and out of stock", func(p *Product) { p.Price, p.StockQuantity = 0, 0 }, ""},
		{"bad SKU", func(p *Product) { p.SKU = "" }, "SKU must not be empty"},
		{"bad name", func(p *Product) { p.Name = " " }, "product name must not be empty"},
		{"long name", func(p *Product) { p.Name = strings.Repeat("x", MaxNameLen+1) }, "the limit is 200"},
		{"bad price", func(p *Product) { p.Price = -1 }, "price -1 is negative"},
		{"bad stock", func(p *Product) { p.StockQuantity = -1 }, "stock -1 is negative"},
		{"the first bad field is named", func(p *Product) { p.SKU, p.Price = "", -1 }, "SKU must not be empty"},
	} {
		p := good
		tc.edit(&p)
		check(t, tc.name, p.Validate(), tc.msg)
	}
}

func TestCustomerValidate(t *testing.T) {
	addr := func(zip, l1, l2 string) *Address { return &Address{ZipCode: zip, Line1: l1, Line2: l2} }
	for _, tc := range []struct {
		name string
		c    Customer
		msg  string
	}{
		{"name only", Customer{Name: "김토끼"}, ""},
		{"with an address", Customer{Name: "김토끼", Address: addr("04524", "서울 중구 세종대로 110", "")}, ""},
		{"with a second line", Customer{Name: "김토끼", Address: addr("04524", "서울", "3층")}, ""},
		{"no name", Customer{Name: ""}, "customer name must not be empty"},
		{"a long name", Customer{Name: strings.Repeat("가", MaxCustomerNameLen+1)}, "the limit is 100"},
		{"no postal code", Customer{Name: "a", Address: addr("", "서울", "")}, "an address needs both a postal code and a first line"},
		{"no first line", Customer{Name: "a", Address: addr("04524", "", "")}, "needs both"},
		{"a short postal code", Customer{Name: "a", Address: addr("0452", "서울", "")}, `postal code "0452" is not five digits`},
		{"letters in the postal code", Customer{Name: "a", Address: addr("0452a", "서울", "")}, "is not five digits"},
		{"a blank first line", Customer{Name: "a", Address: addr("04524", "  ", "")}, "address line 1 must not be empty"},
		{"a long first line", Customer{Name: "a", Address: addr("04524", strings.Repeat("x", MaxAddressLen+1), "")}, "the limit is 200"},
		{"a control character on line 2", Customer{Name: "a", Address: addr("04524", "서울", "a\x01")}, "address line 2 contains a control character"},
	} {
		check(t, tc.name, tc.c.Validate(), tc.msg)
	}
}

func TestCustomerTrimmed(t *testing.T) {
	c := Customer{Name: "  김토끼 ", Address: &Address{ZipCode: " 04524", Line1: "서울 ", Line2: "\t3층\t"}}
	orig := *c.Address
	got := c.Trimmed()
	if got.Name != "김토끼" || *got.Address != (Address{ZipCode: "04524", Line1: "서울", Line2: "3층"}) {
		t.Fatalf("%+v %+v", got, got.Address)
	}
	if *c.Address != orig {
		t.Fatalf("Trimmed changed the original address: %+v", c.Address)
	}
	if got := (Customer{Name: " a "}).Trimmed(); got.Name != "a" || got.Address != nil {
		t.Fatalf("%+v", got)
	}
}

func TestCustomerPatchApply(t *testing.T) {
	str := func(s string) *string { return &s }
	home := Address{ZipCode: "04524", Line1: "서울 중구 세종대로 110", Line2: "3층"}
	for _, tc := range []struct {
		name  string
		from  *Address
		patch CustomerPatch
		want  *Address
	}{
		{"a name only leaves the address", &home, CustomerPatch{Name: str("김토순")}, &home},
		{"zip and line 1 keep line 2", &home, CustomerPatch{ZipCode: str("06237"), Line1: str("서울 강남구")}, &Address{"06237", "서울 강남구", "3층"}},
		{"line 2 alone", &home, CustomerPatch{Line2: str("4층")}, &Address{"04524", "서울 중구 세종대로 110", "4층"}},
		{"an empty line 2 clears it", &home, CustomerPatch{Line2: str("")}, &Address{"04524", "서울 중구 세종대로 110", ""}},
		{"a first address", nil, CustomerPatch{ZipCode: str("06237"), Line1: str("서울")}, &Address{"06237", "서울", ""}},
		{"no address and nothing for it", nil, CustomerPatch{Name: str("김")}, nil},
	} {
		c := Customer{Name: "김토끼", Address: tc.from}
		tc.patch.Apply(&c)
		if (c.Address == nil) != (tc.want == nil) || c.Address != nil && *c.Address != *tc.want {
			t.Errorf("%s: address %+v, want %+v", tc.name, c.Address, tc.want)
		}
		if home != (Address{ZipCode: "04524", Line1: "서울 중구 세종대로 110", Line2: "3층"}) {
			t.Fatalf("%s: Apply changed the address it started from", tc.name)
		}
	}
	c := Customer{Name: "김토끼"}
	CustomerPatch{Line2: str("3층")}.Apply(&c)
	check(t, "line 2 without an address", c.Validate(), "an address needs both a postal code and a first line")
}

func TestValidatePassword(t *testing.T) {
	for _, tc := range []struct{ pw, msg string }{
		{"hunter22", ""},
		{"토끼토끼토끼토끼", ""}, // eight characters, 24 bytes
		{strings.Repeat("a", MaxPasswordBytes), ""},
		{"short", "password must be at least 8 characters"},
		{"토끼토끼토끼토", "at least 8 characters"},
		{strings.Repeat("a", MaxPasswordBytes+1), "password is longer than 1024 bytes"},
		{"\xffpassword", "password is not valid UTF-8"},
	} {
		check(t, tc.pw, ValidatePassword(tc.pw), tc.msg)
	}
}

func TestValidateCarrier(t *testing.T) {
	for _, tc := range []struct{ s, msg string }{
		{"", ""}, // none given: kept
		{"CJ대한통운", ""},
		{"6012-3456-7890", ""},
		{strings.Repeat("가", MaxCarrierLen), ""},
		{"   ", "carrier must not be empty"},
		{strings.Repeat("가", MaxCarrierLen+1), "carrier is 101 characters long; the limit is 100"},
		{"CJ\n", "carrier contains a control character"},
	} {
		check(t, tc.s, ValidateCarrier("carrier", tc.s), tc.msg)
	}
}

func TestParseStatuses(t *testing.T) {
	orders := map[string]OrderStatus{"paid": OrderPaid, " SHIPPED ": OrderShipped, "Created": OrderCreated, "cancelled": OrderCancelled}
	for in, want := range orders {
		if got, err := ParseOrderStatus(in); err != nil || got != want {
			t.Errorf("order status %q: %s %v", in, got, err)
		}
	}
	payments := map[string]PaymentStatus{"progress": PaymentProgress, "SUCCESS": PaymentSuccess, " failed": PaymentFailed, "Cancelled": PaymentCancelled}
	for in, want := range payments {
		if got, err := ParsePaymentStatus(in); err != nil || got != want {
			t.Errorf("payment status %q: %s %v", in, got, err)
		}
	}
	deliveries := map[string]DeliveryStatus{"ready": DeliveryReady, "Shipped": DeliveryShipped, "in-transit": DeliveryInTransit,
		" IN_TRANSIT ": DeliveryInTransit, "delivered": DeliveryDelivered}
	for in, want := range deliveries {
		if got, err := ParseDeliveryStatus(in); err != nil || got != want {
			t.Errorf("delivery status %q: %s %v", in, got, err)
		}
	}
	formats := map[string]CatalogueFormat{"csv": CatalogueCSV, "CSV": CatalogueCSV, "jsonl": CatalogueJSONL, "JSONL": CatalogueJSONL}
	for in, want := range formats {
		if got, err := ParseCatalogueFormat(in); err != nil || got != want {
			t.Errorf("format %q: %s %v", in, got, err)
		}
	}
	for _, tc := range []struct {
		name string
		err  error
		msg  string
	}{
		{"order status", second(ParseOrderStatus("sent")), `order status "sent" is not one of created, paid, shipped, cancelled`},
		{"empty order status", second(ParseOrderStatus("")), `order status "" is not one of`},
		{"payment status", second(ParsePaymentStatus("REFUNDED")), `payment status "REFUNDED" is not one of PROGRESS, SUCCESS, FAILED, CANCELLED`},
		{"delivery status", second(ParseDeliveryStatus("LOST")), `delivery status "LOST" is not one of READY, SHIPPED, IN_TRANSIT, DELIVERED`},
		{"long delivery status", second(ParseDeliveryStatus(strings.Repeat("x", 100))), strings.Repeat("x", EchoLen) + `…"`},
		{"format", second(ParseCatalogueFormat("xlsx")), `catalogue format "xlsx" is not one of csv, jsonl`},
		{"saga state", second(ParseSagaState("Running")), `saga state "Running" is not one of`},
	} {
		check(t, tc.name, tc.err, tc.msg)
	}
}

func second[T any](_ T, err error) error { return err }

func TestDeliveryStatusShipped(t *testing.T) {
	for st, want := range map[DeliveryStatus]bool{"": false, DeliveryReady: false, DeliveryShipped: true,
		DeliveryInTransit: true, DeliveryDelivered: true, "LOST": false} {
		if st.Shipped() != want {
			t.Errorf("%q shipped: %v", st, !want)
		}
	}
	if k := DeliveryInTransit.Notification(); k != "delivery.in_transit" {
		t.Errorf("notification kind %q", k)
	}
}

func TestDeliveryChangeName(t *testing.T) {
	if n := (DeliveryChange{ID: 7, OrderID: 1, SKU: "A"}).Name(); n != "delivery 7" {
		t.Errorf("%q", n)
	}
	if n := (DeliveryChange{OrderID: 1, SKU: "A-1"}).Name(); n != "order 1 item A-1" {
		t.Errorf("%q", n)
	}
}
