package cmd

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The courier hand-off: deliver export writes the READY deliveries with
// where they go; the courier fills carrier and waybill in; deliver import
// of the same file ships exactly those rows and skips the rest. Carriers
// are read by name, code or short name, their waybill numbers checked,
// unknown ones refused unless written other:NAME; deliver show links the
// tracking page (issue 28).
func TestCourierHandOff(t *testing.T) {
	c := newCLI(t)
	c.seed()
	c.ok("customer", "update", "1", "--phone", "010-1234-5678")
	c.ok("customer", "address", "add", "--customer", "1", "--recipient", "김토순", "--phone", "02-123-4567",
		"--zip", "06236", "--line1", "서울 강남구 테헤란로 152", "--line2", "12층", "--memo", "경비실에 맡겨 주세요")
	c.ok("order", "place", "--customer", "1", "--method", "KAKAO", "--item", "A:2", "--item", "B:1")  // order 1: the default address
	c.ok("order", "place", "--customer", "1", "--method", "KAKAO", "--item", "A:1", "--ship-to", "2") // order 2: address 2
	c.ok("order", "place", "--customer", "1", "--method", "KAKAO", "--item", "B:1", "--pickup")       // order 3: nothing for a courier
	for _, o := range []string{"1", "2", "3"} {
		c.ok("deliver", "start", "--order", o)
	}
	file := filepath.Join(t.TempDir(), "today.csv")
	c.ok("deliver", "export", file)
	rows := readCSV(t, file)
	if strings.Join(rows[0], ",") != "delivery_id,order_id,recipient,phone,zip_code,address,sku,product,quantity,memo,carrier,tracking" {
		t.Fatalf("export header: %v", rows[0])
	}
	if len(rows) != 4 { // deliveries 1, 2 (order 1) and 3 (order 2); the pickup's is left out
		t.Fatalf("export rows: %v", rows)
	}
	if got := strings.Join(rows[1], "|"); got != "1|1|김토끼|010-1234-5678|04524|서울 중구 세종대로 110|A|토끼 인형|2|||" {
		t.Errorf("export row of the default address (recipient and phone from the customer): %q", got)
	}
	if got := strings.Join(rows[3], "|"); got != "3|2|김토순|02-123-4567|06236|서울 강남구 테헤란로 152 12층|A|토끼 인형|1|경비실에 맡겨 주세요||" {
		t.Errorf("export row of address 2: %q", got)
	}

	// The courier fills in rows 1 and 3 (a spreadsheet may keep the hyphens); row 2 ships tomorrow.
	rows[1][10], rows[1][11] = "CJ대한통운", "6012-3456-7890"
	rows[3][10], rows[3][11] = "other:동네택배", "DN-77"
	writeCSV(t, file, rows)
	before := c.fullSnapshot()
	bad := append([][]string{}, rows...)
	bad[3] = append([]string{}, rows[3]...)
	bad[3][10] = "CJ대한통원"
	badFile := filepath.Join(t.TempDir(), "bad.csv")
	writeCSV(t, badFile, bad)
	refused := func(want string) {
		t.Helper()
		if r := c.runIn("", "deliver", "import", badFile); r.code != ExitUsage || !strings.Contains(r.err, want) {
			t.Errorf("import of a bad file: exit %d, stderr %q; want 2 and %q", r.code, r.err, want)
		}
	}
	refused("line 4, column carrier: carrier \"CJ대한통원\" is not one rabbitpay knows; did you mean CJ대한통운?")
	bad[3][10], bad[3][11] = "한진", "6012"
	writeCSV(t, badFile, bad)
	refused("line 4, column tracking: \"6012\" is not a 한진택배 waybill number: 12 or 14 digits")
	if after := c.fullSnapshot(); after != before {
		t.Fatalf("a refused import changed the database:\n%s\n%s", before, after)
	}

	var sum struct {
		Rows, Changed, Skipped int
	}
	c.json(&sum, "deliver", "import", file)
	if sum.Rows != 3 || sum.Changed != 2 || sum.Skipped != 1 {
		t.Fatalf("import summary: %+v", sum)
	}
	type delivery struct {
		ID          int64  `json:"id"`
		Status      string `json:"status"`
		Carrier     string `json:"carrier"`
		Tracking    string `json:"tracking_number"`
		TrackingURL string `json:"tracking_url"`
		ShipTo      *struct {
			Phone string `json:"phone"`
		} `json:"ship_to"`
	}
	want := map[int64]string{1: "SHIPPED CJ대한통운 601234567890", 2: "READY  ", 3: "SHIPPED 동네택배 DN-77", 4: "READY  "}
	var ds []delivery
	c.json(&ds, "deliver", "list")
	for _, d := range ds {
		if got := d.Status + " " + d.Carrier + " " + d.Tracking; got != want[d.ID] {
			t.Errorf("delivery %d after the import: %q, want %q", d.ID, got, want[d.ID])
		}
	}
	// The same file again changes nothing: what it ships has shipped with those numbers.
	before = c.fullSnapshot()
	c.json(&sum, "deliver", "import", file)
	if sum.Changed != 0 || c.fullSnapshot() != before {
		t.Fatalf("importing the hand-off again: %+v", sum)
	}
	var one delivery
	c.json(&one, "deliver", "show", "1")
	if one.TrackingURL != "https://trace.cjlogistics.com/next/tracking.html?wblNo=601234567890" || one.ShipTo == nil ||
		one.ShipTo.Phone != "010-1234-5678" {
		t.Errorf("deliver show -o json: %+v", one)
	}
	if out := c.ok("deliver", "list"); !strings.Contains(out, "010-****-5678") || strings.Contains(out, "1234-5678") {
		t.Errorf("deliver list does not mask the phone:\n%s", out)
	}
	if out := c.ok("deliver", "show", "1"); !strings.Contains(out, "== Ship to ==") || !strings.Contains(out, "010-1234-5678") ||
		!strings.Contains(out, "wblNo=601234567890") {
		t.Errorf("deliver show:\n%s", out)
	}
	if payload := c.query(`SELECT payload::text FROM notification WHERE kind = 'delivery.shipped' AND order_id = 1`); !strings.Contains(payload,
		`"tracking_url": "https://trace.cjlogistics.com/next/tracking.html?wblNo=601234567890"`) || !strings.Contains(payload, `"recipient": "김토끼"`) {
		t.Errorf("delivery.shipped payload: %s", payload)
	}
	// What the import left READY is what the next export holds.
	c.ok("deliver", "export", file)
	if rows := readCSV(t, file); len(rows) != 2 || rows[1][0] != "2" {
		t.Errorf("the next export: %v", rows)
	}
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) > 0 && len(rows[0]) > 0 { // the byte order mark spreadsheets need
		rows[0][0] = strings.TrimPrefix(rows[0][0], "\ufeff")
	}
	return rows
}

func writeCSV(t *testing.T, path string, rows [][]string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := csv.NewWriter(f)
	if err := w.WriteAll(rows); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}
