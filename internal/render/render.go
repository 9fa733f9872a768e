// Package render prints results as a table, one JSON value or CSV. It is the
// only package that imports tablewriter.
package render

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"
)

// Format is an output format.
type Format string

// The output formats -o accepts.
const (
	Table Format = "table"
	JSON  Format = "json"
	CSV   Format = "csv"
)

// Tabular is a result that knows its table form; its JSON form is itself.
type Tabular interface {
	Table() (header []string, rows [][]string)
}

// Print writes v in format f: a table or CSV from its Tabular form, or v itself as JSON.
func Print(w io.Writer, f Format, v any, t Tabular) error {
	switch f {
	case JSON:
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(v)
	case CSV:
		header, rows := t.Table()
		cw := csv.NewWriter(w)
		if err := cw.Write(header); err != nil {
			return err
		}
		return cw.WriteAll(rows)
	default:
		header, rows := t.Table()
		return WriteTable(w, header, rows)
	}
}

// WriteTable draws a boxed table; Hangul and other wide text stay aligned.
func WriteTable(w io.Writer, header []string, rows [][]string) error {
	tbl := tablewriter.NewTable(w,
		tablewriter.WithEastAsian(tw.Off),
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
	)
	tbl.Header(toAny(header)...)
	if err := tbl.Bulk(rows); err != nil {
		return fmt.Errorf("render table: %w", err)
	}
	return tbl.Render()
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}
