package shop

import (
	"fmt"
	"slices"
)

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
