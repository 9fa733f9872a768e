package shop

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
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
	return "", Invalid("import format %q is not one of csv, jsonl", s)
}

// CatalogueColumns are the columns of a catalogue file, in export order.
var CatalogueColumns = []string{"sku", "name", "price", "stock"}

// RowError is one bad row of an import file.
type RowError struct {
	Line   int
	Column string // "" when the row as a whole is bad
	Reason string
}

func (e RowError) String() string {
	if e.Column == "" {
		return fmt.Sprintf("line %d: %s", e.Line, e.Reason)
	}
	return fmt.Sprintf("line %d, column %s: %s", e.Line, e.Column, e.Reason)
}

// MaxReportedRows bounds how many bad rows an import reports one by one.
const MaxReportedRows = 20

// RowErrors is an import refused for bad rows: the first MaxReportedRows of
// them and how many there were in all.
type RowErrors struct {
	Rows  []RowError
	Total int
}

// Error is the one-sentence summary; Details lists the rows.
func (e *RowErrors) Error() string {
	return fmt.Sprintf("import refused: %d bad %s; nothing was changed", e.Total, plural(e.Total, "row", "rows"))
}

// Details lists the reported rows, and how many more there were.
func (e *RowErrors) Details() []string {
	out := make([]string, 0, len(e.Rows)+1)
	for _, r := range e.Rows {
		out = append(out, r.String())
	}
	if more := e.Total - len(e.Rows); more > 0 {
		out = append(out, fmt.Sprintf("… and %d more bad %s", more, plural(more, "row", "rows")))
	}
	return out
}

// Is makes RowErrors an ErrInvalid.
func (e *RowErrors) Is(target error) bool { return target == ErrInvalid }

// Add records a bad row. A reason is cut to a few hundred characters, so
// no input can flood the terminal.
func (e *RowErrors) Add(r RowError) {
	e.Total++
	if len(e.Rows) < MaxReportedRows {
		r.Reason = cut(r.Reason, 300)
		e.Rows = append(e.Rows, r)
	}
}

// Sort puts the reported rows in line order.
func (e *RowErrors) Sort() {
	slices.SortStableFunc(e.Rows, func(a, b RowError) int { return a.Line - b.Line })
}

// EchoLen is how many characters of a bad value an error message repeats.
const EchoLen = 40

// Echo quotes the start of a bad value for an error message: at most
// EchoLen characters, then "…" when there was more.
func Echo(s string) string {
	return fmt.Sprintf("%q", cut(s, EchoLen))
}

// cut returns the first n characters of s, and "…" when it had more.
func cut(s string, n int) string {
	i := 0
	for j := range s {
		if i == n {
			return s[:j] + "…"
		}
		i++
	}
	return s
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// MaxLineBytes bounds one JSON Lines record. A longer line is a bad row,
// read to its end without being kept.
const MaxLineBytes = 1 << 20

// ImportRow is one valid row and the line it came from.
type ImportRow struct {
	Line    int
	Product Product
}

// CatalogueReader streams and validates an import file row by row in
// bounded memory: a field of a CSV record keeps at most MaxFieldBytes, a
// JSON line at most MaxLineBytes, and nothing is remembered from one row to
// the next (a SKU repeated in the file is found by the store, among the
// staged rows).
type CatalogueReader struct {
	format CatalogueFormat
	csv    *csvScanner
	order  []int // CSV column positions of sku, name, price, stock
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

// rawRow is one record's four fields before validation. A field whose size
// is larger than its length was cut on reading (it was too long).
type rawRow struct {
	line int
	f    [4]string
	size [4]int64
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
	cr.order = []int{-1, -1, -1, -1}
	for i := range min(cr.csv.nfields, cr.csv.maxFields) {
		h, long := cr.csv.field(i)
		name := strings.ToLower(strings.TrimSpace(h))
		j := indexOf(CatalogueColumns, name)
		switch {
		case j < 0 || long:
			return nil, Invalid("line %d: unknown column %s; the columns are %s", cr.csv.start, Echo(h), strings.Join(CatalogueColumns, ","))
		case cr.order[j] >= 0:
			return nil, Invalid("line %d: column %q appears twice", cr.csv.start, name)
		}
		cr.order[j] = i
	}
	for j, pos := range cr.order {
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
		raw.f[j] = string(s.fields[pos].b)
		raw.size[j] = s.fields[pos].n
	}
	return false, true
}

type jsonRow struct {
	SKU   *string      `json:"sku"`
	Name  *string      `json:"name"`
	Price *json.Number `json:"price"`
	Stock *json.Number `json:"stock"`
}

// readLine reads one line, keeping at most MaxLineBytes of it. size is the
// line's whole length (without its newline).
func (cr *CatalogueReader) readLine() (b []byte, size int64, err error) {
	cr.buf = cr.buf[:0]
	for {
		chunk, err := cr.lines.ReadSlice('\n')
		size += int64(len(chunk))
		if room := MaxLineBytes - len(cr.buf); room > 0 {
			cr.buf = append(cr.buf, chunk[:min(room, len(chunk))]...)
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err == nil { // ends with its newline
			size--
			if len(cr.buf) > 0 && int64(len(cr.buf)) > size {
				cr.buf = cr.buf[:size]
			}
		}
		return cr.buf, size, err
	}
}

func (cr *CatalogueReader) readJSON(raw *rawRow) (bad, more bool) {
	for {
		b, size, err := cr.readLine()
		if size == 0 && err != nil {
			if err != io.EOF {
				cr.fatal = err
			}
			return false, false
		}
		if err != nil && err != io.EOF {
			cr.fatal = err
			return false, false
		}
		cr.line++
		raw.line = cr.line
		if size > MaxLineBytes {
			key, value := jsonKeyAt(b)
			reason := fmt.Sprintf("the line is %d bytes long; the limit is %d", size, MaxLineBytes)
			if key != "" {
				reason = fmt.Sprintf("the line is %d bytes long (the limit is %d); the value starts %s", size, MaxLineBytes, Echo(string(value)))
			}
			cr.Errors.Add(RowError{Line: cr.line, Column: key, Reason: reason})
			return true, true
		}
		b = bytes.TrimSpace(b)
		if len(b) == 0 {
			if err == io.EOF {
				return false, false
			}
			continue
		}
		var r jsonRow
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		dec.UseNumber()
		if err := dec.Decode(&r); err != nil || dec.More() {
			reason := "not one JSON object"
			if err != nil {
				reason = "not valid JSON: " + err.Error()
			}
			cr.Errors.Add(RowError{Line: cr.line, Reason: reason})
			return true, true
		}
		for j, v := range []*string{r.SKU, r.Name, (*string)(r.Price), (*string)(r.Stock)} {
			raw.f[j] = missing
			if v != nil {
				raw.f[j] = *v
			}
			raw.size[j] = int64(len(raw.f[j]))
		}
		return false, true
	}
}

// jsonKeyAt finds, in the kept start of an over-long JSON line, the key
// whose value was cut and the start of that value.
func jsonKeyAt(b []byte) (key string, value []byte) {
	dec := json.NewDecoder(bytes.NewReader(b))
	depth, keyNext := 0, false
	var valueAt int64
	for {
		t, err := dec.Token()
		if err != nil {
			if keyNext || depth != 1 {
				return "", nil
			}
			v := bytes.TrimLeft(b[valueAt:], " \t:")
			return key, v
		}
		d, isDelim := t.(json.Delim)
		switch {
		case isDelim && (d == '{' || d == '['):
			depth++
			if depth == 1 {
				keyNext = d == '{'
			}
		case isDelim:
			depth--
			if depth == 1 {
				keyNext = true
			}
		case depth == 1 && keyNext:
			key, _ = t.(string)
			valueAt = dec.InputOffset()
			keyNext = false
		case depth == 1:
			keyNext = true
		}
	}
}

// validate checks one row's fields.
func (cr *CatalogueReader) validate(raw *rawRow) (ImportRow, bool) {
	line, f := raw.line, raw.f
	total := cr.Errors.Total
	fail := func(col, format string, a ...any) {
		cr.Errors.Add(RowError{Line: line, Column: col, Reason: fmt.Sprintf(format, a...)})
	}
	for j, v := range f {
		if v == missing {
			fail(CatalogueColumns[j], "missing")
			f[j] = ""
		}
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
		if err := ValidateSKU(p.SKU); err != nil {
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
	return ImportRow{Line: line, Product: p}, true
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
