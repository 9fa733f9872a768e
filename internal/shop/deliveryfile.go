package shop

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
)

// DeliveryColumns are the columns of a `deliver import` file. A row names
// its delivery by delivery_id, or by order_id and sku, and the status it
// moves to; carrier, tracking and at (an RFC 3339 time) are optional. A row
// with no status is a courier hand-off row (HandOffColumns, as `deliver
// export` writes them): with a carrier and a waybill number it ships the
// delivery (SHIPPED), with neither it is skipped.
var DeliveryColumns = []string{"delivery_id", "order_id", "sku", "status", "carrier", "tracking", "at"}

// HandOffColumns are the columns `deliver export` writes for the courier:
// the deliveries to ship, where they go, and the carrier and tracking
// columns left empty for the courier's waybill numbers. `deliver import`
// reads the file back (the columns not in DeliveryColumns are for people:
// it ignores them).
var HandOffColumns = []string{"delivery_id", "order_id", "recipient", "phone", "zip_code", "address", "sku", "product",
	"quantity", "memo", "carrier", "tracking"}

// importColumns are the columns an import file may have.
var importColumns = func() []string {
	out := slices.Clone(DeliveryColumns)
	for _, c := range HandOffColumns {
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}()

// MaxDeliveryRows bounds one delivery file: a warehouse's day, applied in one transaction.
const MaxDeliveryRows = 100_000

// ReadDeliveryFile reads and validates a whole delivery file (CSV with a
// header, or JSON Lines with the same keys): the valid rows, and the bad
// ones in bad (line-numbered), so that the store can add the rows it
// refuses and report them all at once; skipped counts the hand-off rows
// left without a waybill number. err is a file that cannot be read at all
// (a bad header, no rows).
func ReadDeliveryFile(r io.Reader, f CatalogueFormat) (rows []DeliveryChange, bad RowErrors, skipped int, err error) {
	br := bufio.NewReader(r)
	if bom, _ := br.Peek(3); bytes.Equal(bom, []byte{0xEF, 0xBB, 0xBF}) {
		br.Discard(3)
	}
	var out []DeliveryChange
	add := func(line int, fields map[string]string) {
		switch c, ok := deliveryRow(&bad, line, fields); {
		case ok && c.Status == "":
			skipped++
		case ok:
			out = append(out, c)
		}
	}
	// Reading stops one row past the limit: a huge file is refused without
	// being held in memory.
	full := func() bool { return len(out)+bad.Total+skipped > MaxDeliveryRows }
	if f == CatalogueJSONL {
		err = readDeliveryJSON(br, &bad, add, full)
	} else {
		err = readDeliveryCSV(br, &bad, add, full)
	}
	switch {
	case err != nil:
	case len(out)+bad.Total+skipped == 0:
		err = Invalid("the file has no rows")
	case full():
		err = Invalid("the file has more than %d rows, the most one import takes", MaxDeliveryRows)
	}
	return out, bad, skipped, err
}

func readDeliveryCSV(br *bufio.Reader, bad *RowErrors, add func(int, map[string]string), full func() bool) error {
	cr := csv.NewReader(br)
	header, err := cr.Read()
	if err == io.EOF {
		return Invalid("the file is empty: a CSV delivery file starts with a header such as delivery_id,status,carrier,tracking")
	}
	if err != nil {
		return Invalid("the header is not valid CSV: %v", err)
	}
	cols := make([]string, len(header))
	for i, h := range header {
		name := strings.ToLower(strings.TrimSpace(h))
		if indexOf(importColumns, name) < 0 {
			return Invalid("line 1: unknown column %s; the columns are %s (a courier hand-off file: %s)", Echo(h),
				strings.Join(DeliveryColumns, ","), strings.Join(HandOffColumns, ","))
		}
		if indexOf(cols, name) >= 0 {
			return Invalid("line 1: column %q appears twice", name)
		}
		cols[i] = name
	}
	if indexOf(cols, "status") < 0 && indexOf(cols, "tracking") < 0 {
		return Invalid("line 1: the header has neither \"status\" nor \"tracking\": a row must say where its delivery moves")
	}
	for !full() {
		rec, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			if pe.Err == csv.ErrFieldCount {
				bad.Add(RowError{Line: pe.StartLine, Reason: fmt.Sprintf("wrong number of fields: %d, the header has %d", len(rec), len(cols))})
				continue
			}
			bad.Add(RowError{Line: pe.StartLine, Reason: pe.Err.Error()})
			continue
		}
		if err != nil {
			return err
		}
		line, _ := cr.FieldPos(0)
		fields := map[string]string{}
		for i, v := range rec {
			fields[cols[i]] = v
		}
		add(line, fields)
	}
	return nil
}

func readDeliveryJSON(br *bufio.Reader, bad *RowErrors, add func(int, map[string]string), full func() bool) error {
	sc := bufio.NewScanner(br)
	sc.Buffer(nil, MaxLineBytes)
	for line := 1; !full() && sc.Scan(); line++ {
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		if col, reason := checkJSONLine(b); reason != "" {
			bad.Add(RowError{Line: line, Column: col, Reason: reason})
			continue
		}
		var raw map[string]json.RawMessage
		if err := json.Unmarshal(b, &raw); err != nil {
			bad.Add(RowError{Line: line, Reason: "not one JSON object: " + err.Error()})
			continue
		}
		fields := map[string]string{}
		ok := true
		for k, v := range raw {
			if indexOf(importColumns, k) < 0 {
				bad.Add(RowError{Line: line, Column: k, Reason: "unknown key; the keys are " + strings.Join(DeliveryColumns, ", ") +
					" (a courier hand-off file: " + strings.Join(HandOffColumns, ", ") + ")"})
				ok = false
				continue
			}
			var s string
			if json.Unmarshal(v, &s) != nil { // a number, or null
				s = strings.TrimSpace(string(v))
				if s == "null" {
					s = ""
				}
			}
			fields[k] = s
		}
		if ok {
			add(line, fields)
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return Invalid("a line is longer than %d bytes", MaxLineBytes)
		}
		return err
	}
	return nil
}

// deliveryRow validates one row's fields.
func deliveryRow(bad *RowErrors, line int, f map[string]string) (DeliveryChange, bool) {
	total := bad.Total
	fail := func(col, format string, a ...any) {
		bad.Add(RowError{Line: line, Column: col, Reason: fmt.Sprintf(format, a...)})
	}
	for _, col := range importColumns { // the file's boundary: text fit for any use
		if err := CheckText(col, f[col], MaxInputLen); err != nil {
			fail(col, "%v", err)
		}
	}
	if bad.Total > total {
		return DeliveryChange{}, false
	}
	c := DeliveryChange{Line: line, SKU: strings.TrimSpace(f["sku"]), Carrier: strings.TrimSpace(f["carrier"]),
		Tracking: strings.TrimSpace(f["tracking"])}
	id := func(col string) int64 {
		s := strings.TrimSpace(f[col])
		if s == "" {
			return 0
		}
		n, err := ParseInt(col, s)
		if err == nil && n <= 0 {
			err = Invalid("%s %d must be positive", col, n)
		}
		if err != nil {
			fail(col, "%v", err)
		}
		return n
	}
	c.ID, c.OrderID = id("delivery_id"), id("order_id")
	if _, given := f["status"]; !given && c.ID != 0 {
		c.OrderID, c.SKU = 0, "" // a hand-off row names its delivery by id; its order and SKU are for people
	}
	switch {
	case bad.Total > total:
	case c.ID != 0 && (c.OrderID != 0 || c.SKU != ""):
		fail("", "give delivery_id, or order_id and sku, not both")
	case c.ID == 0 && (c.OrderID == 0 || c.SKU == ""):
		fail("", "name the delivery: delivery_id, or order_id and sku")
	case c.SKU != "":
		if _, err := ParseProductRef(c.SKU); err != nil {
			fail("sku", "%v", err)
		}
	}
	switch status, given := f["status"]; {
	case given:
		st, err := ParseDeliveryStatus(status)
		if err != nil {
			fail("status", "%v", err)
		}
		c.Status = st
	// A hand-off row (no status): the courier's waybill ships it; without one it is skipped (Status "").
	case c.Carrier == "" && c.Tracking == "":
	case c.Carrier == "" || c.Tracking == "":
		fail("", "a row without a status ships its delivery: it needs both carrier and tracking (the waybill number); leave both empty to skip it")
	default:
		c.Status, c.HandOff = DeliveryShipped, true
	}
	carrier, tracking, err := CheckShipment(c.Carrier, c.Tracking)
	var fe *FieldError
	switch {
	case errors.As(err, &fe) && fe.Field == "carrier":
		fail("carrier", "%v", err)
	case err != nil:
		fail("tracking", "%v", err)
	}
	c.Carrier, c.Tracking = carrier, tracking
	if at := strings.TrimSpace(f["at"]); at != "" {
		t, err := time.Parse(time.RFC3339, at)
		if err != nil {
			fail("at", "%s is not an RFC 3339 time (2026-11-25T14:00:00+09:00)", Echo(at))
		}
		c.At = t
	}
	return c, bad.Total == total
}

// WriteHandOff writes deliveries as the courier's hand-off file (CSV with
// HandOffColumns, or JSON Lines with the same keys): who gets what where,
// the phone whole (the courier calls it), and empty carrier and tracking
// columns for the waybill numbers (a number a delivery has already is not
// written: the file read back would ship it). The CSV starts with a UTF-8
// byte order mark, so a spreadsheet reads its Hangul, and a text cell a
// spreadsheet would take for a formula (= + - @) starts with '. It returns
// how many it wrote, and how many went nowhere (neither an address nor a
// pickup) and were left out; a pickup has nothing for a courier and is
// left out too.
func WriteHandOff(w io.Writer, f CatalogueFormat, ds []Delivery) (written, nowhere int, err error) {
	var cw *csv.Writer
	if f != CatalogueJSONL {
		if _, err := io.WriteString(w, "\ufeff"); err != nil {
			return 0, 0, err
		}
		cw = csv.NewWriter(w)
		if err := cw.Write(HandOffColumns); err != nil {
			return 0, 0, err
		}
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for _, d := range ds {
		t := d.ShipTo
		switch {
		case d.Pickup:
			continue
		case t == nil:
			nowhere++
			continue
		}
		row := []string{strconv.FormatInt(d.ID, 10), strconv.FormatInt(d.OrderID, 10), t.Recipient, t.Phone, t.ZipCode, t.Address(),
			d.SKU, d.Name, strconv.FormatInt(d.Quantity, 10), t.Memo, "", ""}
		if cw != nil {
			for i, v := range row {
				if v != "" && strings.ContainsRune("=+-@", rune(v[0])) {
					row[i] = "'" + v
				}
			}
			err = cw.Write(row)
		} else {
			obj := make(map[string]any, len(row))
			for i, col := range HandOffColumns {
				obj[col] = row[i]
			}
			obj["delivery_id"], obj["order_id"], obj["quantity"] = d.ID, d.OrderID, d.Quantity
			err = enc.Encode(obj)
		}
		if err != nil {
			return written, nowhere, err
		}
		written++
	}
	if cw != nil {
		cw.Flush()
		err = cw.Error()
	}
	return written, nowhere, err
}
