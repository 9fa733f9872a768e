package shop

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// CatalogueFormat is the format of a product import file.
type CatalogueFormat string

// Import formats.
const (
	CatalogueCSV   CatalogueFormat = "csv"
	CatalogueJSONL CatalogueFormat = "jsonl"
)

// ParseCatalogueFormat accepts csv or jsonl.
func ParseCatalogueFormat(s string) (CatalogueFormat, error) {
	switch f := CatalogueFormat(strings.ToLower(s)); f {
	case CatalogueCSV, CatalogueJSONL:
		return f, nil
	}
	return "", Invalid("catalogue format %q is not one of csv, jsonl", s)
}

// CatalogueColumns are the columns a catalogue file must have, in export order.
var CatalogueColumns = []string{"sku", "name", "price", "stock"}

// RetiredColumn is the optional fifth column: true retires the product, false
// restores it, empty (or absent) leaves its state as it is.
const RetiredColumn = "retired"

var allColumns = append(append([]string{}, CatalogueColumns...), RetiredColumn)

// MaxLineBytes bounds one JSON Lines record. A longer line is a bad row,
// read to its end without being kept.
const MaxLineBytes = 1 << 20

// ImportRow is one valid row and the line it came from.
type ImportRow struct {
	Line    int
	Product Product
	Retired *bool // nil: the file does not say
}

// CatalogueReader streams and validates an import file row by row in
// bounded memory: a field of a CSV record keeps at most MaxFieldBytes, a
// JSON line at most MaxLineBytes, and nothing is remembered from one row to
// the next (a SKU repeated in the file is found by the store, among the
// staged rows).
type CatalogueReader struct {
	format CatalogueFormat
	csv    *csvScanner
	order  []int // CSV column positions of sku, name, price, stock, retired (-1: absent)
	width  int   // CSV header's field count
	lines  *bufio.Reader
	buf    []byte
	line   int
	// Errors collects the bad rows.
	Errors RowErrors
	Rows   int64 // rows read, good or bad
	done   bool
	fatal  error
}

// rawRow is one record's fields before validation. A field whose size is
// larger than its length was cut on reading (it was too long).
type rawRow struct {
	line int
	f    [5]string
	size [5]int64
}

// missing marks a JSON key that is absent.
const missing = "\x00missing"

// NewCatalogueReader reads the header (CSV) and prepares to stream rows. A bad
// header is an error naming the problem.
func NewCatalogueReader(r io.Reader, f CatalogueFormat) (*CatalogueReader, error) {
	cr := &CatalogueReader{format: f}
	br := bufio.NewReaderSize(r, 1<<16)
	if bom, _ := br.Peek(3); bytes.Equal(bom, []byte{0xEF, 0xBB, 0xBF}) {
		br.Discard(3)
	}
	if f == CatalogueJSONL {
		cr.lines = br
		return cr, nil
	}
	cr.csv = newCSVScanner(br, 16)
	more, err := cr.csv.next()
	if err != nil {
		return nil, err
	}
	if !more {
		return nil, Invalid("the file is empty: a CSV catalogue starts with the header %s", strings.Join(CatalogueColumns, ","))
	}
	if cr.csv.quoteErr {
		return nil, Invalid("line %d: the header is not valid CSV: unbalanced or stray quote (\")", cr.csv.start)
	}
	cr.order = []int{-1, -1, -1, -1, -1}
	for i := range min(cr.csv.nfields, cr.csv.maxFields) {
		h, long := cr.csv.field(i)
		name := strings.ToLower(strings.TrimSpace(h))
		j := indexOf(allColumns, name)
		switch {
		case j < 0 || long:
			return nil, Invalid("line %d: unknown column %s; the columns are %s (and optionally %s)", cr.csv.start, Echo(h),
				strings.Join(CatalogueColumns, ","), RetiredColumn)
		case cr.order[j] >= 0:
			return nil, Invalid("line %d: column %q appears twice", cr.csv.start, name)
		}
		cr.order[j] = i
	}
	for j, pos := range cr.order[:len(CatalogueColumns)] {
		if pos < 0 {
			return nil, Invalid("line %d: the header lacks the column %q", cr.csv.start, CatalogueColumns[j])
		}
	}
	cr.width = cr.csv.nfields
	cr.csv.maxFields = cr.width
	return cr, nil
}

func indexOf(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

// Next returns the next valid row; bad rows are recorded in Errors and
// skipped. ok is false at the end of the file (or after an unreadable one:
// see Err).
func (cr *CatalogueReader) Next() (row ImportRow, ok bool) {
	for !cr.done {
		var raw rawRow
		bad, more := cr.read(&raw)
		if !more {
			cr.done = true
			break
		}
		cr.Rows++
		if bad {
			continue
		}
		row, ok := cr.validate(&raw)
		if ok {
			return row, true
		}
	}
	return ImportRow{}, false
}

// Err is a failure to read the input at all (not a bad row).
func (cr *CatalogueReader) Err() error { return cr.fatal }

// read fetches the next record's four fields. bad means a malformed row (recorded).
func (cr *CatalogueReader) read(raw *rawRow) (bad, more bool) {
	if cr.format == CatalogueJSONL {
		return cr.readJSON(raw)
	}
	s := cr.csv
	more, err := s.next()
	if err != nil {
		cr.fatal = err
		return false, false
	}
	if !more {
		return false, false
	}
	raw.line = s.start
	switch {
	case s.quoteErr:
		cr.Errors.Add(RowError{Line: s.start, Reason: "unbalanced or stray quote (\")"})
		return true, true
	case s.nfields != cr.width:
		cr.Errors.Add(RowError{Line: s.start, Reason: fmt.Sprintf("wrong number of fields: %d, the header has %d", s.nfields, cr.width)})
		return true, true
	}
	for j, pos := range cr.order {
		if pos < 0 { // the optional retired column
			raw.f[j] = ""
			continue
		}
		raw.f[j] = string(s.fields[pos].b)
		raw.size[j] = s.fields[pos].n
	}
	return false, true
}

// validate checks one row's fields.
func (cr *CatalogueReader) validate(raw *rawRow) (ImportRow, bool) {
	line, f := raw.line, raw.f
	total := cr.Errors.Total
	fail := func(col, format string, a ...any) {
		cr.Errors.Add(RowError{Line: line, Column: col, Reason: fmt.Sprintf(format, a...)})
	}
	for j, v := range f[:len(CatalogueColumns)] {
		if v == missing {
			fail(CatalogueColumns[j], "missing")
			f[j] = ""
		}
	}
	var retired *bool
	switch v := strings.ToLower(strings.TrimSpace(f[4])); v {
	case "", missing:
	case "true", "false":
		b := v == "true"
		retired = &b
	default:
		fail(RetiredColumn, "retired %s is not true, false or empty", Echo(f[4]))
	}
	if cr.Errors.Total > total {
		return ImportRow{}, false
	}
	p := Product{SKU: f[0], Name: f[1]}
	switch n := utf8.RuneCountInString(p.SKU); {
	case raw.size[0] > int64(len(p.SKU)):
		fail("sku", "SKU is %d bytes long; the limit is %d characters: %s", raw.size[0], MaxSKULen, Echo(p.SKU))
	case n > MaxSKULen && utf8.ValidString(p.SKU):
		fail("sku", "SKU is %d characters long; the limit is %d: %s", n, MaxSKULen, Echo(p.SKU))
	default:
		if err := CheckNewSKU(p.SKU); err != nil {
			fail("sku", "%v", err)
		}
	}
	if raw.size[1] > int64(len(p.Name)) {
		fail("name", "name is %d bytes long; the limit is %d characters: %s", raw.size[1], MaxNameLen, Echo(p.Name))
	} else if err := ValidateName("name", p.Name, MaxNameLen); err != nil {
		fail("name", "%v", err)
	}
	if price, err := parseField("price", f[2], raw.size[2]); err != nil {
		fail("price", "%v", err)
	} else if err := ValidatePrice(price); err != nil {
		fail("price", "%v", err)
	} else {
		p.Price = Won(price)
	}
	if stock, err := parseField("stock", f[3], raw.size[3]); err != nil {
		fail("stock", "%v", err)
	} else if err := ValidateStock(stock); err != nil {
		fail("stock", "%v", err)
	} else {
		p.StockQuantity = stock
	}
	if cr.Errors.Total > total {
		return ImportRow{}, false
	}
	return ImportRow{Line: line, Product: p, Retired: retired}, true
}

// maxNumberLen is longer than any int64 with sign and spaces around it.
const maxNumberLen = 32

func parseField(name, s string, size int64) (int64, error) {
	if !utf8.ValidString(s) {
		return 0, Invalid("%s is not valid UTF-8", name)
	}
	if s == "" {
		return 0, Invalid("%s is empty", name)
	}
	if size > maxNumberLen {
		t := strings.TrimSpace(s)
		if t != "" && strings.Trim(strings.TrimLeft(t, "+-"), "0123456789") == "" {
			return 0, Invalid("%s %s is out of range", name, Echo(t))
		}
		return 0, Invalid("%s %s is not a whole number", name, Echo(s))
	}
	return ParseInt(name, s)
}
