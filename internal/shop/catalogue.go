package shop

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
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

// Add records a bad row.
func (e *RowErrors) Add(r RowError) {
	e.Total++
	if len(e.Rows) < MaxReportedRows {
		e.Rows = append(e.Rows, r)
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// ImportRow is one valid row and the line it came from.
type ImportRow struct {
	Line    int
	Product Product
}

// DuplicateCandidate pairs two lines whose SKUs hash alike: almost surely the
// same SKU; the store confirms it with the rows themselves.
type DuplicateCandidate struct{ First, Second int }

// CatalogueReader streams and validates an import file row by row in constant
// memory (apart from 12 bytes per SKU to find repeats).
type CatalogueReader struct {
	format CatalogueFormat
	csv    *csv.Reader
	order  []int // CSV column positions of sku, name, price, stock
	lines  *bufio.Reader
	line   int
	seed   maphash.Seed
	seen   map[uint64]int32
	// Errors collects the bad rows; Candidates the lines that repeat a SKU.
	Errors     RowErrors
	Candidates []DuplicateCandidate
	Rows       int64 // rows read, good or bad
	done       bool
	fatal      error
}

// NewCatalogueReader reads the header (CSV) and prepares to stream rows. A bad
// header is an error naming the problem.
func NewCatalogueReader(r io.Reader, f CatalogueFormat) (*CatalogueReader, error) {
	cr := &CatalogueReader{format: f, seed: maphash.MakeSeed(), seen: make(map[uint64]int32)}
	br := bufio.NewReaderSize(r, 1<<16)
	if bom, _ := br.Peek(3); bytes.Equal(bom, []byte{0xEF, 0xBB, 0xBF}) {
		br.Discard(3)
	}
	if f == CatalogueJSONL {
		cr.lines = br
		return cr, nil
	}
	cr.csv = csv.NewReader(br)
	cr.csv.ReuseRecord = true
	header, err := cr.csv.Read()
	if err == io.EOF {
		return nil, Invalid("the file is empty: a CSV catalogue starts with the header %s", strings.Join(CatalogueColumns, ","))
	}
	if err != nil {
		return nil, Invalid("line 1: the header is not valid CSV: %v", csvReason(err))
	}
	cr.order = []int{-1, -1, -1, -1}
	for i, h := range header {
		name := strings.ToLower(strings.TrimSpace(h))
		j := indexOf(CatalogueColumns, name)
		switch {
		case j < 0:
			return nil, Invalid("line 1: unknown column %q; the columns are %s", h, strings.Join(CatalogueColumns, ","))
		case cr.order[j] >= 0:
			return nil, Invalid("line 1: column %q appears twice", name)
		}
		cr.order[j] = i
	}
	for j, pos := range cr.order {
		if pos < 0 {
			return nil, Invalid("line 1: the header lacks the column %q", CatalogueColumns[j])
		}
	}
	cr.csv.FieldsPerRecord = len(header)
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
		var fields [4]string
		line, bad, more := cr.read(&fields)
		if !more {
			cr.done = true
			break
		}
		if bad {
			continue
		}
		cr.Rows++
		row, ok := cr.validate(line, fields)
		if ok {
			return row, true
		}
	}
	return ImportRow{}, false
}

// Err is a failure to read the input at all (not a bad row).
func (cr *CatalogueReader) Err() error { return cr.fatal }

// read fetches the next record's four fields. bad means a malformed row (recorded).
func (cr *CatalogueReader) read(fields *[4]string) (line int, bad, more bool) {
	if cr.format == CatalogueJSONL {
		return cr.readJSON(fields)
	}
	rec, err := cr.csv.Read()
	if err == io.EOF {
		return 0, false, false
	}
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		cr.Rows++
		cr.Errors.Add(RowError{Line: pe.StartLine, Reason: csvReason(err)})
		// A field-count error leaves the reader in step; a quoting error may not.
		return pe.StartLine, true, errors.Is(pe.Err, csv.ErrFieldCount)
	}
	if err != nil {
		cr.fatal = err
		return 0, false, false
	}
	line, _ = cr.csv.FieldPos(0)
	for j, pos := range cr.order {
		fields[j] = rec[pos]
	}
	return line, false, true
}

func csvReason(err error) string {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		switch {
		case errors.Is(pe.Err, csv.ErrFieldCount):
			return "wrong number of fields"
		case errors.Is(pe.Err, csv.ErrQuote), errors.Is(pe.Err, csv.ErrBareQuote):
			return "unbalanced or stray quote (\")"
		}
		return pe.Err.Error()
	}
	return err.Error()
}

type jsonRow struct {
	SKU   *string      `json:"sku"`
	Name  *string      `json:"name"`
	Price *json.Number `json:"price"`
	Stock *json.Number `json:"stock"`
}

func (cr *CatalogueReader) readJSON(fields *[4]string) (line int, bad, more bool) {
	for {
		b, err := cr.lines.ReadBytes('\n')
		if len(b) == 0 && err != nil {
			if err != io.EOF {
				cr.fatal = err
			}
			return 0, false, false
		}
		cr.line++
		b = bytes.TrimSpace(b)
		if len(b) == 0 {
			continue
		}
		var r jsonRow
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		dec.UseNumber()
		if err := dec.Decode(&r); err != nil || dec.More() {
			cr.Rows++
			reason := "not one JSON object"
			if err != nil {
				reason = "not valid JSON: " + err.Error()
			}
			cr.Errors.Add(RowError{Line: cr.line, Reason: reason})
			return cr.line, true, true
		}
		for j, v := range []*string{r.SKU, r.Name, (*string)(r.Price), (*string)(r.Stock)} {
			fields[j] = "\x00missing"
			if v != nil {
				fields[j] = *v
			}
		}
		return cr.line, false, true
	}
}

// validate checks one row's fields and records its SKU to find repeats.
func (cr *CatalogueReader) validate(line int, f [4]string) (ImportRow, bool) {
	total := cr.Errors.Total
	fail := func(col, format string, a ...any) {
		cr.Errors.Add(RowError{Line: line, Column: col, Reason: fmt.Sprintf(format, a...)})
	}
	for j, v := range f {
		if v == "\x00missing" {
			fail(CatalogueColumns[j], "missing")
			f[j] = ""
		}
	}
	if cr.Errors.Total > total {
		return ImportRow{}, false
	}
	p := Product{SKU: f[0], Name: f[1]}
	if err := ValidateSKU(p.SKU); err != nil {
		fail("sku", "%v", err)
	}
	if err := ValidateName("name", p.Name, MaxNameLen); err != nil {
		fail("name", "%v", err)
	}
	if price, err := parseField("price", f[2]); err != nil {
		fail("price", "%v", err)
	} else if err := ValidatePrice(price); err != nil {
		fail("price", "%v", err)
	} else {
		p.Price = Won(price)
	}
	if stock, err := parseField("stock", f[3]); err != nil {
		fail("stock", "%v", err)
	} else if err := ValidateStock(stock); err != nil {
		fail("stock", "%v", err)
	} else {
		p.StockQuantity = stock
	}
	if cr.Errors.Total > total {
		return ImportRow{}, false
	}
	h := maphash.String(cr.seed, p.SKU)
	if first, dup := cr.seen[h]; dup {
		cr.Candidates = append(cr.Candidates, DuplicateCandidate{First: int(first), Second: line})
	} else {
		cr.seen[h] = int32(line)
	}
	return ImportRow{Line: line, Product: p}, true
}

func parseField(name, s string) (int64, error) {
	if !utf8.ValidString(s) {
		return 0, Invalid("%s is not valid UTF-8", name)
	}
	if s == "" {
		return 0, Invalid("%s is empty", name)
	}
	return ParseInt(name, s)
}
