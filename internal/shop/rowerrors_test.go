package shop

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestRowErrorString(t *testing.T) {
	if s := (RowError{Line: 3, Reason: "bad"}).String(); s != "line 3: bad" {
		t.Errorf("%q", s)
	}
	if s := (RowError{Line: 4, Column: "price", Reason: "negative"}).String(); s != "line 4, column price: negative" {
		t.Errorf("%q", s)
	}
}

func TestRowErrors(t *testing.T) {
	for _, tc := range []struct {
		n       int
		summary string
		last    string // the last line of Details
	}{
		{1, "import refused: 1 bad row; nothing was changed", "line 1: reason 1"},
		{2, "import refused: 2 bad rows; nothing was changed", "line 2: reason 2"},
		{MaxReportedRows, fmt.Sprintf("import refused: %d bad rows; nothing was changed", MaxReportedRows), "line 20: reason 20"},
		{MaxReportedRows + 1, "import refused: 21 bad rows; nothing was changed", "… and 1 more bad row"},
		{MaxReportedRows + 5, "import refused: 25 bad rows; nothing was changed", "… and 5 more bad rows"},
	} {
		var e RowErrors
		for i := 1; i <= tc.n; i++ {
			e.Add(RowError{Line: i, Reason: fmt.Sprintf("reason %d", i)})
		}
		d := e.Details()
		if e.Error() != tc.summary || e.Total != tc.n || len(e.Rows) != min(tc.n, MaxReportedRows) || d[len(d)-1] != tc.last {
			t.Errorf("%d rows: %q, %d kept, details end %q", tc.n, e.Error(), len(e.Rows), d[len(d)-1])
		}
		if !errors.Is(&e, ErrInvalid) || errors.Is(&e, ErrConflict) {
			t.Errorf("RowErrors is an ErrInvalid and nothing else")
		}
	}
}

func TestRowErrorsCutsLongReasons(t *testing.T) {
	var e RowErrors
	e.Add(RowError{Line: 1, Reason: strings.Repeat("가", 1000)})
	if r := []rune(e.Rows[0].Reason); len(r) != 301 || r[300] != '…' {
		t.Fatalf("reason of %d characters", len(r))
	}
	e.Add(RowError{Line: 2, Reason: strings.Repeat("a", 300)})
	if e.Rows[1].Reason != strings.Repeat("a", 300) {
		t.Fatalf("a reason of exactly 300 characters was cut")
	}
}

func TestRowErrorsSort(t *testing.T) {
	var e RowErrors
	for _, r := range []RowError{{Line: 5, Reason: "e"}, {Line: 2, Column: "b", Reason: "first"}, {Line: 9}, {Line: 2, Column: "a", Reason: "second"}, {Line: 1}} {
		e.Add(r)
	}
	e.Sort()
	var got []string
	for _, r := range e.Rows {
		got = append(got, fmt.Sprint(r.Line, r.Column))
	}
	if strings.Join(got, " ") != "1 2b 2a 5 9" { // stable: one line's reports keep their order
		t.Fatalf("%v", got)
	}
}

func TestEchoCases(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", `""`},
		{"A-1", `"A-1"`},
		{`say "hi"`, `"say \"hi\""`},
		{"a\nb", `"a\nb"`},
		{strings.Repeat("x", EchoLen), `"` + strings.Repeat("x", EchoLen) + `"`},
		{strings.Repeat("x", EchoLen+1), `"` + strings.Repeat("x", EchoLen) + `…"`},
		{strings.Repeat("토", EchoLen+10), `"` + strings.Repeat("토", EchoLen) + `…"`},
	} {
		if got := Echo(tc.in); got != tc.want {
			t.Errorf("%q: %s, want %s", tc.in, got, tc.want)
		}
	}
}
