package shop

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
)

type jsonRow struct {
	SKU     *string          `json:"sku"`
	Name    *string          `json:"name"`
	Price   *json.RawMessage `json:"price"` // a JSON number: checked in readJSON
	Stock   *json.RawMessage `json:"stock"`
	Retired *bool            `json:"retired"` // optional
}

// isJSONNumber says whether a price or stock is a JSON number: a string
// ("12000") is refused, so that a file says what it means.
func isJSONNumber(b []byte) bool {
	return len(b) > 0 && (b[0] == '-' || (b[0] >= '0' && b[0] <= '9'))
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
		if err := dec.Decode(&r); err != nil || dec.More() {
			reason := "not one JSON object"
			if err != nil {
				reason = "not valid JSON: " + err.Error()
			}
			cr.Errors.Add(RowError{Line: cr.line, Reason: reason})
			return true, true
		}
		fields := []*string{r.SKU, r.Name, nil, nil}
		bad := false
		for k, v := range []*json.RawMessage{r.Price, r.Stock} {
			if v == nil {
				continue
			}
			col, b := CatalogueColumns[2+k], bytes.TrimSpace(*v)
			if !isJSONNumber(b) {
				cr.Errors.Add(RowError{Line: cr.line, Column: col, Reason: fmt.Sprintf("%s must be a JSON number such as 12000, not %s", col, cut(string(b), EchoLen))})
				bad = true
			}
			text := string(b)
			fields[2+k] = &text
		}
		if bad {
			return true, true
		}
		for j, v := range fields {
			raw.f[j] = missing
			if v != nil {
				raw.f[j] = *v
			}
			raw.size[j] = int64(len(raw.f[j]))
		}
		raw.f[4] = missing
		if r.Retired != nil {
			raw.f[4] = fmt.Sprint(*r.Retired)
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
