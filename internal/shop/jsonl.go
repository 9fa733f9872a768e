package shop

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"
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
		if col, reason := checkJSONLine(b); reason != "" {
			cr.Errors.Add(RowError{Line: cr.line, Column: col, Reason: reason})
			return true, true
		}
		var r jsonRow
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&r); err != nil || dec.More() {
			reason, col := "not one JSON object", ""
			var te *json.UnmarshalTypeError
			switch {
			case errors.As(err, &te) && te.Field != "":
				col = te.Field
				reason = fmt.Sprintf("%s must be a JSON %s, not a %s", te.Field, jsonKind(te.Type.String()), te.Value)
			case err != nil && strings.HasPrefix(err.Error(), `json: unknown field "`):
				col = strings.TrimSuffix(strings.TrimPrefix(err.Error(), `json: unknown field "`), `"`)
				reason = "unknown key; the keys are " + strings.Join(append(slices.Clip(CatalogueColumns), "retired"), ", ")
			case err != nil:
				reason = "not valid JSON: " + strings.TrimPrefix(err.Error(), "json: ")
			}
			cr.Errors.Add(RowError{Line: cr.line, Column: col, Reason: reason})
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

// checkJSONLine refuses what encoding/json would let through changed: bytes
// that are not UTF-8 (decoded as U+FFFD, where CSV refuses them) and a key
// given twice (the last would win silently). It names the key when it can.
func checkJSONLine(b []byte) (key, reason string) {
	if !utf8.Valid(b) {
		return "", "the line is not valid UTF-8"
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	seen := map[string]bool{}
	depth, keyNext := 0, false
	for {
		t, err := dec.Token()
		if err != nil {
			return "", "" // the decoder says what is wrong with it
		}
		if str, ok := t.(string); ok && strings.ContainsRune(str, utf8.RuneError) && !spellsReplacement(b) {
			// encoding/json turns a lone surrogate escape (\ud800) into U+FFFD silently.
			return "", `a \u escape in the line is half of a surrogate pair, not a character`
		}
		d, isDelim := t.(json.Delim)
		switch {
		case isDelim && (d == '{' || d == '['):
			depth++
			keyNext = depth == 1 && d == '{'
		case isDelim:
			depth--
			if depth == 0 {
				return "", ""
			}
			keyNext = depth == 1
		case depth == 1 && keyNext:
			k, _ := t.(string)
			if seen[k] {
				return k, fmt.Sprintf("key %q appears twice", k)
			}
			seen[k], keyNext = true, false
		case depth == 1:
			keyNext = true
		}
	}
}

// spellsReplacement reports whether b writes U+FFFD itself, as the
// character or as its escape: then a U+FFFD decoded from it is meant.
func spellsReplacement(b []byte) bool {
	return bytes.ContainsRune(b, utf8.RuneError) || bytes.Contains(bytes.ToLower(b), []byte(`\ufffd`))
}

// jsonKind names a Go type as JSON does.
func jsonKind(goType string) string {
	switch {
	case strings.Contains(goType, "string"):
		return "string"
	case strings.Contains(goType, "bool"):
		return "true or false"
	}
	return "number"
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
