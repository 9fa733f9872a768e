package shop

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// Each row of a delivery file: what it becomes, or why it is refused (every
// reason of the row, in order, as "column: part of the reason").
func TestDeliveryFileRows(t *testing.T) {
	at := time.Date(2026, 11, 25, 14, 0, 0, 0, time.FixedZone("KST", 9*3600))
	for _, tc := range []struct {
		name string
		csv  string // one data row under the header delivery_id,order_id,sku,status,carrier,tracking,at
		want DeliveryChange
		bad  []string
	}{
		{name: "by delivery id", csv: "7,,,shipped,,,", want: DeliveryChange{Line: 2, ID: 7, Status: DeliveryShipped}},
		{name: "by order and SKU", csv: ",3,A-1,IN-TRANSIT,,,", want: DeliveryChange{Line: 2, OrderID: 3, SKU: "A-1", Status: DeliveryInTransit}},
		{name: "spaces around values", csv: " 7 ,, , delivered , CJ대한통운 , 6012-3456-7890 ,",
			want: DeliveryChange{Line: 2, ID: 7, Status: DeliveryDelivered, Carrier: "CJ대한통운", Tracking: "601234567890"}},
		{name: "a time", csv: "7,,,SHIPPED,,,2026-11-25T14:00:00+09:00", want: DeliveryChange{Line: 2, ID: 7, Status: DeliveryShipped, At: at}},
		{name: "both ways of naming", csv: "7,3,A-1,SHIPPED,,,", bad: []string{": give delivery_id, or order_id and sku, not both"}},
		{name: "neither", csv: ",,,SHIPPED,,,", bad: []string{": name the delivery"}},
		{name: "an order without a SKU", csv: ",3,,SHIPPED,,,", bad: []string{": name the delivery"}},
		{name: "a SKU without an order", csv: ",,A-1,SHIPPED,,,", bad: []string{": name the delivery"}},
		{name: "a zero id", csv: "0,,,SHIPPED,,,", bad: []string{"delivery_id: delivery_id 0 must be positive"}},
		{name: "a negative order id", csv: ",-3,A,SHIPPED,,,", bad: []string{"order_id: order_id -3 must be positive"}},
		{name: "not a number", csv: "x,,,SHIPPED,,,", bad: []string{`delivery_id: delivery_id "x" is not a whole number`}},
		{name: "a SKU with a space", csv: `,3,"A 1",SHIPPED,,,`, bad: []string{"sku: "}},
		{name: "no status", csv: "7,,,,,,", bad: []string{`status: delivery status "" is not one of`}},
		{name: "an unknown status", csv: "7,,,LOST,,,", bad: []string{`status: delivery status "LOST" is not one of`}},
		{name: "a long carrier", csv: "7,,,SHIPPED," + strings.Repeat("x", MaxCarrierLen+1) + ",,", bad: []string{"carrier: carrier is 101 characters long"}},
		{name: "a blank tracking number is none", csv: "7,,,SHIPPED,,  ,", want: DeliveryChange{Line: 2, ID: 7, Status: DeliveryShipped}},
		{name: "a control character in the tracking number", csv: "7,,,SHIPPED,,\"a\x01\",", bad: []string{"tracking: tracking contains a control character"}},
		{name: "a SKU that is not UTF-8", csv: ",3,\xff,SHIPPED,,,", bad: []string{"sku: sku is not valid UTF-8"}},
		{name: "a status with a control character", csv: "7,,,\"SHIPPED\x1b\",,,", bad: []string{"status: status contains a control character (U+001B)"}},
		{name: "a bad time", csv: "7,,,SHIPPED,,,yesterday", bad: []string{`at: "yesterday" is not an RFC 3339 time`}},
		{name: "a time without a zone", csv: "7,,,SHIPPED,,,2026-11-25T14:00:00", bad: []string{"at: "}},
		{name: "every bad field of a row", csv: "0,,,LOST,,,soon", bad: []string{"delivery_id: ", "status: ", "at: "}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rows, bad, _, err := ReadDeliveryFile(strings.NewReader(strings.Join(DeliveryColumns, ",")+"\n"+tc.csv+"\n"), CatalogueCSV)
			if err != nil {
				t.Fatal(err)
			}
			if tc.bad == nil {
				if bad.Total != 0 || len(rows) != 1 || !rows[0].At.Equal(tc.want.At) {
					t.Fatalf("rows %+v, bad %v", rows, bad.Details())
				}
				rows[0].At, tc.want.At = time.Time{}, time.Time{}
				if rows[0] != tc.want {
					t.Fatalf("%+v, want %+v", rows[0], tc.want)
				}
				return
			}
			if len(rows) != 0 || bad.Total != len(tc.bad) {
				t.Fatalf("rows %+v, bad %v, want %q", rows, bad.Details(), tc.bad)
			}
			for i, w := range tc.bad {
				if r := bad.Rows[i]; r.Line != 2 || !strings.HasPrefix(r.Column+": "+r.Reason, w) {
					t.Fatalf("bad row %+v, want %q", r, w)
				}
			}
		})
	}
}

// The same rows in JSON Lines: numbers or strings, null for none; and the
// file-level refusals of both formats.
func TestDeliveryFileFormats(t *testing.T) {
	rows, bad, _, err := ReadDeliveryFile(strings.NewReader("\xef\xbb\xbf"+`{"delivery_id": 7, "status": "shipped", "carrier": null}

{"order_id": "3", "sku": "A-1", "status": "DELIVERED", "tracking": 6012}
`), CatalogueJSONL)
	if err != nil || bad.Total != 0 || len(rows) != 2 {
		t.Fatalf("%v %v %+v", err, bad.Details(), rows)
	}
	if rows[0] != (DeliveryChange{Line: 1, ID: 7, Status: DeliveryShipped}) ||
		rows[1] != (DeliveryChange{Line: 3, OrderID: 3, SKU: "A-1", Status: DeliveryDelivered, Tracking: "6012"}) {
		t.Fatalf("%+v", rows)
	}
	rows, bad, _, err = ReadDeliveryFile(strings.NewReader("\xef\xbb\xbfStatus, Delivery_ID\r\nshipped,7\r\n\"x,1\nin_transit,8,9\n"), CatalogueCSV)
	if err != nil || len(rows) != 1 || rows[0].ID != 7 || bad.Total != 1 || bad.Rows[0].Line != 3 {
		t.Fatalf("%v %+v %v", err, rows, bad.Details())
	}
	for _, tc := range []struct {
		file   string
		format CatalogueFormat
		want   string
	}{
		{"delivery_id,status,status\n", CatalogueCSV, `line 1: column "status" appears twice`},
		{"\"delivery_id,status\n", CatalogueCSV, "the header is not valid CSV"},
		{"", CatalogueJSONL, "the file has no rows"},
		{"\n\n", CatalogueJSONL, "the file has no rows"},
		{`{"status": "SHIPPED", "delivery_id": 1}` + strings.Repeat(" ", MaxLineBytes) + "\n", CatalogueJSONL, "a line is longer than"},
	} {
		_, _, _, err := ReadDeliveryFile(strings.NewReader(tc.file), tc.format)
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%.40q: %v, want %q", tc.file, err, tc.want)
		}
	}
}

// A file one row over the limit is refused whole, without reading on.
func TestDeliveryFileLimit(t *testing.T) {
	var b strings.Builder
	b.WriteString("delivery_id,status\n")
	for range MaxDeliveryRows {
		b.WriteString("1,SHIPPED\n")
	}
	rows, _, _, err := ReadDeliveryFile(strings.NewReader(b.String()), CatalogueCSV)
	if err != nil || len(rows) != MaxDeliveryRows {
		t.Fatalf("%d rows: %v", len(rows), err)
	}
	b.WriteString("1,SHIPPED\n1,SHIPPED\n")
	if _, _, _, err := ReadDeliveryFile(strings.NewReader(b.String()), CatalogueCSV); !errors.Is(err, ErrInvalid) ||
		!strings.Contains(err.Error(), "the file has more than 100000 rows") {
		t.Fatalf("%v", err)
	}
}

// The courier's file reads back: a JSON Lines hand-off, filled in, ships
// the rows with a waybill number and skips the rest; one with a carrier
// and no number is refused.
func TestHandOffRoundTrip(t *testing.T) {
	to := &ShipTo{Recipient: "김토끼", Phone: "010-1234-5678", ZipCode: "04524", Line1: "서울 중구 세종대로 110", Memo: "문 앞"}
	ds := []Delivery{{ID: 1, OrderID: 7, SKU: "A", Name: "토끼 인형", Quantity: 2, ShipTo: to, Carrier: "CJ대한통운", TrackingNumber: "601234567890"},
		{ID: 2, OrderID: 8, SKU: "B", Name: "당근", Quantity: 1, Pickup: true},
		{ID: 3, OrderID: 9, SKU: "C", Name: "차", Quantity: 1, ShipTo: to},
		{ID: 4, OrderID: 10, SKU: "C", Name: "차", Quantity: 1}}
	var b strings.Builder
	n, nowhere, err := WriteHandOff(&b, CatalogueJSONL, ds)
	if err != nil || n != 2 || nowhere != 1 {
		t.Fatalf("wrote %d (the pickup and the order going nowhere left out), %d nowhere, %v", n, nowhere, err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], `"phone":"010-1234-5678"`) || !strings.Contains(lines[0], `"tracking":""`) {
		t.Fatalf("hand-off lines:\n%s", b.String())
	}
	lines[0] = strings.Replace(lines[0], `"carrier":""`, `"carrier":"롯데"`, 1)
	lines[0] = strings.Replace(lines[0], `"tracking":""`, `"tracking":"1234-5678-9013"`, 1)
	rows, bad, skipped, err := ReadDeliveryFile(strings.NewReader(strings.Join(lines, "\n")), CatalogueJSONL)
	if err != nil || bad.Total != 0 || skipped != 1 || len(rows) != 1 ||
		rows[0] != (DeliveryChange{Line: 1, ID: 1, Status: DeliveryShipped, Carrier: "롯데택배", Tracking: "123456789013", HandOff: true}) {
		t.Fatalf("read back: %+v, bad %v, skipped %d, %v", rows, bad, skipped, err)
	}
	lines[1] = strings.Replace(lines[1], `"carrier":""`, `"carrier":"CJ"`, 1)
	_, bad, _, _ = ReadDeliveryFile(strings.NewReader(strings.Join(lines, "\n")), CatalogueJSONL)
	if bad.Total != 1 || !strings.Contains(bad.Rows[0].Reason, "needs both carrier and tracking") {
		t.Fatalf("a carrier without a number: %v", bad)
	}
}

// The CSV hand-off opens in a spreadsheet: a byte order mark, and no cell a
// spreadsheet would run as a formula.
func TestHandOffCSVForSpreadsheets(t *testing.T) {
	to := &ShipTo{Recipient: "=HYPERLINK(\"x\")", Phone: "010-1234-5678", ZipCode: "04524", Line1: "서울", Memo: "@memo"}
	var b strings.Builder
	if _, _, err := WriteHandOff(&b, CatalogueCSV, []Delivery{{ID: 1, OrderID: 7, SKU: "A", Name: "+1 인형", Quantity: 2, ShipTo: to}}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if !strings.HasPrefix(out, "\ufeffdelivery_id,") || !strings.Contains(out, `"'=HYPERLINK(""x"")"`) || !strings.Contains(out, "'+1 인형") ||
		!strings.Contains(out, "'@memo") {
		t.Fatalf("hand-off CSV:\n%s", out)
	}
	rows, bad, skipped, err := ReadDeliveryFile(strings.NewReader(out), CatalogueCSV)
	if err != nil || bad.Total != 0 || len(rows) != 0 || skipped != 1 {
		t.Fatalf("read back: %v %v %d %v", rows, bad, skipped, err)
	}
}
