// Package render prints results as a table, one JSON value or CSV. It is the
// only package that imports tablewriter.
package render

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/mattn/go-runewidth"
	"golang.org/x/term"

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

// WriteTable draws a boxed table on a terminal, wrapped to fit its width,
// and plain columns (no box
// characters, as `gh` does) into a pipe or file; Hangul and other wide text
// stay aligned either way.
func WriteTable(w io.Writer, header []string, rows [][]string) error {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return writePlain(w, header, rows)
	}
	header, rows, hidden := fit(header, rows, terminalWidth(int(f.Fd())))
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
	if err := tbl.Render(); err != nil || len(hidden) == 0 {
		return err
	}
	_, err := fmt.Fprintf(w, "(not shown for want of width: %s; widen the terminal, or use -o json)\n", strings.Join(hidden, ", "))
	return err
}

// writePlain writes columns padded to their display width, two spaces apart.
func writePlain(w io.Writer, header []string, rows [][]string) error {
	widths := make([]int, len(header))
	for _, r := range append([][]string{header}, rows...) {
		for i, c := range r {
			if i < len(widths) {
				widths[i] = max(widths[i], runewidth.StringWidth(c))
			}
		}
	}
	bw := bufio.NewWriter(w)
	for _, r := range append([][]string{header}, rows...) {
		var line strings.Builder
		for i, c := range r {
			line.WriteString(c)
			if i < len(r)-1 {
				line.WriteString(strings.Repeat(" ", widths[i]-runewidth.StringWidth(c)+2))
			}
		}
		bw.WriteString(strings.TrimRight(line.String(), " ") + "\n")
	}
	return bw.Flush()
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}
